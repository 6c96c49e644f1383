/**
 * What a study point's result was computed *from*, identified by content, so that
 * `ohmic study --resume` and `ohmic merge` never join results of different studies:
 * a point id names the configuration (model name, device, σ, …), but the same name
 * can stand for another model file, another chip file or other data next time.
 *
 * Every results line of format {@link RESULT_FORMAT} carries a {@link PointIdentity}:
 * - `study`: a hash of the whole validated study config, shared by every shard of
 *   one study (and by its unsharded run, so merged shards keep their bytes);
 * - `model`: the model's content hash (a file's sha256, a zoo model's manifest
 *   `weightsSha256`), never its path, so machines with other folders agree;
 * - `hardware`: the point's resolved hardware, as canonical JSON;
 * - `data`: dataset name, limit and a cheap fingerprint of its files (size and the
 *   sha256 of the first MiB of each).
 *
 * A resumed point whose recomputed identity differs, or shards whose identities
 * disagree, are errors that say what changed ({@link describeIdentityChange}).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import { LEGACY_NOISE_GENERATOR } from '../rng';
import type { StudyConfig, StudyPoint } from './grid';
import { canonicalJson } from './studyHardware';

/**
 * Version of the results-line format. 1: lines without `format` and `identity`
 * (ohmic before point identities); 2: every line carries both.
 */
export const RESULT_FORMAT = 2;

/** The model a point ran. */
export interface ModelIdentity {
  /** How the name was resolved: a zoo entry, a file, or an opaque name the evaluator resolves itself. */
  readonly source: 'zoo' | 'file' | 'name';
  /** Content hash (hex sha256), or `null` for an opaque name. */
  readonly sha256: string | null;
}

/** The data a point was evaluated on. */
export interface DataIdentity {
  readonly name: string;
  readonly limit: number | null;
  /** {@link filesFingerprint} of the dataset's files, or `null` when the evaluator's data is not known here. */
  readonly fingerprint: string | null;
}

/** Everything a point's result depends on beyond its configuration. */
export interface PointIdentity {
  /** {@link studyFingerprint} of the study the point was run in. */
  readonly study: string;
  readonly model: ModelIdentity;
  /** The resolved hardware as canonical JSON data (sorted keys). */
  readonly hardware: unknown;
  readonly data: DataIdentity;
  /**
   * The noise generator the point drew with (`NOISE_GENERATOR`); absent in lines
   * written before it was recorded, which drew with `LEGACY_NOISE_GENERATOR`.
   */
  readonly generator?: string;
}

/** The part of an identity an identifier computes per point (the study hash is the run's). */
export type PointContent = Omit<PointIdentity, 'study' | 'generator'>;

/** Computes a point's content identity; may throw a named error (a missing model file). */
export type PointIdentifier = (point: StudyPoint) => PointContent;

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Bytes of a file hashed in full by {@link fileSha256}, read in chunks of this size. */
const CHUNK_BYTES = 1 << 20;

function readError(file: string, err: unknown): DataError {
  return new DataError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
}

