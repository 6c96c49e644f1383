/**
 * Runs a study: expands the grid, keeps this shard's points, skips those the
 * results file already holds, evaluates the rest (in this thread or on a worker
 * pool) and appends each result durably as it finishes. Killing it at any moment
 * loses at most the points in flight; running it again recomputes nothing finished.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { NOISE_GENERATOR } from '../rng';
import { ConfigError, DataError } from '../errors';
import { Rng } from '../rng';
import { chipEvaluatorPath } from './chipEvaluatorModule';
import { chipPointIdentifier } from './chipPointIdentity';
import {
  describePoint,
  loadEvaluator,
  StudyEvaluationError,
  type EvaluatorModule,
  type PointEvaluator,
} from './evaluator';
import { expandGrid, pointConfigOf, pointSeed, type PointConfig, type StudyConfig, type StudyPoint } from './grid';
import {
  describeIdentityChange,
  firstJsonDifference,
  genericPointIdentifier,
  studyFingerprint,
  type PointIdentifier,
  type PointIdentity,
} from './pointIdentity';
import { buildResultRecord, serializeRecord, type PointResult, type ResultRecord } from './resultRecord';
import { openResultsFile, scanResultsFile, writeFileAtomic } from './resultsFile';
import { selectShard, WHOLE_GRID, type Shard } from './shard';
import { evaluateOnWorkers, type SeededPoint, type StudyWorkerPool } from './workerPool';

/** Progress of a study, reported through {@link RunStudyOptions.onProgress}. */
export interface StudyProgress {
  /** `start` once before evaluating, `point` after each point is written, `done` at the end. */
  readonly kind: 'start' | 'point' | 'done';
  /** Points in this shard. */
  readonly total: number;
  /** Points of this shard the results file already held. */
  readonly skipped: number;
  /** Points evaluated and written by this run so far. */
  readonly computed: number;
  /** The point just written (`kind === 'point'`). */
  readonly point?: StudyPoint;
  /** Milliseconds since evaluation started (for an ETA; never written to results). */
  readonly elapsedMs: number;
}

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** JSON-lines results file; created if absent, resumed if present. */
  readonly resultsPath: string;
  /** Slice of the grid to run; the whole grid by default. */
  readonly shard?: Shard;
  /**
   * Worker threads: 1 (default) evaluates in this thread; `n > 1` starts a pool of
   * n; `'auto'` one per core. More than one needs the evaluator as an
   * {@link EvaluatorModule}.
   */
  readonly workers?: number | 'auto';
  /**
   * Worker threads shared with other studies run at the same time (`npm start`'s
   * two grids); replaces `workers`. The caller terminates it.
   */
  readonly pool?: StudyWorkerPool;
  readonly onProgress?: (progress: StudyProgress) => void;
  /**
   * What each point is computed from, by content (model hash, hardware, data):
   * written into every record and compared with the stored records on resume.
   * Default: the chip evaluator's identity ({@link chipPointIdentifier}) for the
   * chip evaluator module, else {@link genericPointIdentifier}.
   */
  readonly identify?: PointIdentifier;
}

/** What a run did. */
export interface RunStudyReport {
  readonly resultsPath: string;
  /** Points in this shard. */
  readonly total: number;
  readonly skipped: number;
  readonly computed: number;
  /** A torn last line from an interrupted run that was cut off (its point was recomputed), or `null`. */
  readonly discardedTail: string | null;
  /**
   * Stored points of an earlier, smaller version of this study's grid (every one
   * also in this grid, with the same identity) whose study hash was updated to
   * this study's.
   */
  readonly restamped: number;
}

/** Worker threads for `workers` (`'auto'`: one per core; absent: 1). */
export function resolveWorkers(workers: number | 'auto' | undefined): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return Math.max(1, availableParallelism());
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new ConfigError('workers', workers, "a positive integer or 'auto'");
  }
  return workers;
}

const RERUN = 'rerun without --resume (into a new or empty folder) or use a new --out';

/** The identifier a run uses: the option, else the chip evaluator's for the chip evaluator module, else the generic one. */
function identifierFor(evaluate: PointEvaluator | EvaluatorModule, identify: PointIdentifier | undefined): PointIdentifier {
  if (identify !== undefined) return identify;
  if (typeof evaluate !== 'function' && path.resolve(evaluate.modulePath) === chipEvaluatorPath()) {
    const options = (evaluate.options ?? {}) as { dataDir?: unknown };
    return chipPointIdentifier({ dataDir: typeof options.dataDir === 'string' ? options.dataDir : undefined });
  }
  return genericPointIdentifier();
}

