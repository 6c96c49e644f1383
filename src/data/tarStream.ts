/**
 * A small streaming reader for POSIX ustar archives (optionally gzip'd), so a
 * 278 MB archive of 210,002 small files can be read member by member without
 * extracting it or holding it in memory.
 *
 * Supported: regular files, directories, GNU long names (type `L`) and pax
 * extended headers (type `x`, keys `path` and `size`); other entry types
 * (links, devices, global pax headers) are passed to the visitor as `other`
 * with their data skipped. Every header's checksum is verified, so a file that
 * is not a tar archive fails on its first block instead of yielding garbage.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataError } from '../errors';
import { describeFsError } from './fileBytes';

const BLOCK = 512;

/** One archive member as the visitor sees it. */
export interface TarEntry {
  /** Full member path inside the archive, e.g. `sequences/testlabels.txt`. */
  readonly name: string;
  /** Data size in bytes. */
  readonly size: number;
  readonly type: 'file' | 'directory' | 'other';
}

/** Callbacks of {@link readTarArchive}. */
export interface TarVisitor {
  /** Return true to receive the bytes of this regular-file entry in {@link onFile}. */
  wantFile(entry: TarEntry): boolean;
  /** The complete data of a wanted entry. */
  onFile(entry: TarEntry, data: Buffer): void;
  /** Checked after each wanted file: true stops reading the rest of the archive. */
  isDone?(): boolean;
}

function readString(block: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  return block.toString('utf8', start, end);
}

