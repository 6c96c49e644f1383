/**
 * Reader for Edwin D. de Jong's MNIST stroke sequences (`sequences.tar.gz`,
 * 210,002 members), streamed straight out of the archive.
 *
 * Each digit `i` of a split has `sequences/<split>img-<i>-inputdata.txt`: one
 * line `dx dy eos eod` per pen event. `dx dy` is the offset from the previous
 * pen point (the first line holds the absolute 1-based column and row, y
 * downward); a pen lift is a `0 0 1 0` line and the last line is `0 0 1 1`.
 * Labels are one digit per line in `sequences/<split>labels.txt`.
 *
 * Model input (paper, section 3.1): the LSTM reads the first two coordinates
 * of each line, `dx dy`, one line per time step, zero-padded to a fixed
 * length T. The `eos`/`eod` columns are dropped; a pen lift therefore shows as
 * a `(0, 0)` step followed by the pen-up jump. Every line is kept, markers
 * included, so the sequence length is the line count (13..117 train,
 * 13..108 test), and the default T = 117 fits both splits with one shape.
 *
 * Scaling: coordinates are divided by 28 (the image side) by default, so the
 * first, absolute point lies in (0, 1] and every offset in [-1, 1], as the
 * pixel inputs of the image models lie in [0, 1]. Pass `coordinateDivisor: 1`
 * for the raw integers.
 */
import { ConfigError, DataError } from '../errors';
import { resolveLimit } from './limit';
import { readTarArchive, TarEntry } from './tarStream';

/** Longest sequence (lines of an inputdata file) over both splits: 117, in the training set. */
export const STROKES_DEFAULT_MAX_LENGTH = 117;
/** Default divisor of `dx dy`: the 28-pixel MNIST image side. */
export const STROKES_DEFAULT_COORDINATE_DIVISOR = 28;
/** Values per time step in the output (`dx`, `dy`). */
export const STROKE_FEATURES = 2;

/** Stroke split: the 60,000 training or the 10,000 test digits (MNIST order). */
export type StrokeSplit = 'train' | 'test';

/** Options of {@link loadStrokes}. */
export interface StrokeLoadOptions {
  /** Time steps T of the output; shorter sequences are zero-padded. Default 117. */
  readonly maxLength?: number;
  /** Read only the first `limit` digits (an integer in 1..split size). */
  readonly limit?: number;
  /**
   * Cut sequences longer than `maxLength` to their first `maxLength` steps
   * (and count them in `truncated`). Default false: a longer sequence is an error.
   */
  readonly truncate?: boolean;
  /** `dx` and `dy` are divided by this; default 28 (see the module notes). */
  readonly coordinateDivisor?: number;
  /** Where the zero padding goes: after the sequence (`'end'`, default) or before it (`'start'`). */
  readonly padAt?: 'end' | 'start';
}

/** Stroke sequences of one split as a fixed-shape `[count, maxLength, 2]` input. */
export interface StrokeData {
  /** `count*maxLength*2` values, index `(i*maxLength + t)*2 + {0: dx, 1: dy}`. */
  readonly sequences: Float32Array;
  /** Steps of digit i that hold data (the rest is padding); at most `maxLength`. */
  readonly lengths: Int32Array;
  /** Digit 0..9 of each sequence. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly maxLength: number;
  /** How many sequences were cut to `maxLength` (always 0 unless `truncate: true`). */
  readonly truncated: number;
}

const MEMBER_PATTERN = /(?:^|\/)(train|test)img-(\d+)-inputdata\.txt$/;
const NEWLINE = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

function labelsMemberName(split: StrokeSplit): string {
  return `sequences/${split}labels.txt`;
}

function inputMemberName(split: StrokeSplit, index: number): string {
  return `sequences/${split}img-${index}-inputdata.txt`;
}

/**
 * Parses an inputdata file into `[dx0, dy0, dx1, dy1, ...]`, checking that
 * every line holds exactly four integers.
 */
