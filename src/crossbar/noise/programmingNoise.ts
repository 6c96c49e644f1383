/**
 * Programming noise: static, drawn once per `program(seed)`. Each cell lands at
 * G = G_T + δ, δ Gaussian with the device law's std σ(G_T) (see deviceModels.ts and
 * `programmingStd`), kept physical by the device's `programmingClip`:
 *
 * - `symmetricTruncation` (default): δ is conditioned on |δ| <= min(G_T − gMin,
 *   gMax − G_T). The result is always in [gMin, gMax], and the law is symmetric
 *   about G_T, so E[G] = G_T exactly for every target in the window, including the
 *   largest weights at gMax that plain clipping shrinks (by 1.3–2 % for ReRAM at
 *   5 % spread). What this costs, and states instead of hiding: the spread of a
 *   target closer than ~3σ to an edge is smaller than the law's, std =
 *   σ·sqrt(1 − 2aφ(a)/(2Φ(a) − 1)) with a = distance/σ (98.7 % of σ at a = 3,
 *   88 % at a = 2, none at the edge itself: a cell at gMin or gMax is set exactly).
 * - `clampAtZero`: G = max(0, G_T + δ), unbounded above, as aihwkit and CrossSim do,
 *   to reproduce their numbers (biased upward near 0).
 *
 * Cells marked in `skip` (stuck at a rail, or in a column the mapping leaves
 * unprogrammed) keep their value. Cells whose first draw left the window are
 * counted (truncated or clamped), not hidden.
 */
import type { Rng } from '../../rng';
import type { DeviceSpec, ProgrammingClip } from '../deviceSpec';
import { pcmProgrammingStd, reramNeurramProgrammingStd, sonosProgrammingStd } from './deviceModels';
import { symmetricTruncatedNormal } from './truncatedNormal';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

export interface ProgrammingWindow {
  readonly gMinMicroSiemens: number;
  readonly gMaxMicroSiemens: number;
  readonly clip: ProgrammingClip;
}

/**
 * The programming-noise std of a cell with target G_T, µS: the device model's law
 * and the generic terms σ_rel·G_T and σ_add, in quadrature.
 */
export function programmingStd(d: DeviceSpec, gTarget: number): number {
  let model = 0;
  switch (d.noiseModel) {
    case 'generic': model = 0; break;
    case 'pcmAihwkit': model = pcmProgrammingStd(gTarget, d.gMaxMicroSiemens); break;
    case 'reramNeurramCrossSim': model = reramNeurramProgrammingStd(gTarget); break;
    case 'sonosCrossSim': model = sonosProgrammingStd(gTarget, d.readVoltageVolts); break;
    default: {
      const never: never = d.noiseModel;
      throw new Error(`unknown noise model ${never as string}`);
    }
  }
  const rel = d.programmingNoiseRelStd * gTarget;
  const add = d.programmingNoiseAddMicroSiemens;
  return math.sqrt(model * model + rel * rel + add * add);
}

/**
 * Apply programming noise in place: cell i gets std `stdOf(g[i])` (its target).
 * @param skip cells to leave as they are (non-zero entries), e.g. stuck cells.
 * @returns how many cells' first draw fell outside the window (redrawn inside it, or
 *   clamped at 0); cells on an edge, set exactly under `symmetricTruncation`, are not counted.
 */
export function applyProgrammingNoise(
  g: Float32Array,
  stdOf: (gTarget: number) => number,
  window: ProgrammingWindow,
  rng: Rng,
  skip?: Uint8Array,
): number {
  const z = new Float64Array(g.length);
  rng.fold('normal').fillNormal(z);
  const redraw = rng.fold('truncation');
  const { gMinMicroSiemens: lo, gMaxMicroSiemens: hi } = window;
  let outside = 0;
  for (let i = 0; i < g.length; i++) {
    if (skip && skip[i]) continue;
    const target = g[i];
    const sigma = stdOf(target);
    if (sigma === 0) continue;
    if (window.clip === 'clampAtZero') {
      const v = target + sigma * z[i];
      if (v < 0) outside++;
      g[i] = v < 0 ? 0 : v;
    } else {
      // Targets outside the window (never produced by the mapping) are first put on its edge.
      const t = target < lo ? lo : target > hi ? hi : target;
      const halfWidth = math.min(t - lo, hi - t);
      if (halfWidth <= 0) {
        g[i] = t; // a target on an edge is set exactly: no in-window law keeps its mean otherwise
        continue;
      }
      const { delta, redrawn } = symmetricTruncatedNormal(sigma, halfWidth, z[i], redraw);
      if (redrawn) outside++;
      g[i] = t + delta;
    }
  }
  return outside;
}
