/**
 * First-order L∞ attacks on a differentiable tfjs LayersModel (paper §4, after
 * Goodfellow et al. and Madry et al.): FGSM and PGD with random restarts.
 *
 * PGD: start from `x + u`, u ~ U[-ε, ε] per pixel (or from `x` without a random
 * start), then `k` times `x' ← Π(x' + α·sign(∇ₓ L(f(x'), y)))` where Π clips to
 * the ε-cube around the natural `x` and to the pixel range `[clipMin, clipMax]`.
 * L is softmax cross-entropy on the model's logits (a model ending in softmax is
 * attacked through its probabilities: the loss takes their log).
 *
 * Restarts: every example gets `restarts` independent starts; the strongest is
 * kept: a misclassified result beats a correctly classified one, and among equals
 * the higher loss wins; a later restart must be strictly stronger to replace an
 * earlier one. Restart `r` of example `i` draws its start from
 * `seed/pgd/restart/r/example/(exampleOffset + i)`, a pure function of (seed, r,
 * i): it does not depend on the number of restarts, the batch size, or which
 * other examples are attacked. So R restarts are the first R of R + 1, and the
 * attack success of R + 1 restarts is never below that of R (tested).
 *
 * The forward pass runs with `training: false` (batch norm on its moving
 * statistics, noise layers off unless `activeInInference`), or `training: true`
 * for a white-box attack through the model's noise layers (see
 * {@link AttackOptions.forwardTraining}). Note that `training: true` also puts batch
 * norm on batch statistics; use `activeInInference` noise layers instead to keep
 * batch norm in inference mode.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../errors';
import { Rng } from '../../rng';
import { registerTrainingKernels } from '../training/registerTrainingKernels';

/** A batch-first float image array, `shape = [count, ...one example]`. */
export interface AttackInputs {
  readonly x: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Options of {@link pgdAttack}. */
export interface AttackOptions {
  /** L∞ radius ε of the perturbation. */
  readonly eps: number;
  /** Step size α of each iteration (FGSM: ε). */
  readonly stepSize: number;
  /** Iterations k per restart (0: the random start only). */
  readonly iterations: number;
  /** Independent restarts per example, ≥ 1. Default 1. */
  readonly restarts?: number;
  /** Start each restart from a uniform point of the ε-cube (default true). Without it every restart is the same. */
  readonly randomStart?: boolean;
  /** Seed (or stream) of the random starts. */
  readonly seed: number | Rng;
  /** Index of the first example within the whole attacked set (default 0): keys the random starts. */
  readonly exampleOffset?: number;
  /** Pixel range; default [0, 1]. */
  readonly clipMin?: number;
  readonly clipMax?: number;
  /** Examples per gradient batch (default 100). Results do not depend on it beyond float rounding. */
  readonly batchSize?: number;
  /**
   * Run the forward pass with `training: true` (default false): noise layers draw
   * on every call, so the gradients are those of one noisy pass (the white-box
   * attack through noisy inference). Stochastic gradients mask the true gradient;
   * a model looking robust to this attack is not evidence of robustness.
   */
  readonly forwardTraining?: boolean;
  /**
   * Gradients averaged per step over this many forward/backward passes (default 1).
   * With noise layers drawing (noisy forward pass), m > 1 is expectation over
   * transformation (Athalye et al. 2018): the attack on the expected loss that
   * stochastic gradients would otherwise mask.
   */
  readonly gradientSamples?: number;
  /** Told after every finished batch of every restart: (examples done, examples in all, counting restarts). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@link pgdAttack} returns. */
export interface AttackResult {
  /** Adversarial examples, same layout as the inputs. */
  readonly x: Float32Array;
  readonly shape: readonly number[];
  /** Per example: the model misclassifies the kept adversarial example. */
  readonly fooled: Uint8Array;
  /** Per example: cross-entropy loss of the kept example. */
  readonly loss: Float32Array;
  /** Per example: the restart (0-based) whose result was kept. */
  readonly restart: Int32Array;
}

interface Resolved {
  eps: number;
  stepSize: number;
  iterations: number;
  restarts: number;
  randomStart: boolean;
  root: Rng;
  exampleOffset: number;
  clipMin: number;
  clipMax: number;
  batchSize: number;
  forwardTraining: boolean;
  gradientSamples: number;
}

function nonNegative(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(field, v, 'a finite number >= 0');
  return v;
}

function integerAtLeast(field: string, v: unknown, min: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new ConfigError(field, v, `an integer >= ${min}`);
  return v as number;
}

/** Validates and fills the defaults of {@link AttackOptions} (ConfigError naming the field). */
export function resolveAttackOptions(o: AttackOptions): Resolved {
  const clipMin = o.clipMin ?? 0;
  const clipMax = o.clipMax ?? 1;
  if (typeof clipMin !== 'number' || typeof clipMax !== 'number' || !Number.isFinite(clipMin) || !Number.isFinite(clipMax) || clipMin >= clipMax) {
    throw new ConfigError('clipMin/clipMax', [clipMin, clipMax], 'finite numbers with clipMin < clipMax');
  }
  const randomStart = o.randomStart ?? true;
  if (typeof randomStart !== 'boolean') throw new ConfigError('randomStart', randomStart, 'true or false');
  let root: Rng;
  if (o.seed instanceof Rng) root = o.seed;
  else root = Rng.fromSeed(integerAtLeast('seed', o.seed, 0));
  return {
    eps: nonNegative('eps', o.eps),
    stepSize: nonNegative('stepSize', o.stepSize),
    iterations: integerAtLeast('iterations', o.iterations, 0),
    restarts: integerAtLeast('restarts', o.restarts ?? 1, 1),
    randomStart,
    root: root.fold('pgd'),
    exampleOffset: integerAtLeast('exampleOffset', o.exampleOffset ?? 0, 0),
    clipMin,
    clipMax,
    batchSize: integerAtLeast('batchSize', o.batchSize ?? 100, 1),
    forwardTraining: o.forwardTraining === true,
    gradientSamples: integerAtLeast('gradientSamples', o.gradientSamples ?? 1, 1),
  };
}

/** Checks that `inputs` is consistent and fits the model's input. */
export function validateAttackInputs(model: tf.LayersModel, inputs: AttackInputs): { count: number; per: number; classes: number } {
  const count = inputs.shape[0];
  const per = inputs.shape.slice(1).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count < 1 || inputs.x.length !== count * per || inputs.labels.length !== count) {
    throw new ShapeError(
      `attack inputs: shape ${JSON.stringify(inputs.shape)}, x.length ${inputs.x.length}, labels ${inputs.labels.length} ` +
        `are inconsistent (expected x.length = count·${per}, labels = count >= 1)`,
    );
  }
  const want = model.inputs[0].shape.slice(1);
  const got = inputs.shape.slice(1);
  if (want.length !== got.length || want.some((d, i) => d !== null && d !== got[i])) {
    throw new ShapeError(`attack inputs: example shape ${JSON.stringify(got)} does not fit the model input ${JSON.stringify(want)}`);
  }
  const outShape = (model.outputs[0].shape as (number | null)[]).slice(1);
  if (outShape.length !== 1 || outShape[0] === null || outShape[0] < 2) {
    throw new ShapeError(`attack: the model's output ${JSON.stringify(outShape)} is not a vector of class scores`);
  }
  const classes = outShape[0];
  for (let i = 0; i < count; i++) {
    const y = inputs.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new ConfigError(`labels[${i}]`, y, `an integer in 0..${classes - 1}`);
  }
  return { count, per, classes };
}

/** Whether the model's last layer applies softmax (then the loss takes the log of its outputs). */
function endsInSoftmax(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const cfg = last.getConfig() as { activation?: string };
  return last.getClassName() === 'Softmax' || cfg.activation === 'softmax';
}

/** Per-example cross-entropy of the model's outputs (logits, or probabilities when it ends in softmax). */
function perExampleLoss(out: tf.Tensor, oneHot: tf.Tensor, probabilities: boolean): tf.Tensor1D {
  const logp = probabilities ? tf.log(tf.clipByValue(out, 1e-12, 1)) : tf.logSoftmax(out);
  return tf.neg(tf.sum(tf.mul(oneHot, logp), -1)) as tf.Tensor1D;
}

/**
 * One restart's starting points for examples `[start, start + n)` of a batch:
 * `x + u`, u ~ U[-ε, ε], clipped to the pixel range (or `x` itself).
 */
function startingPoints(x: Float32Array, per: number, n: number, o: Resolved, restart: number, firstExample: number): Float32Array {
  const out = Float32Array.from(x);
  if (!o.randomStart || o.eps === 0) return out;
  const u = new Float64Array(per);
  const rng = o.root.fold('restart').fold(restart);
  for (let i = 0; i < n; i++) {
    rng.fold('example').fold(firstExample + i).fillUniform(u);
    const base = i * per;
    for (let j = 0; j < per; j++) {
      const v = x[base + j] + (2 * u[j] - 1) * o.eps;
      out[base + j] = Math.min(o.clipMax, Math.max(o.clipMin, v));
    }
  }
  return out;
}

/**
 * Projects `adv` onto the ε-cube around `x` intersected with the pixel range, in
 * float64 on the host, then rounds to float32 and repairs the rounding so the
 * stored float32 is inside the cube exactly (|adv − x| ≤ ε in float64 arithmetic).
 */
function project(adv: Float32Array, x: Float32Array, o: Resolved): void {
  for (let j = 0; j < adv.length; j++) {
    const lo = Math.max(o.clipMin, x[j] - o.eps);
    const hi = Math.min(o.clipMax, x[j] + o.eps);
    let v = Math.min(hi, Math.max(lo, adv[j]));
    let f = Math.fround(v);
    // fround may step just outside [lo, hi]; move one float32 ulp back inside.
    if (f > hi) f = nextFloat32Down(f);
    if (f < lo) f = nextFloat32Up(f);
    // If the cube is thinner than a float32 ulp, the natural pixel itself is inside.
    if (f > hi || f < lo) f = x[j];
    v = f;
    adv[j] = v;
  }
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
function nextFloat32Down(f: number): number {
  F32[0] = f;
  if (f > 0) U32[0] -= 1;
  else if (f < 0) U32[0] += 1;
  else return -1.401298464324817e-45;
  return F32[0];
}
function nextFloat32Up(f: number): number {
  F32[0] = f;
  if (f > 0) U32[0] += 1;
  else if (f < 0) U32[0] -= 1;
  else return 1.401298464324817e-45;
  return F32[0];
}

/**
 * PGD with restarts (and FGSM as its one-step, no-random-start case) on `model`.
 * Returns the strongest restart per example.
 *
 * @throws ConfigError / ShapeError on bad options or inputs.
 */
export function pgdAttack(model: tf.LayersModel, inputs: AttackInputs, options: AttackOptions): AttackResult {
  const o = resolveAttackOptions(options);
  const { count, per, classes } = validateAttackInputs(model, inputs);
  // Input gradients of a conv layer go through tfjs's fused-conv gradient, which also
  // computes the filter gradient: wasm needs the training kernels for it.
  registerTrainingKernels();
  const probabilities = endsInSoftmax(model);
  const dims = inputs.shape.slice(1) as number[];
  const best = new Float32Array(count * per);
  const fooled = new Uint8Array(count);
  const loss = new Float32Array(count).fill(-Infinity);
  const restartOf = new Int32Array(count).fill(-1);
  const total = count * o.restarts;
  let done = 0;

  for (let start = 0; start < count; start += o.batchSize) {
    const n = Math.min(o.batchSize, count - start);
    const xNat = inputs.x.subarray(start * per, (start + n) * per);
    const labels = Int32Array.from({ length: n }, (_, i) => inputs.labels[start + i]);
    const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat());
    const lossOf = (xs: tf.Tensor): tf.Tensor1D =>
      perExampleLoss(model.apply(xs, { training: o.forwardTraining }) as tf.Tensor, oneHot, probabilities);
    // Sum over the batch: each example's gradient is its own loss's gradient.
    const grad = tf.grad((xs: tf.Tensor) => tf.sum(lossOf(xs)));
    try {
      for (let r = 0; r < o.restarts; r++) {
        const adv = startingPoints(xNat, per, n, o, r, o.exampleOffset + start);
        for (let k = 0; k < o.iterations; k++) {
          const g = tf.tidy(() => {
            const xs = tf.tensor(adv, [n, ...dims]);
            let sum = grad(xs);
            for (let m = 1; m < o.gradientSamples; m++) sum = tf.add(sum, grad(xs));
            return tf.sign(sum).dataSync() as Float32Array;
          });
          for (let j = 0; j < adv.length; j++) adv[j] += o.stepSize * g[j];
          project(adv, xNat, o);
        }
        if (o.iterations === 0) project(adv, xNat, o);
        const [l, pred] = tf.tidy(() => {
          const out = model.apply(tf.tensor(adv, [n, ...dims]), { training: o.forwardTraining }) as tf.Tensor;
          return [perExampleLoss(out, oneHot, probabilities).dataSync() as Float32Array, tf.argMax(out, -1).dataSync() as Int32Array];
        });
        for (let i = 0; i < n; i++) {
          const e = start + i;
          const f = pred[i] !== labels[i] ? 1 : 0;
          const li = Number.isNaN(l[i]) ? -Infinity : l[i];
          const stronger = restartOf[e] < 0 || f > fooled[e] || (f === fooled[e] && li > loss[e]);
          if (stronger) {
            fooled[e] = f;
            loss[e] = li;
            restartOf[e] = r;
            best.set(adv.subarray(i * per, (i + 1) * per), e * per);
          }
        }
        done += n;
        options.onProgress?.(done, total);
      }
    } finally {
      oneHot.dispose();
    }
  }
  return { x: best, shape: [...inputs.shape], fooled, loss, restart: restartOf };
}

/** FGSM (Goodfellow et al.): one step of size ε from the natural image, no random start. */
export function fgsmAttack(
  model: tf.LayersModel,
  inputs: AttackInputs,
  options: { eps: number; clipMin?: number; clipMax?: number; batchSize?: number; forwardTraining?: boolean },
): AttackResult {
  return pgdAttack(model, inputs, { ...options, stepSize: options.eps, iterations: 1, restarts: 1, randomStart: false, seed: 0 });
}

/**
 * Uniform-noise baseline of the same budget: `x + u`, u ~ U[-ε, ε] per pixel,
 * clipped to the pixel range (PGD with no iterations), to compare a gradient
 * attack against random perturbation of the same size.
 */
export function uniformNoise(inputs: AttackInputs, eps: number, seed: number | Rng, range: { clipMin?: number; clipMax?: number } = {}): Float32Array {
  const o = resolveAttackOptions({ eps, stepSize: 0, iterations: 0, seed, ...range });
  const count = inputs.shape[0];
  const per = inputs.x.length / count;
  const out = startingPoints(inputs.x, per, count, o, 0, 0);
  project(out, inputs.x, o);
  return out;
}