export function parseStrokeInputData(data: Buffer, where: string): Int16Array {
  let lines = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === NEWLINE) lines++;
  if (data.length > 0 && data[data.length - 1] !== NEWLINE) lines++;
  const out = new Int16Array(lines * STROKE_FEATURES);
  let line = 0;
  let pos = 0;
  const values = [0, 0, 0, 0];
  while (pos < data.length) {
    let columns = 0;
    while (pos < data.length && data[pos] !== NEWLINE) {
      const c = data[pos];
      if (c === SPACE || c === TAB || c === CR) {
        pos++;
        continue;
      }
      let sign = 1;
      if (c === MINUS) {
        sign = -1;
        pos++;
      }
      const start = pos;
      let value = 0;
      while (pos < data.length && data[pos] >= ZERO && data[pos] <= NINE) {
        value = value * 10 + (data[pos] - ZERO);
        pos++;
      }
      const next = pos < data.length ? data[pos] : NEWLINE;
      if (pos === start || (next !== SPACE && next !== TAB && next !== CR && next !== NEWLINE)) {
        throw new DataError(where, `line ${line + 1}: not a list of integers`);
      }
      if (columns < 4) values[columns] = sign * value;
      columns++;
    }
    if (columns !== 4) {
      throw new DataError(where, `line ${line + 1}: ${columns} values, expected 4 (dx dy eos eod)`);
    }
    out[line * 2] = values[0];
    out[line * 2 + 1] = values[1];
    line++;
    pos++; // past the newline
  }
  if (line === 0) throw new DataError(where, 'empty sequence, expected at least one line');
  return out;
}

/** Parses a labels file: one digit 0..9 per line. */
export function parseStrokeLabels(data: Buffer, where: string): Uint8Array {
  const text = data.toString('latin1');
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const labels = new Uint8Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (!/^[0-9]$/.test(trimmed)) {
      throw new DataError(where, `line ${i + 1}: ${JSON.stringify(lines[i])}, expected a digit 0..9`);
    }
    labels[i] = Number(trimmed);
  }
  if (labels.length === 0) throw new DataError(where, 'no labels, expected one digit per line');
  return labels;
}

interface ResolvedOptions {
  readonly maxLength: number;
  readonly limit: number | undefined;
  readonly truncate: boolean;
  readonly coordinateDivisor: number;
  readonly padAt: 'end' | 'start';
}

function resolveOptions(split: StrokeSplit, options: StrokeLoadOptions): ResolvedOptions {
  if (split !== 'train' && split !== 'test') {
    throw new ConfigError('split', split, '"train" or "test"');
  }
  const maxLength = options.maxLength ?? STROKES_DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new ConfigError('maxLength', maxLength, 'a positive integer (time steps)');
  }
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError('limit', limit, 'a positive integer');
  }
  const coordinateDivisor = options.coordinateDivisor ?? STROKES_DEFAULT_COORDINATE_DIVISOR;
  if (!Number.isFinite(coordinateDivisor) || coordinateDivisor <= 0) {
    throw new ConfigError('coordinateDivisor', coordinateDivisor, 'a finite number > 0');
  }
  const padAt = options.padAt ?? 'end';
  if (padAt !== 'end' && padAt !== 'start') {
    throw new ConfigError('padAt', padAt, '"end" or "start"');
  }
  return { maxLength, limit, truncate: options.truncate ?? false, coordinateDivisor, padAt };
}

/**
 * Loads the stroke sequences of one split from `sequences.tar.gz`, streaming
 * the archive (nothing is extracted to disk). The test split stops reading
 * once its members are in, which is early because members are sorted by name.
 *
 * @example
 * ```ts
 * const test = await loadStrokes(sharedDatasetPaths(dir).strokesTarGz, 'test');
 * test.count;     // 10000
 * test.maxLength; // 117: sequences has shape [10000, 117, 2]
 * ```
 * @throws DataError when the archive is missing or corrupt, the labels file or
 *   a sequence is missing, a line is malformed, or (without `truncate`) a
 *   sequence is longer than `maxLength`.
 * @throws ConfigError on a bad option, or a `limit` above the split size.
 */
