/**
 * The gradient of tfjs's `FusedBatchNorm`, without the `tile`.
 *
 * tfjs-core's gradient (4.22) tiles 1/√(var+ε) up to the full activation shape
 * before multiplying by dy, although `mul` broadcasts a per-channel vector over
 * NHWC by itself. On the wasm backend that `Tile` cost 78 ms of a 536 ms CNN-6
 * training step. This is the same formula with broadcasting instead; values are
 * identical (the test compares it with the cpu backend's numerical result).
 */
import * as tf from '@tensorflow/tfjs';

/** d(batchNorm)/d(inputs), per-channel statistics broadcast over the leading axes. */
export const fusedBatchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const reductionAxes = tf.broadcast_util.getReductionAxes(mean.shape, x.shape);
    const perChannel = mean.rank === 1;
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(perChannel ? tf.sum(t, reductionAxes) : t, mean.shape);
    // Every per-channel gradient is a per-channel factor times Σ dy or Σ dy·(x − μ):
    // two full-size reductions in all, done once here (the full-size products are
    // freed at once; only the two per-channel sums live until the backward pass ends).
    const [sumDy, sumDyCentred] = tf.tidy(() => [reduce(g), reduce(tf.mul(g, tf.sub(x, mean)))]);
    const rsqrtVar = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    return {
      x: () => tf.reshape(tf.mul(g, tf.mul(rsqrtVar, scaleValue)), x.shape),
      mean: () => tf.mul(tf.mul(tf.neg(rsqrtVar), scaleValue), sumDy),
      variance: () => tf.mul(tf.mul(tf.mul(tf.pow(rsqrtVar, tf.scalar(3)), tf.scalar(-0.5)), scaleValue), sumDyCentred),
      scale: () => tf.mul(rsqrtVar, sumDyCentred),
      offset: () => tf.clone(sumDy),
    };
  },
};

let registered = false;

/** Installs `fusedBatchNormGradient` for every backend. Idempotent. */
export function registerBatchNormGradient(): void {
  if (registered) return;
  tf.registerGradient(fusedBatchNormGradient);
  registered = true;
}
