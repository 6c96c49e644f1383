/**
 * The paper's signal-level noise after every MVM (Eq. 2 and Eq. 3):
 * additive y' = y + σ·ε, multiplicative y' = y ⊙ (1 + σ·ε), ε ~ N(0, 1) per output
 * element per run. For multiplicative noise SNR = 1/σ² (σ = 0.4 → 7.96 dB).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import type { Rng } from '../../rng';

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
 * `y` with fresh signal-level noise from `rng` (one draw per element). The one
 * implementation of Eq. 2/3: signal-level MVMs, the compiler's noise points and
 * the executor's noise nodes all call it. Returns `y` itself at σ = 0.
 */
export function applySignalNoise<T extends tf.Tensor>(y: T, noise: SignalNoise, rng: Rng): T {
  if (noise.sigma === 0) return y;
  const eps = new Float32Array(y.size);
  rng.fillNormal(eps, 0, noise.sigma);
  return tf.tidy(() => {
    const e = tf.tensor(eps, y.shape);
    return (noise.kind === 'multiplicative' ? tf.add(y, tf.mul(y, e)) : tf.add(y, e)) as T;
  });
}

/** SNR in dB of multiplicative noise with std σ: 10·log10(1/σ²). */
export function multiplicativeSnrDb(sigma: number): number {
  return 10 * Math.log10(1 / (sigma * sigma));
}
