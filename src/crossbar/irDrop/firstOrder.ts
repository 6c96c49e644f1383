/**
 * Fast IR drop: the first-order perturbation of the ideal crossbar currents, as a
 * static corrected conductance matrix (layout and sign conventions in tileNetwork.ts).
 *
 * Derivation. Ideal: every word-line node sits at its drive, W(i,c) = v_i, every
 * bit-line node at the virtual ground, B(i,c) = 0, and cell (i,c) passes
 * I(i,c) = G(i,c)·v_i. To first order in the wire resistances, take those ideal
 * currents as the currents the wires carry:
 *
 * - Word line i, segment k (k = 0 from the driver to cell 0, k from cell k−1 to k)
 *   carries the currents of every cell beyond it, Σ_{c' >= k} I(i,c'). The voltage at
 *   cell c is the drive minus the drops of segments 0..c:
 *     W(i,c) = v_i − r_wl·Σ_{k=0..c} Σ_{c'>=k} G(i,c')·v_i = v_i·(1 − r_wl·Σ_{c'} G(i,c')·(min(c,c') + 1)).
 * - Bit line c, segment k (from cell k to k+1, k = R−1 into the sense amplifier)
 *   carries the currents of every cell upstream of it, Σ_{i' <= k} I(i',c). The
 *   voltage at cell i is the rise over segments i..R−1:
 *     B(i,c) = r_bl·Σ_{k=i..R−1} Σ_{i'<=k} G(i',c)·v_{i'} = r_bl·Σ_{i'} G(i',c)·v_{i'}·(R − max(i,i')).
 *
 * The sense current of bit line c is the sum of its cells' currents (Kirchhoff at the
 * bit line), y_c = Σ_i G(i,c)·(W(i,c) − B(i,c)). Inserting both and exchanging the
 * sums over i and i' in the bit-line term (the summand is symmetric in max(i,i')):
 *     y_c = Σ_i v_i·(G(i,c) − C_wl(i,c) − C_bl(i,c)),
 *     C_wl(i,c) = r_wl·G(i,c)·Σ_{c'} G(i,c')·(min(c,c') + 1),
 *     C_bl(i,c) = r_bl·G(i,c)·Σ_{i'} G(i',c)·(R − max(i,i')).
 * Both corrections are independent of the inputs: the first-order chip is the static
 * matrix G − C_wl − C_bl. Each sum splits at the current cell into a prefix and a
 * suffix sum,
 *     Σ_{c'} G(i,c')·(min(c,c') + 1) = Σ_{c'<=c} (c'+1)·G(i,c') + (c+1)·Σ_{c'>c} G(i,c'),
 *     Σ_{i'} G(i',c)·(R − max(i,i')) = (R − i)·Σ_{i'<=i} G(i',c) + Σ_{i'>i} (R − i')·G(i',c),
 * so the whole matrix costs O(rows·bitLines). Neglected: the drop's effect on the
 * currents that cause it (second order in r·G·n²), so the model overstates the drop.
 * Measured (bench/irdrop.bench.ts): its error relative to the exact drop is close to
 * ε = r·Ḡ·(2·cols)²/2, the far-end first-order drop of a word line at the mean cell
 * conductance: within 10 % only while ε <= 0.1.
 *
 * Units: r in Ω, G in µS: r·G carries a factor 10⁻⁶.
 */
import { checkTile, checkWires, type CrossbarTile, type WireResistance } from './tileNetwork';

const SIEMENS_PER_MICRO_SIEMENS = 1e-6;

/** The first-order effective conductances G − C_wl − C_bl of a tile, [rows × bitLines], µS. */
export function firstOrderEffectiveConductances(tile: CrossbarTile, wires: WireResistance): Float64Array {
  checkTile(tile);
  checkWires(wires);
  const R = tile.rows;
  const C = tile.bitLines;
  const g = tile.conductanceMicroSiemens;
  const out = Float64Array.from(g);
  const rw = wires.wordLineOhmPerCell * SIEMENS_PER_MICRO_SIEMENS;
  const rb = wires.bitLineOhmPerCell * SIEMENS_PER_MICRO_SIEMENS;
  if (rw > 0) {
    const suffix = new Float64Array(C + 1);
    for (let i = 0; i < R; i++) {
      const row = i * C;
      suffix[C] = 0;
      for (let c = C - 1; c >= 0; c--) suffix[c] = suffix[c + 1] + g[row + c];
      let weighted = 0;
      for (let c = 0; c < C; c++) {
        weighted += (c + 1) * g[row + c];
        out[row + c] -= rw * g[row + c] * (weighted + (c + 1) * suffix[c + 1]);
      }
    }
  }
  if (rb > 0) {
    const suffix = new Float64Array(R + 1);
    for (let c = 0; c < C; c++) {
      suffix[R] = 0;
      for (let i = R - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + (R - i) * g[i * C + c];
      let prefix = 0;
      for (let i = 0; i < R; i++) {
        const k = i * C + c;
        prefix += g[k];
        out[k] -= rb * g[k] * ((R - i) * prefix + suffix[i + 1]);
      }
    }
  }
  return out;
}
