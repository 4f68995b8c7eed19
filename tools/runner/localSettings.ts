// Like Core Tools, the local tools take settings from the environment, falling back to the
// "Values" of local.settings.json when that file exists.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function localEnv(file = path.join(process.cwd(), 'local.settings.json')): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  if (fs.existsSync(file)) {
    let parsed: { Values?: Record<string, unknown> };
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
    } catch (err) {
      throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    for (const [k, v] of Object.entries(parsed.Values ?? {})) if (typeof v === 'string') env[k] = v;
  }
  return { ...env, ...process.env };
}
