/**
 * Conductance drift (PCM): G(t) = G(t0)·(t/t0)^(−ν), one ν per cell (Ielmini et al.,
 * IEEE TED 2007).
 * - generic: ν ~ N(ν_mean, ν_std), not clipped (a negative draw, rare for
 *   ν_std ≪ ν_mean, is a cell that drifts up);
 * - `pcmAihwkit`: ν = |μ(G_T) + σ(G_T)·ε| with aihwkit's G-dependent μ and σ
 *   (`generate_drift_coefficients`, see deviceModels.ts): low-conductance cells
 *   drift faster and spread more (μ from 0.049 at G_T >= 0.2·gMax to 0.1 near 0).
 * Cells marked in `skip` (stuck cells) do not drift.
 */
import type { Rng } from '../../rng';
import { pcmDriftNuParams } from './deviceModels';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

export interface DriftParams {
  readonly nuMean: number;
  readonly nuStd: number;
  readonly t0Seconds: number;
  readonly tSeconds: number;
}

/** Drift the conductances in place to time t with generic ν; no-op when t <= t0 or ν = 0. */
export function applyDrift(g: Float32Array, p: DriftParams, rng: Rng, skip?: Uint8Array): void {
  if (p.tSeconds <= p.t0Seconds || (p.nuMean === 0 && p.nuStd === 0)) return;
  const nu = new Float32Array(g.length);
  rng.fillNormal(nu, p.nuMean, p.nuStd);
  applyDriftExponents(g, nu, p.t0Seconds, p.tSeconds, skip);
}

/** G ← G·(t/t0)^(−ν_i) in place for every cell not in `skip`; no-op when t <= t0. */
export function applyDriftExponents(g: Float32Array, nu: ArrayLike<number>, t0Seconds: number, tSeconds: number, skip?: Uint8Array): void {
  if (tSeconds <= t0Seconds) return;
  const logRatio = math.log(tSeconds / t0Seconds);
  for (let i = 0; i < g.length; i++) {
    if (skip && skip[i]) continue;
    g[i] *= math.exp(-nu[i] * logRatio);
  }
}

/**
 * aihwkit's drift exponents for targets `gTarget` (µS): ν_i = |μ(G_i) + σ(G_i)·ε_i|
 * (pcm.py `torch_abs(mu_drift + sig_drift * randn_like(g_relative)).clamp(min=0.0)`).
 */
export function pcmAihwkitDriftNu(gTarget: Float32Array, gMaxMicroSiemens: number, rng: Rng): Float32Array {
  const nu = new Float32Array(gTarget.length);
  rng.fillNormal(nu);
  for (let i = 0; i < nu.length; i++) {
    const { mu, sigma } = pcmDriftNuParams(gTarget[i], gMaxMicroSiemens);
    nu[i] = math.abs(mu + sigma * nu[i]);
  }
  return nu;
}

/** Expected conductance ratio E[(t/t0)^(−ν)] for Gaussian ν (log-normal mean). */
export function expectedDriftFactor(p: DriftParams): number {
  if (p.tSeconds <= p.t0Seconds) return 1;
  const l = math.log(p.tSeconds / p.t0Seconds);
  return math.exp(-p.nuMean * l + 0.5 * p.nuStd * p.nuStd * l * l);
}
