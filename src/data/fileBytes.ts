/**
 * Whole-file reads for the small dataset files (IDX, CIFAR binary), which
 * come either gzip-compressed or plain. The gzip magic bytes decide, not the
 * file name, so a renamed file still reads.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataError } from '../errors';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/**
 * Reads `file` and gunzips it when it is gzip data.
 *
 * @throws DataError when the file is missing, unreadable, or a gzip stream
 *   that is truncated or corrupt.
 */
export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new DataError(file, describeFsError(err));
  }
  if (!isGzip(raw)) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (err) {
    throw new DataError(file, `not a valid gzip stream (${(err as Error).message})`);
  }
}

/** Turns a Node fs error into "file not found" / "cannot read (...)" text. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  return `cannot read file (${(err as Error).message})`;
}
