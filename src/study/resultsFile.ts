/**
 * Results files: JSON lines, one {@link ResultRecord} per line.
 *
 * A running study **appends** each finished point as one complete line in a
 * single write followed by `fsync`, and counts a point as done only once that
 * returns. Appending (rather than rewriting the file through a temporary and a
 * rename after every point) costs O(1) per point and leaves every finished line in
 * place whatever happens; the only damage a kill (or power loss) can do is a torn
 * last line, without its newline. Readers ignore such an unterminated tail, and
 * {@link openResultsFile} cuts it off before appending, so the point it held is
 * simply recomputed. A malformed line that *is* terminated is corruption, not a
 * torn write, and is an error.
 *
 * One writer per file: shards write separate files and {@link mergeResultFiles}
 * joins them, through a temporary file and a rename, into the bytes one unsharded
 * run would give.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import { makeFolder } from './outputPaths';
import { describeIdentityChange, shortHash } from './pointIdentity';
import { parseRecord, serializeRecord, type ResultRecord } from './resultRecord';

/** What a results file holds. */
export interface ResultsScan {
  /** Complete records, in file order. */
  readonly records: ResultRecord[];
  /** Their canonical lines (no newline), in file order. */
  readonly lines: string[];
  /** Byte length of the complete lines, newlines included: where the next append goes. */
  readonly completeBytes: number;
  /** An unterminated last line left by an interrupted write, or `null`. */
  readonly tornTail: string | null;
}

/**
 * Reads and checks every complete line of `file`; an unterminated last line is
 * returned as `tornTail` rather than parsed.
 *
 * @throws DataError naming `file:line` for a malformed complete line, or the file
 *   when it cannot be read.
 */
export function scanResultsFile(file: string): ResultsScan {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new DataError(file, `cannot read results file (${reason})`);
  }
  const lastNewline = bytes.lastIndexOf(0x0a);
  const completeBytes = lastNewline + 1;
  const tail = bytes.subarray(completeBytes);
  const body = bytes.subarray(0, completeBytes).toString('utf8');
  const records: ResultRecord[] = [];
  const lines: string[] = [];
  if (completeBytes > 0) {
    body
      .slice(0, -1)
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') throw new DataError(`${file}:${i + 1}`, 'empty line in a results file');
        const record = parseRecord(line, `${file}:${i + 1}`);
        records.push(record);
        lines.push(serializeRecord(record));
      });
  }
  return { records, lines, completeBytes, tornTail: tail.length > 0 ? tail.toString('utf8') : null };
}

/** The complete records of a results file (an interrupted last line is left out). */
export function readResults(file: string): ResultRecord[] {
  return scanResultsFile(file).records;
}

/** Ids of the points a results file holds; empty when the file does not exist yet. */
export function completedPointIds(file: string): Set<string> {
  if (!fs.existsSync(file)) return new Set();
  return new Set(scanResultsFile(file).records.map((r) => r.pointId));
}

/**
 * Makes a file's directory entry durable. Directories cannot be opened for fsync
 * on every platform (Windows refuses); there the rename or create is still done,
 * only its durability across power loss is the OS's.
 */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

/** An open results file that appends one durable line per record. */
export interface ResultsWriter {
  readonly file: string;
  /** Records the file held when opened. */
  readonly existing: readonly ResultRecord[];
  /** The torn last line that was cut off when opening, or `null`. */
  readonly discardedTail: string | null;
  /** Appends `record` as one line and fsyncs; the record is durable when this returns. */
  append(record: ResultRecord): void;
  close(): void;
}

/**
 * Opens (creating it and its directory if needed) a results file for appending.
 * A torn last line from an interrupted run is truncated away first.
 */
