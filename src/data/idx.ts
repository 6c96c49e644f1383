/**
 * Reader for the IDX format of MNIST (and Fashion-MNIST): big-endian uint32
 * header, then unsigned bytes. Images: magic 2051, count, rows, cols, then
 * count*rows*cols pixels (row-major, 0 = background, 255 = ink). Labels:
 * magic 2049, count, then count labels. Files may be gzip-compressed or plain.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DataError } from '../errors';
import { readMaybeGzip } from './fileBytes';
import { resolveLimit } from './limit';

/** Magic number of an IDX file of unsigned-byte 3-D data (images). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX file of unsigned-byte 1-D data (labels). */
export const IDX_LABELS_MAGIC = 2049;

const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;
const MNIST_CLASSES = 10;

/** Decoded IDX images, pixels scaled from 0..255 to [0, 1]. */
export interface IdxImages {
  /** Number of images returned (the header count, or `limit`). */
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** `count*rows*cols` values in [0, 1], image-major then row-major. */
  readonly pixels: Float32Array;
}

/** Options of the IDX and MNIST readers. */
export interface IdxReadOptions {
  /** Read only the first `limit` records (an integer in 1..count). */
  readonly limit?: number;
}

/** MNIST split: the 60,000 training or the 10,000 test (t10k) digits. */
export type MnistSplit = 'train' | 'test';

/** MNIST images and labels of one split, ready for an NHWC model input. */
export interface MnistData {
  /** `count*rows*cols` pixel values in [0, 1], NHWC with one channel. */
  readonly images: Float32Array;
  /** Digit 0..9 of each image. */
  readonly labels: Uint8Array;
  readonly count: number;
  /** `[count, rows, cols, 1]`, i.e. `[N, 28, 28, 1]` for MNIST. */
  readonly shape: readonly [number, number, number, 1];
}

function checkMagic(bytes: Buffer, file: string, expected: number, what: string): void {
  if (bytes.length < 4) {
    throw new DataError(file, `${bytes.length} bytes, too short for an IDX header (expected ${what})`);
  }
  const magic = bytes.readUInt32BE(0);
  if (magic !== expected) {
    throw new DataError(file, `magic ${magic}, expected ${expected} (${what})`);
  }
}

/**
 * Decodes IDX image bytes (already gunzipped).
 *
 * @param file names the source in error messages.
 * @throws DataError on a wrong magic number, a header shorter than 16 bytes,
 *   or a length other than `16 + count*rows*cols`.
 */
export function parseIdxImages(bytes: Buffer, file: string, options: IdxReadOptions = {}): IdxImages {
  checkMagic(bytes, file, IDX_IMAGES_MAGIC, 'IDX images');
  if (bytes.length < IMAGES_HEADER_BYTES) {
    throw new DataError(file, `${bytes.length} bytes, shorter than the 16-byte IDX images header`);
  }
  const headerCount = bytes.readUInt32BE(4);
  const rows = bytes.readUInt32BE(8);
  const cols = bytes.readUInt32BE(12);
  const pixelsPerImage = rows * cols;
  const expectedBytes = IMAGES_HEADER_BYTES + headerCount * pixelsPerImage;
  if (bytes.length !== expectedBytes) {
    throw new DataError(
      file,
      `header says ${headerCount} images of ${rows}x${cols} (${expectedBytes} bytes), ` +
        `found ${bytes.length} bytes`,
    );
  }
  const count = resolveLimit(options.limit, headerCount, `images in ${file}`);
  const n = count * pixelsPerImage;
  const pixels = new Float32Array(n);
  for (let i = 0; i < n; i++) pixels[i] = bytes[IMAGES_HEADER_BYTES + i] / 255;
  return { count, rows, cols, pixels };
}

/**
 * Decodes IDX label bytes (already gunzipped).
 *
 * @throws DataError on a wrong magic number or a length other than `8 + count`.
 */
