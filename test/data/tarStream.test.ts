import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { DataError } from '../../src/errors';
import { readTarArchive, TarEntry, TarParser } from '../../src/data';
import { makeTempDir } from './sharedData';
import { paxRecord, ustar, ustarGz } from './tarFixture';

const LONG_NAME = `deep/${'x'.repeat(120)}/member.txt`;

function sampleArchive(): Buffer {
  return ustar([
    { name: 'dir/', type: '5' },
    { name: 'dir/empty.txt', data: '' },
    { name: 'dir/a.txt', data: 'a'.repeat(511) },
    { name: 'dir/b.txt', data: 'b'.repeat(512) },
    { name: 'dir/c.txt', data: 'c'.repeat(513) },
    { name: './PaxHeaders/x', type: 'x', data: paxRecord('path', 'pax/renamed.txt') },
    { name: 'short-name-ignored', data: 'from pax' },
    { name: '././@LongLink', type: 'L', data: `${LONG_NAME}\0` },
    { name: 'truncated-name', data: 'from gnu long name' },
    { name: 'dir/skipped.bin', data: Buffer.alloc(1500, 7) },
  ]);
}

interface Seen {
  entries: TarEntry[];
  files: Map<string, string>;
}

function collect(chunks: Buffer[], want: (e: TarEntry) => boolean = (e) => !e.name.endsWith('.bin')): Seen {
  const seen: Seen = { entries: [], files: new Map() };
  const parser = new TarParser('sample.tar', {
    wantFile(entry) {
      seen.entries.push(entry);
      return want(entry);
    },
    onFile(entry, data) {
      seen.files.set(entry.name, data.toString('latin1'));
    },
  });
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  expect(parser.finished).toBe(true);
  return seen;
}

function split(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('TarParser', () => {
  it('reads files of every padding case, pax paths and GNU long names', () => {
    const seen = collect([sampleArchive()]);
    expect(seen.entries.map((e) => [e.name, e.size, e.type])).toEqual([
      ['dir/empty.txt', 0, 'file'],
      ['dir/a.txt', 511, 'file'],
      ['dir/b.txt', 512, 'file'],
      ['dir/c.txt', 513, 'file'],
      ['pax/renamed.txt', 8, 'file'],
      [LONG_NAME, 18, 'file'],
      ['dir/skipped.bin', 1500, 'file'],
    ]);
    expect(seen.files.get('dir/empty.txt')).toBe('');
    expect(seen.files.get('dir/a.txt')).toBe('a'.repeat(511));
    expect(seen.files.get('dir/b.txt')).toBe('b'.repeat(512));
    expect(seen.files.get('dir/c.txt')).toBe('c'.repeat(513));
    expect(seen.files.get('pax/renamed.txt')).toBe('from pax');
    expect(seen.files.get(LONG_NAME)).toBe('from gnu long name');
    expect(seen.files.has('dir/skipped.bin')).toBe(false);
  });

  it.each([1, 7, 511, 512, 513, 4096])('gives the same result when fed in %i-byte chunks', (size) => {
    const whole = collect([sampleArchive()]);
    const pieces = collect(split(sampleArchive(), size));
    expect(pieces.entries).toEqual(whole.entries);
    expect([...pieces.files]).toEqual([...whole.files]);
  });

  it('rejects bytes that are not a tar archive', () => {
    const parser = new TarParser('notes.txt', { wantFile: () => true, onFile: () => undefined });
    expect(() => parser.write(Buffer.alloc(1024, 'hello world\n'))).toThrow(
      new DataError('notes.txt', 'not a tar archive, or corrupt: header checksum mismatch at byte 0'),
    );
  });

  it('reports an archive that ends inside a member', () => {
    const bytes = ustar([{ name: 'a.txt', data: 'x'.repeat(2000) }], false).subarray(0, 512 + 1000);
    const parser = new TarParser('cut.tar', { wantFile: () => true, onFile: () => undefined });
    parser.write(bytes);
    expect(() => parser.end()).toThrow(new DataError('cut.tar', 'tar archive truncated at byte 1512 inside member a.txt'));
  });
});

describe('readTarArchive', () => {
  const dir = makeTempDir('tar');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads .tar.gz and plain .tar alike', async () => {
    const gz = path.join(dir, 'sample.tar.gz');
    const plain = path.join(dir, 'sample.tar');
    fs.writeFileSync(gz, zlib.gzipSync(sampleArchive()));
    fs.writeFileSync(plain, sampleArchive());
    const names = async (file: string): Promise<string[]> => {
      const out: string[] = [];
      await readTarArchive(file, { wantFile: () => true, onFile: (e, d) => out.push(`${e.name}:${d.length}`) });
      return out;
    };
    const fromGz = await names(gz);
    expect(fromGz).toHaveLength(7);
    expect(fromGz[3]).toBe('dir/c.txt:513');
    expect(await names(plain)).toEqual(fromGz);
  });

  it('stops as soon as the visitor is done', async () => {
    const file = path.join(dir, 'many.tar.gz');
    fs.writeFileSync(file, ustarGz(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: `${i}` }))));
    let calls = 0;
    await readTarArchive(file, { wantFile: () => true, onFile: () => void calls++, isDone: () => calls === 3 });
    expect(calls).toBe(3);
  });

  it('missing file, corrupt gzip, truncated gzip', async () => {
    const missing = path.join(dir, 'nope.tar.gz');
    await expect(readTarArchive(missing, { wantFile: () => true, onFile: () => undefined })).rejects.toThrow(
      new DataError(missing, 'file not found'),
    );
    const corrupt = path.join(dir, 'corrupt.tar.gz');
    const gz = zlib.gzipSync(sampleArchive());
    fs.writeFileSync(corrupt, Buffer.concat([gz.subarray(0, 10), Buffer.alloc(200, 0xff)]));
    await expect(readTarArchive(corrupt, { wantFile: () => true, onFile: () => undefined })).rejects.toThrow(
      /corrupt\.tar\.gz: gzip stream is corrupt or truncated \(/,
    );
    const cut = path.join(dir, 'cut.tar.gz');
    fs.writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    const err = await readTarArchive(cut, { wantFile: () => true, onFile: () => undefined }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(String(err.message)).toMatch(/cut\.tar\.gz: (gzip stream is corrupt or truncated|tar archive truncated)/);
  });
});
