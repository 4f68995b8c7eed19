import { loadConfig } from '../../shared/core/config';
import { checkDownloadUrl, downloadPolicyFor, hostMatchesPattern, UrlRefusedError } from '../../shared/defender/urlPolicy';

const policy = { allowlist: ['*.blob.core.windows.net', 'files.example.com'], allowLoopback: false };
const sas = '?sv=2020-08-04&se=2030-01-01&sr=b&sp=r&sig=TOPSECRETSIG%3D';

function refusal(url: string, p = policy): UrlRefusedError {
  try {
    checkDownloadUrl(url, p);
  } catch (err) {
    expect(err).toBeInstanceOf(UrlRefusedError);
    return err as UrlRefusedError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('hostMatchesPattern', () => {
  it.each([
    ['acct.blob.core.windows.net', true],
    ['a.b.acct.blob.core.windows.net', true],
    ['blob.core.windows.net', false],
    ['evil-blob.core.windows.net', false],
    ['blob.core.windows.net.evil.com', false],
    ['acct.blob.core.windows.net.', false],
    ['.blob.core.windows.net', false],
    ['acct.blob.core.windows.net.evil.com', false],
    ['acctblob.core.windows.net', false],
  ])('*.blob.core.windows.net vs %s → %s', (host, expected) => {
    expect(hostMatchesPattern(host, '*.blob.core.windows.net')).toBe(expected);
  });

  it('exact patterns match only that host; case and port in the pattern are ignored', () => {
    expect(hostMatchesPattern('files.example.com', 'Files.Example.com:443')).toBe(true);
    expect(hostMatchesPattern('x.files.example.com', 'files.example.com')).toBe(false);
    expect(hostMatchesPattern('files.example.co', 'files.example.com')).toBe(false);
  });
});

describe('checkDownloadUrl', () => {
  it('accepts https on allow-listed hosts, any case, any port, and returns the parsed URL', () => {
    const u = checkDownloadUrl(`https://Acct.BLOB.core.windows.net:8443/c/f.json.gz${sas}`, policy);
    expect(u.hostname).toBe('acct.blob.core.windows.net');
    expect(checkDownloadUrl(`https://files.example.com/x${sas}`, policy).pathname).toBe('/x');
  });

  it.each([
    ['a host not on the list', `https://evil.example.com/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['a look-alike suffix', `https://evil-blob.core.windows.net/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['the allowed suffix inside another domain', `https://blob.core.windows.net.evil.com/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['the bare suffix', `https://blob.core.windows.net/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['http on an allowed host', `http://acct.blob.core.windows.net/f.gz${sas}`, /scheme http is not allowed/],
    ['another scheme', `ftp://acct.blob.core.windows.net/f.gz${sas}`, /scheme ftp is not allowed/],
    ['userinfo', `https://user:pw@acct.blob.core.windows.net/f.gz${sas}`, /user info/],
    ['userinfo disguising the host', `https://acct.blob.core.windows.net@evil.com/f.gz${sas}`, /user info/],
    ['empty userinfo', `https://@acct.blob.core.windows.net/f.gz${sas}`, /user info/],
    ['a backslash trick', `https://evil.com\\@acct.blob.core.windows.net/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['an IP address', `https://10.0.0.5/f.gz${sas}`, /not in DOWNLOAD_HOST_ALLOWLIST/],
    ['no URL at all', `not a url${sas}`, /not a valid absolute URL/],
  ])('refuses %s, without the query string in the message', (_what, url, reason) => {
    const err = refusal(url);
    expect(err.name).toBe('UrlRefusedError');
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain('TOPSECRETSIG');
    expect(err.message).not.toContain('sig=');
    expect(err.message).not.toContain('pw@');
  });

  it('accepts loopback hosts (http or https, any port) only with allowLoopback, even when not listed', () => {
    const local = { ...policy, allowLoopback: true };
    for (const url of ['http://127.0.0.1:10000/devstoreaccount1/c/f.gz', 'http://localhost:8080/f.gz', 'http://[::1]:9000/f.gz', 'https://localhost/f.gz']) {
      expect(checkDownloadUrl(url + sas, local).pathname).toMatch(/f\.gz$/);
      expect(refusal(url + sas).message).not.toContain('TOPSECRETSIG');
    }
    // allowLoopback relaxes nothing for other hosts
    expect(refusal(`http://acct.blob.core.windows.net/f.gz${sas}`, local).message).toMatch(/scheme http/);
    expect(refusal(`http://127.0.0.2/f.gz${sas}`, local).message).toMatch(/scheme http/);
  });
});

describe('downloadPolicyFor', () => {
  const env = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
  it('uses the allowlist setting and allows loopback only when the Defender base URL is loopback', () => {
    expect(downloadPolicyFor(loadConfig(env))).toEqual({ allowlist: ['*.blob.core.windows.net', '*.blob.core.usgovcloudapi.net'], allowLoopback: false });
    const local = downloadPolicyFor(loadConfig({ ...env, DEFENDER_API_BASE_URL: 'http://127.0.0.1:7071', DOWNLOAD_HOST_ALLOWLIST: 'x.example.com' }));
    expect(local).toEqual({ allowlist: ['x.example.com'], allowLoopback: true });
  });
});