/** sha256 (hex) of `file`'s bytes, read in 1 MiB chunks; at most `maxBytes` of them when given. */
export function fileSha256(file: string, maxBytes = Number.POSITIVE_INFINITY): string {
  const hash = createHash('sha256');
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw readError(file, err);
  }
  try {
    const buf = Buffer.alloc(CHUNK_BYTES);
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK_BYTES, maxBytes - total);
      if (want <= 0) break;
      const n = fs.readSync(fd, buf, 0, want, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      total += n;
    }
  } catch (err) {
    throw readError(file, err);
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * A cheap content fingerprint of data files: for each, its name, size and the
 * sha256 of its first MiB. Reading 1 MiB rather than everything keeps it fast on
 * large datasets; a file replaced by one of the same name, size and first MiB
 * (an edit past the first MiB) goes unnoticed, which the size usually betrays.
 */
export function filesFingerprint(files: readonly string[]): string {
  const parts = files.map((file) => {
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch (err) {
      throw readError(file, err);
    }
    return `${path.basename(file)}:${size}:${fileSha256(file, CHUNK_BYTES)}`;
  });
  return sha256Hex(parts.join('\n'));
}

/**
 * sha256 of a model file: the file's bytes for `.onnx` (and anything else); for a
 * tfjs `model.json`, of the model.json and each weight shard it lists, so a
 * retrained model in the same folder gets another hash.
 */
export function modelFileSha256(file: string): string {
  if (!file.endsWith('.json')) return fileSha256(file);
  const parts = [fileSha256(file)];
  let manifest: unknown;
  try {
    manifest = (JSON.parse(fs.readFileSync(file, 'utf8')) as { weightsManifest?: unknown }).weightsManifest;
  } catch {
    manifest = undefined; // Not JSON: the loader names the fault; the file's own hash still identifies it.
  }
  if (Array.isArray(manifest)) {
    for (const group of manifest) {
      const paths = (group as { paths?: unknown } | null)?.paths;
      if (!Array.isArray(paths)) continue;
      for (const p of paths) {
        if (typeof p !== 'string') continue;
        const shard = path.join(path.dirname(file), p);
        parts.push(fs.existsSync(shard) ? fileSha256(shard) : 'missing');
      }
    }
  }
  return parts.length === 1 ? parts[0] : sha256Hex(parts.join('\n'));
}

/**
 * The hash (16 hex digits) of a validated study config: every list in its order
 * (the order decides the grid and so the shards), the dataset and the root seed.
 */
export function studyFingerprint(config: StudyConfig): string {
  return sha256Hex(canonicalJson(config)).slice(0, 16);
}

/** Canonical JSON data of a hardware description (sorted keys), as identities store it. */
export function canonicalHardware(hardware: unknown): unknown {
  return JSON.parse(canonicalJson(hardware)) as unknown;
}

/**
 * The identity any evaluator gets when it gives none: a model that names an
 * existing file is hashed ({@link modelFileSha256}), other names are opaque; the
 * hardware is the point's own (`hardware`, else its device name); the data is
 * its name and limit, without fingerprint (the evaluator's data is unknown here).
 */
export function genericPointIdentifier(): PointIdentifier {
  const models = new Map<string, ModelIdentity>();
  return (point) => {
    let model = models.get(point.model);
    if (model === undefined) {
      model = fs.existsSync(point.model) && fs.statSync(point.model).isFile()
        ? { source: 'file', sha256: modelFileSha256(point.model) }
        : { source: 'name', sha256: null };
      models.set(point.model, model);
    }
    return {
      model,
      hardware: canonicalHardware(point.hardware ?? { device: point.device }),
      data: { name: point.dataset.name, limit: point.dataset.limit, fingerprint: null },
    };
  };
}

/** A hash shortened for messages: `ab12cd34ef56…`. */
export function shortHash(hash: string | null): string {
  return hash === null ? 'none' : `${hash.slice(0, 12)}…`;
}

function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The first path where two JSON values differ, with both values, e.g. `chip.adc.bits: 6 → 8`; `null` when equal. */
export function firstJsonDifference(a: unknown, b: unknown, at = '', arrow = '→'): string | null {
  const show = (x: unknown): string => (x === undefined ? '(absent)' : JSON.stringify(x));
  if (isPlain(a) && isPlain(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstJsonDifference(a[key], b[key], at === '' ? key : `${at}.${key}`, arrow);
      if (d !== null) return d;
    }
    return null;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      const d = firstJsonDifference(a[i], b[i], `${at}[${i}]`, arrow);
      if (d !== null) return d;
    }
    return null;
  }
  if (canonicalJson(a) === canonicalJson(b)) return null;
  const text = `${show(a)} ${arrow} ${show(b)}`;
  return at === '' ? text : `${at}: ${text}`;
}

/**
 * What differs between a stored identity and the one recomputed now (model,
 * then hardware, then data, then the study), in words; `null` when they agree.
 * With `checkStudy: false` the study hash is not compared.
 */
