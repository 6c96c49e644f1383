/**
 * A study is a grid of independent points: models × devices (each device once
 * per hardware variant: its axis combinations, or noise sites) × noise kind × σ ×
 * voting semantics × votes, each evaluated over a list of seeds on one dataset.
 * Device entries and axes are described in studyHardware.ts.
 *
 * Two identities keep a sweep reproducible however it is cut up:
 * - {@link pointId}: a hash of the point's own configuration. It does not depend on
 *   where the point sits in the grid, so adding a σ to a study does not rename the
 *   points already computed, and a results file can be resumed or merged.
 * - {@link pointSeed}: the point's random seed, a function of the study's root seed
 *   and the point only, so a shard, a worker or a resumed run draws the same bits.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors';
import { Rng } from '../rng';
import { VOTING_SEMANTICS, type VotingSemantics } from '../models/voting';
import type { NoiseSite } from '../compiler/hardware';
import {
  axisCombinationCount, canonicalJson, deviceRole, deviceVariants, validateAxes, validateDevices, validateNoiseSites,
  type PointHardware, type StudyAxis,
} from './studyHardware';

export { SIGNAL_DEVICE, type PointHardware, type StudyAxis } from './studyHardware';

/**
 * How noise enters a point:
 * - `'multiplicative'`: the paper's Eq. 3, `y' = y ⊙ (1 + σ·ε)` after every MVM;
 * - `'additive'`: the paper's Eq. 2, `y' = y + σ·ε` after every MVM;
 * - `'device'`: the device preset's own physics (programming, read, sensing noise),
 *   with σ interpreted by the evaluator.
 */
export type NoiseKind = 'multiplicative' | 'additive' | 'device';

/** Every {@link NoiseKind}. */
export const NOISE_KINDS: readonly NoiseKind[] = ['multiplicative', 'additive', 'device'];

/** Which data a study evaluates on. */
export interface DatasetSelection {
  /** Dataset name as the evaluator knows it, e.g. `"mnist"`. */
  readonly name: string;
  /** Evaluate on the first `limit` examples; `null` for all of them. */
  readonly limit: number | null;
}

/** A validated study: the lists whose product is the grid. Build with {@link validateStudyConfig}. */
export interface StudyConfig {
  /** Model names (zoo names or files); the evaluator resolves them. */
  readonly models: readonly string[];
  /**
   * Device names: the known names given (presets, `signal`), chip file paths, or
   * the names of inline entries (their `name`, else derived, e.g. `pcm`).
   */
  readonly devices: readonly string[];
  /** The hardware of devices that are not plain names (chip files, inline chips or signal entries), by name. */
  readonly deviceHardware?: Readonly<Record<string, PointHardware>>;
  /** Sweep axes over chip fields, expanded over every chip device (see studyHardware.ts). */
  readonly axes?: readonly StudyAxis[];
  /** Pair the axes value by value instead of taking their product. */
  readonly zip?: boolean;
  /** Noise sites of the signal-level device, expanded as an axis (`site`). */
  readonly noiseSites?: readonly NoiseSite[];
  readonly noise: readonly NoiseKind[];
  /** Noise standard deviations σ (relative for multiplicative noise), each >= 0. */
  readonly sigmas: readonly number[];
  /** Numbers of votes V, each a positive integer. */
  readonly votes: readonly number[];
  readonly semantics: readonly VotingSemantics[];
  /**
   * Replicate seeds. They are not a grid axis: every point is evaluated once per
   * seed and reports the mean and spread of accuracy over them.
   */
  readonly seeds: readonly number[];
  readonly dataset: DatasetSelection;
  /** Root of every point's seed; change it to redraw the whole study. */
  readonly rootSeed: number;
}

/** Values used for fields a raw study config leaves out. */
export const STUDY_DEFAULTS = {
  noise: ['multiplicative'] as readonly NoiseKind[],
  votes: [1] as readonly number[],
  semantics: ['signal'] as readonly VotingSemantics[],
  seeds: [0] as readonly number[],
  rootSeed: 0,
  datasetLimit: null as number | null,
  sigmas: [0] as readonly number[],
} as const;

