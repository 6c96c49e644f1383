/**
 * How a study evaluates one point, and how an evaluator reaches a worker thread.
 *
 * Functions cannot cross threads, so for a worker pool the evaluator is named by
 * module path and export: each worker loads the module and calls the export, a
 * {@link EvaluatorFactory}, once with `options`; the factory does the per-worker
 * setup (backend, model loading) and returns the {@link PointEvaluator} used for
 * every point that worker runs.
 */
import * as path from 'node:path';
import { ConfigError, OhmicError } from '../errors';
import type { Rng } from '../rng';
import type { StudyPoint } from './grid';
import type { PointResult } from './resultRecord';

/**
 * Evaluates one point. All randomness must come from `rng`, which is
 * `Rng.fromSeed(pointSeed(point, rootSeed))`; use `replicateRng(rng, s)` for each
 * replicate seed `s` of `point.seeds`.
 */
export type PointEvaluator = (point: StudyPoint, rng: Rng) => Promise<PointResult>;

/** Called once per worker (or once in-process) to set up and return the evaluator. */
export type EvaluatorFactory<Options = unknown> = (options: Options) => PointEvaluator | Promise<PointEvaluator>;

/** An evaluator named so that a worker thread can load it. */
export interface EvaluatorModule {
  /**
   * Path of a module loadable with `require` (`.js`, `.cjs`, or `.ts` where the
   * `tsx` package is installed), resolved against the current directory.
   */
  readonly modulePath: string;
  /** Name of the module's export that is an {@link EvaluatorFactory}. */
  readonly exportName: string;
  /** Passed to the factory; must survive structured cloning (plain data). */
  readonly options?: unknown;
}

/** Whether loading `file` needs a TypeScript loader. */
export function isTypeScriptFile(file: string): boolean {
  return /\.(c|m)?tsx?$/.test(file);
}

/** Loads the factory named by `ref` in this thread and calls it. */
export async function loadEvaluator(ref: EvaluatorModule): Promise<PointEvaluator> {
  const file = path.resolve(ref.modulePath);
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('evaluator.modulePath', ref.modulePath, `a loadable module (${(err as Error).message})`);
  }
  const factory = mod[ref.exportName];
  if (typeof factory !== 'function') {
    throw new ConfigError(
      'evaluator.exportName',
      ref.exportName,
      `an exported function of ${file}; its exports: ${Object.keys(mod).join(', ') || '(none)'}`,
    );
  }
  const evaluate: unknown = await (factory as EvaluatorFactory)(ref.options);
  if (typeof evaluate !== 'function') {
    throw new ConfigError('evaluator.exportName', ref.exportName, 'a factory that returns a point evaluator function');
  }
  return evaluate as PointEvaluator;
}

/**
 * A point's evaluation failed, in this thread or in a worker; or a worker could
 * not load its evaluator (`pointId` null). The original error is the `cause`
 * (in a worker: its name, message and stack, which is what survives the thread).
 */
export class StudyEvaluationError extends OhmicError {
  constructor(
    readonly pointId: string | null,
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }

  /** The error for `point` failing with `err` (`name: message` of the original). */
  static forPoint(point: StudyPoint, err: { name: string; message: string }, cause: unknown): StudyEvaluationError {
    return new StudyEvaluationError(
      point.id,
      `point ${point.id} (${describePoint(point)}) failed: ${err.name}: ${err.message}`,
      cause,
    );
  }
}

/** `model=cnn6 device=reram noise=device sigma=0.2 semantics=passes votes=5`, then any axis values (`adc.bits=6`). */
export function describePoint(point: StudyPoint): string {
  const axes = Object.entries(point.axes ?? {}).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('');
  return (
    `model=${point.model} device=${point.device} noise=${point.noise} sigma=${point.sigma} ` +
    `semantics=${point.semantics} votes=${point.votes}${axes}`
  );
}
