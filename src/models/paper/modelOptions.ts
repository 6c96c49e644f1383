/**
 * Options shared by the paper's network builders, validated once here, plus the
 * seeded-initializer and noise-layer helpers every builder uses.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { Rng } from '../../rng';
import { GaussianNoiseLayer, NoiseKind, noiseLayer } from '../noiseLayers';

/** How to build one of the paper's networks. */
export interface PaperModelOptions {
  /** Noise model after every MVM (Eq. 3 multiplicative, Eq. 2 additive). Default 'multiplicative'. */
  noise: NoiseKind;
  /** σ of the noise layers (σ_train while training). Default 0 (noiseless). */
  sigma: number;
  /** Seed of the weight initialisation and of the noise draws. Default 0. */
  seed: number;
  /** Noise layers also draw at inference (`training: false`). Default false. */
  activeInInference: boolean;
}

export const PAPER_MODEL_DEFAULTS: PaperModelOptions = {
  noise: 'multiplicative',
  sigma: 0,
  seed: 0,
  activeInInference: false,
};

/** Fills defaults and checks every field; throws ConfigError naming the bad one. */
export function validatePaperModelOptions(raw: Partial<PaperModelOptions> = {}): PaperModelOptions {
  const o = { ...PAPER_MODEL_DEFAULTS, ...raw };
  if (o.noise !== 'multiplicative' && o.noise !== 'additive') {
    throw new ConfigError('noise', o.noise, '"multiplicative" or "additive"');
  }
  if (typeof o.sigma !== 'number' || !Number.isFinite(o.sigma) || o.sigma < 0) {
    throw new ConfigError('sigma', o.sigma, 'a finite number >= 0');
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) {
    throw new ConfigError('seed', o.seed, 'an integer in [0, 2^53)');
  }
  if (typeof o.activeInInference !== 'boolean') {
    throw new ConfigError('activeInInference', o.activeInInference, 'true or false');
  }
  return o;
}

/**
 * Per-layer factories of one model build: seeded initializers (tfjs initializers
 * take an integer seed; ours is derived from the model seed by the layer's label,
 * so adding a layer does not reseed the others) and noise layers with their own
 * stream labels.
 */
export class LayerKit {
  private readonly initRng: Rng;
  constructor(readonly options: PaperModelOptions) {
    this.initRng = Rng.fromSeed(options.seed).fold('init');
  }

  /** An integer seed for tfjs initializers, derived from the label. */
  initSeed(label: string): number {
    return this.initRng.fold(label).int(2 ** 31);
  }

  glorot(label: string): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.initSeed(label) });
  }

  heNormal(label: string): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.heNormal({ seed: this.initSeed(label) });
  }

  /** The noise layer placed after the MVM named `label`. */
  noise(label: string): GaussianNoiseLayer {
    return noiseLayer(this.options.noise, {
      sigma: this.options.sigma,
      seed: this.options.seed,
      streamLabel: `noise/${label}`,
      activeInInference: this.options.activeInInference,
      name: `${label}_noise`,
    });
  }

  /**
   * Batch norm as the paper uses it: trainable γ, β for multiplicative noise; for
   * additive noise "fixed parameters": γ = 1 and β = 0 are kept but frozen (the
   * layer is not trainable), so every BN output has zero mean and unit variance
   * and the additive σ is relative to a known signal power (paper §2, §3.1).
   * Moving statistics are still estimated in training mode. Frozen γ, β rather
   * than `center/scale: false` because tfjs-layers 4.22 reads `gamma` in its
   * training branch unconditionally and fails without it.
   */
  batchNorm(label: string): tf.layers.Layer {
    const fixed = this.options.noise === 'additive';
    return tf.layers.batchNormalization({ name: `${label}_bn`, trainable: !fixed });
  }
}
