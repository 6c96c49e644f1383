import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ConfigError, DataError } from '../../src/errors';
import {
  CIFAR10_CLASS_NAMES,
  CIFAR_RECORD_BYTES,
  CifarData,
  readCifarBinary,
  sharedDatasetPaths,
} from '../../src/data';
import { describeWithShared, histogram, makeTempDir, SHARED_DATASETS } from './sharedData';

/** One record whose channel c, pixel p holds (seed + 3*p + c) % 256. */
function record(label: number, seed: number): Buffer {
  const rec = Buffer.alloc(CIFAR_RECORD_BYTES);
  rec[0] = label;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 1024; p++) rec[1 + c * 1024 + p] = (seed + 3 * p + c) % 256;
  }
  return rec;
}

describeWithShared('CIFAR-10 sample from ../shared/datasets', () => {
  let data: CifarData;
  beforeAll(() => {
    data = readCifarBinary(sharedDatasetPaths(SHARED_DATASETS).cifar10Sample);
  });

  it('holds 4,000 records with the README label counts', () => {
    expect(data.count).toBe(4000);
    expect(data.shape).toEqual([4000, 32, 32, 3]);
    expect(data.images.length).toBe(4000 * 3072);
    expect(histogram(data.labels)).toEqual([396, 366, 420, 384, 422, 393, 414, 385, 407, 413]);
  });

  it('record 0 is a frog whose first red values are 59, 43, 50, 68, 98, 119, 139, 145, 149', () => {
    expect(data.labels[0]).toBe(6);
    expect(CIFAR10_CLASS_NAMES[data.labels[0]]).toBe('frog');
    // NHWC: red of pixel p of image 0 is at p*3.
    const red = Array.from({ length: 9 }, (_, p) => Math.round(data.images[p * 3] * 255));
    expect(red).toEqual([59, 43, 50, 68, 98, 119, 139, 145, 149]);
  });

  it('mean pixel is 120.5/255 (README, one decimal) and values lie in [0, 1]', () => {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.images) {
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(Math.abs((sum / data.images.length) * 255 - 120.5)).toBeLessThanOrEqual(0.05);
    expect(min).toBe(0);
    expect(max).toBe(1);
  });
});

describe('CIFAR binary reader on synthetic and corrupt files', () => {
  const dir = makeTempDir('cifar');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('class names follow batches.meta.txt order', () => {
    expect(CIFAR10_CLASS_NAMES).toEqual([
      'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
    ]);
  });

  it('converts planar R,G,B records to NHWC, across files in order, gzip or plain', () => {
    const a = path.join(dir, 'a.bin');
    const b = path.join(dir, 'b.bin.gz');
    fs.writeFileSync(a, Buffer.concat([record(3, 0), record(9, 100)]));
    fs.writeFileSync(b, zlib.gzipSync(record(0, 200)));
    const data = readCifarBinary([a, b]);
    expect(data.count).toBe(3);
    expect(data.shape).toEqual([3, 32, 32, 3]);
    expect(Array.from(data.labels)).toEqual([3, 9, 0]);
    for (const [img, seed] of [[0, 0], [1, 100], [2, 200]]) {
      for (const p of [0, 1, 31, 32, 517, 1023]) {
        for (let c = 0; c < 3; c++) {
          const got = data.images[(img * 1024 + p) * 3 + c];
          expect(got).toBeCloseTo(((seed + 3 * p + c) % 256) / 255, 7);
        }
      }
    }
    const limited = readCifarBinary([a, b], { limit: 2 });
    expect(Array.from(limited.labels)).toEqual([3, 9]);
    expect(Array.from(limited.images)).toEqual(Array.from(data.images.subarray(0, 2 * 3072)));
  });

  it('a length that is not a multiple of 3073 names the file and the length', () => {
    const file = path.join(dir, 'ragged.bin.gz');
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([record(1, 0), Buffer.alloc(100)])));
    expect(() => readCifarBinary(file)).toThrow(DataError);
    expect(() => readCifarBinary(file)).toThrow(
      `${file}: length 3173 bytes is not a positive multiple of the 3073-byte CIFAR-10 record`,
    );
    const empty = path.join(dir, 'empty.bin');
    fs.writeFileSync(empty, Buffer.alloc(0));
    expect(() => readCifarBinary(empty)).toThrow(`${empty}: length 0 bytes is not a positive multiple`);
  });

  it('a label outside 0..9 names the record', () => {
    const file = path.join(dir, 'badlabel.bin');
    fs.writeFileSync(file, Buffer.concat([record(2, 0), record(10, 0)]));
    expect(() => readCifarBinary(file)).toThrow(`${file}: record 1 has label 10, expected 0..9`);
  });

  it('missing file, empty file list and a limit above the record count', () => {
    const missing = path.join(dir, 'data_batch_9.bin');
    expect(() => readCifarBinary(missing)).toThrow(new DataError(missing, 'file not found'));
    expect(() => readCifarBinary([])).toThrow(DataError);
    const one = path.join(dir, 'one.bin');
    fs.writeFileSync(one, record(5, 1));
    expect(() => readCifarBinary(one, { limit: 2 })).toThrow(ConfigError);
    expect(() => readCifarBinary(one, { limit: 2 })).toThrow(/^limit = 2: expected an integer in 1\.\.1 /);
  });
});
