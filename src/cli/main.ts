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
    if (process.env.OHMIC_DEBUG) throw err;
    // Not one of ohmic's named errors: a bug, or a third-party library failing. Its
    // first line, bounded (tfjs and wasm errors can carry kilobytes of source), and
    // no stack trace unless asked for.
    process.stderr.write(`ohmic: internal error: ${conciseError(err)}\n(this is a bug in ohmic or a library it uses; OHMIC_DEBUG=1 shows the stack trace)\n`);
    process.exitCode = 70;
  }
}

function conciseError(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  return `${name}: ${line.length > 300 ? `${line.slice(0, 297)}...` : line}`;
}

if (require.main === module) {
  // `ohmic … | head` closes stdout early: stop quietly instead of an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  void main(process.argv);
}
