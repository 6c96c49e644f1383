/**
 * The paper's signal-level noise as tfjs layers (Eq. 2 and 3), placed after every
 * matrix-vector multiplication of a network:
 *
 * - `MultiplicativeGaussianNoise`: `y' = y ⊙ (1 + σ·ε)` (Eq. 3),
 * - `AdditiveGaussianNoise`: `y' = y + σ·ε` (Eq. 2),
 *
 * with ε ~ N(0, 1) drawn per output element and per call. They are ordinary
 * tfjs `LayersModel` layers (registered for (de)serialisation under exactly these
 * class names), so a trained model carries its noise placement into the compiler.
 *
 * Randomness: a layer never calls unseeded `tf.random*`. Its config holds a root
 * `seed` and a `streamLabel`; call number `k` draws from
 * `Rng.fromSeed(seed).fold(streamLabel).fold(k)` and then advances `drawIndex`.
 * A draw therefore depends only on (seed, label, k): the trainer saves and restores
 * `drawIndex` with its checkpoints, and an evaluation can pin it.
 *
 * ε enters the graph as a constant tensor built from host data, so the gradient
 * flows through `y` only (∂y'/∂y = 1 + σε, resp. 1), as noise-injected training needs.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { Rng } from '../rng';

/** Which of the paper's two noise models a layer applies. */
export type NoiseKind = 'multiplicative' | 'additive';

/** Serialisable config of both noise layers (besides tfjs's own name/trainable). */
export interface GaussianNoiseConfig {
  /** Relative (multiplicative) or absolute (additive) noise std σ, ≥ 0. */
  sigma: number;
  /** Root seed of this layer's draws, an integer in [0, 2^53). */
  seed: number;
  /** Label folded into the seed so that layers of one model draw independent streams. */
  streamLabel: string;
  /** Also draw noise when called with `training: false` (noisy inference). Default false. */
  activeInInference?: boolean;
  /** Call number of the next draw (restored from checkpoints). Default 0. */
  drawIndex?: number;
  /** tfjs layer name. */
  name?: string;
}

type LayerKwargs = { training?: boolean } & Record<string, unknown>;

function validateNoiseConfig(className: string, config: GaussianNoiseConfig): void {
  if (typeof config.sigma !== 'number' || !Number.isFinite(config.sigma) || config.sigma < 0) {
    throw new ConfigError(`${className}.sigma`, config.sigma, 'a finite number >= 0');
  }
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) {
    throw new ConfigError(`${className}.seed`, config.seed, 'an integer in [0, 2^53)');
  }
  if (typeof config.streamLabel !== 'string' || config.streamLabel.length === 0) {
    throw new ConfigError(`${className}.streamLabel`, config.streamLabel, 'a non-empty string');
  }
  const drawIndex = config.drawIndex ?? 0;
  if (!Number.isSafeInteger(drawIndex) || drawIndex < 0) {
    throw new ConfigError(`${className}.drawIndex`, drawIndex, 'an integer >= 0');
  }
}

/** Shared machinery of the two noise layers: config, seeded ε draws, on/off logic. */
export abstract class GaussianNoiseLayer extends tf.layers.Layer {
  /** Noise std σ; mutable so one trained model can be evaluated at several σ_inference. */
  sigma: number;
  readonly seed: number;
  readonly streamLabel: string;
  /** Whether calls with `training: false` are noisy too. */
  activeInInference: boolean;
  /** Call number of the next draw. */
  drawIndex: number;
  abstract readonly kind: NoiseKind;
  private readonly root: Rng;

  constructor(className: string, config: GaussianNoiseConfig) {
    super({ name: config.name, trainable: false });
    validateNoiseConfig(className, config);
    this.sigma = config.sigma;
    this.seed = config.seed;
    this.streamLabel = config.streamLabel;
    this.activeInInference = config.activeInInference ?? false;
    this.drawIndex = config.drawIndex ?? 0;
    this.supportsMasking = true;
    this.root = Rng.fromSeed(this.seed).fold(this.streamLabel);
  }

  /** Whether a call with this `training` flag applies noise. */
  isActive(training: boolean): boolean {
    return this.sigma > 0 && (training || this.activeInInference);
  }

