/**
 * Writes small ustar archives for the tar and stroke reader tests, so corrupt
 * archives can be built without the system `tar`.
 */
import * as zlib from 'zlib';

export interface FixtureEntry {
  readonly name: string;
  readonly data?: string | Buffer;
  /** ustar type flag: '0' file (default), '5' directory, 'x' pax header. */
  readonly type?: '0' | '5' | 'x' | 'L';
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header with a correct checksum. */
export function ustarHeader(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(1475107200, 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

/** A ustar archive of `entries`, ended by two zero blocks unless `endMarker` is false. */
export function ustar(entries: readonly FixtureEntry[], endMarker = true): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    parts.push(ustarHeader(entry.name, data.length, entry.type ?? '0'));
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  if (endMarker) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** gzip of a ustar archive. */
export function ustarGz(entries: readonly FixtureEntry[], endMarker = true): Buffer {
  return zlib.gzipSync(ustar(entries, endMarker));
}

/** A pax record "<len> key=value\n" whose length prefix counts itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}
