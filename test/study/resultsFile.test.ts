import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataError } from '../../src/errors';
import { expandGrid, pointSeed } from '../../src/study/grid';
import {
  buildResultRecord,
  serializeRecord,
  type PointResult,
  type ResultRecord,
} from '../../src/study/resultRecord';
import {
  completedPointIds,
  mergeResultFiles,
  normaliseResultsFile,
  openResultsFile,
  readResults,
  scanResultsFile,
} from '../../src/study/resultsFile';
import { expectThrows } from '../helpers/expectThrows';
import { fixtureConfig } from './fixtures/studyConfig';

const config = fixtureConfig();
const points = expandGrid(config);
const records: ResultRecord[] = points.map((p, i) =>
  buildResultRecord(p, pointSeed(p, config.rootSeed), config.rootSeed, {
    accuracyPerSeed: [0.5 + i / 100, 0.25],
    metrics: { tiles: i, backend: 'wasm' },
  }),
);
const lineOf = (r: ResultRecord): string => `${serializeRecord(r)}\n`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-results-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('buildResultRecord', () => {
  test('accuracy summary over seeds and sorted metrics', () => {
    const r = buildResultRecord(points[0], 7, 3, {
      accuracyPerSeed: [0.9, 0.8],
      metrics: { zeta: 1, alpha: 'x', mid: null },
    });
    expect(r.accuracy.mean).toBeCloseTo(0.85, 15);
    expect(r.accuracy.std).toBeCloseTo(Math.sqrt(0.005), 15);
    expect([r.accuracy.min, r.accuracy.max]).toEqual([0.8, 0.9]);
    expect(Object.keys(r.metrics)).toEqual(['alpha', 'mid', 'zeta']);
    expect(r).not.toHaveProperty('point.id');
    expect(r).not.toHaveProperty('point.index');
    const single = buildResultRecord({ ...points[0], seeds: [4] }, 7, 3, { accuracyPerSeed: [0.5] });
    expect(single.accuracy.std).toBeNull();
  });

  test('rejects malformed evaluator results, naming the point', () => {
    const where = `evaluator result for point ${points[0].id}`;
    expectThrows(
      () => buildResultRecord(points[0], 1, 3, undefined as unknown as PointResult),
      new DataError(where, 'undefined; expected an object {accuracyPerSeed, metrics?}'),
    );
    expectThrows(
      () => buildResultRecord(points[0], 1, 3, { accuracyPerSeed: [0.5] }),
      new DataError(where, 'accuracyPerSeed has 1 entries; expected one per seed (2)'),
    );
    expectThrows(
      () => buildResultRecord(points[0], 1, 3, { accuracyPerSeed: [0.5, 1.5] }),
      new DataError(where, 'accuracyPerSeed[1] = 1.5; expected a number in [0, 1]'),
    );
    expectThrows(
      () => buildResultRecord(points[0], 1, 3, { accuracyPerSeed: [0.5, 0.5], metrics: { energy: NaN } }),
      new DataError(where, 'metric "energy" = NaN; expected a finite number, string, boolean or null'),
    );
    expect(() =>
      buildResultRecord(points[0], 1, 3, {
        accuracyPerSeed: [0.5, 0.5],
        metrics: { nested: { a: 1 } as unknown as number },
      }),
    ).toThrow(DataError);
  });
});

describe('results file', () => {
  test('append, read back, completed ids', () => {
    const file = path.join(dir, 'sub', 'results.jsonl');
    expect(completedPointIds(file).size).toBe(0);
    const w = openResultsFile(file);
    w.append(records[0]);
    w.append(records[1]);
    w.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(lineOf(records[0]) + lineOf(records[1]));
    expect(readResults(file)).toEqual([records[0], records[1]].map((r) => JSON.parse(serializeRecord(r))));
    expect(completedPointIds(file)).toEqual(new Set([records[0].pointId, records[1].pointId]));
  });

  test('a torn last line is ignored by readers and cut off before the next append', () => {
    const file = path.join(dir, 'results.jsonl');
    const torn = lineOf(records[2]).slice(0, 57);
    fs.writeFileSync(file, lineOf(records[0]) + lineOf(records[1]) + torn);
    const scan = scanResultsFile(file);
    expect(scan.tornTail).toBe(torn);
    expect(scan.records.map((r) => r.pointId)).toEqual([records[0].pointId, records[1].pointId]);
    expect(completedPointIds(file).has(records[2].pointId)).toBe(false);

    const w = openResultsFile(file);
    expect(w.discardedTail).toBe(torn);
    expect(w.existing).toHaveLength(2);
    w.append(records[2]);
    w.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(lineOf(records[0]) + lineOf(records[1]) + lineOf(records[2]));
  });

  test('a complete line that is not JSON is corruption, named by file and line', () => {
    const file = path.join(dir, 'results.jsonl');
    fs.writeFileSync(file, lineOf(records[0]) + '{"pointId": \n' + lineOf(records[1]));
    expect(() => readResults(file)).toThrow(DataError);
    expect(() => readResults(file)).toThrow(`${file}:2: not valid JSON`);
  });

  test('a record whose pointId does not match its point is rejected', () => {
    const file = path.join(dir, 'results.jsonl');
    const forged = { ...JSON.parse(serializeRecord(records[0])), pointId: records[1].pointId };
    fs.writeFileSync(file, `${JSON.stringify(forged)}\n`);
    expectThrows(
      () => readResults(file),
      new DataError(`${file}:1`, `pointId ${records[1].pointId} does not match its point (expected ${records[0].pointId})`),
    );
  });

  test('readResults of a missing file is a DataError', () => {
    const file = path.join(dir, 'nope.jsonl');
    expectThrows(() => readResults(file), new DataError(file, 'cannot read results file (ENOENT)'));
  });
});

