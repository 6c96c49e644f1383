/**
 * Training checkpoints: one self-describing file per checkpoint, written atomically
 * (temporary file + fsync + rename), so an interrupted run never leaves a torn
 * file behind, and the latest complete one is found by its step number.
 *
 * Layout: 8-byte magic `OHMCKPT1`, uint32 LE length of a UTF-8 JSON header, the
 * header, zero padding to a multiple of 4 bytes, then every tensor of the header's
 * `tensors` list as float32 LE in order (model weights, then optimizer state).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../../errors';

const MAGIC = 'OHMCKPT1';
const FILE_PATTERN = /^ckpt-(\d{10})\.bin$/;

/** One tensor's slot in a checkpoint. */
export interface CheckpointTensorSpec {
  name: string;
  shape: number[];
}

/** Everything a checkpoint stores besides the float data. */
export interface CheckpointHeader {
  /** Global step count (batches done since the start of training). */
  step: number;
  /** Epoch in progress (0-based) and the next batch of it to run. */
  epoch: number;
  batch: number;
  /** Running sum of this epoch's batch losses (weighted by batch size) and example count. */
  epochLossSum: number;
  epochExamples: number;
  /** Next draw index of each noise source, in layer order (the noise RNG position). */
  noiseDrawIndex: number[];
  /** Finished epochs' records, replayed into the JSON-lines log on resume. */
  history: unknown[];
  /** Fingerprint of the run's options; a resume with different options is refused. */
  runKey: string;
  /** Number of leading tensors that are model weights (the rest: optimizer state). */
  modelTensorCount: number;
  tensors: CheckpointTensorSpec[];
}

/** A checkpoint read back: header plus one Float32Array per tensor. */
export interface Checkpoint {
  header: CheckpointHeader;
  values: Float32Array[];
  file: string;
}

/** File name of the checkpoint after `step` batches. */
export function checkpointFileName(step: number): string {
  return `ckpt-${String(step).padStart(10, '0')}.bin`;
}

/** Writes `file` atomically: temporary sibling, fsync, rename. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data, 0, data.length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Serialises and atomically writes a checkpoint; returns its path. */
export function writeCheckpoint(dir: string, header: CheckpointHeader, values: Float32Array[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 8 + 4 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const floats = values.reduce((n, v) => n + v.length, 0);
  const buf = Buffer.alloc(dataStart + floats * 4);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, 12);
  let offset = dataStart;
  for (const v of values) {
    Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, offset);
    offset += v.byteLength;
  }
  const file = path.join(dir, checkpointFileName(header.step));
  writeFileAtomic(file, buf);
  return file;
}

/** Reads one checkpoint file; DataError if it is not a complete checkpoint. */
export function readCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new DataError(file, `cannot read checkpoint (${(err as Error).message})`);
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new DataError(file, `not an ohmic checkpoint (magic ${JSON.stringify(buf.toString('latin1', 0, 8))}, expected "${MAGIC}")`);
  }
  const jsonLength = buf.readUInt32LE(8);
  if (12 + jsonLength > buf.length) {
    throw new DataError(file, `header of ${jsonLength} bytes runs past the end of the ${buf.length}-byte file`);
  }
  const header = JSON.parse(buf.toString('utf8', 12, 12 + jsonLength)) as CheckpointHeader;
  const dataStart = Math.ceil((12 + jsonLength) / 4) * 4;
  const floats = header.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.length !== dataStart + floats * 4) {
    throw new DataError(file, `${buf.length} bytes, expected ${dataStart + floats * 4} for ${floats} floats`);
  }
  const all = new Float32Array(floats);
  Buffer.from(all.buffer).set(buf.subarray(dataStart));
  const values: Float32Array[] = [];
  let offset = 0;
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    values.push(all.subarray(offset, offset + n));
    offset += n;
  }
  return { header, values, file };
}

/** Checkpoint files in `dir`, oldest first (by step). */
export function listCheckpoints(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => FILE_PATTERN.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The checkpoint with the highest step in `dir`, or undefined when there is none. */
export function latestCheckpoint(dir: string): Checkpoint | undefined {
  const files = listCheckpoints(dir);
  return files.length === 0 ? undefined : readCheckpoint(files[files.length - 1]);
}

/** Deletes all but the newest `keep` checkpoints. */
export function pruneCheckpoints(dir: string, keep: number): void {
  const files = listCheckpoints(dir);
  for (const f of files.slice(0, Math.max(0, files.length - keep))) fs.rmSync(f, { force: true });
}