export function openResultsFile(file: string): ResultsWriter {
  const dir = path.dirname(path.resolve(file));
  const unusable = makeFolder(dir);
  if (unusable !== undefined) throw new DataError(file, `cannot create the results file: ${unusable}`);
  const existed = fs.existsSync(file);
  let existing: ResultRecord[] = [];
  let discardedTail: string | null = null;
  if (existed) {
    const scan = scanResultsFile(file);
    existing = scan.records;
    if (scan.tornTail !== null) {
      discardedTail = scan.tornTail;
      fs.truncateSync(file, scan.completeBytes);
    }
  }
  const fd = fs.openSync(file, 'a');
  fs.fsyncSync(fd);
  if (!existed) fsyncDirectory(dir);
  let open = true;
  return {
    file,
    existing,
    discardedTail,
    append(record: ResultRecord): void {
      if (!open) throw new DataError(file, 'append after close');
      writeAll(fd, Buffer.from(`${serializeRecord(record)}\n`, 'utf8'));
      fs.fsyncSync(fd);
    },
    close(): void {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/** Writes `text` to `file` through a temporary in the same directory, fsync and rename. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const unusable = makeFolder(dir);
  if (unusable !== undefined) throw new DataError(file, `cannot write: ${unusable}`);
  let isFolder = false;
  try {
    isFolder = fs.lstatSync(file).isDirectory();
  } catch {
    // Absent: the usual case.
  }
  if (isFolder) throw new DataError(file, 'cannot write: it is a folder (expected a file path)');
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAll(fd, Buffer.from(text, 'utf8'));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // Never leave the temporary behind.
    fs.rmSync(tmp, { force: true });
    throw new DataError(file, `cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  fsyncDirectory(dir);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Order of records when no grid order is given: by model, device, noise kind
 * (text), σ (number), semantics (text), votes (number), then pointId. It needs
 * nothing but the records, so any set of shards normalises to the same bytes.
 */
export function compareByPoint(a: ResultRecord, b: ResultRecord): number {
  const p = a.point;
  const q = b.point;
  return (
    compareText(p.model, q.model) ||
    compareText(p.device, q.device) ||
    compareText(p.noise, q.noise) ||
    p.sigma - q.sigma ||
    compareText(p.semantics, q.semantics) ||
    p.votes - q.votes ||
    compareText(a.pointId, b.pointId)
  );
}

/** What {@link mergeResultFiles} did. */
export interface MergeReport {
  /** Records written. */
  readonly written: number;
  /** Identical copies of a point that were dropped. */
  readonly duplicatesDropped: number;
  /** Input files whose torn last line was ignored (their point is missing). */
  readonly tornTails: readonly string[];
  /** Ids in `order` that no input holds (only when `order` is given). */
  readonly missing: readonly string[];
  /** Ids present in the inputs but not in `order`, written last (only when `order` is given). */
  readonly outsideOrder: readonly string[];
}

/**
 * Joins results files (shards, or one file to normalise) into `out`, written
 * atomically. Lines are sorted by `order` (the point ids in grid order, e.g.
 * `expandGrid(config).map(p => p.id)`), ids not in it after; without `order`
 * (and after it) by {@link compareByPoint}. The same point in several inputs is written once when its
 * lines are identical. `out` may be one of the inputs.
 *
 * @throws DataError when two inputs hold different results for one point, or
 *   results of different studies (see {@link checkOneStudy}).
 */
export function mergeResultFiles(
  files: readonly string[],
  out: string,
  options: {
    order?: readonly string[];
    /** Called with the report before `out` is written; throw to write nothing (e.g. on missing points). */
    beforeWrite?: (report: MergeReport) => void;
    /**
     * The study the inputs must belong to: its {@link studyFingerprint} and the
     * file it came from (the `--config`), for the error.
     */
    study?: { readonly id: string; readonly file: string };
    /** Refuse lines without identity (results format 1) even when all inputs lack it (`ohmic merge` does). */
    requireIdentity?: boolean;
  } = {},
): MergeReport {
  const byId = new Map<string, { line: string; from: string; record: ResultRecord }>();
  let duplicatesDropped = 0;
  const tornTails: string[] = [];
  for (const file of files) {
    const scan = scanResultsFile(file);
    if (scan.tornTail !== null) tornTails.push(file);
    scan.records.forEach((record, i) => {
      const line = scan.lines[i];
      const seen = byId.get(record.pointId);
      if (seen === undefined) {
        byId.set(record.pointId, { line, from: `${file}:${i + 1}`, record });
      } else if (seen.line === line) {
        duplicatesDropped++;
      } else {
        const a = seen.record.identity;
        const b = record.identity;
        const change = a !== undefined && b !== undefined ? describeIdentityChange(a, b, { arrow: 'vs' }) : null;
        throw new DataError(
          `${file}:${i + 1}`,
          `point ${record.pointId} conflicts with ${seen.from}: the same point ${change === null ? 'with different results' : `computed from different content: ${change}`}`,
        );
      }
    });
  }
  const rank = new Map<string, number>();
  (options.order ?? []).forEach((id, i) => {
    if (!rank.has(id)) rank.set(id, i);
  });
  const ids = [...byId.keys()].sort((a, b) => {
    const ra = rank.get(a);
    const rb = rank.get(b);
    if (ra !== undefined && rb !== undefined) return ra - rb;
    if (ra !== undefined) return -1;
    if (rb !== undefined) return 1;
    return compareByPoint(byId.get(a)!.record, byId.get(b)!.record);
  });
  const report: MergeReport = {
    written: ids.length,
    duplicatesDropped,
    tornTails,
    missing: options.order ? options.order.filter((id) => !byId.has(id)) : [],
    outsideOrder: options.order ? ids.filter((id) => !rank.has(id)) : [],
  };
  const placed = [...byId.values()];
  checkOneStudy(placed, options.study, options.requireIdentity === true);
  options.beforeWrite?.(report);
  checkStudyIs(placed, options.study);
  writeFileAtomic(out, ids.map((id) => `${byId.get(id)!.line}\n`).join(''));
  return report;
}

type Placed = { readonly from: string; readonly record: ResultRecord };

/**
 * Refuses to join results that cannot belong to one study: lines with and without
 * identities (results format 2 and 1), one model name with two content hashes,
 * one dataset with two fingerprints, two root seeds, or two study hashes (shards
 * of different configs); with `study`, any line of another study. Naming what
 * differs, and both places.
 */
function checkOneStudy(
  lines: readonly Placed[],
  study: { readonly id: string; readonly file: string } | undefined,
  requireIdentity: boolean,
): void {
  if (lines.length === 0) return;
  const withId = lines.find((l) => l.record.identity !== undefined);
  const without = lines.find((l) => l.record.identity === undefined);
  if (without !== undefined && (withId !== undefined || study !== undefined || requireIdentity)) {
    throw new DataError(
      without.from,
      'was written by an older ohmic (results format 1), without the identity of its study, model, hardware and data, ' +
        `so it cannot be checked to belong with ${withId !== undefined ? withId.from : study !== undefined ? `the study of ${study.file}` : 'the other inputs'}; rerun that study`,
    );
  }
  if (withId === undefined) return;
  const first = lines[0];
  const byModel = new Map<string, Placed>();
  const byData = new Map<string, Placed>();
  for (const line of lines) {
    const r = line.record;
    const id = r.identity!;
    if (r.rootSeed !== first.record.rootSeed) {
      throw new DataError(line.from, `holds results of root seed ${r.rootSeed}, but ${first.from} of root seed ${first.record.rootSeed}: results of different studies`);
    }
    const sameModel = byModel.get(r.point.model);
    if (sameModel === undefined) byModel.set(r.point.model, line);
    else {
      const m0 = sameModel.record.identity!.model;
      if (m0.sha256 !== id.model.sha256 || m0.source !== id.model.source) {
        throw new DataError(
          line.from,
          `model ${r.point.model} has sha256 ${shortHash(id.model.sha256)} here, but ${shortHash(m0.sha256)} in ${sameModel.from}: ` +
            'the model was replaced between runs; rerun the points of one of them',
        );
      }
    }
    const dataKey = `${id.data.name}/${id.data.limit}`;
    const sameData = byData.get(dataKey);
    if (sameData === undefined) byData.set(dataKey, line);
    else if (sameData.record.identity!.data.fingerprint !== id.data.fingerprint) {
      throw new DataError(
        line.from,
        `dataset ${id.data.name} has fingerprint ${shortHash(id.data.fingerprint)} here, but ${shortHash(sameData.record.identity!.data.fingerprint)} in ${sameData.from}: ` +
          'the data files changed between runs; rerun the points of one of them',
      );
    }
    if (id.study !== first.record.identity!.study) {
      throw new DataError(
        line.from,
        `holds results of study ${id.study}, but ${first.from} of study ${first.record.identity!.study}: ` +
          'shards of different study configs (another grid, dataset or seeds); merge the shards of one study',
      );
    }
  }
}

/** With `--config`: refuses inputs of another study than the config's. */
function checkStudyIs(lines: readonly Placed[], study: { readonly id: string; readonly file: string } | undefined): void {
  const first = lines[0];
  if (study === undefined || first?.record.identity === undefined) return;
  if (first.record.identity.study !== study.id) {
    throw new DataError(
      study.file,
      `describes study ${study.id}, but the inputs hold results of study ${first.record.identity!.study} (${first.from}): ` +
        "another study config; merge them with that study's --config, or without --config",
    );
  }
}

/** Sorts a results file in place into canonical order (see {@link mergeResultFiles}). */
export function normaliseResultsFile(file: string, order?: readonly string[]): MergeReport {
  return mergeResultFiles([file], file, { order });
}
