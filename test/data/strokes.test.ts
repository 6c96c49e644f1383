import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DataError } from '../../src/errors';
import {
  embeddedMnistDir,
  loadMnist,
  loadStrokes,
  readIdxLabels,
  sharedDatasetPaths,
  StrokeData,
} from '../../src/data';
import {
  describeWithShared,
  histogram,
  makeTempDir,
  MNIST_TRAIN_HISTOGRAM,
  SHARED_DATASETS,
} from './sharedData';
import { FixtureEntry, ustarGz } from './tarFixture';

/** Step t of sequence i as [dx, dy], multiplied back by `scale`. */
function step(data: StrokeData, i: number, t: number, scale = 1): [number, number] {
  const k = (i * data.maxLength + t) * 2;
  return [Math.round(data.sequences[k] * scale), Math.round(data.sequences[k + 1] * scale)];
}

function lengthStats(lengths: Int32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const l of lengths) {
    min = Math.min(min, l);
    max = Math.max(max, l);
    sum += l;
  }
  return { min, max, mean: sum / lengths.length };
}

describeWithShared('MNIST stroke sequences from ../shared/datasets', () => {
  const archive = sharedDatasetPaths(SHARED_DATASETS).strokesTarGz;
  let testRaw: StrokeData;
  beforeAll(async () => {
    testRaw = await loadStrokes(archive, 'test', { coordinateDivisor: 1 });
  });

  it('test split: 10,000 sequences, labels equal to the MNIST test labels', () => {
    expect(testRaw.count).toBe(10000);
    expect(testRaw.maxLength).toBe(117);
    expect(testRaw.sequences.length).toBe(10000 * 117 * 2);
    expect(testRaw.truncated).toBe(0);
    const mnist = loadMnist(embeddedMnistDir(), 'test');
    expect(Buffer.from(testRaw.labels).equals(Buffer.from(mnist.labels))).toBe(true);
  });

  it('test split lengths: 13..108, mean 39.41 (README)', () => {
    const s = lengthStats(testRaw.lengths);
    expect(s.min).toBe(13);
    expect(s.max).toBe(108);
    expect(Math.abs(s.mean - 39.41)).toBeLessThanOrEqual(0.005);
  });

  it('testimg-0 starts 8 9, 1 0 and ends 0 0 (end of digit), then zero padding', () => {
    expect(step(testRaw, 0, 0)).toEqual([8, 9]);
    expect(step(testRaw, 0, 1)).toEqual([1, 0]);
    const len = testRaw.lengths[0];
    expect(len).toBe(31);
    expect(step(testRaw, 0, len - 1)).toEqual([0, 0]);
    for (let t = len; t < 117; t++) expect(step(testRaw, 0, t)).toEqual([0, 0]);
  });

  it('every pen position (running sum of dx dy) lies on ink of the MNIST test image', () => {
    // README: 0 exceptions over all sequences. Marker lines are (0, 0), so they do not move the pen.
    const mnist = loadMnist(embeddedMnistDir(), 'test');
    let offInk = 0;
    let outside = 0;
    let points = 0;
    for (let i = 0; i < testRaw.count; i++) {
      let col = 0;
      let row = 0;
      for (let t = 0; t < testRaw.lengths[i]; t++) {
        const [dx, dy] = step(testRaw, i, t);
        col += dx;
        row += dy;
        if (col < 1 || col > 28 || row < 1 || row > 28) {
          outside++;
          continue;
        }
        points++;
        if (mnist.images[i * 784 + (row - 1) * 28 + (col - 1)] === 0) offInk++;
      }
    }
    expect(outside).toBe(0);
    expect(offInk).toBe(0);
    // Every step, marker lines included, was checked: none was skipped as outside.
    expect(points).toBe(Array.from(testRaw.lengths).reduce((a, b) => a + b, 0));
  });

  it('default scaling divides dx dy by 28', async () => {
    const scaled = await loadStrokes(archive, 'test', { limit: 20 });
    expect(scaled.count).toBe(20);
    for (let k = 0; k < 20 * 117 * 2; k++) {
      expect(scaled.sequences[k]).toBeCloseTo(testRaw.sequences[k] / 28, 6);
    }
    expect(scaled.sequences[0]).toBeCloseTo(8 / 28, 7);
    expect(Array.from(scaled.lengths)).toEqual(Array.from(testRaw.lengths.subarray(0, 20)));
    expect(Array.from(scaled.labels)).toEqual(Array.from(testRaw.labels.subarray(0, 20)));
  });

  it('a sequence longer than maxLength is an error unless truncate is set', async () => {
    await expect(loadStrokes(archive, 'test', { maxLength: 100 })).rejects.toThrow(
      /sequences\.tar\.gz:sequences\/testimg-\d+-inputdata\.txt: sequence length 10[1-8] exceeds maxLength 100; raise maxLength or pass truncate: true$/,
    );
    const cut = await loadStrokes(archive, 'test', { maxLength: 100, truncate: true, coordinateDivisor: 1 });
    const longer = Array.from(testRaw.lengths).filter((l) => l > 100).length;
    expect(longer).toBeGreaterThan(0);
    expect(cut.truncated).toBe(longer);
    for (let i = 0; i < cut.count; i++) {
      expect(cut.lengths[i]).toBe(Math.min(testRaw.lengths[i], 100));
    }
    const i = Array.from(testRaw.lengths).findIndex((l) => l > 100);
    for (let t = 0; t < 100; t++) expect(step(cut, i, t)).toEqual(step(testRaw, i, t));
  });

  it("padAt 'start' puts the sequence at the end of the window", async () => {
    const lead = await loadStrokes(archive, 'test', { limit: 5, padAt: 'start', coordinateDivisor: 1 });
    for (let i = 0; i < 5; i++) {
      const len = lead.lengths[i];
      for (let t = 0; t < 117 - len; t++) expect(step(lead, i, t)).toEqual([0, 0]);
      for (let t = 0; t < len; t++) expect(step(lead, i, 117 - len + t)).toEqual(step(testRaw, i, t));
    }
  });

  it('rejects a limit above the split size', async () => {
    await expect(loadStrokes(archive, 'test', { limit: 10001 })).rejects.toThrow(ConfigError);
  });

  it('train split: 60,000 sequences, MNIST train labels, first one starts 11 9, 1 0, 1 0, 0 -1', async () => {
    const train = await loadStrokes(archive, 'train');
    expect(train.count).toBe(60000);
    expect(histogram(train.labels)).toEqual(MNIST_TRAIN_HISTOGRAM);
    const idxLabels = readIdxLabels(path.join(sharedDatasetPaths(SHARED_DATASETS).mnistDir, 'train-labels-idx1-ubyte.gz'));
    expect(Buffer.from(train.labels).equals(Buffer.from(idxLabels))).toBe(true);
    const s = lengthStats(train.lengths);
    expect(s.min).toBe(13);
    expect(s.max).toBe(117);
    expect(Math.abs(s.mean - 39.95)).toBeLessThanOrEqual(0.005);
    expect([0, 1, 2, 3].map((t) => step(train, 0, t, 28))).toEqual([[11, 9], [1, 0], [1, 0], [0, -1]]);
    expect(train.sequences[0]).toBeCloseTo(11 / 28, 7);
    expect(train.lengths[0]).toBe(46);
    expect(step(train, 0, 45, 28)).toEqual([0, 0]);
  });
});