export function parseIdxLabels(bytes: Buffer, file: string, options: IdxReadOptions = {}): Uint8Array {
  checkMagic(bytes, file, IDX_LABELS_MAGIC, 'IDX labels');
  if (bytes.length < LABELS_HEADER_BYTES) {
    throw new DataError(file, `${bytes.length} bytes, shorter than the 8-byte IDX labels header`);
  }
  const headerCount = bytes.readUInt32BE(4);
  const expectedBytes = LABELS_HEADER_BYTES + headerCount;
  if (bytes.length !== expectedBytes) {
    throw new DataError(
      file,
      `header says ${headerCount} labels (${expectedBytes} bytes), found ${bytes.length} bytes`,
    );
  }
  const count = resolveLimit(options.limit, headerCount, `labels in ${file}`);
  // A copy, so the result does not pin the whole decompressed buffer.
  return Uint8Array.from(bytes.subarray(LABELS_HEADER_BYTES, LABELS_HEADER_BYTES + count));
}

/** Reads an IDX images file (gzip or plain). See {@link parseIdxImages}. */
export function readIdxImages(file: string, options: IdxReadOptions = {}): IdxImages {
  return parseIdxImages(readMaybeGzip(file), file, options);
}

/** Reads an IDX labels file (gzip or plain). See {@link parseIdxLabels}. */
export function readIdxLabels(file: string, options: IdxReadOptions = {}): Uint8Array {
  return parseIdxLabels(readMaybeGzip(file), file, options);
}

/** The canonical MNIST file stem of a split and kind. */
function mnistStem(split: MnistSplit, kind: 'images' | 'labels'): string {
  const prefix = split === 'train' ? 'train' : 't10k';
  return kind === 'images' ? `${prefix}-images-idx3-ubyte` : `${prefix}-labels-idx1-ubyte`;
}

/** `dir/stem.gz` when it exists, else `dir/stem`, else a DataError naming both. */
function findMnistFile(dir: string, stem: string): string {
  const candidates = [path.join(dir, `${stem}.gz`), path.join(dir, stem)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new DataError(candidates[0], `file not found (nor ${candidates[1]})`);
}

/**
 * Loads one MNIST split from a folder holding the canonical IDX file names
 * (`train-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`, ...; the plain,
 * un-gzipped names are accepted too).
 *
 * @example
 * ```ts
 * const test = loadMnist(embeddedMnistDir(), 'test', { limit: 100 });
 * test.shape; // [100, 28, 28, 1]
 * ```
 * @throws DataError when a file is missing, truncated or of the wrong kind,
 *   when image and label counts differ, or when a label is not 0..9.
 * @throws ConfigError when `split` is unknown or `limit` is not an integer in 1..count.
 */
export function loadMnist(dir: string, split: MnistSplit, options: IdxReadOptions = {}): MnistData {
  if (split !== 'train' && split !== 'test') {
    throw new ConfigError('split', split, '"train" or "test"');
  }
  const imagesFile = findMnistFile(dir, mnistStem(split, 'images'));
  const labelsFile = findMnistFile(dir, mnistStem(split, 'labels'));
  const labelBytes = readMaybeGzip(labelsFile);
  const allLabels = parseIdxLabels(labelBytes, labelsFile);
  const imageBytes = readMaybeGzip(imagesFile);
  const imageCount = imageBytes.length >= 8 ? imageBytes.readUInt32BE(4) : -1;
  // Parse first so a wrong magic or truncation is reported before a count mismatch.
  const images = parseIdxImages(imageBytes, imagesFile, options);
  if (imageCount !== allLabels.length) {
    throw new DataError(
      labelsFile,
      `${allLabels.length} labels, expected ${imageCount} (the image count of ${imagesFile})`,
    );
  }
  const labels = allLabels.slice(0, images.count);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= MNIST_CLASSES) {
      throw new DataError(labelsFile, `label ${labels[i]} at index ${i}, expected a digit 0..9`);
    }
  }
  return {
    images: images.pixels,
    labels,
    count: images.count,
    shape: [images.count, images.rows, images.cols, 1],
  };
}
