import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ConfigError, DataError } from '../../src/errors';
import {
  embeddedMnistDir,
  loadMnist,
  MnistData,
  parseIdxImages,
  readIdxImages,
  readIdxLabels,
  sharedDatasetPaths,
} from '../../src/data';
import {
  describeWithShared,
  histogram,
  makeTempDir,
  MNIST_TEST_HISTOGRAM,
  MNIST_TRAIN_HISTOGRAM,
  SHARED_DATASETS,
} from './sharedData';

function idxHeader(values: number[]): Buffer {
  const header = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => header.writeUInt32BE(v, i * 4));
  return header;
}

/** IDX images: `count` images of rows x cols whose pixel k of image i is (i*7 + k) % 256. */
function idxImages(count: number, rows: number, cols: number): Buffer {
  const pixels = Buffer.alloc(count * rows * cols);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < rows * cols; k++) pixels[i * rows * cols + k] = (i * 7 + k) % 256;
  }
  return Buffer.concat([idxHeader([2051, count, rows, cols]), pixels]);
}

function idxLabels(labels: number[]): Buffer {
  return Buffer.concat([idxHeader([2049, labels.length]), Buffer.from(labels)]);
}

describe('embedded MNIST t10k (shipped in data/mnist)', () => {
  let test: MnistData;
  beforeAll(() => {
    test = loadMnist(embeddedMnistDir(), 'test');
  });

  it('holds 10,000 28x28 digits with the README test label histogram', () => {
    expect(test.count).toBe(10000);
    expect(test.shape).toEqual([10000, 28, 28, 1]);
    expect(test.images.length).toBe(10000 * 784);
    expect(test.labels.length).toBe(10000);
    expect(histogram(test.labels)).toEqual(MNIST_TEST_HISTOGRAM);
  });

  it('has pixels in [0, 1] on the k/255 grid, with both ends used', () => {
    let min = Infinity;
    let max = -Infinity;
    let offGrid = 0;
    for (const v of test.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== Math.fround(Math.round(v * 255) / 255)) offGrid++;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(offGrid).toBe(0);
  });

  it('starts with the canonical first test digit, a 7', () => {
    expect(Array.from(test.labels.slice(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // Ink of a 7: the top bar lies in rows 7-8, the image border is blank.
    const img = test.images.subarray(0, 784);
    let border = 0;
    for (let k = 0; k < 28; k++) border += img[k] + img[27 * 28 + k] + img[k * 28] + img[k * 28 + 27];
    expect(border).toBe(0);
    let ink = 0;
    for (const v of img) ink += v;
    expect(ink).toBeGreaterThan(50);
    expect(ink).toBeLessThan(150);
  });

  it('honours limit and rejects one above the count', () => {
    const first = loadMnist(embeddedMnistDir(), 'test', { limit: 25 });
    expect(first.shape).toEqual([25, 28, 28, 1]);
    expect(Array.from(first.images)).toEqual(Array.from(test.images.subarray(0, 25 * 784)));
    expect(Array.from(first.labels)).toEqual(Array.from(test.labels.subarray(0, 25)));
    expect(() => loadMnist(embeddedMnistDir(), 'test', { limit: 10001 })).toThrow(ConfigError);
    expect(() => loadMnist(embeddedMnistDir(), 'test', { limit: 0 })).toThrow(
      /^limit = 0: expected an integer in 1\.\.10000/,
    );
  });

  it('has no train split (only t10k is embedded)', () => {
    expect(() => loadMnist(embeddedMnistDir(), 'train')).toThrow(DataError);
    expect(() => loadMnist(embeddedMnistDir(), 'train')).toThrow(
      /train-images-idx3-ubyte\.gz: file not found \(nor .*train-images-idx3-ubyte\)/,
    );
  });
});

describeWithShared('MNIST from ../shared/datasets', () => {
  const dir = sharedDatasetPaths(SHARED_DATASETS).mnistDir;

  it('train split: 60,000 digits with the README label histogram', () => {
    const train = loadMnist(dir, 'train');
    expect(train.shape).toEqual([60000, 28, 28, 1]);
    expect(train.images.length).toBe(60000 * 784);
    expect(histogram(train.labels)).toEqual(MNIST_TRAIN_HISTOGRAM);
    expect(Array.from(train.labels.slice(0, 5))).toEqual([5, 0, 4, 1, 9]);
  });

  it('test split equals the embedded copy', () => {
    const shared = loadMnist(dir, 'test');
    const embedded = loadMnist(embeddedMnistDir(), 'test');
    expect(histogram(shared.labels)).toEqual(MNIST_TEST_HISTOGRAM);
    expect(Buffer.from(shared.images.buffer).equals(Buffer.from(embedded.images.buffer))).toBe(true);
    expect(Buffer.from(shared.labels).equals(Buffer.from(embedded.labels))).toBe(true);
  });
});

describe('IDX reader on synthetic and corrupt files', () => {
  const dir = makeTempDir('idx');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads plain and gzip files alike, pixels scaled by 1/255', () => {
    const bytes = idxImages(3, 2, 4);
    fs.writeFileSync(path.join(dir, 'plain.idx'), bytes);
    fs.writeFileSync(path.join(dir, 'packed.idx.gz'), zlib.gzipSync(bytes));
    const plain = readIdxImages(path.join(dir, 'plain.idx'));
    const packed = readIdxImages(path.join(dir, 'packed.idx.gz'));
    expect(plain).toMatchObject({ count: 3, rows: 2, cols: 4 });
    expect(Array.from(packed.pixels)).toEqual(Array.from(plain.pixels));
    // Image 2, pixel 5: (2*7 + 5) % 256 = 19.
    expect(plain.pixels[2 * 8 + 5]).toBeCloseTo(19 / 255, 7);
    expect(parseIdxImages(bytes, 'mem', { limit: 2 }).pixels.length).toBe(16);
  });

  it('loadMnist reads a folder of un-gzipped canonical names', () => {
    const sub = path.join(dir, 'plainMnist');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'train-images-idx3-ubyte'), idxImages(4, 28, 28));
    fs.writeFileSync(path.join(sub, 'train-labels-idx1-ubyte'), idxLabels([3, 1, 4, 1]));
    const data = loadMnist(sub, 'train');
    expect(data.shape).toEqual([4, 28, 28, 1]);
    expect(Array.from(data.labels)).toEqual([3, 1, 4, 1]);
    expect(data.images[3 * 784 + 10]).toBeCloseTo(((3 * 7 + 10) % 256) / 255, 7);
  });

  it('wrong magic: a labels file read as images', () => {
    const file = path.join(dir, 'labels-as-images.gz');
    fs.writeFileSync(file, zlib.gzipSync(idxLabels([1, 2, 3])));
    expect(() => readIdxImages(file)).toThrow(DataError);
    expect(() => readIdxImages(file)).toThrow(`${file}: magic 2049, expected 2051 (IDX images)`);
    expect(() => readIdxLabels(path.join(dir, 'plain.idx'))).toThrow(
      `${path.join(dir, 'plain.idx')}: magic 2051, expected 2049 (IDX labels)`,
    );
  });

  it('truncated images: size differs from the header count', () => {
    const file = path.join(dir, 'short-images.gz');
    fs.writeFileSync(file, zlib.gzipSync(idxImages(5, 28, 28).subarray(0, 16 + 4 * 784 + 100)));
    expect(() => readIdxImages(file)).toThrow(
      `${file}: header says 5 images of 28x28 (3936 bytes), found 3252 bytes`,
    );
  });

  it('truncated labels and a too-short header', () => {
    const file = path.join(dir, 'short-labels');
    fs.writeFileSync(file, idxLabels([1, 2, 3, 4]).subarray(0, 10));
    expect(() => readIdxLabels(file)).toThrow(`${file}: header says 4 labels (12 bytes), found 10 bytes`);
    const tiny = path.join(dir, 'tiny');
    fs.writeFileSync(tiny, Buffer.from([0, 0]));
    expect(() => readIdxImages(tiny)).toThrow(`${tiny}: 2 bytes, too short for an IDX header (expected IDX images)`);
  });

  it('missing file', () => {
    const file = path.join(dir, 'nope.gz');
    expect(() => readIdxLabels(file)).toThrow(new DataError(file, 'file not found'));
  });

  it('a cut-off gzip stream', () => {
    const file = path.join(dir, 'cut.gz');
    const gz = zlib.gzipSync(idxImages(50, 28, 28));
    fs.writeFileSync(file, gz.subarray(0, gz.length - 40));
    expect(() => readIdxImages(file)).toThrow(/cut\.gz: not a valid gzip stream \(unexpected end of file\)$/);
  });

  it('loadMnist: image/label count mismatch and out-of-range labels', () => {
    const sub = path.join(dir, 'mismatch');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 't10k-images-idx3-ubyte.gz'), zlib.gzipSync(idxImages(3, 28, 28)));
    fs.writeFileSync(path.join(sub, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(idxLabels([1, 2])));
    const labelsFile = path.join(sub, 't10k-labels-idx1-ubyte.gz');
    expect(() => loadMnist(sub, 'test')).toThrow(
      `${labelsFile}: 2 labels, expected 3 (the image count of ${path.join(sub, 't10k-images-idx3-ubyte.gz')})`,
    );
    fs.writeFileSync(labelsFile, zlib.gzipSync(idxLabels([1, 12, 2])));
    expect(() => loadMnist(sub, 'test')).toThrow(`${labelsFile}: label 12 at index 1, expected a digit 0..9`);
  });

  it('rejects an unknown split', () => {
    expect(() => loadMnist(dir, 'val' as 'test')).toThrow(new ConfigError('split', 'val', '"train" or "test"'));
  });
});