const STUDY_FIELDS = ['models', 'devices', 'axes', 'zip', 'noise', 'sigmas', 'noiseSites', 'votes', 'semantics', 'seeds', 'dataset', 'rootSeed'];

/** The configuration of one grid point: everything its result depends on. */
export interface PointConfig {
  readonly model: string;
  readonly device: string;
  readonly noise: NoiseKind;
  readonly sigma: number;
  readonly semantics: VotingSemantics;
  readonly votes: number;
  /** Replicate seeds, ascending (they are a set: order does not change the point). */
  readonly seeds: readonly number[];
  readonly dataset: DatasetSelection;
  /**
   * The point's hardware beyond its device name (chip files and inline entries,
   * axes applied, a noise site), as the study gives it; absent for a plain name.
   * Part of the point's identity.
   */
  readonly hardware?: PointHardware;
  /** The axis values (chip path, or `site`) that made this point's hardware, for reports. */
  readonly axes?: Readonly<Record<string, unknown>>;
}

/** A point of an expanded grid. */
export interface StudyPoint extends PointConfig {
  /** {@link pointId} of the point's configuration. */
  readonly id: string;
  /** Position in the grid this point was expanded from (not part of its identity). */
  readonly index: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Checks a list field: present (or defaulted), an array, non-empty, every entry
 * accepted by `check` and no entry repeated.
 */
function validateList<T>(
  raw: Record<string, unknown>,
  field: string,
  fallback: readonly T[] | undefined,
  describe: string,
  check: (x: unknown, where: string) => T,
): T[] {
  const value = raw[field];
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(field, value, `a non-empty list of ${describe}`);
    return [...fallback];
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(field, value, `a non-empty list of ${describe}`);
  }
  const out: T[] = [];
  // A map, not indexOf: a hostile list of a million entries must not take 10^12 steps.
  const firstAt = new Map<T, number>();
  value.forEach((entry, i) => {
    const where = `${field}[${i}]`;
    const checked = check(entry, where);
    const first = firstAt.get(checked);
    if (first !== undefined) {
      throw new ConfigError(where, entry, `distinct entries (the same value is already ${field}[${first}])`);
    }
    firstAt.set(checked, i);
    out.push(checked);
  });
  return out;
}

function nonEmptyString(x: unknown, where: string): string {
  if (typeof x !== 'string' || x.trim() === '') throw new ConfigError(where, x, 'a non-empty string');
  return x;
}

function oneOf<T extends string>(options: readonly T[]) {
  return (x: unknown, where: string): T => {
    if (typeof x !== 'string' || !(options as readonly string[]).includes(x)) {
      throw new ConfigError(where, x, `one of ${options.length > 0 ? options.join(', ') : '(none known)'}`);
    }
    return x as T;
  };
}

function seedValue(x: unknown, where: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
    throw new ConfigError(where, x, 'an integer in [0, 2^53)');
  }
  return x;
}

/**
 * Validates a raw study configuration (parsed JSON, CLI options) once, before any
 * work starts, filling defaults from {@link STUDY_DEFAULTS}.
 *
 * @param knownDevices device names the evaluator knows, e.g. `['reram', 'pcm', 'nand']`;
 *   besides them a `devices` entry may be a chip file or an inline chip or signal
 *   entry, validated here (as every axis combination is).
 * @throws ConfigError naming the field (e.g. `sigmas[2]`, `axes.adc.bits[1]`), its
 *   value and what was expected: unknown fields, unknown devices, invalid chips or
 *   axis values, σ < 0, votes that are not positive integers, empty lists and
 *   repeated entries.
 */
