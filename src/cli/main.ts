#!/usr/bin/env node
/**
 * The `ohmic` command. Thin by design: each subcommand lives in
 * `src/cli/commands/<name>.ts`, parses its options, calls the library and prints.
 */
import { Command } from 'commander';
import { COMMANDS } from './commands';
import { OhmicError } from '../errors';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ohmic')
    .description('Simulate analog in-memory computing on ReRAM, PCM and NAND crossbar tiles.')
    .version(require('../../package.json').version)
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof OhmicError) {
      process.stderr.write(`ohmic: ${err.name}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

if (require.main === module) {
  void main(process.argv);
}