/**
 * For a stored point the grid lacks: what changed, when the grid has the same
 * experiment (model, device, noise, σ, semantics, votes) with other settings, e.g.
 * `dataset.limit changed (10 → 20)` or, for an edited chip file,
 * `hardware changed (chip.tile.rows: 256 → 128)`; else `null`.
 */
function changeFromNearest(stored: PointConfig, points: readonly StudyPoint[]): string | null {
  const same = points.find(
    (p) =>
      p.model === stored.model && p.device === stored.device && p.noise === stored.noise && p.sigma === stored.sigma &&
      p.semantics === stored.semantics && p.votes === stored.votes,
  );
  if (same === undefined) return null;
  const a = pointConfigOf(stored) as unknown as Record<string, unknown>;
  const b = pointConfigOf(same) as unknown as Record<string, unknown>;
  for (const field of ['hardware', 'dataset', 'seeds', 'axes']) {
    const d = firstJsonDifference(a[field], b[field]);
    if (d !== null) return `${field} changed (${d.includes(': ') ? `${field}.${d}` : d})`;
  }
  return null;
}

/** What resuming a results file needs: the points still to run, and stored records to restamp. */
interface ResumePlan {
  readonly todo: SeededPoint[];
  /** Stored records (all of them, in file order) with this study's hash, when some had another; else `null`. */
  readonly restamped: ResultRecord[] | null;
  readonly restampCount: number;
  /** The file's torn last line (an interrupted write), or `null`. */
  readonly tornTail: string | null;
}

/**
 * The points of `points` the results file does not hold yet, with their seeds.
 * Reads the file without changing it, so a mismatch is reported before any work:
 * every stored record must be a point of this shard of this grid, with the root
 * seed, the seed and the identity (model hash, hardware, data) it would get now.
 */
function planResume(
  points: readonly StudyPoint[],
  rootSeed: number,
  resultsPath: string,
  identityOf: (point: StudyPoint) => PointIdentity,
  shard: Shard,
): ResumePlan {
  const scan = existsSync(resultsPath) ? scanResultsFile(resultsPath) : null;
  const stored = scan?.records ?? [];
  const byId = new Map(points.map((p) => [p.id, p]));
  const done = new Map<string, ResultRecord>();
  let restampCount = 0;
  stored.forEach((record, i) => {
    const where = `${resultsPath}:${i + 1}`;
    const describe = `point ${record.pointId} (model ${record.point.model})`;
    if (record.identity === undefined) {
      throw new DataError(
        where,
        `${describe} was written by an older ohmic (results format 1), without the identity of its model, hardware and data, ` +
          `so it cannot be checked against this study; ${RERUN}`,
      );
    }
    if (record.rootSeed !== rootSeed) {
      throw new ConfigError(
        'rootSeed',
        rootSeed,
        `the root seed ${resultsPath} was written with (${record.rootSeed}); use another results file`,
      );
    }
    const point = byId.get(record.pointId);
    if (point === undefined) {
      const grid = shard.count > 1 ? `shard ${shard.index + 1}/${shard.count} of this study's grid` : "this study's grid";
      const near = changeFromNearest(record.point, points);
      throw new DataError(
        where,
        `${describe}: ${describePoint({ ...record.point, id: record.pointId, index: -1 })} is not in ${grid} ` +
          `(${near === null ? 'the file holds results of another grid' : `its ${near}`}; resuming would mix two grids in one report); ${RERUN}`,
      );
    }
    const seed = pointSeed(point, rootSeed);
    if (record.seed !== seed) {
      throw new DataError(
        resultsPath,
        `point ${point.id} has seed ${record.seed}, but its seed from rootSeed ${rootSeed} is ${seed} ` +
          '(written by a version that derived seeds differently); use another results file',
      );
    }
    const now = identityOf(point);
    const change = describeIdentityChange(record.identity, now, { checkStudy: false });
    if (change !== null) throw new DataError(where, `${describe}: ${change}; ${RERUN}`);
    if (record.identity.study !== now.study) restampCount++;
    done.set(record.pointId, record);
  });
  const todo: SeededPoint[] = [];
  for (const point of points) if (!done.has(point.id)) todo.push({ point, seed: pointSeed(point, rootSeed) });
  // Every stored point is one of this grid's, computed from the same content: only
  // the grid around it grew. Its record is the one this study writes for it.
  const restamped =
    restampCount === 0
      ? null
      : stored.map((r) => ({ ...r, identity: { ...r.identity!, study: identityOf(byId.get(r.pointId)!).study } }));
  return { todo, restamped, restampCount, tornTail: scan?.tornTail ?? null };
}

