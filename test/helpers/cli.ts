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