  /** ε for call number `drawIndex` (then advances it): N(0,1) of `shape`, seeded. */
  protected drawEpsilon(shape: number[]): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const eps = new Float32Array(size);
    this.root.fold(this.drawIndex).fillNormal(eps, 0, 1);
    this.drawIndex += 1;
    return tf.tensor(eps, shape, 'float32');
  }

  protected abstract applyNoise(y: tf.Tensor, eps: tf.Tensor): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: LayerKwargs): tf.Tensor {
    const y = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!this.isActive(kwargs.training === true)) return y;
    return tf.tidy(() => this.applyNoise(y, this.drawEpsilon(y.shape)));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      sigma: this.sigma,
      seed: this.seed,
      streamLabel: this.streamLabel,
      activeInInference: this.activeInInference,
    };
  }
}

/** `y' = y ⊙ (1 + σ·ε)`, the paper's multiplicative noise (Eq. 3); SNR = 1/σ². */
export class MultiplicativeGaussianNoise extends GaussianNoiseLayer {
  static readonly className = 'MultiplicativeGaussianNoise';
  readonly kind = 'multiplicative' as const;
  constructor(config: GaussianNoiseConfig) {
    super(MultiplicativeGaussianNoise.className, config);
  }
  protected applyNoise(y: tf.Tensor, eps: tf.Tensor): tf.Tensor {
    return tf.mul(y, tf.add(1, tf.mul(eps, this.sigma)));
  }
}

/** `y' = y + σ·ε`, the paper's additive noise (Eq. 2). */
export class AdditiveGaussianNoise extends GaussianNoiseLayer {
  static readonly className = 'AdditiveGaussianNoise';
  readonly kind = 'additive' as const;
  constructor(config: GaussianNoiseConfig) {
    super(AdditiveGaussianNoise.className, config);
  }
  protected applyNoise(y: tf.Tensor, eps: tf.Tensor): tf.Tensor {
    return tf.add(y, tf.mul(eps, this.sigma));
  }
}

tf.serialization.registerClass(MultiplicativeGaussianNoise);
tf.serialization.registerClass(AdditiveGaussianNoise);

/** Builds the noise layer of `kind`. */
export function noiseLayer(kind: NoiseKind, config: GaussianNoiseConfig): GaussianNoiseLayer {
  switch (kind) {
    case 'multiplicative':
      return new MultiplicativeGaussianNoise(config);
    case 'additive':
      return new AdditiveGaussianNoise(config);
    default: {
      const never: never = kind;
      throw new ConfigError('noise', never, '"multiplicative" or "additive"');
    }
  }
}

/** Anything that owns noise draws: the two noise layers and the noisy LSTM. */
export interface NoiseSource {
  sigma: number;
  activeInInference: boolean;
  drawIndex: number;
  readonly streamLabel: string;
}

function isNoiseSource(layer: unknown): layer is tf.layers.Layer & NoiseSource {
  const l = layer as Partial<NoiseSource>;
  return (
    layer instanceof tf.layers.Layer &&
    typeof l.sigma === 'number' &&
    typeof l.drawIndex === 'number' &&
    typeof l.activeInInference === 'boolean' &&
    typeof l.streamLabel === 'string'
  );
}

/** The noise-drawing layers of `model`, in layer order. */
export function noiseSources(model: tf.LayersModel): Array<tf.layers.Layer & NoiseSource> {
  return model.layers.filter(isNoiseSource);
}

/**
 * Sets σ and/or noisy-inference mode on every noise source of `model`
 * (e.g. σ_inference ≠ σ_train for the paper's Tables 2–6).
 */
export function setNoise(
  model: tf.LayersModel,
  options: { sigma?: number; activeInInference?: boolean; drawIndex?: number },
): void {
  if (options.sigma !== undefined && (!Number.isFinite(options.sigma) || options.sigma < 0)) {
    throw new ConfigError('sigma', options.sigma, 'a finite number >= 0');
  }
  if (options.drawIndex !== undefined && (!Number.isSafeInteger(options.drawIndex) || options.drawIndex < 0)) {
    throw new ConfigError('drawIndex', options.drawIndex, 'an integer >= 0');
  }
  for (const layer of noiseSources(model)) {
    if (options.sigma !== undefined) layer.sigma = options.sigma;
    if (options.activeInInference !== undefined) layer.activeInInference = options.activeInInference;
    if (options.drawIndex !== undefined) layer.drawIndex = options.drawIndex;
  }
}
