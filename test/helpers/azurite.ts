import { Azurite, startAzurite } from '../../tools/runner/azurite';

/** One Azurite per test file, on OS-chosen ports, stopped after the file's tests. */
export function useAzurite(): () => Azurite {
  let azurite: Azurite | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
  }, 60000);
  afterAll(async () => {
    await azurite?.stop();
  });
  return () => {
    if (!azurite) throw new Error('Azurite not started');
    return azurite;
  };
}
