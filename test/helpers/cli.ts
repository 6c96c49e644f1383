/** Run `ohmic <args>` in-process on the real program; returns what it wrote to stdout. */
import { buildProgram } from '../../src/cli/main';

export async function runCli(args: string[]): Promise<string> {
  const program = buildProgram().exitOverride();
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

/** What {@link runMain} saw: the output streams and the exit code `main` set. */
export interface MainRun {
  stdout: string;
  stderr: string;
  exitCode: number | string | undefined;
}

/**
 * Runs `ohmic <args>` in-process through `main`, the real entry point with its
 * error handling (named errors to one stderr line and exit code 2), capturing
 * stdout, stderr and the exit code; `env` is set for the run only.
 */
export async function runMain(args: string[], env: Record<string, string> = {}): Promise<MainRun> {
  const { main } = await import('../../src/cli/main');
  const out: string[] = [];
  const err: string[] = [];
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  process.exitCode = undefined;
  try {
    await main(['node', 'ohmic', ...args]);
  } finally {
    so.mockRestore();
    se.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}
