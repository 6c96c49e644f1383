/**
 * Adversarial training (Madry et al. 2018, as the paper's §4 uses it): every
 * mini-batch (32 in the paper) is half natural examples and half PGD examples
 * made against the current weights. It is ordinary `trainModel` (seeded shuffle,
 * checkpoints, exact resume) with a batch transform that replaces the last
 * `round(fraction · n)` examples of each gathered batch by their PGD version.
 *
 * Determinism: the PGD random start of step `s` is drawn from
 * `seed/adversarial-training/step/s`, so a resumed run makes the same adversarial
 * examples as an uninterrupted one (the transform's key, which holds every attack
 * parameter, is part of the checkpoint fingerprint).
 *
 * The attack runs in inference mode (`training: false`: batch norm on its moving
 * statistics, noise layers off); the training step then sees the mixed batch.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { Rng } from '../../rng';
import { type BatchTransform, type Dataset, type TrainOptions, type TrainResult, trainModel } from '../training/train';
import { pgdAttack } from './pgd';

/** The attack used to make the training examples. */
export interface AdversarialTrainingAttack {
  /** L∞ radius ε (MNIST: 0.3). */
  readonly eps: number;
  /** PGD step α (Madry et al.: 0.01 for 40 steps). */
  readonly stepSize: number;
  /** PGD iterations per example (Madry et al.: 40). */
  readonly iterations: number;
  /** Share of each batch replaced by PGD examples (default 0.5: the paper's half and half). */
  readonly fraction?: number;
  /** Random start in the ε-cube (default true). */
  readonly randomStart?: boolean;
}

/** What the zoo manifest records of an adversarially trained model (`adversarial` in its entry). */
export interface AdversarialTrainingRecord {
  readonly attack: 'pgd';
  readonly eps: number;
  readonly stepSize: number;
  readonly iterations: number;
  readonly restarts: 1;
  readonly randomStart: boolean;
  readonly fraction: number;
  readonly batchSize: number;
  /** What differs from the paper's set-up, in words. */
  readonly note?: string;
}

/** Validates `attack` and fills its defaults. */
export function resolveAdversarialAttack(attack: AdversarialTrainingAttack): Required<AdversarialTrainingAttack> {
  const num = (field: string, v: unknown, min: number, max = Infinity, minInclusive = true): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (minInclusive ? v < min : v <= min) || v > max) {
      throw new ConfigError(field, v, `a number in ${minInclusive ? '[' : '('}${min}, ${max === Infinity ? '∞)' : `${max}]`}`);
    }
    return v;
  };
  if (typeof attack !== 'object' || attack === null) throw new ConfigError('adversarial', attack, 'an object { eps, stepSize, iterations }');
  if (!Number.isSafeInteger(attack.iterations) || attack.iterations < 1) throw new ConfigError('adversarial.iterations', attack.iterations, 'an integer >= 1');
  const randomStart = attack.randomStart ?? true;
  if (typeof randomStart !== 'boolean') throw new ConfigError('adversarial.randomStart', randomStart, 'true or false');
  return {
    eps: num('adversarial.eps', attack.eps, 0, Infinity, false),
    stepSize: num('adversarial.stepSize', attack.stepSize, 0, Infinity, false),
    iterations: attack.iterations,
    fraction: num('adversarial.fraction', attack.fraction ?? 0.5, 0, 1, false),
    randomStart,
  };
}

/** The batch transform of adversarial training with `attack`, seeded by `seed`. */
export function adversarialBatchTransform(model: tf.LayersModel, attack: AdversarialTrainingAttack, seed: number): BatchTransform {
  const a = resolveAdversarialAttack(attack);
  const root = Rng.fromSeed(seed).fold('adversarial-training');
  return {
    key: JSON.stringify({ attack: 'pgd', ...a }),
    apply(x, y, at) {
      const n = x.shape[0];
      const k = Math.round(a.fraction * n);
      if (k === 0) return x;
      const per = x.size / n;
      const dims = x.shape.slice(1);
      const xs = x.dataSync() as Float32Array;
      const labels = y.dataSync();
      const first = n - k;
      const adv = pgdAttack(
        model,
        { x: xs.subarray(first * per), labels: labels.subarray(first), shape: [k, ...dims] },
        { eps: a.eps, stepSize: a.stepSize, iterations: a.iterations, restarts: 1, randomStart: a.randomStart, seed: root.fold('step').fold(at.step), batchSize: k },
      );
      const mixed = new Float32Array(xs.length);
      mixed.set(xs.subarray(0, first * per));
      mixed.set(adv.x, first * per);
      return tf.tensor(mixed, x.shape);
    },
  };
}

/** Options of {@link adversarialTrainModel}: those of `trainModel` plus the attack. */
export interface AdversarialTrainOptions extends Omit<TrainOptions, 'batchTransform'> {
  readonly adversarial: AdversarialTrainingAttack;
}

/**
 * Trains `model` in place, each batch half natural and half PGD examples
 * (see the module comment). Checkpoints and resume as `trainModel`.
 */
export function adversarialTrainModel(model: tf.LayersModel, data: Dataset, options: AdversarialTrainOptions): Promise<TrainResult> {
  const { adversarial, ...rest } = options;
  return trainModel(model, data, { ...rest, batchTransform: adversarialBatchTransform(model, adversarial, options.seed) });
}

/** The manifest record of a run with `attack` at `batchSize`. */
export function adversarialTrainingRecord(attack: AdversarialTrainingAttack, batchSize: number, note?: string): AdversarialTrainingRecord {
  const a = resolveAdversarialAttack(attack);
  return {
    attack: 'pgd',
    eps: a.eps,
    stepSize: a.stepSize,
    iterations: a.iterations,
    restarts: 1,
    randomStart: a.randomStart,
    fraction: a.fraction,
    batchSize,
    ...(note === undefined ? {} : { note }),
  };
}
