/**
 * Runs a study: expands the grid, keeps this shard's points, skips those the
 * results file already holds, evaluates the rest (in this thread or on a worker
 * pool) and appends each result durably as it finishes. Killing it at any moment
 * loses at most the points in flight; running it again recomputes nothing finished.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ConfigError, DataError } from '../errors';
import { Rng } from '../rng';
import {
  loadEvaluator,
  StudyEvaluationError,
  type EvaluatorModule,
  type PointEvaluator,
} from './evaluator';
import { expandGrid, pointSeed, type StudyConfig, type StudyPoint } from './grid';
import { buildResultRecord, type PointResult } from './resultRecord';
import { openResultsFile, scanResultsFile } from './resultsFile';
import { selectShard, WHOLE_GRID, type Shard } from './shard';
import { evaluateOnWorkers, type SeededPoint } from './workerPool';

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
  readonly onProgress?: (progress: StudyProgress) => void;
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
}

function resolveWorkers(workers: number | 'auto' | undefined): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return Math.max(1, availableParallelism());
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new ConfigError('workers', workers, "a positive integer or 'auto'");
  }
  return workers;
}

/**
 * The points of `points` the results file does not hold yet, with their seeds.
 * Reads the file without changing it, so a mismatch is reported before any work.
 */
function pointsToRun(points: readonly StudyPoint[], rootSeed: number, resultsPath: string): SeededPoint[] {
  const done = new Map(existsSync(resultsPath) ? scanResultsFile(resultsPath).records.map((r) => [r.pointId, r]) : []);
  const todo: SeededPoint[] = [];
  for (const point of points) {
    const seed = pointSeed(point, rootSeed);
    const record = done.get(point.id);
    if (record === undefined) {
      todo.push({ point, seed });
    } else if (record.rootSeed !== rootSeed) {
      throw new ConfigError(
        'rootSeed',
        rootSeed,
        `the root seed ${resultsPath} was written with (${record.rootSeed}); use another results file`,
      );
    } else if (record.seed !== seed) {
      throw new DataError(
        resultsPath,
        `point ${point.id} has seed ${record.seed}, but its seed from rootSeed ${rootSeed} is ${seed} ` +
          '(written by a version that derived seeds differently); use another results file',
      );
    }
  }
  return todo;
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
  const points = selectShard(expandGrid(config), options.shard ?? WHOLE_GRID);
  const todo = pointsToRun(points, config.rootSeed, options.resultsPath);
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
      writer.append(buildResultRecord(point, seed, config.rootSeed, result as PointResult));
      computed++;
      progress('point', point);
    };

    progress('start');
    if (workers > 1) {
      const seeds = new Map(todo.map((t) => [t.point.id, t.seed]));
      await evaluateOnWorkers(todo, evaluate as EvaluatorModule, workers, (point, result) =>
        write(point, seeds.get(point.id)!, result),
      );
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
      discardedTail: writer.discardedTail,
    };
  } finally {
    writer.close();
  }
}
