import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../src/errors';
import { StudyEvaluationError, type EvaluatorModule } from '../../src/study/evaluator';
import { expandGrid } from '../../src/study/grid';
import { mergeResultFiles, normaliseResultsFile, readResults } from '../../src/study/resultsFile';
import { runStudy, type StudyProgress } from '../../src/study/runStudy';
import { StudyWorkerPool } from '../../src/study/workerPool';
import { createFakeEvaluator } from './fixtures/fakeEvaluator';
import { expectRejects } from '../helpers/expectThrows';
import { fixtureConfig } from './fixtures/studyConfig';

const REPO = path.resolve(__dirname, '../..');
const FIXTURES = path.join(__dirname, 'fixtures');
const config = fixtureConfig();
const order = expandGrid(config).map((p) => p.id);
const fakeModule = (options = {}): EvaluatorModule => ({
  modulePath: path.join(FIXTURES, 'fakeEvaluator.ts'),
  exportName: 'createFakeEvaluator',
  options,
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-study-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The unsharded, single-thread run of the fixture study, in grid order. */
async function referenceBytes(): Promise<string> {
  const file = path.join(dir, 'reference.jsonl');
  await runStudy(config, createFakeEvaluator(), { resultsPath: file });
  normaliseResultsFile(file, order);
  return fs.readFileSync(file, 'utf8');
}

const lineCount = (file: string): number =>
  fs.existsSync(file) ? (fs.readFileSync(file, 'utf8').match(/\n/g) ?? []).length : 0;

describe('runStudy in one thread', () => {
  test('writes one record per point with its config, seed and accuracy over seeds; progress by callback', async () => {
    const file = path.join(dir, 'r.jsonl');
    const events: StudyProgress[] = [];
    const report = await runStudy(config, createFakeEvaluator(), {
      resultsPath: file,
      onProgress: (p) => events.push(p),
    });
    expect(report).toEqual({ resultsPath: file, total: 24, skipped: 0, computed: 24, discardedTail: null, restamped: 0 });
    const records = readResults(file);
    expect(records.map((r) => r.pointId)).toEqual(order); // one thread: completion order is grid order
    for (const r of records) {
      expect(r.point.seeds).toEqual([0, 1]);
      expect(r.accuracy.perSeed).toHaveLength(2);
      expect(r.accuracy.mean).toBeCloseTo((r.accuracy.perSeed[0] + r.accuracy.perSeed[1]) / 2, 15);
      expect(r.metrics.backend).toBe('fake');
      expect(r.rootSeed).toBe(3);
    }
    expect(events.map((e) => e.kind)).toEqual(['start', ...Array(24).fill('point'), 'done']);
    expect(events.map((e) => e.computed)).toEqual([0, ...Array.from({ length: 24 }, (_, i) => i + 1), 24]);
    expect(events[5].point?.id).toBe(order[4]);

    // A second run finds everything done.
    const again = await runStudy(config, createFakeEvaluator(), { resultsPath: file });
    expect(again).toMatchObject({ skipped: 24, computed: 0 });
    expect(readResults(file)).toHaveLength(24);
  });

  test('the same seed gives the same bits; another rootSeed gives other bits', async () => {
    const a = await referenceBytes();
    const other = path.join(dir, 'other.jsonl');
    await runStudy(fixtureConfig({ rootSeed: 4 }), createFakeEvaluator(), { resultsPath: other });
    normaliseResultsFile(other, order);
    const b = fs.readFileSync(other, 'utf8');
    expect(b).not.toBe(a);
    const same = path.join(dir, 'same.jsonl');
    await runStudy(config, createFakeEvaluator(), { resultsPath: same });
    expect(fs.readFileSync(same, 'utf8')).toBe(a);
  });

  test('a results file from another rootSeed is refused before any work', async () => {
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fixtureConfig({ sigmas: [0] }), createFakeEvaluator(), { resultsPath: file });
    const before = fs.readFileSync(file, 'utf8');
    let calls = 0;
    await expectRejects(
      runStudy(fixtureConfig({ rootSeed: 9 }), async () => ((calls += 1), { accuracyPerSeed: [1, 1] }), {
        resultsPath: file,
      }),
      new ConfigError('rootSeed', 9, `the root seed ${file} was written with (3); use another results file`),
    );
    expect(calls).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('a failing point stops the study, names the point, and keeps the points before it', async () => {
    const file = path.join(dir, 'r.jsonl');
    const err = (await expectRejects(
      runStudy(config, createFakeEvaluator({ failModel: 'lstm' }), { resultsPath: file }),
      new StudyEvaluationError(
        null,
        `point ${order[12]} (model=lstm device=reram noise=multiplicative sigma=0 semantics=passes votes=1) failed: ` +
          'ConfigError: model = "lstm": expected a model the fake evaluator knows',
        null,
      ),
    )) as StudyEvaluationError;
    expect(err.pointId).toBe(order[12]);
    expect(err.cause).toBeInstanceOf(ConfigError);
    expect(readResults(file).map((r) => r.pointId)).toEqual(order.slice(0, 12));
  });

  test('bad options are ConfigErrors', async () => {
    const resultsPath = path.join(dir, 'r.jsonl');
    await expectRejects(
      runStudy(config, createFakeEvaluator(), { resultsPath, workers: 2 }),
      new ConfigError(
        'workers',
        2,
        '1 when the evaluator is a function; give {modulePath, exportName} to run on worker threads',
      ),
    );
    await expectRejects(
      runStudy(config, createFakeEvaluator(), { resultsPath, workers: 0 }),
      new ConfigError('workers', 0, "a positive integer or 'auto'"),
    );
    await expectRejects(
      runStudy(config, fakeModule(), { resultsPath, shard: { index: 3, count: 3 } }),
      new ConfigError('shard.index', 3, 'an integer in 0..2 (0-based)'),
    );
    expect(fs.existsSync(resultsPath)).toBe(false);
    await expect(runStudy(config, { ...fakeModule(), exportName: 'notAFactory' }, { resultsPath })).rejects.toThrow(
      /^evaluator.exportName = "notAFactory": expected an exported function of .*fakeEvaluator.ts; its exports: /,
    );
  });
});

describe('sharding', () => {
  test('merged shards equal the unsharded run byte for byte', async () => {
    const reference = await referenceBytes();
    const shardFiles: string[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(dir, `shard-${i + 1}-of-3.jsonl`);
      const report = await runStudy(config, createFakeEvaluator(), { resultsPath: file, shard: { index: i, count: 3 } });
      expect(report.computed).toBe(8);
      shardFiles.push(file);
    }
    const merged = path.join(dir, 'merged.jsonl');
    expect(mergeResultFiles(shardFiles, merged, { order })).toMatchObject({ written: 24, missing: [] });
    expect(fs.readFileSync(merged, 'utf8')).toBe(reference);
    // merge order of the inputs does not matter
    const merged2 = path.join(dir, 'merged2.jsonl');
    mergeResultFiles([...shardFiles].reverse(), merged2, { order });
    expect(fs.readFileSync(merged2, 'utf8')).toBe(reference);
    // without the config (as `ohmic merge` of bare files): both sides sort by point and still agree
    const bare = path.join(dir, 'bare.jsonl');
    mergeResultFiles(shardFiles, bare);
    const unsharded = path.join(dir, 'reference.jsonl');
    normaliseResultsFile(unsharded);
    expect(fs.readFileSync(bare, 'utf8')).toBe(fs.readFileSync(unsharded, 'utf8'));
    expect(fs.readFileSync(bare, 'utf8')).not.toBe(reference); // a different order, same lines
  });
});

describe('worker threads', () => {
  test('2 workers give the same normalised results as 1 thread', async () => {
    const reference = await referenceBytes();
    const file = path.join(dir, 'w2.jsonl');
    const events: StudyProgress[] = [];
    const report = await runStudy(config, fakeModule(), { resultsPath: file, workers: 2, onProgress: (p) => events.push(p) });
    expect(report.computed).toBe(24);
    expect(events.filter((e) => e.kind === 'point')).toHaveLength(24);
    normaliseResultsFile(file, order);
    expect(fs.readFileSync(file, 'utf8')).toBe(reference);
  });

  test('two studies at once on one shared pool give what each gives alone', async () => {
    const reference = await referenceBytes();
    const other = fixtureConfig({ rootSeed: 4 });
    const alone = path.join(dir, 'alone4.jsonl');
    await runStudy(other, createFakeEvaluator(), { resultsPath: alone });
    const pool = new StudyWorkerPool(fakeModule(), 2);
    const [a, b] = [path.join(dir, 'pa.jsonl'), path.join(dir, 'pb.jsonl')];
    try {
      await Promise.all([runStudy(config, fakeModule(), { resultsPath: a, pool }), runStudy(other, fakeModule(), { resultsPath: b, pool })]);
    } finally {
      await pool.terminate();
    }
    normaliseResultsFile(a, order);
    normaliseResultsFile(b, expandGrid(other).map((p) => p.id));
    expect(fs.readFileSync(a, 'utf8')).toBe(reference);
    expect(fs.readFileSync(b, 'utf8')).toBe(fs.readFileSync(alone, 'utf8'));
  });

  test('a module evaluator also runs in-process with workers = 1', async () => {
    const reference = await referenceBytes();
    const file = path.join(dir, 'w1.jsonl');
    await runStudy(config, fakeModule(), { resultsPath: file, workers: 1 });
    expect(fs.readFileSync(file, 'utf8')).toBe(reference);
  });

  test('a failure in a worker names the point; points finished before it are kept', async () => {
    const file = path.join(dir, 'w.jsonl');
    const err = (await expectRejects(
      runStudy(config, fakeModule({ failIndex: 12 }), { resultsPath: file, workers: 2 }),
      new StudyEvaluationError(
        null,
        `point ${order[12]} (model=lstm device=reram noise=multiplicative sigma=0 semantics=passes votes=1) ` +
          'failed: RangeError: fake failure at grid index 12',
        null,
      ),
    )) as StudyEvaluationError;
    expect(err.pointId).toBe(order[12]);
    expect(err.cause).toMatchObject({ name: 'RangeError', message: 'fake failure at grid index 12' });
    const done = readResults(file).map((r) => r.pointId);
    expect(done).toEqual(expect.arrayContaining(order.slice(0, 12)));
    expect(done).not.toContain(order[12]);
    // The other worker may finish a few later points before the failure reaches the main
    // thread; those are valid results and are kept, each once.
    expect(new Set(done).size).toBe(done.length);
  });

  test('a worker that cannot load its evaluator fails with the reason', async () => {
    await expect(
      runStudy(config, { ...fakeModule(), exportName: 'missing' }, { resultsPath: path.join(dir, 'x.jsonl'), workers: 2 }),
    ).rejects.toThrow(/could not set up the evaluator missing of .*: ConfigError: evaluator.exportName = "missing"/);
  });
});

describe('kill and resume', () => {
  test('a study killed with SIGKILL resumes with no point lost, duplicated or recomputed', async () => {
    const file = path.join(dir, 'killed.jsonl');
    const log = path.join(dir, 'evaluated.log');
    const child = spawn(
      path.join(REPO, 'node_modules', '.bin', 'tsx'),
      [path.join(FIXTURES, 'runFixtureStudy.ts'), file, log, '150', '2'],
      { cwd: REPO, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    while (lineCount(file) < 4 && !exitedEarly) await sleep(10);
    if (exitedEarly) throw new Error(`the fixture study exited before it was killed: ${stderr}`);
    // tsx runs the script in a child node process: kill the whole process group we started.
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');

    const finished = readResults(file).map((r) => r.pointId);
    expect(finished.length).toBeGreaterThanOrEqual(4);
    expect(finished.length).toBeLessThan(24);
    expect(new Set(finished).size).toBe(finished.length);

    // Simulate a write torn by the kill: half a line of a point that was not finished.
    const unfinished = order.filter((id) => !finished.includes(id));
    const tornRecord = JSON.stringify({ pointId: unfinished[0], point: {} });
    fs.appendFileSync(file, tornRecord.slice(0, 25));
    const loggedBefore = fs.readFileSync(log, 'utf8').trim().split('\n');

    const report = await runStudy(config, createFakeEvaluator({ logPath: log }), { resultsPath: file });
    expect(report.skipped).toBe(finished.length);
    expect(report.computed).toBe(24 - finished.length);
    expect(report.discardedTail).toBe(tornRecord.slice(0, 25));

    // Nothing finished was evaluated again; exactly the unfinished points were.
    const loggedAfter = fs.readFileSync(log, 'utf8').trim().split('\n').slice(loggedBefore.length);
    expect(new Set(loggedAfter)).toEqual(new Set(unfinished));
    expect(loggedAfter).toHaveLength(unfinished.length);
    const allLogged = [...loggedBefore, ...loggedAfter];
    for (const id of finished) expect(allLogged.filter((x) => x === id)).toHaveLength(1);

    // No point lost or duplicated, and the bits equal an uninterrupted run.
    const ids = readResults(file).map((r) => r.pointId);
    expect(ids).toHaveLength(24);
    expect(new Set(ids)).toEqual(new Set(order));
    normaliseResultsFile(file, order);
    expect(fs.readFileSync(file, 'utf8')).toBe(await referenceBytes());
  });
});