export function validateStudyConfig(raw: unknown, knownDevices: readonly string[]): StudyConfig {
  if (!isRecord(raw)) throw new ConfigError('study', raw, 'an object with fields ' + STUDY_FIELDS.join(', '));
  for (const key of Object.keys(raw)) {
    if (!STUDY_FIELDS.includes(key)) {
      throw new ConfigError(key, raw[key], `no such study field; known fields: ${STUDY_FIELDS.join(', ')}`);
    }
  }
  const models = validateList(raw, 'models', undefined, 'model names', nonEmptyString);
  const { names: devices, hardware: deviceHardware } = validateDevices(raw.devices, knownDevices);
  const extra: { deviceHardware?: Record<string, PointHardware>; axes?: StudyAxis[]; zip?: boolean; noiseSites?: NoiseSite[] } = {};
  if (Object.keys(deviceHardware).length > 0) extra.deviceHardware = deviceHardware;
  if (raw.axes !== undefined) {
    const { axes, zip } = validateAxes(raw.axes, raw.zip, devices, deviceHardware);
    extra.axes = axes;
    if (zip) extra.zip = true;
  } else if (raw.zip !== undefined) {
    throw new ConfigError('zip', raw.zip, 'to be left out without axes (zip pairs the values of axes)');
  }
  if (raw.noiseSites !== undefined) extra.noiseSites = validateNoiseSites(raw.noiseSites, devices, deviceHardware);
  const noise = validateList(raw, 'noise', STUDY_DEFAULTS.noise, NOISE_KINDS.join('/'), oneOf(NOISE_KINDS));
  const sigmas = validateList(raw, 'sigmas', STUDY_DEFAULTS.sigmas, 'numbers >= 0', (x, where) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new ConfigError(where, x, 'a finite number >= 0');
    }
    return x === 0 ? 0 : x; // -0 and 0 are one sigma
  });
  const votes = validateList(raw, 'votes', STUDY_DEFAULTS.votes, 'positive integers', (x, where) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) {
      throw new ConfigError(where, x, 'a positive integer');
    }
    return x;
  });
  const semantics = validateList(
    raw,
    'semantics',
    STUDY_DEFAULTS.semantics,
    VOTING_SEMANTICS.join('/'),
    oneOf(VOTING_SEMANTICS),
  );
  const seeds = validateList(raw, 'seeds', STUDY_DEFAULTS.seeds, 'integer seeds', seedValue);

  const rawDataset = raw.dataset;
  if (!isRecord(rawDataset)) throw new ConfigError('dataset', rawDataset, 'an object {name, limit?}');
  for (const key of Object.keys(rawDataset)) {
    if (key !== 'name' && key !== 'limit') {
      throw new ConfigError(`dataset.${key}`, rawDataset[key], 'no such field; known fields: name, limit');
    }
  }
  const name = nonEmptyString(rawDataset.name, 'dataset.name');
  const rawLimit = rawDataset.limit;
  let limit: number | null = STUDY_DEFAULTS.datasetLimit;
  if (rawLimit !== undefined && rawLimit !== null) {
    if (typeof rawLimit !== 'number' || !Number.isSafeInteger(rawLimit) || rawLimit < 1) {
      throw new ConfigError('dataset.limit', rawLimit, 'a positive integer, or null for the whole dataset');
    }
    limit = rawLimit;
  }
  const rootSeed = raw.rootSeed === undefined ? STUDY_DEFAULTS.rootSeed : seedValue(raw.rootSeed, 'rootSeed');

  return { models, devices, noise, sigmas, votes, semantics, seeds, dataset: { name, limit }, rootSeed, ...extra };
}

/** The number of hardware variants of each device (axis combinations, noise sites, or 1). */
export function deviceVariantCounts(config: StudyConfig): number[] {
  return config.devices.map((name) => {
    const role = deviceRole(name, config.deviceHardware?.[name]);
    if (config.axes && role === 'chip') return axisCombinationCount(config.axes, config.zip === true);
    if (config.noiseSites && role === 'signal') return config.noiseSites.length;
    return 1;
  });
}

/**
 * The canonical text of a point's configuration: JSON with a fixed key order and
 * sorted seeds. Equal configurations give equal text, whatever grid they came from.
 */
export function canonicalPointKey(config: PointConfig): string {
  return JSON.stringify(canonicalParts(config, true));
}

