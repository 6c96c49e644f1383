/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/helpers/nodeRealmEnvironment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // Each suite initialises TensorFlow.js once; two workers match the 2-core CI machine.
  maxWorkers: 2,
  // Generous on purpose: a test that takes 2 minutes on an idle 2-core machine must
  // still pass when the machine runs 5× slower (shared CI runners, other jobs).
  testTimeout: 900000,
};
