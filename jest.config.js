/** Jest runs TypeScript through swc: type checking is `npm run typecheck`'s job, so tests start fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
    // jose ships ES modules only; Jest's CommonJS runtime needs them compiled.
    '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 30000,
  maxWorkers: 2,
  // A worker's JS exit comes within a millisecond of Jest's 'end' message (no handle is left open:
  // each test file's end is traced), but tearing down a worker that has grown to 700-900 MB took
  // close to 500 ms on a loaded 2-core machine, Jest's default before it reports a force exit.
  workerGracefulExitTimeout: 5000,
};
