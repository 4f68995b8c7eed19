/** shared/core/redact.ts: every shape a secret reaches a log or an error in is replaced, and nothing else. */
import { redact, redactError } from '../../shared/core/redact';

const SIG = 'SECRETSIG%2Bxyz%3D';
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2FwaSJ9.c2lnbmF0dXJlLXBhcnQ_-x';

function expectClean(text: string, ...secrets: string[]): string {
  const out = redact(text);
  for (const s of secrets) expect(out).not.toContain(s);
  // idempotent: a second pass changes nothing
  expect(redact(out)).toBe(out);
  return out;
}

describe('redact', () => {
  it('a SAS query string: sig and signature, the rest kept', () => {
    expect(expectClean(`https://a.blob.core.windows.net/c/f.gz?sv=2020&sig=${SIG}&se=2030`, SIG)).toBe(
      'https://a.blob.core.windows.net/c/f.gz?sv=2020&sig=REDACTED&se=2030',
    );
    expect(expectClean(`x?signature=${SIG}`, SIG)).toBe('x?signature=REDACTED');
  });

  it('a URL-encoded SAS URL (%26sig%3D…), the following parameter kept', () => {
    const out = expectClean(`next=https%3A%2F%2Fa.blob.core.windows.net%2Ff%3Fsv%3D1%26sig%3D${SIG}%26se%3D2030`, SIG, 'SECRETSIG');
    expect(out).toContain('%26sig%3DREDACTED%26se%3D2030');
    expect(expectClean(`u=%3Fsig%3D${SIG}`, 'SECRETSIG')).toBe('u=%3Fsig%3DREDACTED');
  });

  it('a JSON-escaped SAS URL (\\u0026sig=…)', () => {
    const out = expectClean(`{"url":"https://a.blob.core.windows.net/f?sv=1\\u0026sig=${SIG}\\u0026se=2030"}`, 'SECRETSIG');
    expect(out).toBe('{"url":"https://a.blob.core.windows.net/f?sv=1\\u0026sig=REDACTED\\u0026se=2030"}');
  });

  it('a JSON "sig" field, also inside escaped JSON', () => {
    expect(expectClean(`{"sv":"2020","sig":"${SIG}","se":"2030"}`, 'SECRETSIG')).toBe('{"sv":"2020","sig":"REDACTED","se":"2030"}');
    expect(expectClean(`{"Signature" : "${SIG}"}`, 'SECRETSIG')).toBe('{"Signature" : "REDACTED"}');
    expect(expectClean(`"{\\"sig\\":\\"${SIG}\\"}"`, 'SECRETSIG')).toBe('"{\\"sig\\":\\"REDACTED\\"}"');
  });

  it('a JWT without the word Bearer; Bearer tokens as before', () => {
    expect(expectClean(`token ${JWT} expired`, JWT, 'c2lnbmF0dXJl')).toBe('token REDACTED expired');
    expect(expectClean(`Authorization: Bearer ${JWT}`, JWT)).toBe('Authorization: Bearer REDACTED');
    expect(expectClean(`Authorization: Bearer opaque-token.value`, 'opaque-token')).toBe('Authorization: Bearer REDACTED');
  });

  it('access_token, refresh_token, id_token and client_secret fields in JSON', () => {
    const body = `{"token_type":"Bearer","expires_in":3599,"access_token":"${JWT}","refresh_token":"0.AAAA-refresh","id_token":"idtok","client_secret":"s3cr3t~value"}`;
    const out = expectClean(body, JWT, '0.AAAA-refresh', 'idtok', 's3cr3t~value');
    expect(out).toBe(
      '{"token_type":"Bearer","expires_in":3599,"access_token":"REDACTED","refresh_token":"REDACTED","id_token":"REDACTED","client_secret":"REDACTED"}',
    );
  });

  it('client_secret and tokens in a form body, first parameter or not', () => {
    expect(expectClean('client_secret=s3cr3t~value&grant_type=client_credentials', 's3cr3t')).toBe('client_secret=REDACTED&grant_type=client_credentials');
    expect(expectClean('grant_type=client_credentials&client_id=abc&client_secret=s3cr3t~value&scope=x', 's3cr3t')).toBe(
      'grant_type=client_credentials&client_id=abc&client_secret=REDACTED&scope=x',
    );
    expect(expectClean('body: access_token=tok123&x=1', 'tok123')).toBe('body: access_token=REDACTED&x=1');
  });

  it('account keys and SAS connection strings', () => {
    expect(expectClean('AccountName=a;AccountKey=KEYVALUE==;EndpointSuffix=x', 'KEYVALUE')).toBe('AccountName=a;AccountKey=REDACTED;EndpointSuffix=x');
    expect(expectClean(`BlobEndpoint=https://a/;SharedAccessSignature=sig=${SIG}&sv=1`, 'SECRETSIG')).toContain('sig=REDACTED&sv=1');
  });

  it('leaves harmless text alone: API error codes, a paging $skiptoken, plain words', () => {
    for (const text of [
      '{"error":{"code":"DisabledFeature","message":"Feature is disabled"}}',
      'https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pagesize=5&$skiptoken=eyJFeHBvcnREZWZpbml0aW9uIjp7fX0',
      'file 3: signature of the blob changed; design says so',
      'HTTP 403 Forbidden: AuthenticationFailed',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });
});

describe('redactError', () => {
  it('redacts message and stack in place, keeping the class and code', () => {
    class SdkError extends Error {
      code = 'AuthenticationFailed';
    }
    const err = new SdkError(`GET https://a.blob.core.windows.net/f?sig=${SIG} failed; token ${JWT}`);
    const out = redactError(err);
    expect(out).toBeInstanceOf(SdkError);
    expect((out as SdkError).code).toBe('AuthenticationFailed');
    for (const text of [out.message, out.stack ?? '']) {
      expect(text).not.toContain('SECRETSIG');
      expect(text).not.toContain(JWT);
    }
    expect(out.message).toContain('sig=REDACTED');
  });

  it('redacts a cause chain, and turns a thrown non-Error into a redacted Error', () => {
    const err = new Error('outer', { cause: new Error(`inner ?sig=${SIG}`) });
    expect(String((redactError(err).cause as Error).message)).toBe('inner ?sig=REDACTED');
    const fromString = redactError(`client_secret=s3cr3t&x=1`);
    expect(fromString).toBeInstanceOf(Error);
    expect(fromString.message).toBe('client_secret=REDACTED&x=1');
  });

  it('a frozen error is replaced by a redacted copy', () => {
    const err = Object.freeze(new Error(`x?sig=${SIG}`));
    const out = redactError(err);
    expect(out.message).toBe('x?sig=REDACTED');
    expect(out.stack ?? '').not.toContain('SECRETSIG');
  });
});
