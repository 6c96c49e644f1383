/**
 * Stuck-at faults: a fraction of cells ignore programming and sit at gMin or gMax.
 * A stuck cell takes no programming noise and no drift (it is not a programmed
 * state); it is still read, so read noise applies to it.
 */
import type { Rng } from '../../rng';

export interface StuckAtParams {
  readonly gMinFraction: number;
  readonly gMaxFraction: number;
  readonly gMinMicroSiemens: number;
  readonly gMaxMicroSiemens: number;
}

/**
 * Apply stuck-at faults in place; returns the number of stuck cells.
 * @param mask when given, set to 1 at every stuck cell (other entries untouched).
 */
export function applyStuckAt(g: Float32Array, p: StuckAtParams, rng: Rng, mask?: Uint8Array): number {
  if (p.gMinFraction === 0 && p.gMaxFraction === 0) return 0;
  const u = new Float64Array(g.length);
  rng.fillUniform(u);
  let stuck = 0;
  const lowCut = p.gMinFraction;
  const highCut = p.gMinFraction + p.gMaxFraction;
  for (let i = 0; i < g.length; i++) {
    if (u[i] >= highCut) continue;
    g[i] = u[i] < lowCut ? p.gMinMicroSiemens : p.gMaxMicroSiemens;
    if (mask) mask[i] = 1;
    stuck++;
  }
  return stuck;
}
