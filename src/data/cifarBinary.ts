/**
 * Reader for the CIFAR-10 binary version (`data_batch_1.bin` ... `test_batch.bin`):
 * headerless records of 3073 bytes, a label byte (0..9) followed by the red,
 * green and blue planes, each 32x32 row-major. Files may be gzip or plain.
 * The output is NHWC (channels last, as TensorFlow.js convolutions expect).
 */
import { DataError } from '../errors';
import { readMaybeGzip } from './fileBytes';
import { resolveLimit } from './limit';

/** Image side of CIFAR-10, in pixels. */
export const CIFAR_SIDE = 32;
/** Colour channels (R, G, B). */
export const CIFAR_CHANNELS = 3;
const PIXELS_PER_PLANE = CIFAR_SIDE * CIFAR_SIDE;
/** Bytes per record: 1 label byte + 3 planes of 32x32. */
export const CIFAR_RECORD_BYTES = 1 + CIFAR_CHANNELS * PIXELS_PER_PLANE;

/**
 * CIFAR-10 class names by label index, as in the official `batches.meta.txt`.
 */
export const CIFAR10_CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/** Name of a CIFAR-10 class. */
export type Cifar10ClassName = (typeof CIFAR10_CLASS_NAMES)[number];

/** Options of {@link readCifarBinary}. */
export interface CifarReadOptions {
  /** Read only the first `limit` records over all files (an integer in 1..total). */
  readonly limit?: number;
}

/** CIFAR images and labels, ready for an NHWC model input. */
export interface CifarData {
  /** `count*32*32*3` values in [0, 1], NHWC: image, row, column, then R,G,B. */
  readonly images: Float32Array;
  /** Class 0..9 of each image; see {@link CIFAR10_CLASS_NAMES}. */
  readonly labels: Uint8Array;
  readonly count: number;
  /** `[count, 32, 32, 3]`. */
  readonly shape: readonly [number, 32, 32, 3];
}

/** Checks the length and every label of one decompressed file; returns its record count. */
function validateRecords(bytes: Buffer, file: string): number {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DataError(
      file,
      `length ${bytes.length} bytes is not a positive multiple of the ${CIFAR_RECORD_BYTES}-byte ` +
        `CIFAR-10 record (label + 3x32x32 pixels)`,
    );
  }
  const records = bytes.length / CIFAR_RECORD_BYTES;
  for (let r = 0; r < records; r++) {
    const label = bytes[r * CIFAR_RECORD_BYTES];
    if (label >= CIFAR10_CLASS_NAMES.length) {
      throw new DataError(file, `record ${r} has label ${label}, expected 0..9`);
    }
  }
  return records;
}

/**
 * Reads one or more CIFAR-10 binary files and concatenates their records in
 * the order given.
 *
 * @example
 * ```ts
 * const cifar = readCifarBinary(sharedDatasetPaths(defaultDataDir()).cifar10Sample);
 * CIFAR10_CLASS_NAMES[cifar.labels[0]]; // 'frog'
 * ```
 * @throws DataError when a file is missing, not valid gzip, not a whole
 *   number of 3073-byte records, or holds a label outside 0..9.
 * @throws ConfigError when `limit` is not an integer in 1..total records.
 */
export function readCifarBinary(
  files: string | readonly string[],
  options: CifarReadOptions = {},
): CifarData {
  const list = typeof files === 'string' ? [files] : files;
  if (list.length === 0) {
    throw new DataError('(no files)', 'readCifarBinary needs at least one CIFAR-10 binary file');
  }
  const buffers = list.map((file) => {
    const bytes = readMaybeGzip(file);
    return { file, bytes, records: validateRecords(bytes, file) };
  });
  const total = buffers.reduce((sum, b) => sum + b.records, 0);
  const count = resolveLimit(options.limit, total, `records in ${list.join(', ')}`);

  const images = new Float32Array(count * PIXELS_PER_PLANE * CIFAR_CHANNELS);
  const labels = new Uint8Array(count);
  let out = 0;
  for (const { bytes, records } of buffers) {
    for (let r = 0; r < records && out < count; r++, out++) {
      const base = r * CIFAR_RECORD_BYTES;
      labels[out] = bytes[base];
      const dst = out * PIXELS_PER_PLANE * CIFAR_CHANNELS;
      for (let c = 0; c < CIFAR_CHANNELS; c++) {
        const plane = base + 1 + c * PIXELS_PER_PLANE;
        for (let p = 0; p < PIXELS_PER_PLANE; p++) {
          images[dst + p * CIFAR_CHANNELS + c] = bytes[plane + p] / 255;
        }
      }
    }
  }
  return { images, labels, count, shape: [count, CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS] };
}
