/**
 * One line of a study's results: the point's configuration, its seed, accuracy
 * over the replicate seeds and the evaluator's metrics. The serialised form is
 * canonical (fixed key order, metrics sorted by name, no timing or host data), so
 * the same point evaluated anywhere gives the same bytes.
 */
import { DataError } from '../errors';
import { NOISE_KINDS, pointConfigOf, pointId, type PointConfig } from './grid';
import { VOTING_SEMANTICS } from '../models/voting';
import { canonicalIdentity, parseIdentity, RESULT_FORMAT, type PointIdentity } from './pointIdentity';

/** A metric value: flat and JSON-representable (finite numbers only). */
export type MetricValue = number | string | boolean | null;

/** What an evaluator returns for one point. */
export interface PointResult {
  /** Accuracy in [0, 1] for each of the point's `seeds`, in the same (ascending) order. */
  readonly accuracyPerSeed: readonly number[];
  /**
   * Anything else the evaluator measured, by name with units in the name
   * (`latencyNs`, `energyPicojoules`, `tiles`, `backend`).
   */
  readonly metrics?: Readonly<Record<string, MetricValue>>;
  /**
   * The point's hardware fully resolved (every default filled in), as plain JSON: a
   * hardware description that `ohmic run --hardware` and `compileHardware` take, so
   * the point can be re-run alone. Evaluators that know no hardware leave it out.
   */
  readonly hardware?: Readonly<Record<string, unknown>>;
}

/** Accuracy over a point's replicate seeds. */
export interface AccuracySummary {
  readonly mean: number;
  /** Sample standard deviation (n − 1); `null` with a single seed, where it is undefined. */
  readonly std: number | null;
  readonly min: number;
  readonly max: number;
  /** Per seed, aligned with `point.seeds`. */
  readonly perSeed: readonly number[];
}

/** One results line. */
export interface ResultRecord {
  readonly pointId: string;
  readonly point: PointConfig;
  /** The point's seed ({@link pointSeed}); `Rng.fromSeed(seed)` re-creates its streams. */
  readonly seed: number;
  readonly rootSeed: number;
  readonly accuracy: AccuracySummary;
  /** The evaluator's metrics, keys in ascending order. */
  readonly metrics: Readonly<Record<string, MetricValue>>;
  /** The point's resolved hardware description, when the evaluator gave one (see {@link PointResult.hardware}). */
  readonly hardware?: Readonly<Record<string, unknown>>;
  /**
   * What the result was computed from, by content (model hash, hardware, data,
   * study). Present in lines of results format {@link RESULT_FORMAT}, which
   * `runStudy` writes; absent in lines of format 1 (older ohmic), which can be
   * read and reported but neither resumed nor merged.
   */
  readonly identity?: PointIdentity;
}

/** The results format of a record: {@link RESULT_FORMAT} with an identity, 1 without. */
export function recordFormat(record: ResultRecord): number {
  return record.identity === undefined ? 1 : RESULT_FORMAT;
}

function checkMetric(name: string, value: unknown, where: string): MetricValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new DataError(
    where,
    `metric ${JSON.stringify(name)} = ${String(value)}; expected a finite number, string, boolean or null`,
  );
}

/**
 * Builds the record of `point` from its evaluator's result.
 *
 * @throws DataError naming the point when the result has the wrong number of
 *   accuracies, an accuracy outside [0, 1] or a metric that is not a flat scalar.
 */
export function buildResultRecord(
  point: PointConfig,
  seed: number,
  rootSeed: number,
  result: PointResult,
  identity?: PointIdentity,
): ResultRecord {
  const id = pointId(point);
  const where = `evaluator result for point ${id}`;
  if (!isRecord(result)) {
    throw new DataError(where, `${String(result)}; expected an object {accuracyPerSeed, metrics?}`);
  }
  const acc = result.accuracyPerSeed;
  if (!Array.isArray(acc) || acc.length !== point.seeds.length) {
    throw new DataError(
      where,
      `accuracyPerSeed has ${Array.isArray(acc) ? acc.length : String(acc)} entries; ` +
        `expected one per seed (${point.seeds.length})`,
    );
  }
  acc.forEach((a, i) => {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a > 1) {
      throw new DataError(where, `accuracyPerSeed[${i}] = ${String(a)}; expected a number in [0, 1]`);
    }
  });
  const n = acc.length;
  let sum = 0;
  for (const a of acc) sum += a;
  const mean = sum / n;
  let sq = 0;
  for (const a of acc) sq += (a - mean) * (a - mean);
  const metrics: Record<string, MetricValue> = {};
  const rawMetrics = result.metrics ?? {};
  if (typeof rawMetrics !== 'object' || rawMetrics === null || Array.isArray(rawMetrics)) {
    throw new DataError(where, `metrics = ${String(rawMetrics)}; expected an object of named scalars`);
  }
  for (const name of Object.keys(rawMetrics).sort()) metrics[name] = checkMetric(name, rawMetrics[name], where);
  const hardware = result.hardware;
  if (hardware !== undefined && !isRecord(hardware)) {
    throw new DataError(where, `hardware = ${String(hardware)}; expected a hardware description object`);
  }
  return {
    pointId: id,
    point: pointConfigOf(point),
    seed,
    rootSeed,
    accuracy: {
      mean,
      std: n > 1 ? Math.sqrt(sq / (n - 1)) : null,
      min: Math.min(...acc),
      max: Math.max(...acc),
      perSeed: [...acc],
    },
    metrics,
    ...(hardware !== undefined ? { hardware: JSON.parse(JSON.stringify(hardware)) as Record<string, unknown> } : {}),
    ...(identity !== undefined ? { identity: canonicalIdentity(identity) } : {}),
  };
}