describe('mergeResultFiles', () => {
  const order = points.map((p) => p.id);
  const canonical = records.map(lineOf).join('');

  function writeLines(name: string, rs: readonly ResultRecord[], extra = ''): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, rs.map(lineOf).join('') + extra);
    return file;
  }

  test('shards in any line order merge to grid order; identical duplicates dropped', () => {
    const a = writeLines('a.jsonl', records.filter((_, i) => i % 2 === 0).reverse());
    const b = writeLines('b.jsonl', records.filter((_, i) => i % 2 === 1));
    const c = writeLines('c.jsonl', records.slice(0, 3)); // overlaps a and b
    const out = path.join(dir, 'merged.jsonl');
    const report = mergeResultFiles([c, b, a], out, { order });
    expect(fs.readFileSync(out, 'utf8')).toBe(canonical);
    expect(report).toEqual({ written: 24, duplicatesDropped: 3, tornTails: [], missing: [], outsideOrder: [] });
    // no temporary left behind
    expect(fs.readdirSync(dir).sort()).toEqual(['a.jsonl', 'b.jsonl', 'c.jsonl', 'merged.jsonl']);
  });

  test('without an order, lines sort by point config (model, device, noise, sigma, semantics, votes)', () => {
    const a = writeLines('a.jsonl', [...records].reverse());
    const out = path.join(dir, 'm.jsonl');
    mergeResultFiles([a], out);
    const keys = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).point)
      .map((p) => `${p.model}/${p.device}/${p.sigma}/${p.votes}`);
    expect(keys.slice(0, 8)).toEqual([
      'cnn6/pcm/0/1',
      'cnn6/pcm/0/5',
      'cnn6/pcm/0.5/1',
      'cnn6/pcm/0.5/5',
      'cnn6/pcm/1/1',
      'cnn6/pcm/1/5',
      'cnn6/reram/0/1',
      'cnn6/reram/0/5',
    ]);
    expect(keys[23]).toBe('lstm/reram/1/5');
  });

  test('reports missing points, points outside the order and torn tails', () => {
    const a = writeLines('a.jsonl', records.slice(1, 24), lineOf(records[0]).slice(0, 30));
    const out = path.join(dir, 'm.jsonl');
    const report = mergeResultFiles([a], out, { order: order.slice(0, 20) });
    expect(report.missing).toEqual([order[0]]);
    expect(report.outsideOrder).toEqual(order.slice(20)); // here grid order is also config order
    expect(report.tornTails).toEqual([a]);
    expect(report.written).toBe(23);
  });

  test('conflicting results for one point are an error naming both places', () => {
    const a = writeLines('a.jsonl', records.slice(0, 2));
    const changed = { ...records[1], metrics: { ...records[1].metrics, tiles: 999 } };
    const b = writeLines('b.jsonl', [changed]);
    expectThrows(
      () => mergeResultFiles([a, b], path.join(dir, 'm.jsonl')),
      new DataError(`${b}:1`, `point ${records[1].pointId} conflicts with ${a}:2: the same point with different results`),
    );
    expect(fs.existsSync(path.join(dir, 'm.jsonl'))).toBe(false);
  });

  test('normaliseResultsFile sorts in place', () => {
    const a = writeLines('a.jsonl', [...records].reverse());
    normaliseResultsFile(a, order);
    expect(fs.readFileSync(a, 'utf8')).toBe(canonical);
  });
});
