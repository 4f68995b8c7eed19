// Preloaded into an `npm run ingest` process (node -r) by the security tests: the managed identity hands
// out FAKE_ACCESS_TOKEN instead of asking Azure, so a real process runs with a recognisable token in play.
import { ManagedIdentityCredential } from '@azure/identity';

const token = process.env.FAKE_ACCESS_TOKEN;
if (!token) throw new Error('fakeManagedIdentity: FAKE_ACCESS_TOKEN is not set');
ManagedIdentityCredential.prototype.getToken = async function getToken() {
  return { token, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: 'Bearer' as const };
};
