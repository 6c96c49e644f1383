/** Stuck-at faults: a fraction of cells ignore programming and sit at gMin or gMax. */
import type { Rng } from '../../rng';

export interface StuckAtParams {
  readonly gMinFraction: number;
  readonly gMaxFraction: number;
  readonly gMinMicroSiemens: number;
  readonly gMaxMicroSiemens: number;
}

/** Apply stuck-at faults in place; returns the number of stuck cells. */
export function applyStuckAt(g: Float32Array, p: StuckAtParams, rng: Rng): number {
  if (p.gMinFraction === 0 && p.gMaxFraction === 0) return 0;
  const u = new Float64Array(g.length);
  rng.fillUniform(u);
  let stuck = 0;
  const lowCut = p.gMinFraction;
  const highCut = p.gMinFraction + p.gMaxFraction;
  for (let i = 0; i < g.length; i++) {
    if (u[i] < lowCut) { g[i] = p.gMinMicroSiemens; stuck++; } else if (u[i] < highCut) { g[i] = p.gMaxMicroSiemens; stuck++; }
  }
  return stuck;
}
