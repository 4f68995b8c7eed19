// The query CLI run in this process (runQuery with an injected environment) for the query suites: the many
// variants of a command cheaply, against the suite's Azurite; runTool covers the real process.
import { runQuery } from '../../tools/query/main';
import type { Azurite } from '../../tools/runner/azurite';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runner of `npm run query -- <args>` on `azurite()`'s storage (an `env` of its own replaces that). */
export function queryInProcess(azurite: () => Azurite): (args: readonly string[], env?: Record<string, string>) => Promise<Run> {
  return async (args, env) => {
    let stdout = '';
    let stderr = '';
    const code = await runQuery(args, () => env ?? { AzureWebJobsStorage: azurite().connectionString }, {
      out: async (t) => void (stdout += t),
      err: (t) => void (stderr += t),
      errIsTty: false,
    });
    return { code, stdout, stderr };
  };
}

/** stdout of a run that succeeded; otherwise the exit code and stderr as the failure. */
export function ok(r: Run): string {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