describe('stroke reader on small and corrupt archives', () => {
  const dir = makeTempDir('strokes');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const seq0 = '3 4 0 0\n1 0 0 0\n0 0 1 0\n-2 1 0 0\n0 0 1 1\n';
  const seq1 = '5 5 0 0\n0 1 0 0\n0 0 1 1\n';
  const seq2 = '7 2 0 0\n-1 -1 0 0\n0 0 1 1\n';

  function write(name: string, entries: FixtureEntry[]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, ustarGz([{ name: 'sequences/', type: '5' }, ...entries]));
    return file;
  }

  function member(kind: 'test' | 'train', i: number, text: string): FixtureEntry {
    return { name: `sequences/${kind}img-${i}-inputdata.txt`, data: text };
  }

  it('reads a well-formed archive exactly', async () => {
    const file = write('good.tar.gz', [
      member('test', 0, seq0),
      { name: 'sequences/testimg-0-points.txt', data: 'col,row\n3,4\n' },
      member('test', 1, seq1),
      member('test', 2, seq2),
      { name: 'sequences/testlabels.txt', data: '4\n0\n9\n' },
      member('train', 0, seq1),
      { name: 'sequences/trainlabels.txt', data: '1\n' },
    ]);
    const data = await loadStrokes(file, 'test', { maxLength: 6, coordinateDivisor: 1 });
    expect(data.count).toBe(3);
    expect(Array.from(data.labels)).toEqual([4, 0, 9]);
    expect(Array.from(data.lengths)).toEqual([5, 3, 3]);
    expect(Array.from(data.sequences.subarray(0, 12))).toEqual([3, 4, 1, 0, 0, 0, -2, 1, 0, 0, 0, 0]);
    expect(Array.from(data.sequences.subarray(24, 36))).toEqual([7, 2, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const train = await loadStrokes(file, 'train', { maxLength: 3 });
    expect(Array.from(train.sequences)).toEqual([5 / 28, 5 / 28, 0, 1 / 28, 0, 0].map(Math.fround));
  });

  it('a tar.gz without the labels file', async () => {
    const file = write('nolabels.tar.gz', [member('test', 0, seq0)]);
    await expect(loadStrokes(file, 'test')).rejects.toThrow(
      new DataError(file, 'no member sequences/testlabels.txt (labels of the test split)'),
    );
  });

  it('a missing sequence', async () => {
    const file = write('gap.tar.gz', [
      member('test', 0, seq0),
      member('test', 2, seq2),
      { name: 'sequences/testlabels.txt', data: '1\n2\n3\n' },
    ]);
    await expect(loadStrokes(file, 'test')).rejects.toThrow(
      new DataError(file, 'no member sequences/testimg-1-inputdata.txt (sequence 1 of 3)'),
    );
  });

  it('a sequence without a label', async () => {
    const file = write('extra.tar.gz', [
      member('test', 0, seq0),
      member('test', 1, seq1),
      { name: 'sequences/testlabels.txt', data: '1\n' },
    ]);
    await expect(loadStrokes(file, 'test')).rejects.toThrow(
      `${file}:sequences/testimg-1-inputdata.txt: sequence 1 has no label (sequences/testlabels.txt has 1 lines)`,
    );
  });

  it('a malformed line and a bad label', async () => {
    const short = write('short.tar.gz', [
      member('test', 0, '1 2 0 0\n1 2 0\n'),
      { name: 'sequences/testlabels.txt', data: '1\n' },
    ]);
    await expect(loadStrokes(short, 'test')).rejects.toThrow(
      new DataError(`${short}:sequences/testimg-0-inputdata.txt`, 'line 2: 3 values, expected 4 (dx dy eos eod)'),
    );
    const text = write('text.tar.gz', [member('test', 0, '1 2 x 0\n'), { name: 'sequences/testlabels.txt', data: '1\n' }]);
    await expect(loadStrokes(text, 'test')).rejects.toThrow('testimg-0-inputdata.txt: line 1: not a list of integers');
    const label = write('label.tar.gz', [member('test', 0, seq0), { name: 'sequences/testlabels.txt', data: '12\n' }]);
    await expect(loadStrokes(label, 'test')).rejects.toThrow(
      new DataError(`${label}:sequences/testlabels.txt`, 'line 1: "12", expected a digit 0..9'),
    );
  });

  it('a sequence longer than maxLength', async () => {
    const file = write('long.tar.gz', [member('test', 0, seq0), { name: 'sequences/testlabels.txt', data: '3\n' }]);
    await expect(loadStrokes(file, 'test', { maxLength: 4 })).rejects.toThrow(
      new DataError(
        `${file}:sequences/testimg-0-inputdata.txt`,
        'sequence length 5 exceeds maxLength 4; raise maxLength or pass truncate: true',
      ),
    );
    const cut = await loadStrokes(file, 'test', { maxLength: 4, truncate: true, coordinateDivisor: 1 });
    expect(cut.truncated).toBe(1);
    expect(Array.from(cut.sequences)).toEqual([3, 4, 1, 0, 0, 0, -2, 1]);
  });

  it('a missing archive and a file that is not a tar archive', async () => {
    const missing = path.join(dir, 'missing.tar.gz');
    await expect(loadStrokes(missing, 'test')).rejects.toThrow(new DataError(missing, 'file not found'));
    const notTar = path.join(dir, 'notes.tar');
    fs.writeFileSync(notTar, 'just some text, not an archive\n'.repeat(40));
    await expect(loadStrokes(notTar, 'test')).rejects.toThrow(
      new DataError(notTar, 'not a tar archive, or corrupt: header checksum mismatch at byte 0'),
    );
  });

  it('rejects bad options before reading', async () => {
    const none = path.join(dir, 'never-read.tar.gz');
    await expect(loadStrokes(none, 'test', { maxLength: 0 })).rejects.toThrow(
      new ConfigError('maxLength', 0, 'a positive integer (time steps)'),
    );
    await expect(loadStrokes(none, 'test', { coordinateDivisor: -1 })).rejects.toThrow(ConfigError);
    await expect(loadStrokes(none, 'test', { padAt: 'middle' as 'end' })).rejects.toThrow(ConfigError);
    await expect(loadStrokes(none, 'valid' as 'test')).rejects.toThrow(new ConfigError('split', 'valid', '"train" or "test"'));
  });
});
