/**
 * Two suites: test/unit (in-process code only: no Azurite, no child process; a 127.0.0.1 server the test
 * starts itself is allowed) and test/integration (starts Azurite on free ports, see test/helpers/azurite.ts,
 * or spawns a process). `npm run test:unit`, `npm run test:integration`; plain `jest` runs both.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/unit', '<rootDir>/test/integration'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  maxWorkers: 2,
};
