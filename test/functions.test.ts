// The registrations must load outside the host (the real host loads the same files from dist/).
describe('functions/ registrations', () => {
  it.each(['exportTimer', 'ingestExportFile', 'ingestPoison'])('%s loads and registers without touching settings', (name) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(() => jest.requireActual(`../functions/${name}`)).not.toThrow();
    warn.mockRestore();
  });
});