/** Octal (NUL/space padded) or GNU base-256 (high bit set) numeric field. */
function readNumber(block: Buffer, start: number, length: number): number {
  if (block[start] & 0x80) {
    let value = block[start] & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i];
    return value;
  }
  const text = readString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  return parseInt(text, 8);
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Header checksum: byte sum with the checksum field itself read as spaces. */
function checksumMatches(block: Buffer): boolean {
  const stored = readNumber(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some historic tars wrote the signed sum; accept either.
  return stored === unsigned || stored === signed;
}

/** Parses pax records `"<len> <key>=<value>\n"`. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.toString('utf8', pos, space), 10);
    if (!(len > 0)) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

type Pending = { kind: 'file'; entry: TarEntry } | { kind: 'longName' } | { kind: 'pax' } | { kind: 'skip' };

/**
 * Push parser: feed it decompressed chunks with {@link write}, then call
 * {@link end}. Chunk boundaries may fall anywhere.
 */
export class TarParser {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Offset in the archive of the block being filled, for error messages. */
  private offset = 0;
  private pending: Pending | null = null;
  private dataRemaining = 0;
  private padRemaining = 0;
  private data: Buffer | null = null;
  private dataFill = 0;
  private nextName: string | null = null;
  private nextSize: number | null = null;
  private finishedFlag = false;
  private stoppedFlag = false;

  constructor(
    private readonly source: string,
    private readonly visitor: TarVisitor,
  ) {}

  /** True once the end-of-archive marker was read. */
  get finished(): boolean {
    return this.finishedFlag;
  }

  /** True once the visitor reported it is done. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.finishedFlag && !this.stoppedFlag) {
      if (this.dataRemaining > 0) {
        const n = Math.min(this.dataRemaining, chunk.length - pos);
        if (this.data) chunk.copy(this.data, this.dataFill, pos, pos + n);
        this.dataFill += n;
        this.dataRemaining -= n;
        this.offset += n;
        pos += n;
        if (this.dataRemaining === 0 && this.padRemaining === 0) this.finishEntry();
      } else if (this.padRemaining > 0) {
        const n = Math.min(this.padRemaining, chunk.length - pos);
        this.padRemaining -= n;
        this.offset += n;
        pos += n;
        if (this.padRemaining === 0) this.finishEntry();
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + n);
        this.headerFill += n;
        pos += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader();
          this.offset += BLOCK;
        }
      }
    }
  }

  /** Call when the input ended; throws when it ended inside a member. */
  end(): void {
    if (this.finishedFlag || this.stoppedFlag) return;
    if (this.pending || this.headerFill > 0) {
      const inside = this.pending?.kind === 'file' ? ` inside member ${this.pending.entry.name}` : '';
      throw new DataError(this.source, `tar archive truncated at byte ${this.offset + this.headerFill}${inside}`);
    }
    // No end-of-archive marker: tolerated (GNU tar only warns), data is complete.
  }

  private readHeader(): void {
    const block = this.header;
    if (isZeroBlock(block)) {
      this.finishedFlag = true;
      return;
    }
    if (!checksumMatches(block)) {
      throw new DataError(
        this.source,
        `not a tar archive, or corrupt: header checksum mismatch at byte ${this.offset}`,
      );
    }
    const typeflag = String.fromCharCode(block[156]);
    const headerSize = readNumber(block, 124, 12);
    if (!Number.isFinite(headerSize)) {
      throw new DataError(this.source, `bad size field in tar header at byte ${this.offset}`);
    }
    const magic = block.toString('latin1', 257, 262);
    const prefix = magic === 'ustar' ? readString(block, 345, 155) : '';
    const baseName = readString(block, 0, 100);
    let name = prefix ? `${prefix}/${baseName}` : baseName;
    let size = headerSize;

    if (typeflag === 'L') {
      this.begin({ kind: 'longName' }, size, true);
      return;
    }
    if (typeflag === 'x') {
      this.begin({ kind: 'pax' }, size, true);
      return;
    }
    if (typeflag === 'g') {
      this.begin({ kind: 'skip' }, size, false);
      return;
    }
    if (this.nextName !== null) name = this.nextName;
    if (this.nextSize !== null) size = this.nextSize;
    this.nextName = null;
    this.nextSize = null;

    const type: TarEntry['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : 'other';
    const entry: TarEntry = { name, size, type };
    const want = type === 'file' && this.visitor.wantFile(entry);
    // Directories and links carry no data; their size field may still be non-zero in odd archives.
    const dataSize = type === 'file' || type === 'other' ? size : 0;
    this.begin(want ? { kind: 'file', entry } : { kind: 'skip' }, dataSize, want);
  }

  private begin(pending: Pending, size: number, collect: boolean): void {
    this.pending = pending;
    this.dataRemaining = size;
    this.padRemaining = (BLOCK - (size % BLOCK)) % BLOCK;
    this.data = collect ? Buffer.allocUnsafe(size) : null;
    this.dataFill = 0;
    if (size === 0) this.finishEntry();
  }

  private finishEntry(): void {
    const pending = this.pending;
    const data = this.data;
    this.pending = null;
    this.data = null;
    if (!pending) return;
    if (pending.kind === 'longName' && data) {
      this.nextName = readString(data, 0, data.length);
    } else if (pending.kind === 'pax' && data) {
      const pax = parsePax(data);
      const paxPath = pax.get('path');
      const paxSize = pax.get('size');
      if (paxPath !== undefined) this.nextName = paxPath;
      if (paxSize !== undefined) this.nextSize = Number(paxSize);
    } else if (pending.kind === 'file' && data) {
      this.visitor.onFile(pending.entry, data);
      if (this.visitor.isDone?.()) this.stoppedFlag = true;
    }
  }
}

/**
 * Streams a `.tar.gz` (or plain `.tar`; the gzip magic decides) through
 * {@link TarParser}, stopping early once `visitor.isDone()` is true.
 *
 * @throws DataError when the file is missing, the gzip stream is corrupt or
 *   truncated, a header is corrupt, or the archive ends inside a member.
 */
export async function readTarArchive(file: string, visitor: TarVisitor): Promise<void> {
  let gzipped: boolean;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const magic = Buffer.alloc(2);
      const n = fs.readSync(fd, magic, 0, 2, 0);
      gzipped = n === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new DataError(file, describeFsError(err));
  }

  const parser = new TarParser(file, visitor);
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const stream: NodeJS.ReadableStream = gzipped
    ? input.pipe(zlib.createGunzip({ chunkSize: 1 << 18 }))
    : input;
  if (gzipped) input.on('error', (err) => (stream as zlib.Gunzip).destroy(err));
  try {
    for await (const chunk of stream) {
      parser.write(chunk as Buffer);
      if (parser.finished || parser.stopped) break;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const what = gzipped ? 'gzip stream is corrupt or truncated' : 'read failed';
    throw new DataError(file, `${what} (${(err as Error).message})`);
  } finally {
    input.destroy();
    if (gzipped) (stream as zlib.Gunzip).destroy();
  }
  parser.end();
}
