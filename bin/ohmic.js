#!/usr/bin/env node
// The `ohmic` command: the built CLI when the package is built (an installed
// package), else the TypeScript sources through tsx (a clone after `npm ci`), so
// `npx ohmic` works in both without a build step.
const fs = require('fs');
const path = require('path');

const built = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
if (fs.existsSync(built)) {
  cli = require(built);
} else {
  require('tsx/cjs/api').register();
  cli = require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
}
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
void cli.main(process.argv);
