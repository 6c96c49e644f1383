/** A batch norm as the per-channel affine `y = x·scale + shift` every engine applies. */
import type { BatchNormAttrs } from './ops';

/**
 * `scale = γ / √(var + ε)`, `shift = β − mean·scale`, in double precision then
 * float32, so the affine matches (x − mean)/√(var + ε)·γ + β to float32 rounding.
 */
export function batchNormAffine(attrs: BatchNormAttrs): { scale: Float32Array; shift: Float32Array } {
  const { gamma, beta, mean, variance, epsilon } = attrs;
  const c = gamma.data.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const s = gamma.data[i] / Math.sqrt(variance.data[i] + epsilon);
    scale[i] = s;
    shift[i] = beta.data[i] - mean.data[i] * s;
  }
  return { scale, shift };
}
