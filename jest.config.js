/** Native ESM jest: ts-jest transpiles, Node loads the ESM-only @actions packages as they are. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  resolver: 'ts-jest-resolver',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', useESM: true }]
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // Not the whole checkout: .ci/cache holds the trixie root (a Debian system) and node_modules is large.
  roots: ['<rootDir>/__tests__', '<rootDir>/src', '<rootDir>/scripts'],
  testTimeout: 120000,
  clearMocks: true
}
