/**
 * White-box PGD through noisy inference, to measure the gradient-masking caveat
 * (paper §4; Athalye et al. 2018, "Obfuscated gradients give a false sense of
 * security"). Three attacks on the same target with the same budget:
 *
 * - `noiseless-gradient`: PGD on the target with its noise layers off;
 * - `noisy-gradient`: PGD whose every gradient comes from one noisy forward
 *   pass (the target's noise layers active at σ): what a naive attacker of the
 *   noisy chip computes;
 * - `eot`: expectation over transformation, the gradient averaged over m noisy
 *   passes per step: the adaptive attack on the noisy model's expected loss.
 *
 * Each set is then classified by the target with noisy inference at σ (runs and
 * votes, as the transfer table) and noiselessly. If `noisy-gradient` examples fool
 * the noisy target less than `eot` or `noiseless-gradient` ones do, the apparent
 * robustness is the stochastic gradient's, not the model's.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { noiseSources, setNoise } from '../noiseLayers';
import { pgdAttack, type AttackInputs } from './pgd';
import { evaluateTransfer, type TransferRow } from './transfer';

export type WhiteBoxAttackName = 'noiseless-gradient' | 'noisy-gradient' | 'eot';

export interface WhiteBoxOptions {
  /** Multiplicative σ of the noisy forward pass and of the noisy inference. */
  readonly sigma: number;
  readonly eps: number;
  readonly stepSize: number;
  readonly iterations: number;
  readonly restarts: number;
  readonly seed: number;
  /** Noisy passes averaged per EOT step (default 8). */
  readonly eotSamples?: number;
  /** Noisy inference runs per evaluation (default 20). */
  readonly runs?: number;
  readonly batchSize?: number;
  readonly onProgress?: (attack: WhiteBoxAttackName, done: number, total: number) => void;
}

export interface WhiteBoxResult {
  readonly attack: WhiteBoxAttackName;
  readonly gradientSamples: number;
  /** Rows `signal σ=0` (noiseless) and `signal σ=<sigma>` on the target. */
  readonly rows: TransferRow[];
}

/** Runs the three white-box attacks on `target` (a tfjs model with noise layers) and evaluates them. */
export async function whiteBoxThroughNoise(target: tf.LayersModel, inputs: AttackInputs, options: WhiteBoxOptions): Promise<WhiteBoxResult[]> {
  const sources = noiseSources(target);
  if (sources.length === 0) throw new ConfigError('white-box target', target.name, 'a model with noise layers (the zoo models have one after every MVM)');
  if (!(typeof options.sigma === 'number' && options.sigma > 0 && Number.isFinite(options.sigma))) {
    throw new ConfigError('white-box sigma', options.sigma, 'a finite number > 0');
  }
  if (sources.some((s) => (s as unknown as { kind?: string }).kind !== 'multiplicative')) {
    throw new ConfigError('white-box target', target.name, 'multiplicative noise layers (the transfer table is multiplicative)');
  }
  const saved = sources.map((s) => ({ sigma: s.sigma, active: s.activeInInference, drawIndex: s.drawIndex }));
  const eot = options.eotSamples ?? 8;
  const plan: Array<{ attack: WhiteBoxAttackName; noisy: boolean; samples: number }> = [
    { attack: 'noiseless-gradient', noisy: false, samples: 1 },
    { attack: 'noisy-gradient', noisy: true, samples: 1 },
    { attack: 'eot', noisy: true, samples: eot },
  ];
  const results: WhiteBoxResult[] = [];
  const labels = inputs.labels;
  try {
    for (const p of plan) {
      setNoise(target, { sigma: p.noisy ? options.sigma : 0, activeInInference: p.noisy, drawIndex: 0 });
      const adv = pgdAttack(target, inputs, {
        eps: options.eps,
        stepSize: options.stepSize,
        iterations: options.iterations,
        restarts: options.restarts,
        seed: options.seed,
        batchSize: options.batchSize,
        gradientSamples: p.samples,
        onProgress: (d, t) => options.onProgress?.(p.attack, d, t),
      });
      // Evaluate the compiled target (the noise layers become the runner's noise points).
      setNoise(target, { sigma: 0, activeInInference: false, drawIndex: 0 });
      const rows = await evaluateTransfer(target, { x: adv.x, labels }, { sigmas: [0, options.sigma], runs: options.runs ?? 20, seed: options.seed });
      results.push({ attack: p.attack, gradientSamples: p.samples, rows });
    }
  } finally {
    sources.forEach((s, i) => {
      s.sigma = saved[i].sigma;
      s.activeInInference = saved[i].active;
      s.drawIndex = saved[i].drawIndex;
    });
  }
  return results;
}
