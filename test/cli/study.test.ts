import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main';
import type { StudyCommandResult } from '../../src/cli/commands/study';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';
import { chipEvaluatorModule, chipEvaluatorPath } from '../../src/study/chipEvaluatorModule';
import { expandGrid, validateStudyConfig } from '../../src/study/grid';
import { normaliseResultsFile, readResults } from '../../src/study/resultsFile';
import { runStudy } from '../../src/study/runStudy';
import { createFakeEvaluator } from '../study/fixtures/fakeEvaluator';
import { FIXTURE_STUDY } from '../study/fixtures/studyConfig';
import { runMain as ohmic } from '../helpers/cli';

// Counts loads of vega: a command that does not plot must not pay for it.
const mockVegaLoads = { count: 0 };
jest.mock('vega', () => {
  mockVegaLoads.count++;
  return jest.requireActual('vega');
});

const FAKE = `${path.resolve(__dirname, '../study/fixtures/fakeEvaluator.ts')}#createFakeEvaluator`;

/** The 24-point study of the tests, as flags and as a config file's object. */
const GRID_FLAGS = [
  '--models', 'cnn6,lstm',
  '--devices', 'reram,signal',
  '--sigmas', '0,0.5,1',
  '--votes', '1,5',
  '--semantics', 'passes',
  '--seeds', '0,1',
  '--limit', '100',
  '--root-seed', '3',
];
// The fixture study with the signal-level model for pcm (its `noise`, multiplicative, is the
// default the flags leave out).
const GRID = { ...FIXTURE_STUDY, devices: ['reram', 'signal'] };

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-cli-study-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The reference bytes: runStudy called directly with the fake evaluator, normalised to grid order. */
async function referenceBytes(): Promise<string> {
  const config = validateStudyConfig(GRID, STUDY_DEVICES);
  const file = path.join(dir, 'reference.jsonl');
  await runStudy(config, createFakeEvaluator(), { resultsPath: file });
  normaliseResultsFile(file, expandGrid(config).map((p) => p.id));
  return fs.readFileSync(file, 'utf8');
}

describe('ohmic study and ohmic merge: registration', () => {
  test('both are registered, the devices include the presets and the signal-level model, and vega is not loaded', () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['study', 'merge']));
    expect(STUDY_DEVICES).toEqual(['reram', 'pcm', 'nand', 'ideal', 'signal']);
    const help = (program.commands.find((c) => c.name() === 'study') as Command).helpInformation().replace(/\s+/g, ' ');
    for (const flag of ['--config', '--models', '--devices', '--sigmas', '--votes', '--shard', '--workers', '--resume', '--json', '--evaluator']) {
      expect(help).toContain(flag);
    }
    expect(mockVegaLoads.count).toBe(0);
  });

  test('the chip evaluator is found beside the study sources, with the running extension', () => {
    expect(chipEvaluatorPath()).toBe(path.resolve(__dirname, '../../src/study/chipEvaluator.ts'));
    expect(chipEvaluatorModule({ dataDir: '/d' })).toEqual({
      modulePath: chipEvaluatorPath(),
      exportName: 'createChipEvaluator',
      options: { dataDir: '/d' },
    });
  });
});

