/**
 * Noise keyed by sample: the draw for sample i at a noise site depends only on the
 * site's stream and i (`site.fold(i)`), never on how samples are batched or how a
 * convolution is chunked. Both inference engines (tfjs and onnxruntime) fill their
 * noise through this function, so the same seed gives the same draws on either.
 *
 * Within a sample the values are in the site's canonical order: the row-major order
 * of the value as the onnxruntime engine holds it (channels first for images,
 * `[C, H, W]`; the IR's own layout for everything else). The tfjs engine, which
 * holds images channels-last, transposes (see {@link channelsLastFromFirst}).
 */
import type { Rng } from '../../rng';

/**
 * Fill `out` (`samples · perSample` values) with N(mean, std²) draws: values
 * `[i·perSample, (i+1)·perSample)` come from `site.fold(sampleStart + i)`.
 */
export function fillSampleKeyedNormals(
  out: Float32Array,
  site: Rng,
  sampleStart: number,
  samples: number,
  perSample: number,
  std = 1,
  mean = 0,
): Float32Array {
  for (let i = 0; i < samples; i++) {
    site.fold(sampleStart + i).fillNormal(out.subarray(i * perSample, (i + 1) * perSample), mean, std);
  }
  return out;
}

/** A new array of sample-keyed normals; see {@link fillSampleKeyedNormals}. */
export function sampleKeyedNormals(site: Rng, sampleStart: number, samples: number, perSample: number, std = 1, mean = 0): Float32Array {
  return fillSampleKeyedNormals(new Float32Array(samples * perSample), site, sampleStart, samples, perSample, std, mean);
}

/** `[samples, channels, positions]` → `[samples, positions, channels]` (NCHW order to NHWC order). */
export function channelsLastFromFirst(src: Float32Array, samples: number, channels: number, positions: number): Float32Array {
  if (channels === 1 || positions === 1) return src;
  const out = new Float32Array(src.length);
  const per = channels * positions;
  for (let s = 0; s < samples; s++) {
    const base = s * per;
    for (let c = 0; c < channels; c++) {
      const from = base + c * positions;
      for (let p = 0; p < positions; p++) out[base + p * channels + c] = src[from + p];
    }
  }
  return out;
}
