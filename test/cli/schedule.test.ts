import { Command } from 'commander';
import { ConfigError } from '../../src/errors';
import { registerSchedule } from '../../src/cli/commands/schedule';
import { buildProgram, main } from '../../src/cli/main';
import type { ScheduleResult } from '../../src/compiler/scheduler';

/** Runs `ohmic schedule <args>` on a fresh program with only this command; returns stdout. */
async function runSchedule(args: string[]): Promise<string> {
  const program = new Command().name('ohmic').exitOverride();
  registerSchedule(program);
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['schedule', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

async function runJson(args: string[]): Promise<{ input: Record<string, unknown>; results: ScheduleResult[] }> {
  return JSON.parse(await runSchedule([...args, '--json']));
}

const PAPER = ['--stages', '6', '--votes', '20', '--stage-ns', '10'];

describe('ohmic schedule', () => {
  it('is registered on the main program and documents every unit in --help', () => {
    const command = buildProgram().commands.find((c) => c.name() === 'schedule');
    expect(command).toBeDefined();
    // Commander wraps at the terminal width; compare with whitespace collapsed.
    const help = (command as Command).helpInformation().replace(/\s+/g, ' ');
    expect(help).toMatch(/--stages <L>.*analog stages/);
    expect(help).toMatch(/--stage-ns <T>.*nanoseconds \(ns\)/);
    expect(help).toMatch(/--energy-pj <E>.*picojoules \(pJ\)/);
    expect(help).toMatch(/--power-mw <P>.*milliwatts \(mW\)/);
    expect(help).toMatch(/--area-um2 <A>.*\(µm²\)/);
    expect(help).toMatch(/--mode <mode>.*pipelined \| sequential \| parallel \| all/);
  });

  it('--json, all modes: the paper’s L=6, V=20 with P = 10 mW per inference', async () => {
    const { input, results } = await runJson([...PAPER, '--power-mw', '10']);
    expect(input).toEqual({ stageTimesNs: [10, 10, 10, 10, 10, 10], votes: 20, energyPerInferencePicojoules: 600, tiles: 6 });
    expect(results.map((r) => r.mode)).toEqual(['pipelined', 'sequential', 'parallel']);
    expect(results.map((r) => r.latencyNs)).toEqual([250, 1200, 60]);
    expect(results.map((r) => r.energyPerDecisionPicojoules)).toEqual([12000, 12000, 12000]);
    expect(results.map((r) => r.averagePowerMilliwatts)).toEqual([48, 10, 200]);
    expect(results.map((r) => r.paperPowerMilliwatts)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.tiles)).toEqual([6, 6, 120]);
    expect(results.map((r) => r.throughputDecisionsPerSecond)).toEqual([5e6, 1e9 / 1200, 1e8]);
  });

  it('--json, one mode, energy given directly, with tiles and area', async () => {
    const { results } = await runJson([...PAPER, '--energy-pj', '600', '--mode', 'parallel', '--tiles', '9', '--area-um2', '1.5e5']);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      mode: 'parallel',
      latencyNs: 60,
      averagePowerMilliwatts: 200,
      singleInferencePowerMilliwatts: 10,
      tiles: 180,
      areaSquareMicrometers: 3e6,
    });
  });

  it('prints an aligned table by default', async () => {
    const text = await runSchedule([...PAPER, '--energy-pj', '600']);
    expect(text).toContain('L = 6 stages × 10 ns, V = 20 votes, E = 600 pJ per inference (P = 10 mW)');
    const rows = text.split('\n');
    const header = rows.find((r) => r.startsWith('quantity')) as string;
    const latency = rows.find((r) => r.startsWith('latency (ns)')) as string;
    expect(latency.trim().split(/\s{2,}/)).toEqual(['latency (ns)', '250', '1200', '60']);
    expect(rows.find((r) => r.startsWith('average power (mW)'))?.trim().split(/\s{2,}/)).toEqual([
      'average power (mW)',
      '48',
      '10',
      '200',
    ]);
    // Right-aligned numbers end in the same column as their mode name.
    expect(latency.length).toBe(header.length);
    expect(latency.indexOf('1200') + 4).toBe(header.indexOf('sequential') + 'sequential'.length);
    expect(text).not.toContain('area');
  });

  it.each([
    ['votes 0', [...PAPER.slice(0, 2), '--votes', '0', '--stage-ns', '10', '--energy-pj', '1'], '--votes', /--votes = 0: expected a positive integer/],
    ['votes 1.5', ['--stages', '6', '--votes', '1.5', '--stage-ns', '10', '--energy-pj', '1'], '--votes', /1\.5: expected a positive integer/],
    ['negative stage time', ['--stages', '6', '--votes', '2', '--stage-ns', '-3', '--energy-pj', '1'], '--stage-ns', /-3: expected a positive finite number \(ns\)/],
    ['not a number', ['--stages', 'six', '--votes', '2', '--stage-ns', '3', '--energy-pj', '1'], '--stages', /"six": expected a number/],
    ['missing stages', ['--votes', '2', '--stage-ns', '3', '--energy-pj', '1'], '--stages', /undefined: expected a positive integer/],
    ['neither energy nor power', PAPER, '--energy-pj', /one of --energy-pj .* or --power-mw/],
    ['both energy and power', [...PAPER, '--energy-pj', '600', '--power-mw', '10'], '--power-mw', /omitted when --energy-pj/],
    ['negative power', [...PAPER, '--power-mw', '-1'], '--power-mw', /-1: expected a positive finite number \(mW\)/],
    ['unknown mode', [...PAPER, '--energy-pj', '1', '--mode', 'overlapped'], '--mode', /"overlapped": expected one of pipelined, sequential, parallel, all/],
  ])('%s is a ConfigError naming the flag', async (_name, args, field, message) => {
    const run = runSchedule(args);
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toMatchObject({ field, message: expect.stringMatching(message) });
  });

  it('main() prints the error and sets exit code 2', async () => {
    const errors: string[] = [];
    const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    const outSpy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const before = process.exitCode;
    try {
      await main(['node', 'ohmic', 'schedule', '--stages', '6', '--votes', '0', '--stage-ns', '10', '--energy-pj', '1']);
      expect(process.exitCode).toBe(2);
      expect(errors.join('')).toBe('ohmic: ConfigError: --votes = 0: expected a positive integer\n');
      expect(outSpy).not.toHaveBeenCalled();
    } finally {
      process.exitCode = before;
      errSpy.mockRestore();
      outSpy.mockRestore();
    }
  });
});
