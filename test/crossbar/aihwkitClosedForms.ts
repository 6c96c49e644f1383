/**
 * Reference formulas for the statistical tests, typed out here from the sources
 * independently of src/ (a test that reused the implementation could not catch its
 * bugs). aihwkit v1.1.0, src/aihwkit/inference/noise/pcm.py (PCMLikeNoiseModel),
 * with the line each comes from:
 *
 *   L89      prog_coeff = [0.26348, 1.9650, -1.1731], reference g_max 25 µS
 *   L109–115 sig_prog = (0.26348 + 1.9650·g − 1.1731·g²)·g_max/25 (g = G_T/g_max),
 *            g_prog = g_target + sig_prog·ε, clamped at 0 (L116)
 *   L126     mu_drift = clip(−0.0155·ln g + 0.0244, 0.049, 0.1)
 *   L127     sig_drift = clip(−0.0125·ln g − 0.0059, 0.008, 0.045)
 *   L128     nu = |mu_drift + sig_drift·ε|
 *   L138     t = t_inference + t_0 (t_0 = 20 s; ohmic's readTimeSeconds is this t)
 *   L142     g_drift = g_prog·(t/t_0)^(−nu)
 *   L148     q_s = min(0.2, 0.0088/max((|g_prog|/g_max)^0.65, 1e-3))
 *   L151     sig_noise = q_s·sqrt(ln((t + t_read)/(2·t_read)))  (t_read = 250 ns)
 *   L152     g_final = g_drift + |g_drift|·sig_noise·ε
 *
 * compensation/drift.py L28–38 and base.py L59 (GlobalDriftCompensation): α =
 * mean|y(t0)| / mean|y(t)| over one-hot reads (eye(in_size)). CrossSim v3.2.0
 * RRAM_Wan.py L57: σ_G = 1.536e-4·G³ − 1.167e-2·G² + 0.2374·G + 1.053 (µS).
 * CrossSim v3.2.0 SONOS.py L128 and L293: σ_I = A(1 − e^(−I/B)), A = 19.88665,
 * B = 176.3115 (programming, t = 0), A = 12.58037, B = 215.36557 (read), I in nA.
 */
import { normalCdf } from '../helpers/stats';

export const G_MAX_PCM = 25;

export function aihwkitSigProg(gTarget: number, gMax = G_MAX_PCM): number {
  const g = gTarget / gMax;
  return (0.26348 + 1.965 * g - 1.1731 * g * g) * (gMax / 25);
}

export function aihwkitNuParams(gTarget: number, gMax = G_MAX_PCM): { mu: number; sigma: number } {
  const g = Math.max(gTarget / gMax, 1e-7);
  const clip = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return { mu: clip(-0.0155 * Math.log(g) + 0.0244, 0.049, 0.1), sigma: clip(-0.0125 * Math.log(g) - 0.0059, 0.008, 0.045) };
}

export function aihwkitQs(gProg: number, gMax = G_MAX_PCM): number {
  return Math.min(0.2, 0.0088 / Math.max((Math.abs(gProg) / gMax) ** 0.65, 1e-3));
}

export function aihwkitFlickerLog(tSeconds: number): number {
  const tRead = 250e-9;
  return Math.log((tSeconds + tRead) / (2 * tRead));
}

/** CDF of ν = |X|, X ~ N(μ, σ²). */
export function foldedNormalCdf(mu: number, sigma: number): (x: number) => number {
  return (x) => (x <= 0 ? 0 : normalCdf((x - mu) / sigma) - normalCdf((-x - mu) / sigma));
}

/** E[e^(−k·ν)] for ν = |X|, X ~ N(μ, σ²) (both half-lines of the folded law). */
export function foldedNormalLaplace(mu: number, sigma: number, k: number): number {
  const s2 = sigma * sigma;
  return Math.exp(-k * mu + (k * k * s2) / 2) * normalCdf(mu / sigma - k * sigma) +
    Math.exp(k * mu + (k * k * s2) / 2) * normalCdf(-mu / sigma - k * sigma);
}

/** E[(t/t0)^(−ν)] and E[(t/t0)^(−2ν)] for aihwkit's ν at target G. */
export function driftMoments(gTarget: number, tSeconds: number, t0Seconds = 20): { d1: number; d2: number } {
  const { mu, sigma } = aihwkitNuParams(gTarget);
  const l = Math.log(tSeconds / t0Seconds);
  return { d1: foldedNormalLaplace(mu, sigma, l), d2: foldedNormalLaplace(mu, sigma, 2 * l) };
}

/**
 * E[f(δ)] for δ ~ N(0, σ²) conditioned on |δ| <= h (h = Infinity: untruncated), by
 * composite Simpson on 4000 intervals over [−min(h, 10σ), min(h, 10σ)].
 */
export function expectOverNormal(f: (delta: number) => number, sigma: number, h = Infinity): number {
  const b = Math.min(h, 10 * sigma);
  const n = 4000;
  const dx = (2 * b) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i <= n; i++) {
    const x = -b + i * dx;
    const w = (i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2) * Math.exp(-(x * x) / (2 * sigma * sigma));
    num += w * f(x);
    den += w;
  }
  return num / den;
}

/** Std of N(0, σ²) truncated to [−h, h]: σ·sqrt(1 − 2aφ(a)/(2Φ(a) − 1)), a = h/σ. */
export function truncatedStd(sigma: number, h: number): number {
  const a = h / sigma;
  const phi = Math.exp(-(a * a) / 2) / Math.sqrt(2 * Math.PI);
  return sigma * Math.sqrt(1 - (2 * a * phi) / (2 * normalCdf(a) - 1));
}

export function crossSimWanSigma(g: number): number {
  return Math.max(1.536e-4 * g ** 3 - 1.167e-2 * g ** 2 + 0.2374 * g + 1.053, 0);
}

export function crossSimSonosSigmaNanoAmps(iNanoAmps: number, kind: 'programming' | 'read'): number {
  const [a, b] = kind === 'programming' ? [19.88665, 176.3115] : [12.58037, 215.36557];
  return Math.max(a - a * Math.exp(-iNanoAmps / b), 0);
}
