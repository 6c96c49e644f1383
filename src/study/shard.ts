/**
 * Deterministic slices of a study grid, for running one study on many machines.
 *
 * A shard is written `i/n` with **1-based** `i` (`1/4` … `4/4`), as jest's
 * `--shard` and most humans count. Point k of the grid (0-based grid index) belongs
 * to shard `(k mod n) + 1`: round-robin rather than contiguous blocks, because the
 * grid's inner axes (votes, σ) change the cost of a point and round-robin spreads
 * expensive points evenly. Every point belongs to exactly one shard, and a point's
 * seed does not depend on its shard, so merged shards equal one unsharded run.
 */
import { ConfigError } from '../errors';

/** One slice of a grid: shard `index + 1` of `count` (`index` is 0-based). */
export interface Shard {
  /** 0-based shard index, in `0 .. count - 1`. */
  readonly index: number;
  readonly count: number;
}

/** The whole grid as one shard. */
export const WHOLE_GRID: Shard = { index: 0, count: 1 };

function parseCount(text: string | undefined, field: string): number {
  if (text === undefined || !/^\d+$/.test(text.trim())) {
    throw new ConfigError(field, text, 'a positive integer');
  }
  const count = Number(text.trim());
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(field, text, 'a positive integer');
  return count;
}

/**
 * Parses `--shard i/n` (1-based `i`, `1 <= i <= n`).
 *
 * @throws ConfigError for anything else, e.g. `3/2`, `0/0`, `0/4`, `a/b`, `1/`.
 * @example parseShard('2/4') // { index: 1, count: 4 }
 */
export function parseShard(spec: string, field = 'shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  const expected = 'i/n with integers 1 <= i <= n (1-based), e.g. 1/4';
  if (!m) throw new ConfigError(field, spec, expected);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(i) || i < 1 || i > n) {
    throw new ConfigError(field, spec, expected);
  }
  return { index: i - 1, count: n };
}

/** `shard` written as `--shard` takes it (1-based), e.g. `2/4`. */
export function formatShard(shard: Shard): string {
  return `${shard.index + 1}/${shard.count}`;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The shard a batch scheduler assigned to this process, read from `env` (the CLI
 * passes `process.env`; nothing here reads it directly):
 *
 * - **Slurm job array**: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`. Task ids
 *   need not start at 0: the index is `(ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP`
 *   (defaults 0 and 1), so `--array=1-8` and `--array=0-14:2` both work.
 * - **Kubernetes Indexed Job**: `JOB_COMPLETION_INDEX` (0-based). Kubernetes does not
 *   put the number of completions in the environment, so `count` must be given
 *   (the Job's `completions`); the Slurm count may be overridden by it too.
 *
 * @returns the shard, or `null` when neither scheduler's variables are set.
 * @throws ConfigError when both are set, a variable is not an integer, the count
 *   is missing, or the index falls outside the count.
 */
export function shardFromEnv(env: Env, count?: number): Shard | null {
  const slurmId = env.SLURM_ARRAY_TASK_ID;
  const k8sIndex = env.JOB_COMPLETION_INDEX;
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) {
    throw new ConfigError('shard count', count, 'a positive integer');
  }
  if (slurmId !== undefined && k8sIndex !== undefined) {
    throw new ConfigError(
      'JOB_COMPLETION_INDEX',
      k8sIndex,
      `unset when SLURM_ARRAY_TASK_ID (${slurmId}) is set: one scheduler assigns the shard`,
    );
  }
  if (slurmId !== undefined) {
    const id = parseIndex(slurmId, 'SLURM_ARRAY_TASK_ID');
    const minText = env.SLURM_ARRAY_TASK_MIN;
    const min = minText === undefined ? 0 : parseIndex(minText, 'SLURM_ARRAY_TASK_MIN');
    const step =
      env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : parseCount(env.SLURM_ARRAY_TASK_STEP, 'SLURM_ARRAY_TASK_STEP');
    const n = count ?? parseCount(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT');
    if (id < min || (id - min) % step !== 0) {
      throw new ConfigError(
        'SLURM_ARRAY_TASK_ID',
        slurmId,
        `SLURM_ARRAY_TASK_MIN (${min}) + k * SLURM_ARRAY_TASK_STEP (${step}) for k >= 0`,
      );
    }
    return checkedShard((id - min) / step, n, 'SLURM_ARRAY_TASK_ID', slurmId);
  }
  if (k8sIndex !== undefined) {
    const index = parseIndex(k8sIndex, 'JOB_COMPLETION_INDEX');
    if (count === undefined) {
      throw new ConfigError(
        'shard count',
        count,
        "the Indexed Job's completions, given explicitly with JOB_COMPLETION_INDEX",
      );
    }
    return checkedShard(index, count, 'JOB_COMPLETION_INDEX', k8sIndex);
  }
  return null;
}

function parseIndex(text: string, field: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(field, text, 'a non-negative integer');
  return Number(text.trim());
}

function checkedShard(index: number, count: number, field: string, raw: string): Shard {
  if (index >= count) {
    throw new ConfigError(field, raw, `a task index below the shard count (${count})`);
  }
  return { index, count };
}

/**
 * The shard to run: an explicit `--shard i/n` wins over the scheduler's
 * environment (so a job can be re-run by hand); otherwise {@link shardFromEnv};
 * otherwise the whole grid.
 */
export function resolveShard(options: { shard?: string; env: Env; count?: number }): Shard {
  if (options.shard !== undefined) return parseShard(options.shard);
  return shardFromEnv(options.env, options.count) ?? WHOLE_GRID;
}

/**
 * The points of `shard`, in grid order: those whose grid position k has
 * `k mod count === index`. Items carry their position as `index` (as
 * {@link StudyPoint} does) so a pre-filtered list still shards by grid position.
 */
export function selectShard<T extends { readonly index: number }>(points: readonly T[], shard: Shard): T[] {
  if (!Number.isSafeInteger(shard.count) || shard.count < 1) {
    throw new ConfigError('shard.count', shard.count, 'a positive integer');
  }
  if (!Number.isSafeInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new ConfigError('shard.index', shard.index, `an integer in 0..${shard.count - 1} (0-based)`);
  }
  return points.filter((p) => p.index % shard.count === shard.index);
}