export async function loadStrokes(
  tarGzPath: string,
  split: StrokeSplit,
  options: StrokeLoadOptions = {},
): Promise<StrokeData> {
  const opts = resolveOptions(split, options);
  const labelsName = labelsMemberName(split);
  const parsed = new Map<number, Int16Array>();
  let allLabels: Uint8Array | null = null;
  let need = Number.POSITIVE_INFINITY;
  let haveBelowNeed = 0;

  const where = (member: string): string => `${tarGzPath}:${member}`;
  const wantIndex = (index: number): boolean => opts.limit === undefined || index < opts.limit;

  await readTarArchive(tarGzPath, {
    wantFile(entry: TarEntry): boolean {
      if (entry.name === labelsName) return true;
      const m = MEMBER_PATTERN.exec(entry.name);
      return m !== null && m[1] === split && wantIndex(Number(m[2]));
    },
    onFile(entry: TarEntry, data: Buffer): void {
      if (entry.name === labelsName) {
        allLabels = parseStrokeLabels(data, where(entry.name));
        need = Math.min(allLabels.length, opts.limit ?? allLabels.length);
        haveBelowNeed = 0;
        for (const index of parsed.keys()) if (index < need) haveBelowNeed++;
        return;
      }
      const index = Number((MEMBER_PATTERN.exec(entry.name) as RegExpExecArray)[2]);
      if (parsed.has(index)) {
        throw new DataError(where(entry.name), `duplicate member for sequence ${index}`);
      }
      const pairs = parseStrokeInputData(data, where(entry.name));
      const length = pairs.length / STROKE_FEATURES;
      if (length > opts.maxLength && !opts.truncate) {
        throw new DataError(
          where(entry.name),
          `sequence length ${length} exceeds maxLength ${opts.maxLength}; ` +
            'raise maxLength or pass truncate: true',
        );
      }
      parsed.set(index, pairs);
      if (index < need) haveBelowNeed++;
    },
    isDone(): boolean {
      return allLabels !== null && haveBelowNeed === need;
    },
  });

  const labelsFound = allLabels as Uint8Array | null;
  if (labelsFound === null) {
    throw new DataError(tarGzPath, `no member ${labelsName} (labels of the ${split} split)`);
  }
  const count = resolveLimit(opts.limit, labelsFound.length, `${split} labels in ${where(labelsName)}`);
  if (opts.limit === undefined) {
    for (const index of parsed.keys()) {
      if (index >= count) {
        throw new DataError(
          where(inputMemberName(split, index)),
          `sequence ${index} has no label (${labelsName} has ${count} lines)`,
        );
      }
    }
  }

  const T = opts.maxLength;
  const sequences = new Float32Array(count * T * STROKE_FEATURES);
  const lengths = new Int32Array(count);
  let truncated = 0;
  for (let i = 0; i < count; i++) {
    const pairs = parsed.get(i);
    if (pairs === undefined) {
      throw new DataError(tarGzPath, `no member ${inputMemberName(split, i)} (sequence ${i} of ${count})`);
    }
    let length = pairs.length / STROKE_FEATURES;
    if (length > T) {
      length = T;
      truncated++;
    }
    lengths[i] = length;
    const offset = opts.padAt === 'end' ? 0 : T - length;
    const base = (i * T + offset) * STROKE_FEATURES;
    for (let k = 0; k < length * STROKE_FEATURES; k++) {
      sequences[base + k] = pairs[k] / opts.coordinateDivisor;
    }
  }
  return { sequences, lengths, labels: labelsFound.slice(0, count), count, maxLength: T, truncated };
}
