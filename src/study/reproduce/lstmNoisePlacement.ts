/**
 * A diagnostic of Table 6's miss: the zoo's noiselessly trained LSTM loses far
 * less accuracy under the paper's σ than the paper's LSTM does. One candidate is
 * where the noise sits in an LSTM step, which the paper's text leaves open ("four
 * matrix-vector multiplications in each LSTM cell"). This runs the zoo LSTM's
 * weights with the multiplicative noise put in three places and measures each:
 *
 * - `gate-mvm`: on z = x_t·W + h_{t−1}·U, the bias added after (the zoo models,
 *   `NoisyLSTM`, and the compiled chip: one (in + hidden) × 4h MVM per step);
 * - `gate-preactivation`: on z + b, the bias inside the noisy product;
 * - `input-and-recurrent`: independently on x_t·W and on h_{t−1}·U.
 *
 * The output layer keeps the zoo model's noise point in all three (after its dense
 * layer). Noise for sample i comes from `stream.fold(i)` alone (all its steps, then
 * the output), so results do not depend on the batch size.
 */
import { tf } from '../../backend';
import { ConfigError } from '../../errors';
import type { Rng } from '../../rng';
import { LSTM_HIDDEN_UNITS, LSTM_INPUT_SIZE, LSTM_TIME_STEPS } from '../../models/paper/lstm';

export const LSTM_NOISE_PLACEMENTS = ['gate-mvm', 'gate-preactivation', 'input-and-recurrent'] as const;
export type LstmNoisePlacement = (typeof LSTM_NOISE_PLACEMENTS)[number];

/** The σ of the diagnostic: the two the Table 6 target covers (σ ≤ 0.4) with σ > 0. */
export const LSTM_PLACEMENT_SIGMAS = [0.2, 0.4] as const;

const CLASSES = 10;

/** The zoo LSTM's weights, in the layer order of `buildLstm`. */
interface LstmWeights {
  readonly kernel: tf.Tensor2D;
  readonly recurrent: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
  readonly fcKernel: tf.Tensor2D;
  readonly fcBias: tf.Tensor1D;
}

function lstmWeights(model: tf.LayersModel): LstmWeights {
  const w = model.getWeights();
  const h = LSTM_HIDDEN_UNITS;
  const shapes = w.map((t) => t.shape.join('x'));
  const expected = [`${LSTM_INPUT_SIZE}x${4 * h}`, `${h}x${4 * h}`, `${4 * h}`, `${h}x${CLASSES}`, `${CLASSES}`];
  if (shapes.join(',') !== expected.join(',')) throw new ConfigError('model', shapes.join(','), `the zoo LSTM's weights (${expected.join(', ')})`);
  return { kernel: w[0] as tf.Tensor2D, recurrent: w[1] as tf.Tensor2D, bias: w[2] as tf.Tensor1D, fcKernel: w[3] as tf.Tensor2D, fcBias: w[4] as tf.Tensor1D };
}

/**
 * Logits [count, 10] of the zoo LSTM on `count` sequences `x` ([count, T, 2]),
 * with multiplicative noise of `sigma` at `placement` (σ = 0: the exact network).
 */
export function lstmPlacementLogits(model: tf.LayersModel, x: Float32Array, count: number, placement: LstmNoisePlacement, sigma: number, stream: Rng, batchSize = 250): Float32Array {
  if (!(LSTM_NOISE_PLACEMENTS as readonly string[]).includes(placement)) throw new ConfigError('placement', placement, `one of ${LSTM_NOISE_PLACEMENTS.join(', ')}`);
  const T = LSTM_TIME_STEPS;
  const h = LSTM_HIDDEN_UNITS;
  if (x.length !== count * T * LSTM_INPUT_SIZE) throw new ConfigError('x', x.length, `${count} × ${T} × ${LSTM_INPUT_SIZE} values`);
  const w = lstmWeights(model);
  // Per step: 4h draws, or 8h when the input and recurrent products are noisy apart.
  const perStep = placement === 'input-and-recurrent' ? 8 * h : 4 * h;
  const perSample = T * perStep + CLASSES;
  const out = new Float32Array(count * CLASSES);
  for (let start = 0; start < count; start += batchSize) {
    const B = Math.min(batchSize, count - start);
    // Step-major copies of the draws ([T][B][perStep], then [B][10] for the output), so each step's noise is one
    // contiguous block: sample j's draws still come from its own stream, in its own order.
    const steps = sigma > 0 ? new Float32Array(T * B * perStep) : null;
    const outNoise = sigma > 0 ? new Float32Array(B * CLASSES) : null;
    if (steps && outNoise) {
      const own = new Float32Array(perSample);
      for (let j = 0; j < B; j++) {
        stream.fold(start + j).fillNormal(own, 0, 1);
        for (let t = 0; t < T; t++) steps.set(own.subarray(t * perStep, (t + 1) * perStep), (t * B + j) * perStep);
        outNoise.set(own.subarray(T * perStep), j * CLASSES);
      }
    }
    const logits = tf.tidy(() => {
      const xs = tf.unstack(tf.tensor3d(x.subarray(start * T * LSTM_INPUT_SIZE, (start + B) * T * LSTM_INPUT_SIZE), [B, T, LSTM_INPUT_SIZE]), 1);
      let hs: tf.Tensor = tf.zeros([B, h]);
      let cs: tf.Tensor = tf.zeros([B, h]);
      for (let t = 0; t < T; t++) {
        const [hn, cn] = tf.tidy(() => {
          const xw = tf.matMul(xs[t], w.kernel);
          const hu = tf.matMul(hs, w.recurrent);
          // 1 + σε of this step's draws: [B, 4h], or [B, 8h] (x·W's, then h·U's).
          const f = steps ? tf.add(1, tf.mul(tf.tensor2d(steps.subarray(t * B * perStep, (t + 1) * B * perStep), [B, perStep]), sigma)) : null;
          let z: tf.Tensor;
          if (!f) z = tf.add(tf.add(xw, hu), w.bias);
          else if (placement === 'gate-mvm') z = tf.add(tf.mul(tf.add(xw, hu), f), w.bias);
          else if (placement === 'gate-preactivation') z = tf.mul(tf.add(tf.add(xw, hu), w.bias), f);
          else {
            const [fx, fh] = tf.split(f, 2, 1);
            z = tf.add(tf.add(tf.mul(xw, fx), tf.mul(hu, fh)), w.bias);
          }
          const [zi, zf, zc, zo] = tf.split(z, 4, 1);
          const c = tf.add(tf.mul(tf.sigmoid(zf), cs), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
          return [tf.mul(tf.sigmoid(zo), tf.tanh(c)), c];
        });
        hs.dispose();
        cs.dispose();
        hs = hn;
        cs = cn;
      }
      const y = tf.add(tf.matMul(hs, w.fcKernel), w.fcBias);
      return outNoise ? tf.mul(y, tf.add(1, tf.mul(tf.tensor2d(outNoise, [B, CLASSES]), sigma))) : y;
    });
    out.set(logits.dataSync() as Float32Array, start * CLASSES);
    logits.dispose();
  }
  return out;
}