function canonicalParts(config: PointConfig, withReplication: boolean): unknown[] {
  const parts: unknown[] = [
    ['model', config.model],
    ['device', config.device],
    ['noise', config.noise],
    ['sigma', config.sigma === 0 ? 0 : config.sigma],
    ['semantics', config.semantics],
    ['dataset', config.dataset.name, config.dataset.limit],
  ];
  // Points of plain device names keep the identity they had before hardware entries existed.
  if (config.hardware !== undefined) parts.push(['hardware', JSON.parse(canonicalJson(config.hardware))]);
  if (withReplication) {
    parts.push(['votes', config.votes], ['seeds', [...config.seeds].sort((a, b) => a - b)]);
  }
  return parts;
}

/**
 * Stable identity of a point: the first 16 hex digits of the SHA-256 of
 * {@link canonicalPointKey}. Independent of the point's position in any grid.
 */
export function pointId(config: PointConfig): string {
  return createHash('sha256').update(canonicalPointKey(config)).digest('hex').slice(0, 16);
}

/**
 * The seed of a point: a 53-bit integer from `Rng.fromSeed(rootSeed)` folded with
 * the point's configuration, so it depends on nothing but the point and the root.
 * Evaluate the point with `Rng.fromSeed(pointSeed(point, rootSeed))`.
 *
 * `votes` and `seeds` are deliberately left out of the derivation: the points
 * that differ only in V share their random streams, so the runs of V = 5 are the
 * first 5 runs of V = 20 (common random numbers make accuracy-vs-votes curves
 * comparable point to point), and replicate seed s draws the same bits whichever
 * other seeds are listed (see {@link replicateRng}).
 */
export function pointSeed(config: PointConfig, rootSeed: number): number {
  const key = Rng.fromSeed(rootSeed).fold('study-point').fold(JSON.stringify(canonicalParts(config, false))).keyHex;
  return Number(BigInt(`0x${key}`) >> 11n);
}

/** The stream of replicate seed `seed` within a point evaluated from `pointRng`. */
export function replicateRng(pointRng: Rng, seed: number): Rng {
  return pointRng.fold('replicate').fold(seed);
}

/**
 * All points of a study, in a fixed order: models, then devices (each over its
 * hardware variants: axis combinations, the last axis fastest, or noise sites),
 * noise kinds, σ, semantics and votes (the last varying fastest), each list in the order the
 * config gives it. The grid is the full product; pairs a given evaluator treats
 * alike (e.g. semantics for noise without a programming step) are still separate
 * points, so a table always has every cell it was asked for.
 */
export function expandGrid(config: StudyConfig): StudyPoint[] {
  const seeds = [...config.seeds].sort((a, b) => a - b);
  const points: StudyPoint[] = [];
  const variants = new Map(config.devices.map((d) => [d, deviceVariants(d, config.deviceHardware?.[d], config.axes, config.zip === true, config.noiseSites)]));
  for (const model of config.models) {
    for (const device of config.devices) {
      for (const variant of variants.get(device)!) {
        for (const noise of config.noise) {
          for (const sigma of config.sigmas) {
            for (const semantics of config.semantics) {
              for (const votes of config.votes) {
                const point: PointConfig = {
                  model,
                  device,
                  noise,
                  sigma,
                  semantics,
                  votes,
                  seeds,
                  dataset: config.dataset,
                  ...(variant.hardware ? { hardware: variant.hardware } : {}),
                  ...(variant.axes ? { axes: variant.axes } : {}),
                };
                points.push({ ...point, id: pointId(point), index: points.length });
              }
            }
          }
        }
      }
    }
  }
  return points;
}

/** Only the configuration fields of a point (drops `id` and `index`), for records. */
export function pointConfigOf(point: PointConfig): PointConfig {
  return {
    model: point.model,
    device: point.device,
    noise: point.noise,
    sigma: point.sigma,
    semantics: point.semantics,
    votes: point.votes,
    seeds: [...point.seeds],
    dataset: { name: point.dataset.name, limit: point.dataset.limit },
    ...(point.hardware !== undefined ? { hardware: JSON.parse(JSON.stringify(point.hardware)) as PointHardware } : {}),
    ...(point.axes !== undefined ? { axes: JSON.parse(JSON.stringify(point.axes)) as Record<string, unknown> } : {}),
  };
}
