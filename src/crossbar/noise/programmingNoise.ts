/**
 * Programming noise: static, drawn once per `program(seed)`. Multiplicative per cell
 * plus a state-independent term, G = G_t·(1 + σ_rel·ε₁) + σ_add·ε₂, then clipped to
 * [0, gMax] because a conductance cannot be negative and the cell saturates; the
 * clipped cells are counted, not hidden.
 */
import type { Rng } from '../../rng';

export interface ProgrammingNoiseParams {
  readonly relStd: number;
  readonly addMicroSiemens: number;
  readonly gMaxMicroSiemens: number;
}

/** Apply programming noise in place; returns how many cells were clipped. */
export function applyProgrammingNoise(g: Float32Array, p: ProgrammingNoiseParams, rng: Rng): number {
  if (p.relStd === 0 && p.addMicroSiemens === 0) return 0;
  const e1 = new Float32Array(g.length);
  const e2 = new Float32Array(g.length);
  rng.fold('multiplicative').fillNormal(e1);
  rng.fold('additive').fillNormal(e2);
  let clipped = 0;
  for (let i = 0; i < g.length; i++) {
    let v = g[i] * (1 + p.relStd * e1[i]) + p.addMicroSiemens * e2[i];
    if (v < 0) { v = 0; clipped++; } else if (v > p.gMaxMicroSiemens) { v = p.gMaxMicroSiemens; clipped++; }
    g[i] = v;
  }
  return clipped;
}