export function describeIdentityChange(
  before: PointIdentity,
  now: PointIdentity,
  options: { checkStudy?: boolean; arrow?: string } = {},
): string | null {
  const arrow = options.arrow ?? '→';
  const m0 = before.model;
  const m1 = now.model;
  if (m0.source !== m1.source || m0.sha256 !== m1.sha256) {
    const what = m1.source === 'zoo' || m0.source === 'zoo' ? 'model weights changed' : 'model file changed';
    if (m0.source !== m1.source) return `model changed (resolved as ${m0.source} ${shortHash(m0.sha256)} ${arrow} ${m1.source} ${shortHash(m1.sha256)})`;
    return `${what} (sha256 ${shortHash(m0.sha256)} ${arrow} ${shortHash(m1.sha256)})`;
  }
  const hw = firstJsonDifference(before.hardware, now.hardware, '', arrow);
  if (hw !== null) return `hardware changed (${hw})`;
  const d0 = before.data;
  const d1 = now.data;
  if (d0.name !== d1.name || d0.limit !== d1.limit) {
    return `data changed (${d0.name}/${d0.limit ?? 'all'} ${arrow} ${d1.name}/${d1.limit ?? 'all'})`;
  }
  if (d0.fingerprint !== d1.fingerprint) {
    return `data files changed (${d1.name} fingerprint ${shortHash(d0.fingerprint)} ${arrow} ${shortHash(d1.fingerprint)})`;
  }
  const g0 = before.generator ?? LEGACY_NOISE_GENERATOR;
  const g1 = now.generator ?? LEGACY_NOISE_GENERATOR;
  if (g0 !== g1) return `noise generator changed (${g0} ${arrow} ${g1}: the same seeds draw other numbers)`;
  if (options.checkStudy !== false && before.study !== now.study) {
    return `study config changed (study ${before.study} ${arrow} ${now.study})`;
  }
  return null;
}

/**
 * Checks the shape of an identity read from a results line.
 * @throws DataError naming `where` and the field.
 */
export function parseIdentity(raw: unknown, where: string): PointIdentity {
  const fail = (detail: string): never => {
    throw new DataError(where, `identity${detail}`);
  };
  if (!isPlain(raw)) return fail(': expected an object {study, model, hardware, data}');
  if (typeof raw.study !== 'string' || !/^[0-9a-f]{16}$/.test(raw.study)) fail('.study: expected 16 hex digits');
  const model = raw.model;
  if (!isPlain(model) || !['zoo', 'file', 'name'].includes(model.source as string)) {
    fail('.model: expected {source: "zoo" | "file" | "name", sha256}');
  }
  const m = model as Record<string, unknown>;
  if (!(m.sha256 === null || (typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256)))) {
    fail('.model.sha256: expected 64 hex digits or null');
  }
  if (raw.hardware === undefined) fail('.hardware: missing');
  const data = raw.data;
  if (!isPlain(data) || typeof data.name !== 'string' || !(data.limit === null || Number.isSafeInteger(data.limit))) {
    fail('.data: expected {name, limit, fingerprint}');
  }
  const fp = (data as Record<string, unknown>).fingerprint;
  if (!(fp === null || (typeof fp === 'string' && /^[0-9a-f]{64}$/.test(fp)))) fail('.data.fingerprint: expected 64 hex digits or null');
  if (raw.generator !== undefined && (typeof raw.generator !== 'string' || raw.generator === '')) fail('.generator: expected the name of a noise generator');
  return raw as unknown as PointIdentity;
}

/** The identity in canonical key order, for serialising. */
export function canonicalIdentity(identity: PointIdentity): PointIdentity {
  return {
    study: identity.study,
    model: { source: identity.model.source, sha256: identity.model.sha256 },
    hardware: canonicalHardware(identity.hardware),
    data: { name: identity.data.name, limit: identity.data.limit, fingerprint: identity.data.fingerprint },
    ...(identity.generator !== undefined ? { generator: identity.generator } : {}),
  };
}
