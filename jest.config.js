/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // @middy/core is ESM-only: ts-jest compiles it to CommonJS along with our own code.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // The client package (client/) is ESM: its relative imports name the .js its .ts becomes.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  setupFiles: ["<rootDir>/test/setup-env.ts"],
  // Suites that own redis-server processes run in separate workers; two cores, so two workers.
  maxWorkers: 2,
  // A leaked client must never hang CI for its whole time limit; suites still close what they open.
  forceExit: true,
};
