import { DataError } from '../errors';
/** NumPy `.npy` (format 1.0) encoding of a float32 array, for tile maps other tools can read. */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Header (magic 6 + version 2 + length 2 + dict + '\n') is padded to a multiple of 64.
  const unpadded = 10 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const out = Buffer.alloc(10 + header.length + data.byteLength);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 10 + header.length);
  return out;
}

/** A decoded `.npy` float32 array. */
export interface NpyFloat32 {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Decode a NumPy `.npy` file (format 1.0–3.0) holding a C-order little-endian float32
 * array (`<f4`; `<f8` is converted). Every header field is checked against the bytes
 * before anything is allocated.
 *
 * @param file names the source in error messages.
 */
export function decodeNpyFloat32(bytes: Uint8Array, file: string): NpyFloat32 {
  const fail = (why: string): never => {
    throw new DataError(file, `not a float32 .npy array: ${why}`);
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail('missing the \\x93NUMPY magic');
  const major = buf[6];
  if (major < 1 || major > 3) fail(`format version ${major}.${buf[7]} (1.0 to 3.0 are read)`);
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.length >= 12 ? buf.readUInt32LE(8) : fail('truncated header');
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > buf.length) fail(`truncated: header of ${headerLength} bytes, file of ${buf.length}`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`unreadable header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('fortran_order is True; save a C-order array (np.ascontiguousarray)');
  if (descr !== '<f4' && descr !== '<f8') fail(`dtype ${descr}; expected <f4 (float32) or <f8`);
  const shape = shapeText!.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) fail(`shape (${shapeText}) is not non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  const width = descr === '<f4' ? 4 : 8;
  const payload = buf.length - start - headerLength;
  if (!Number.isSafeInteger(count * width) || payload !== count * width) {
    fail(`shape (${shape.join(', ')}) needs ${count * width} bytes of data, the file has ${payload}`);
  }
  const raw = buf.subarray(start + headerLength);
  const aligned = new Uint8Array(raw.length);
  aligned.set(raw);
  const data = width === 4 ? new Float32Array(aligned.buffer) : Float32Array.from(new Float64Array(aligned.buffer));
  return { shape, data };
}
