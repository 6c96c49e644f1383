/**
 * The paper's signal-level noise after every MVM (Eq. 2 and Eq. 3):
 * additive y' = y + σ·ε, multiplicative y' = y ⊙ (1 + σ·ε), ε ~ N(0, 1) per output
 * element per run. For multiplicative noise SNR = 1/σ² (σ = 0.4 → 7.96 dB).
 */
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

/** Apply signal-level noise to y in place. */
export function applySignalNoise(y: Float32Array, noise: SignalNoise, rng: Rng): void {
  if (noise.sigma === 0) return;
  const e = new Float32Array(y.length);
  rng.fillNormal(e);
  const s = noise.sigma;
  if (noise.kind === 'multiplicative') {
    for (let i = 0; i < y.length; i++) y[i] *= 1 + s * e[i];
  } else {
    for (let i = 0; i < y.length; i++) y[i] += s * e[i];
  }
}

/** SNR in dB of multiplicative noise with std σ: 10·log10(1/σ²). */
export function multiplicativeSnrDb(sigma: number): number {
  return 10 * Math.log10(1 / (sigma * sigma));
}
