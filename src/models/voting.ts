/**
 * Voting over V noisy runs of one classifier (the paper's Sec. 3.3): the decision is
 * the mode of the V predicted labels. A vote is only as good as the independence of
 * its runs, so the three ways of getting V runs from hardware are named here
 * ({@link VotingSemantics}) together with the random streams each one uses
 * ({@link voteSeeds}).
 */
import { ConfigError, DataError, ShapeError } from '../errors';
import type { Rng } from '../rng';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

/**
 * Where the V runs of a vote come from. They are different chips, so they are
 * different options, never a flag:
 *
 * - `'passes'`: V noisy runs on **one programmed chip**. The programming draw
 *   (conductance errors, stuck cells, drift) is made once and shared by every run;
 *   read and sensing noise are fresh per run. Votes cannot average away a bad
 *   programming draw, only the per-read noise.
 * - `'replicas'`: V **independently programmed copies** of the network (V× the
 *   tiles, run in parallel or one after another). Every source of noise is
 *   independent between votes.
 * - `'signal'`: the paper's model (Eq. 2 and 3): fresh noise after every MVM in
 *   every run and nothing static. There is no programming draw at all.
 */
export type VotingSemantics = 'passes' | 'replicas' | 'signal';

/** Every {@link VotingSemantics}, in the order used by grids and tables. */
export const VOTING_SEMANTICS: readonly VotingSemantics[] = ['passes', 'replicas', 'signal'];

/** The random streams of one vote. */
export interface VoteStreams {
  /** Stream to program the chip from, or `null` for `'signal'` (nothing is programmed). */
  readonly program: Rng | null;
  /** Stream for the run's dynamic noise (read, sensing, signal-level). */
  readonly run: Rng;
}

function checkVotes(votes: number, field: string): void {
  if (!Number.isSafeInteger(votes) || votes < 1) {
    throw new ConfigError(field, votes, 'a positive integer');
  }
}

/**
 * The random streams for each of V votes, derived from `root` by label only
 * (`program`, `run`, vote index), never by call order:
 *
 * - `'passes'`: `program = root/program` for every vote (one chip), `run = root/run/v`;
 * - `'replicas'`: `program = root/program/v`, `run = root/run/v`;
 * - `'signal'`: `program = null`, `run = root/run/v`.
 *
 * Each vote gets its own `Rng` object even when the key is shared, so drawing from
 * one vote's stream never moves another's. Vote v's streams do not depend on V,
 * so the runs of V votes are the first V runs of V + 1 votes.
 *
 * @example
 * const votes = voteSeeds(Rng.fromSeed(7), 'passes', 5);
 * votes[0].program!.keyHex === votes[4].program!.keyHex; // true: one programmed chip
 */
export function voteSeeds(root: Rng, semantics: VotingSemantics, votes: number): VoteStreams[] {
  checkVotes(votes, 'votes');
  const out: VoteStreams[] = [];
  for (let v = 0; v < votes; v++) {
    const run = root.fold('run').fold(v);
    switch (semantics) {
      case 'passes':
        out.push({ program: root.fold('program'), run });
        break;
      case 'replicas':
        out.push({ program: root.fold('program').fold(v), run });
        break;
      case 'signal':
        out.push({ program: null, run });
        break;
      default: {
        const never: never = semantics;
        throw new ConfigError('semantics', never, `one of ${VOTING_SEMANTICS.join(', ')}`);
      }
    }
  }
  return out;
}

/**
 * Logits of V runs: either one `Float32Array` per run, each laid out
 * `[batch, classes]`, or one buffer laid out `[V, batch, classes]`.
 */
export type LogitsRuns = readonly Float32Array[] | Float32Array;

/** The per-run layout of a {@link LogitsRuns}. */
export interface LogitsShape {
  readonly batch: number;
  readonly classes: number;
}

function checkShape(shape: LogitsShape): void {
  if (!Number.isSafeInteger(shape.batch) || shape.batch < 1) {
    throw new ConfigError('batch', shape.batch, 'a positive integer');
  }
  if (!Number.isSafeInteger(shape.classes) || shape.classes < 1) {
    throw new ConfigError('classes', shape.classes, 'a positive integer');
  }
}

/** Splits `runs` into per-run views of `batch * classes` values, checking sizes. */
function runViews(runs: LogitsRuns, shape: LogitsShape): Float32Array[] {
  checkShape(shape);
  const size = shape.batch * shape.classes;
  if (runs instanceof Float32Array) {
    if (runs.length === 0 || runs.length % size !== 0) {
      throw new ShapeError(
        `logits buffer of length ${runs.length} is not [V, ${shape.batch}, ${shape.classes}] for any V >= 1`,
      );
    }
    const views: Float32Array[] = [];
    for (let off = 0; off < runs.length; off += size) views.push(runs.subarray(off, off + size));
    return views;
  }
  if (runs.length === 0) throw new ShapeError('logits runs: expected at least one run, got 0');
  runs.forEach((run, v) => {
    if (run.length !== size) {
      throw new ShapeError(
        `logits run ${v} has length ${run.length}; ` +
          `expected batch * classes = ${shape.batch} * ${shape.classes} = ${size}`,
      );
    }
  });
  return [...runs];
}

