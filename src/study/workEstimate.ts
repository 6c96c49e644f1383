/**
 * How much work a study is, from its lists alone (before the grid is expanded),
 * so that a 10^6-point grid or `votes = 1e9` is refused by name before it starts
 * days of computation instead of starting silently.
 *
 * The unit is one *inference*: one example through one model once. A point costs
 * `Σ over its seeds of votes × examples` inferences (each vote is one noisy run);
 * the study costs the sum over its points.
 */
import { ConfigError } from '../errors';
import { deviceVariantCounts, type StudyConfig } from './grid';

/** Examples assumed for a dataset without `limit`, by name (the test sets' sizes). */
export const DATASET_EXAMPLES: Readonly<Record<string, number>> = {
  mnist: 10_000,
  'mnist-strokes': 10_000,
  'cifar10-heldout': 500,
};
/** Examples assumed for a dataset without `limit` whose size is not known here. */
export const UNKNOWN_DATASET_EXAMPLES = 10_000;

/** Most grid points a study may have without `allowLarge`. */
export const MAX_STUDY_POINTS = 100_000;
/**
 * Most inferences a study may take without `allowLarge`: 10^9, about 70× the
 * largest of the paper's studies (`studies/*.json`, full test sets) and days of
 * compute on one machine.
 */
export const MAX_STUDY_INFERENCES = 1e9;

/** What {@link estimateStudyWork} found. */
export interface StudyWork {
  /** Points of the grid: the product of the list lengths. */
  readonly points: number;
  /** Examples each point evaluates (`dataset.limit`, else the dataset's assumed size). */
  readonly examples: number;
  /** Inferences of the whole grid (every shard together). */
  readonly inferences: number;
  /** Inferences of the most expensive point. */
  readonly largestPointInferences: number;
}

/** The work of `config`'s grid, computed from its list lengths (no expansion). */
export function estimateStudyWork(config: StudyConfig): StudyWork {
  const examples = config.dataset.limit ?? DATASET_EXAMPLES[config.dataset.name] ?? UNKNOWN_DATASET_EXAMPLES;
  // Devices count once per hardware variant (axis combination, noise site).
  const devices = deviceVariantCounts(config).reduce((a, n) => a + n, 0);
  const cells = config.models.length * devices * config.noise.length * config.sigmas.length * config.semantics.length;
  const votesSum = config.votes.reduce((a, v) => a + v, 0);
  const votesMax = config.votes.reduce((a, v) => Math.max(a, v), 0);
  const seeds = config.seeds.length;
  return {
    points: cells * config.votes.length,
    examples,
    inferences: cells * votesSum * seeds * examples,
    largestPointInferences: votesMax * seeds * examples,
  };
}

function sci(x: number): string {
  return x < 1e6 ? String(x) : Number(x.toPrecision(3)).toExponential().replace('e+', 'e');
}

/**
 * Refuses a study above {@link MAX_STUDY_POINTS} points, or above
 * {@link MAX_STUDY_INFERENCES} inferences in one point or in one shard's share of
 * the grid, unless `allowLarge`. `overrideHint` says how the caller lifts the
 * bound (e.g. `pass --allow-large`).
 *
 * @throws ConfigError naming `votes` (one point alone is too large) or `grid`.
 */
export function checkStudyWork(
  config: StudyConfig,
  options: { readonly allowLarge?: boolean; readonly shardCount?: number; readonly overrideHint?: string } = {},
): StudyWork {
  const work = estimateStudyWork(config);
  const allowLarge = options.allowLarge === true;
  const overrideHint = options.overrideHint ?? 'pass allowLarge';
  const shards = options.shardCount ?? 1;
  if (allowLarge) return work;
  const dataset = `${work.examples} examples${config.dataset.limit === null ? ` (all of ${config.dataset.name}, assumed)` : ''}`;
  if (work.largestPointInferences > MAX_STUDY_INFERENCES) {
    const votes = config.votes.reduce((a, v) => Math.max(a, v), 0);
    throw new ConfigError(
      'votes',
      votes,
      `a vote count whose point stays within ${sci(MAX_STUDY_INFERENCES)} inferences ` +
        `(${votes} votes × ${config.seeds.length} seed(s) × ${dataset} = ${sci(work.largestPointInferences)}); ` +
        `lower it or dataset.limit, or ${overrideHint}`,
    );
  }
  if (work.points > MAX_STUDY_POINTS) {
    throw new ConfigError(
      'grid',
      `${work.points} points`,
      `at most ${MAX_STUDY_POINTS} points (models × devices (with their axis combinations) × noise × sigmas × semantics × votes = ` +
        `${config.models.length} × ${deviceVariantCounts(config).reduce((a, n) => a + n, 0)} × ${config.noise.length} × ${config.sigmas.length} × ` +
        `${config.semantics.length} × ${config.votes.length}); split it into several studies, or ${overrideHint}`,
    );
  }
  // Shards run on separate machines: the bound is on one shard's share.
  if (work.inferences / shards > MAX_STUDY_INFERENCES) {
    throw new ConfigError(
      'grid',
      `${sci(work.inferences)} inferences${shards > 1 ? ` (${sci(Math.ceil(work.inferences / shards))} per shard)` : ''}`,
      `at most ${sci(MAX_STUDY_INFERENCES)} inferences per run (${work.points} points, Σ votes ${config.votes.reduce((a, v) => a + v, 0)} ` +
        `per cell, ${config.seeds.length} seed(s), ${dataset}); lower votes or dataset.limit, ` +
        `run it in more shards (--shard i/n), or ${overrideHint}`,
    );
  }
  return work;
}
