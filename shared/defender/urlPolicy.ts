// SSRF guard for the export file URLs Defender hands us: only https to allow-listed hosts
// (http only to loopback, for the local simulator). Error messages never carry a query string.
import { isLoopbackHost, type Config } from '../core/config';
import { redact, stripQuery } from '../core/redact';
import { shorten } from '../core/text';
import { AppError } from '../core/errors';

export interface DownloadPolicy {
  /** Lower-case host patterns: an exact host, or `*.suffix` (any subdomain of suffix, never suffix itself). */
  allowlist: string[];
  /** Accept loopback hosts (http or https) even when not listed: the local simulator serves from there. */
  allowLoopback: boolean;
}

export class UrlRefusedError extends AppError {}

// Host names we compare against patterns: dot-separated, non-empty DNS labels. Rejects trailing dots,
// empty labels and anything a parser might treat differently from a resolver.
const DNS_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/** True when a (lower-case) host matches one allowlist pattern. */
export function hostMatchesPattern(host: string, pattern: string): boolean {
  const p = pattern.trim().toLowerCase().replace(/:\d+$/, '');
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".blob.core.windows.net"
    return DNS_NAME.test(host) && host.length > suffix.length && host.endsWith(suffix);
  }
  return host === p;
}

/** A URL safe to show: scheme, host and path only (no userinfo, query or fragment). */
function shown(url: string, parsed?: URL): string {
  const text = parsed ? `${parsed.protocol}//${parsed.host}${parsed.pathname}` : stripQuery(redact(url)).replace(/\/\/[^/]*@/, '//');
  return shorten(text, 200);
}

/** Parse an export file URL and refuse it unless the policy allows it. Returns the parsed URL. */
export function checkDownloadUrl(url: string, policy: DownloadPolicy): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UrlRefusedError(`Refused download URL "${shown(url)}": not a valid absolute URL`);
  }
  const refuse = (why: string): never => {
    throw new UrlRefusedError(`Refused download URL ${shown(url, u)}: ${why}`);
  };
  // Userinfo is never legitimate here and is a classic trick to disguise the real host;
  // also catch an empty one (`https://@host`), which the parser silently drops.
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:[\\/]*[^\\/?#]*@/i.test(url.trim())) {
    refuse('credentials (user info) in a URL are not accepted');
  }
  const host = u.hostname.toLowerCase();
  const loopbackOk = policy.allowLoopback && isLoopbackHost(host);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopbackOk)) {
    refuse(`scheme ${u.protocol.replace(/:$/, '')} is not allowed (https is required; http only for a local simulator on a loopback host)`);
  }
  if (!loopbackOk && !policy.allowlist.some((p) => hostMatchesPattern(host, p))) {
    refuse(`host ${host} is not in DOWNLOAD_HOST_ALLOWLIST (${policy.allowlist.join(', ')})`);
  }
  return u;
}

/** The policy the app runs with: loopback hosts are trusted only when Defender itself is a local simulator. */
export function downloadPolicyFor(config: Config): DownloadPolicy {
  return {
    allowlist: config.downloadHostAllowlist,
    allowLoopback: isLoopbackHost(new URL(config.defenderApiBaseUrl).hostname),
  };
}