describe('ohmic study', () => {
  test('runs the grid with the fake evaluator and writes results, report, CSV and plots', async () => {
    const out = path.join(dir, 'out');
    const run = await ohmic(['study', ...GRID_FLAGS, '--out', out, '--workers', '1', '--evaluator', FAKE]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBeUndefined();
    expect(fs.readdirSync(out).sort()).toEqual([
      'accuracy-vs-sigma.svg',
      'accuracy-vs-votes.svg',
      'latency-vs-votes.svg', // the fake evaluator reports latencyNs, and no energy: no energy or Pareto plot
      'results.csv',
      'results.jsonl',
      'summary.md',
    ]);
    // The same bytes as calling the library directly with the same config.
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(await referenceBytes());
    const records = readResults(path.join(out, 'results.jsonl'));
    expect(records).toHaveLength(24);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(25);
    const svg = fs.readFileSync(path.join(out, 'accuracy-vs-sigma.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.split('aria-roledescription="point"').length - 1).toBe(24);

    // stdout: a headline, the Markdown table (one row per point) and where everything is.
    expect(run.stdout).toMatch(/^ohmic study: 24 points \(24 computed, 0 already done\) in \d+\.\d s\n\n/);
    const tableRows = run.stdout.split('\n').filter((l) => l.startsWith('| cnn6') || l.startsWith('| lstm'));
    expect(tableRows).toHaveLength(24);
    const last = records[23];
    const pct = (x: number): string => (100 * x).toFixed(2);
    expect(tableRows[23]).toContain(
      `| lstm | signal | multiplicative | 1 | passes | 5 | 2 | ${pct(last.accuracy.mean)} ± ${pct(last.accuracy.std as number)} |`,
    );
    expect(run.stdout).toContain(`results: ${path.join(out, 'results.jsonl')}\n`);
    expect(run.stdout).toContain(`report:  ${path.join(out, 'summary.md')}\n`);
    expect(run.stdout).toContain(`table:   ${path.join(out, 'results.csv')}\n`);
    expect(run.stdout).toContain(`plots:   ${path.join(out, 'accuracy-vs-sigma.svg')}\n`);
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain(tableRows[23]);
  });

  test('--config gives the same bytes as the flags; --json prints the run', async () => {
    const config = path.join(dir, 'study.json');
    fs.writeFileSync(config, JSON.stringify(GRID));
    const out = path.join(dir, 'out');
    const run = await ohmic(['study', '--config', config, '--out', out, '--workers', '1', '--evaluator', FAKE, '--json']);
    expect(run.exitCode).toBeUndefined();
    const result = JSON.parse(run.stdout) as StudyCommandResult;
    expect(result.shard).toBe('1/1');
    expect(result.run).toMatchObject({ total: 24, computed: 24, skipped: 0 });
    expect(result.records).toHaveLength(24);
    expect(result.outputs?.plots.map((p) => path.basename(p.path))).toEqual([
      'accuracy-vs-sigma.svg',
      'accuracy-vs-votes.svg',
      'latency-vs-votes.svg',
    ]);
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(await referenceBytes());
  });

  test('a failed study resumes with --resume, recomputing nothing finished; without it, --out is refused', async () => {
    const out = path.join(dir, 'out');
    const log = path.join(dir, 'evaluated.log');
    const base = ['study', ...GRID_FLAGS, '--out', out, '--workers', '1', '--evaluator', FAKE];
    const failed = await ohmic([...base, '--evaluator-options', JSON.stringify({ failIndex: 7, logPath: log })]);
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toMatch(/^ohmic: StudyEvaluationError: point [0-9a-f]{16} \(model=cnn6 device=signal .*RangeError: fake failure at grid index 7\n$/);
    expect(readResults(path.join(out, 'results.jsonl'))).toHaveLength(7);

    const refused = await ohmic(base);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      `ohmic: ConfigError: --out = ${JSON.stringify(out)}: expected a folder without results.jsonl (it holds 7 points ` +
        'of an earlier run): pass --resume to continue that study, or choose another --out\n',
    );

    const resumed = await ohmic([...base, '--resume', '--evaluator-options', JSON.stringify({ logPath: log })]);
    expect(resumed.exitCode).toBeUndefined();
    expect(resumed.stdout).toMatch(/^ohmic study: 24 points \(17 computed, 7 already done\)/);
    const evaluated = fs.readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(evaluated).toHaveLength(8 + 17); // 7 written + the failing one, then the 17 left
    expect(new Set(evaluated).size).toBe(24); // only the failed point ran twice
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(await referenceBytes());
  });

  describe('bad configurations fail before any work, with exit code 2 and the exact error', () => {
    const cases: Array<[string, string[], string]> = [
      [
        'unknown device',
        ['--devices', 'reram,gpu'],
        '--devices[1] = "gpu": expected one of reram, pcm, nand, ideal, signal, a chip object, or a chip .json/.yaml file',
      ],
      ['σ < 0', ['--sigmas', '0,-0.2'], '--sigmas[1] = -0.2: expected a finite number >= 0'],
      ['σ not a number', ['--sigmas', '0,abc'], '--sigmas[1] = "abc": expected a finite number >= 0'],
      ['votes 0', ['--votes', '0,5'], '--votes[0] = 0: expected a positive integer'],
      ['shard 3/2', ['--shard', '3/2'], '--shard = "3/2": expected i/n with integers 1 <= i <= n (1-based), e.g. 1/4'],
      ['workers 0', ['--workers', '0'], '--workers = "0": expected an integer >= 1'],
      ['limit 0', ['--limit', '0'], '--limit = 0: expected a positive integer, or null for the whole dataset'],
      ['no evaluator module', ['--evaluator', 'missing.ts#f'], `--evaluator = "missing.ts#f": expected MODULE#EXPORT naming an existing module file (${path.resolve('missing.ts')} not found)`],
      ['evaluator without export', ['--evaluator', 'x.ts'], '--evaluator = "x.ts": expected MODULE#EXPORT, e.g. ./myEvaluator.js#createEvaluator'],
      ['evaluator options not an object', ['--evaluator-options', '[1]'], '--evaluator-options = "[1]": expected a JSON object'],
    ];
    test.each(cases)('%s', async (_name, override, message) => {
      const out = path.join(dir, 'out');
      const log = path.join(dir, 'evaluated.log');
      // Later flags win in commander, so each override replaces the good value before it.
      const args = ['study', ...GRID_FLAGS, '--out', out, '--workers', '1', '--evaluator', FAKE,
        '--evaluator-options', JSON.stringify({ logPath: log }), ...override];
      const run = await ohmic(args);
      expect(run.stderr).toBe(`ohmic: ConfigError: ${message}\n`);
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toBe('');
      expect(fs.existsSync(out)).toBe(false);
      expect(fs.existsSync(log)).toBe(false);
    });

    test('a config file with an unknown device names the file; --config with grid flags is refused', async () => {
      const config = path.join(dir, 'study.json');
      fs.writeFileSync(config, JSON.stringify({ ...GRID, devices: ['reram', 'memristor'] }));
      const out = path.join(dir, 'out');
      const bad = await ohmic(['study', '--config', config, '--out', out, '--evaluator', FAKE]);
      expect(bad.stderr).toBe(
        `ohmic: ConfigError: ${config}: devices[1] = "memristor": expected one of reram, pcm, nand, ideal, signal, a chip object, or a chip .json/.yaml file\n`,
      );
      expect(bad.exitCode).toBe(2);
      const both = await ohmic(['study', '--config', config, '--sigmas', '0', '--out', out, '--evaluator', FAKE]);
      expect(both.stderr).toBe(`ohmic: ConfigError: --sigmas = "0": expected to be omitted when --config is given (set it in ${config})\n`);
      expect(fs.existsSync(out)).toBe(false);
    });

    test('a Kubernetes index without --shards, and a Slurm index past the count', async () => {
      const out = path.join(dir, 'out');
      const args = ['study', ...GRID_FLAGS, '--out', out, '--evaluator', FAKE];
      const k8s = await ohmic(args, { JOB_COMPLETION_INDEX: '1' });
      expect(k8s.stderr).toBe(
        "ohmic: ConfigError: shard count = undefined: expected the Indexed Job's completions, given explicitly with JOB_COMPLETION_INDEX\n",
      );
      const slurm = await ohmic(args, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' });
      expect(slurm.stderr).toBe('ohmic: ConfigError: SLURM_ARRAY_TASK_ID = "4": expected a task index below the shard count (4)\n');
      expect(fs.existsSync(out)).toBe(false);
    });
  });
});

describe('ohmic merge', () => {
  test('shards from --shard, Slurm and Kubernetes indices, merged with --config, equal the unsharded run byte for byte', async () => {
    const config = path.join(dir, 'study.json');
    fs.writeFileSync(config, JSON.stringify(GRID));
    const full = path.join(dir, 'full');
    const shards = path.join(dir, 'shards');
    const study = ['study', '--config', config, '--evaluator', FAKE];
    expect((await ohmic([...study, '--out', full, '--workers', '1'])).exitCode).toBeUndefined();
    // Shard 1/3 by flag on two worker threads, 2/3 from Slurm (ids 1..3), 3/3 from an Indexed Job.
    const s1 = await ohmic([...study, '--out', shards, '--shard', '1/3', '--workers', '2']);
    expect(s1.stdout).toContain('ohmic study: 8 points in shard 1/3 (8 computed, 0 already done)');
    expect(s1.stdout).toContain(
      `  ohmic merge --config ${config} --out ${path.join(shards, 'results.jsonl')} --report ${shards} ` +
        `${path.join(shards, 'results-shard-*.jsonl')}\n`,
    );
    const s2 = await ohmic([...study, '--out', shards, '--workers', '1'], {
      SLURM_ARRAY_TASK_ID: '2',
      SLURM_ARRAY_TASK_MIN: '1',
      SLURM_ARRAY_TASK_COUNT: '3',
    });
    expect(s2.stdout).toContain('in shard 2/3');
    const s3 = await ohmic([...study, '--out', shards, '--workers', '1', '--shards', '3'], { JOB_COMPLETION_INDEX: '2' });
    expect(s3.stdout).toContain('in shard 3/3');
    // A shard writes only its results: the report comes from the merge.
    expect(fs.readdirSync(shards).sort()).toEqual([
      'results-shard-1-of-3.jsonl',
      'results-shard-2-of-3.jsonl',
      'results-shard-3-of-3.jsonl',
    ]);

    const merged = path.join(dir, 'merged.jsonl');
    const report = path.join(dir, 'report');
    const files = [3, 1, 2].map((i) => path.join(shards, `results-shard-${i}-of-3.jsonl`));
    const merge = await ohmic(['merge', '--config', config, '--out', merged, '--report', report, ...files]);
    expect(merge.exitCode).toBeUndefined();
    expect(merge.stdout).toMatch(/^ohmic merge: 24 points from 3 files into .*merged\.jsonl\n24 of the study's 24 points present\n/);
    expect(fs.readFileSync(merged)).toEqual(fs.readFileSync(path.join(full, 'results.jsonl')));
    for (const file of ['summary.md', 'results.csv', 'accuracy-vs-sigma.svg', 'latency-vs-votes.svg']) {
      expect(fs.readFileSync(path.join(report, file), 'utf8')).toBe(fs.readFileSync(path.join(full, file), 'utf8'));
    }
  });

  test('a missing shard is an error; with --allow-missing it is reported point by point; without --config the order is by point fields', async () => {
    const config = path.join(dir, 'study.json');
    fs.writeFileSync(config, JSON.stringify(GRID));
    const shards = path.join(dir, 'shards');
    await ohmic(['study', '--config', config, '--evaluator', FAKE, '--out', shards, '--shard', '2/2', '--workers', '1']);
    const merged = path.join(dir, 'merged.jsonl');
    const refused = await ohmic(['merge', '--config', config, '--out', merged, path.join(shards, 'results-shard-2-of-2.jsonl')]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^ohmic: DataError: ${config}: 12 of the study's 24 points are in no input: `));
    expect(fs.existsSync(merged)).toBe(false);
    const run = await ohmic(['merge', '--allow-missing', '--config', config, '--out', merged, path.join(shards, 'results-shard-2-of-2.jsonl')]);
    expect(run.exitCode).toBeUndefined();
    const lines = run.stdout.split('\n');
    expect(lines[1]).toBe("12 of the study's 24 points present");
    expect(lines[2]).toBe('missing 12 points (rerun their shards, or the study with --resume):');
    const grid = expandGrid(validateStudyConfig(GRID, STUDY_DEVICES));
    expect(lines[3]).toBe(`  ${grid[0].id}  model=cnn6 device=reram noise=multiplicative sigma=0 semantics=passes votes=1`);
    expect(lines.slice(3, 15).map((l) => l.trim().split(/\s+/)[0])).toEqual(grid.filter((p) => p.index % 2 === 0).map((p) => p.id));

    const json = await ohmic(['merge', '--json', '--allow-missing', '--out', merged, path.join(shards, 'results-shard-2-of-2.jsonl')]);
    const result = JSON.parse(json.stdout);
    expect(result.studyPoints).toBeNull();
    expect(result.merge).toMatchObject({ written: 12, duplicatesDropped: 0, missing: [] });
    const models = readResults(merged).map((r) => `${r.point.model}/${r.point.device}/${r.point.sigma}`);
    expect(models).toEqual([...models].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  test('an unreadable input is a DataError naming the file, and nothing is written', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const missing = path.join(dir, 'nope.jsonl');
    const run = await ohmic(['merge', '--out', merged, missing]);
    expect(run.stderr).toBe(`ohmic: DataError: ${missing}: cannot read results file (ENOENT)\n`);
    expect(run.exitCode).toBe(2);
    expect(fs.existsSync(merged)).toBe(false);
  });
});