/** The canonical one-line JSON of a record (no trailing newline). */
export function serializeRecord(record: ResultRecord): string {
  const metrics: Record<string, MetricValue> = {};
  for (const name of Object.keys(record.metrics).sort()) metrics[name] = record.metrics[name];
  return JSON.stringify({
    // Lines of format 1 (no identity) keep the bytes they had before formats were numbered.
    ...(record.identity !== undefined ? { format: RESULT_FORMAT } : {}),
    pointId: record.pointId,
    point: pointConfigOf(record.point),
    seed: record.seed,
    rootSeed: record.rootSeed,
    accuracy: {
      mean: record.accuracy.mean,
      std: record.accuracy.std,
      min: record.accuracy.min,
      max: record.accuracy.max,
      perSeed: [...record.accuracy.perSeed],
    },
    metrics,
    // Records without hardware serialise as before the field existed.
    ...(record.hardware !== undefined ? { hardware: record.hardware } : {}),
    ...(record.identity !== undefined ? { identity: canonicalIdentity(record.identity) } : {}),
  });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Parses and checks one results line.
 *
 * @param where `file:line`, for the error message.
 * @throws DataError when the line is not a well-formed record or its `pointId`
 *   does not match its `point`.
 */
export function parseRecord(line: string, where: string): ResultRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new DataError(where, `not valid JSON (${(err as Error).message})`);
  }
  const fail = (detail: string): never => {
    throw new DataError(where, detail);
  };
  if (!isRecord(raw)) return fail('expected a JSON object per line');
  if (raw.format !== undefined && raw.format !== RESULT_FORMAT) {
    fail(
      `results format ${String(raw.format)}: this ohmic reads formats 1 and ${RESULT_FORMAT} ` +
        '(a newer ohmic wrote it, or the line is not an ohmic result)',
    );
  }
  if (raw.format === undefined && raw.identity !== undefined) fail('identity without format: expected "format": 2 with it');
  if (raw.format === RESULT_FORMAT) parseIdentity(raw.identity, where);
  const { point, accuracy, metrics } = raw;
  if (typeof raw.pointId !== 'string') fail('pointId: expected a string');
  if (!isRecord(point)) return fail('point: expected an object');
  if (!isRecord(accuracy)) return fail('accuracy: expected an object');
  if (!isRecord(metrics)) return fail('metrics: expected an object');
  for (const f of ['model', 'device'] as const) if (typeof point[f] !== 'string') fail(`point.${f}: expected a string`);
  if (!(NOISE_KINDS as readonly unknown[]).includes(point.noise)) fail(`point.noise = ${String(point.noise)}: unknown`);
  if (!(VOTING_SEMANTICS as readonly unknown[]).includes(point.semantics)) {
    fail(`point.semantics = ${String(point.semantics)}: unknown`);
  }
  if (typeof point.sigma !== 'number') fail('point.sigma: expected a number');
  if (!Number.isSafeInteger(point.votes)) fail('point.votes: expected an integer');
  if (!Array.isArray(point.seeds) || !point.seeds.every((s) => Number.isSafeInteger(s))) {
    fail('point.seeds: expected a list of integers');
  }
  const dataset = point.dataset;
  const limitOk = isRecord(dataset) && (dataset.limit === null || Number.isSafeInteger(dataset.limit));
  if (!isRecord(dataset) || typeof dataset.name !== 'string' || !limitOk) {
    fail('point.dataset: expected {name: string, limit: integer | null}');
  }
  if (!Number.isSafeInteger(raw.seed)) fail('seed: expected an integer');
  if (!Number.isSafeInteger(raw.rootSeed)) fail('rootSeed: expected an integer');
  for (const f of ['mean', 'min', 'max'] as const) {
    if (typeof accuracy[f] !== 'number') fail(`accuracy.${f}: expected a number`);
  }
  if (!(accuracy.std === null || typeof accuracy.std === 'number')) fail('accuracy.std: expected a number or null');
  if (!Array.isArray(accuracy.perSeed) || !accuracy.perSeed.every((a) => typeof a === 'number')) {
    fail('accuracy.perSeed: expected a list of numbers');
  }
  for (const [name, value] of Object.entries(metrics)) checkMetric(name, value, where);
  if (point.hardware !== undefined && !(isRecord(point.hardware) && (point.hardware.kind === 'chip' || point.hardware.kind === 'signal'))) {
    fail('point.hardware: expected an object with kind "chip" or "signal"');
  }
  if (point.axes !== undefined && !isRecord(point.axes)) fail('point.axes: expected an object');
  if (raw.hardware !== undefined && !isRecord(raw.hardware)) fail('hardware: expected a hardware description object');
  const record = raw as unknown as ResultRecord;
  const expectedId = pointId(record.point);
  if (record.pointId !== expectedId) {
    fail(`pointId ${record.pointId} does not match its point (expected ${expectedId})`);
  }
  return record;
}
