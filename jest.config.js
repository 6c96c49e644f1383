/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // Each suite initialises TensorFlow.js once; two workers match the 2-core CI machine.
  maxWorkers: 2,
  testTimeout: 120000,
};
