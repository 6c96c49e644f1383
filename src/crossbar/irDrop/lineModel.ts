/**
 * Fast IR drop beyond first order: each line solved exactly on its own, the two
 * attenuations combined as a product (layout in tileNetwork.ts).
 *
 * - Word line i with its bit lines taken as ideal (at 0 V) is one tridiagonal system
 *   (nodal equations of nodalSolve.ts without the B nodes): for the drive v_i it gives
 *   W(i,c) = a(i,c)·v_i, a = g_w·(A_W⁻¹)[:, 0], exactly — the drop's effect on the
 *   currents that cause it included, which is what first order leaves out.
 * - Bit line c with its word lines taken as ideal (at v_i) is one tridiagonal system
 *   A_B·B = G∘v, and the sense current g_b·B(R−1) = Σ_i v_i·G(i,c)·h(i,c) with
 *   h = g_b·(A_B⁻¹)[R−1, :] (A_B is symmetric: one solve with a unit source at the
 *   sense end gives the whole row).
 * - Combined: M(i,c) = G(i,c)·a(i,c)·h(i,c). Exact when either line is ideal; with
 *   both resistive it neglects the interaction of the two drops (the bit-line rise
 *   seen by the word line and vice versa), of order ε_wl·ε_bl. To first order in r,
 *   a ≈ 1 − C_wl/G and h ≈ 1 − C_bl/G, so M agrees with the first-order model there.
 *
 * Cost: one tridiagonal solve per word line and per bit line, O(rows·bitLines), like
 * first order. Input-independent: a static matrix like the other models.
 */
import { checkTile, checkWires, type CrossbarTile, type WireResistance } from './tileNetwork';

const MICRO_SIEMENS_PER_SIEMENS = 1e6;

/** x = T⁻¹·y for the tridiagonal T with diagonal d (length n, stride s in the arrays) and off-diagonal −a. */
function thomas(d: Float64Array, y: Float64Array, a: number, base: number, n: number, s: number, cp: Float64Array): void {
  let prevCp = 0;
  let prevY = 0;
  for (let k = 0; k < n; k++) {
    const idx = base + k * s;
    const pivot = d[idx] + (k > 0 ? a * prevCp : 0);
    prevCp = -a / pivot;
    cp[k] = prevCp;
    prevY = (y[idx] + (k > 0 ? a * prevY : 0)) / pivot;
    y[idx] = prevY;
  }
  for (let k = n - 2; k >= 0; k--) y[base + k * s] -= cp[k] * y[base + (k + 1) * s];
}

/** The line model's effective conductances G∘a∘h of a tile, [rows × bitLines], µS. */
export function lineModelEffectiveConductances(tile: CrossbarTile, wires: WireResistance): Float64Array {
  checkTile(tile);
  checkWires(wires);
  const R = tile.rows;
  const C = tile.bitLines;
  const g = tile.conductanceMicroSiemens;
  const out = Float64Array.from(g);
  const cp = new Float64Array(Math.max(R, C));
  if (wires.wordLineOhmPerCell > 0) {
    const gw = MICRO_SIEMENS_PER_SIEMENS / wires.wordLineOhmPerCell;
    const d = new Float64Array(R * C);
    const a = new Float64Array(R * C);
    for (let i = 0; i < R; i++) {
      for (let c = 0; c < C; c++) d[i * C + c] = gw * (c < C - 1 ? 2 : 1) + g[i * C + c];
      a[i * C] = gw; // the unit drive through the first segment
      thomas(d, a, gw, i * C, C, 1, cp);
    }
    for (let k = 0; k < R * C; k++) out[k] *= a[k];
  }
  if (wires.bitLineOhmPerCell > 0) {
    const gb = MICRO_SIEMENS_PER_SIEMENS / wires.bitLineOhmPerCell;
    const d = new Float64Array(R * C);
    const h = new Float64Array(R * C);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < R; i++) d[i * C + c] = gb * (i > 0 ? 2 : 1) + g[i * C + c];
      h[(R - 1) * C + c] = gb; // unit source at the sense end (A_B symmetric)
      thomas(d, h, gb, c, R, C, cp);
    }
    for (let k = 0; k < R * C; k++) out[k] *= h[k];
  }
  return out;
}
