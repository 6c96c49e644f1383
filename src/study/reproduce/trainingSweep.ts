/**
 * The training-budget sweep: the CNN-6 (multiplicative) trained from scratch for
 * increasing epoch counts, at σ_train = 0 and at noise-injected σ_train values, to
 * measure how the noisy-inference accuracy of each σ moves with training. Each
 * σ_train is one chain of `ohmic train` runs sharing a checkpoint folder: the run
 * for E epochs resumes the run for the previous count's last checkpoint (the
 * checkpoint fingerprint leaves the epoch count out, and the learning rate depends
 * only on the epoch index), so the chain costs the largest count's epochs, and
 * the E-epoch model is the same bits as a fresh E-epoch run.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface TrainingSweepOptions {
  /** Folder of the sweep: `sigma-S/` zoo folders and `checkpoints/`. */
  readonly sweepDir: string;
  readonly sigmaTrains: readonly number[];
  /** Epoch counts, ascending. */
  readonly epochs: readonly number[];
  /** MNIST folder (with the training files). */
  readonly mnistDir: string;
  readonly seed?: number;
}

/** One `ohmic train` invocation of the sweep. */
export interface SweepTraining {
  readonly sigmaTrain: number;
  readonly epochs: number;
  /** The zoo entry it writes. */
  readonly out: string;
  /** Arguments after `ohmic`. */
  readonly args: readonly string[];
  /** Whether its model exists already. */
  readonly done: boolean;
}

export function sweepModelName(sigmaTrain: number, epochs: number): string {
  return `cnn6-mnist-mult-${sigmaTrain}-e${epochs}`;
}

/** The chains of the sweep, one per σ_train, each in epoch order. */
export function trainingSweepChains(o: TrainingSweepOptions): SweepTraining[][] {
  const epochs = [...o.epochs].sort((a, b) => a - b);
  return o.sigmaTrains.map((s) =>
    epochs.map((e) => {
      const out = path.join(o.sweepDir, `sigma-${s}`, sweepModelName(s, e));
      const args = [
        'train', '--model', 'cnn6', '--noise', 'mult', '--sigma-train', String(s), '--epochs', String(e),
        '--seed', String(o.seed ?? 0), '--data', o.mnistDir, '--out', out,
        '--checkpoint-dir', path.join(o.sweepDir, 'checkpoints', `cnn6-mnist-mult-${s}`), '--checkpoint-every', '300',
      ];
      return { sigmaTrain: s, epochs: e, out, args, done: fs.existsSync(path.join(out, 'weights.bin')) };
    }),
  );
}