/**
 * Runs the points of `config` (this shard's) that `options.resultsPath` does not
 * hold yet. Each point is evaluated from `Rng.fromSeed(pointSeed(point, rootSeed))`,
 * so the bits do not depend on shard, worker count or resumption. Lines are
 * appended in completion order; {@link mergeResultFiles} or
 * {@link normaliseResultsFile} put them in grid order.
 *
 * @param evaluate a {@link PointEvaluator} (one thread only) or an
 *   {@link EvaluatorModule} that each worker loads.
 * @throws ConfigError before any work for bad options, an evaluator function with
 *   `workers > 1`, or a results file written with another `rootSeed`;
 *   StudyEvaluationError when a point fails (points finished before it are kept).
 */
export async function runStudy(
  config: StudyConfig,
  evaluate: PointEvaluator | EvaluatorModule,
  options: RunStudyOptions,
): Promise<RunStudyReport> {
  if (typeof options.resultsPath !== 'string' || options.resultsPath === '') {
    throw new ConfigError('resultsPath', options.resultsPath, 'a file path');
  }
  const workers = resolveWorkers(options.workers);
  if (workers > 1 && typeof evaluate === 'function') {
    throw new ConfigError(
      'workers',
      options.workers,
      '1 when the evaluator is a function; give {modulePath, exportName} to run on worker threads',
    );
  }
  const shard = options.shard ?? WHOLE_GRID;
  const points = selectShard(expandGrid(config), shard);
  const identify = identifierFor(evaluate, options.identify);
  const study = studyFingerprint(config);
  // Computed for every point before any work, so a missing model file or dataset is named before the first point.
  const identities = new Map(points.map((p) => [p.id, { study, ...identify(p), generator: NOISE_GENERATOR } as PointIdentity]));
  const identityOf = (p: StudyPoint): PointIdentity => identities.get(p.id)!;
  const plan = planResume(points, config.rootSeed, options.resultsPath, identityOf, shard);
  const todo = plan.todo;
  if (plan.restamped !== null) {
    // Rewritten from its complete lines: a torn last line is dropped here rather than by openResultsFile.
    writeFileAtomic(options.resultsPath, plan.restamped.map((r) => `${serializeRecord(r)}\n`).join(''));
  }
  const writer = openResultsFile(options.resultsPath);
  try {
    const skipped = points.length - todo.length;
    let computed = 0;
    const start = performance.now();
    const progress = (kind: StudyProgress['kind'], point?: StudyPoint): void =>
      options.onProgress?.({
        kind,
        total: points.length,
        skipped,
        computed,
        point,
        elapsedMs: performance.now() - start,
      });
    const write = (point: StudyPoint, seed: number, result: unknown): void => {
      writer.append(buildResultRecord(point, seed, config.rootSeed, result as PointResult, identityOf(point)));
      computed++;
      progress('point', point);
    };

    progress('start');
    if (options.pool || workers > 1) {
      const seeds = new Map(todo.map((t) => [t.point.id, t.seed]));
      const onResult = (point: StudyPoint, result: unknown) => write(point, seeds.get(point.id)!, result);
      if (options.pool) await options.pool.run(todo, onResult);
      else await evaluateOnWorkers(todo, evaluate as EvaluatorModule, workers, onResult);
    } else {
      const fn = typeof evaluate === 'function' ? evaluate : await loadEvaluator(evaluate);
      for (const { point, seed } of todo) {
        let result: PointResult;
        try {
          result = await fn(point, Rng.fromSeed(seed));
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          throw StudyEvaluationError.forPoint(point, e, err);
        }
        write(point, seed, result);
      }
    }
    progress('done');
    return {
      resultsPath: options.resultsPath,
      total: points.length,
      skipped,
      computed,
      discardedTail: writer.discardedTail ?? (plan.restamped !== null ? plan.tornTail : null),
      restamped: plan.restampCount,
    };
  } finally {
    writer.close();
  }
}