/**
 * Running tally of votes: label counts and summed softmax probabilities per sample.
 * Adding runs one at a time lets {@link accuracyVsVotes} decide after every V
 * without recounting.
 */
class VoteTally {
  readonly counts: Int32Array;
  readonly probSums: Float64Array;
  private runsAdded = 0;

  constructor(
    readonly batch: number,
    readonly classes: number,
  ) {
    this.counts = new Int32Array(batch * classes);
    this.probSums = new Float64Array(batch * classes);
  }

  add(run: Float32Array): void {
    const { batch, classes, counts, probSums } = this;
    const v = this.runsAdded;
    for (let b = 0; b < batch; b++) {
      const base = b * classes;
      // Within one run the prediction is the first maximal logit.
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        const x = run[base + c];
        if (!Number.isFinite(x)) {
          throw new DataError('logits', `run ${v}, sample ${b}, class ${c} is ${x}; expected a finite number`);
        }
        if (x > max) {
          max = x;
          best = c;
        }
      }
      counts[base + best]++;
      let z = 0;
      for (let c = 0; c < classes; c++) z += math.exp(run[base + c] - max);
      for (let c = 0; c < classes; c++) probSums[base + c] += math.exp(run[base + c] - max) / z;
    }
    this.runsAdded++;
  }

  /** Mode per sample; ties by the larger summed softmax, then the lower label. */
  decide(out: Int32Array): Int32Array {
    const { batch, classes, counts, probSums } = this;
    for (let b = 0; b < batch; b++) {
      const base = b * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) {
        const dc = counts[base + c] - counts[base + best];
        if (dc > 0 || (dc === 0 && probSums[base + c] > probSums[base + best])) best = c;
      }
      out[b] = best;
    }
    return out;
  }
}

/**
 * The decision of V votes for every sample of a batch.
 *
 * Each run predicts the arg-max of its logits (the lowest class on an exact tie
 * within a run). The decision is the most frequent prediction over the V runs
 * (the mode). When several labels share the top count, the one with the largest
 * softmax probability summed over the V runs wins, so a tie goes to the label the
 * runs were collectively more confident in; if those sums are exactly equal too,
 * the lowest label wins.
 *
 * @param runs V runs of logits, see {@link LogitsRuns}.
 * @param shape batch size and number of classes of one run.
 * @returns the decided label per sample.
 * @throws ShapeError when a run is not `batch * classes` long; DataError on a
 *   non-finite logit.
 *
 * @example
 * // two samples, three classes, three runs
 * voteDecision([run0, run1, run2], { batch: 2, classes: 3 }); // Int32Array [label0, label1]
 */
export function voteDecision(runs: LogitsRuns, shape: LogitsShape): Int32Array {
  const views = runViews(runs, shape);
  const tally = new VoteTally(shape.batch, shape.classes);
  for (const run of views) tally.add(run);
  return tally.decide(new Int32Array(shape.batch));
}

/**
 * Accuracy of the V-vote decision for V = 1 … `maxVotes`, where V votes use the
 * first V runs (the shape of the paper's Fig. 11). Entry `V - 1` of the result is
 * the accuracy of V votes; `accuracyVsVotes(runs, labels, V, c)[V - 1]` equals the
 * accuracy of `voteDecision` over the first V runs.
 *
 * @param labels true label per sample; its length is the batch size.
 * @param maxVotes at most the number of runs given.
 * @param classes number of classes of one run.
 */
export function accuracyVsVotes(
  runs: LogitsRuns,
  labels: ArrayLike<number>,
  maxVotes: number,
  classes: number,
): Float64Array {
  const batch = labels.length;
  const views = runViews(runs, { batch, classes });
  checkVotes(maxVotes, 'maxVotes');
  if (maxVotes > views.length) {
    throw new ConfigError('maxVotes', maxVotes, `at most the number of runs given (${views.length})`);
  }
  for (let b = 0; b < batch; b++) {
    const y = labels[b];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ConfigError(`labels[${b}]`, y, `an integer in 0..${classes - 1}`);
    }
  }
  const tally = new VoteTally(batch, classes);
  const decided = new Int32Array(batch);
  const accuracy = new Float64Array(maxVotes);
  for (let v = 0; v < maxVotes; v++) {
    tally.add(views[v]);
    tally.decide(decided);
    let correct = 0;
    for (let b = 0; b < batch; b++) if (decided[b] === labels[b]) correct++;
    accuracy[v] = correct / batch;
  }
  return accuracy;
}
