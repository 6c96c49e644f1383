/**
 * Conductance drift (PCM): G(t) = G(t0)·(t/t0)^(−ν) with ν per cell ~ N(ν_mean, ν_std)
 * (Ielmini et al., IEEE TED 2007; aihwkit PCMLikeNoiseModel). ν is not clipped: a
 * negative draw (rare for the presets' ν_std ≪ ν_mean) is a cell that drifts up.
 */
import type { Rng } from '../../rng';

export interface DriftParams {
  readonly nuMean: number;
  readonly nuStd: number;
  readonly t0Seconds: number;
  readonly tSeconds: number;
}

/** Drift the conductances in place to time t; no-op when t = t0 or ν = 0. */
export function applyDrift(g: Float32Array, p: DriftParams, rng: Rng): void {
  if (p.tSeconds <= p.t0Seconds || (p.nuMean === 0 && p.nuStd === 0)) return;
  const logRatio = Math.log(p.tSeconds / p.t0Seconds);
  const nu = new Float32Array(g.length);
  rng.fillNormal(nu, p.nuMean, p.nuStd);
  for (let i = 0; i < g.length; i++) g[i] *= Math.exp(-nu[i] * logRatio);
}

/** Expected conductance ratio E[(t/t0)^(−ν)] for Gaussian ν (log-normal mean). */
export function expectedDriftFactor(p: Omit<DriftParams, never>): number {
  if (p.tSeconds <= p.t0Seconds) return 1;
  const l = Math.log(p.tSeconds / p.t0Seconds);
  return Math.exp(-p.nuMean * l + 0.5 * p.nuStd * p.nuStd * l * l);
}
