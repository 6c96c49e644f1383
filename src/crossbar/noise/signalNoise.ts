/**
 * The paper's signal-level noise after every MVM (Eq. 2 and Eq. 3):
 * additive y' = y + σ·ε, multiplicative y' = y ⊙ (1 + σ·ε), ε ~ N(0, 1) per output
 * element per run. For multiplicative noise SNR = 1/σ² (σ = 0.4 → 7.96 dB).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import type { Rng } from '../../rng';
import { channelsLastFromFirst, sampleKeyedNormals } from './sampleKeyedNoise';

export type SignalNoiseKind = 'multiplicative' | 'additive';

export interface SignalNoise {
  readonly kind: SignalNoiseKind;
  readonly sigma: number;
}

export function validateSignalNoise(raw: unknown, field = 'noise'): SignalNoise {
  if (typeof raw === 'string') {
    const m = /^(mult|multiplicative|add|additive):(.+)$/.exec(raw.trim());
    if (!m) throw new ConfigError(field, raw, '"mult:SIGMA" or "add:SIGMA", e.g. "mult:0.4"');
    const kind: SignalNoiseKind = m[1].startsWith('mult') ? 'multiplicative' : 'additive';
    return validateSignalNoise({ kind, sigma: Number(m[2]) }, field);
  }
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(field, raw, '{ kind, sigma }');
  const { kind, sigma } = raw as Record<string, unknown>;
  if (kind !== 'multiplicative' && kind !== 'additive') {
    throw new ConfigError(`${field}.kind`, kind, '"multiplicative" or "additive"');
  }
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) {
    throw new ConfigError(`${field}.sigma`, sigma, 'a finite number >= 0');
  }
  return { kind, sigma };
}

/**
 * `y` with fresh signal-level noise from `rng`: one draw per element, keyed by
 * sample (axis 0 of `y` counts samples `sampleStart, sampleStart + 1, …`; see
 * `fillSampleKeyedNormals`). With `channelsFirst`, `y` is channels-last (`[N, …, C]`,
 * e.g. NHWC) and each sample's draws are taken in channels-first order, the
 * canonical order of image sites that both engines share. The one implementation
 * of Eq. 2/3 on tfjs tensors: signal-level MVMs and noise nodes call it. Returns
 * `y` itself at σ = 0.
 */
export function applySignalNoise<T extends tf.Tensor>(
  y: T,
  noise: SignalNoise,
  rng: Rng,
  sampleStart = 0,
  samples = y.shape[0] ?? 1,
  channelsFirst = false,
): T {
  if (noise.sigma === 0) return y;
  const per = y.size / samples;
  // Multiplicative noise as the factor 1 + σε, drawn with mean 1: one multiply, as the onnxruntime engine does.
  const mult = noise.kind === 'multiplicative';
  let eps = sampleKeyedNormals(rng, sampleStart, samples, per, noise.sigma, mult ? 1 : 0);
  const channels = y.shape[y.rank - 1];
  if (channelsFirst) eps = channelsLastFromFirst(eps, samples, channels, per / channels);
  return tf.tidy(() => {
    const e = tf.tensor(eps, y.shape);
    return (mult ? tf.mul(y, e) : tf.add(y, e)) as T;
  });
}

/**
 * Signal-level noise on a whole convolution output `y` ([N, H, W, C], channels-last)
 * whose C channels are `groups` equal groups, group g drawing from `siteOf(g)`: each
 * sample's draws are group g's `[C/groups, H, W]` block after block, the canonical
 * channels-first order, so this equals noise applied group by group after im2col.
 */
export function applyGroupedSignalNoise(
  y: tf.Tensor4D,
  noise: SignalNoise,
  siteOf: (group: number) => Rng,
  groups: number,
  sampleStart = 0,
): tf.Tensor4D {
  if (noise.sigma === 0) return y;
  const [n, h, w, c] = y.shape;
  const positions = h * w;
  const per = (c / groups) * positions;
  const mult = noise.kind === 'multiplicative';
  const eps = new Float32Array(n * c * positions);
  for (let g = 0; g < groups; g++) {
    const site = siteOf(g);
    for (let i = 0; i < n; i++) {
      const at = i * c * positions + g * per;
      site.fold(sampleStart + i).fillNormal(eps.subarray(at, at + per), mult ? 1 : 0, noise.sigma);
    }
  }
  const nhwc = channelsLastFromFirst(eps, n, c, positions);
  return tf.tidy(() => {
    const e = tf.tensor4d(nhwc, [n, h, w, c]);
    return (mult ? tf.mul(y, e) : tf.add(y, e)) as tf.Tensor4D;
  });
}

/** SNR in dB of multiplicative noise with std σ: 10·log10(1/σ²). */
export function multiplicativeSnrDb(sigma: number): number {
  return 10 * Math.log10(1 / (sigma * sigma));
}
