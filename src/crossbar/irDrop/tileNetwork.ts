/**
 * The resistive network of one crossbar tile, as the IR-drop models see it.
 *
 * Layout (assumed; ohmic has no layout data for the presets' chips):
 * - a tile of `rows` word lines and `cols` weight columns holds each differential
 *   weight as two cells in interleaved bit lines on the same word line: physical bit
 *   line 2j carries G⁺ of weight column j, 2j + 1 its G⁻ (so a word line crosses
 *   2·cols cells). The periphery subtracts the two bit lines' currents after sensing.
 * - each word line is driven by its DAC at the left end (before physical bit line 0);
 *   each bit line is held at virtual ground by its sense amplifier at the bottom end
 *   (after word line rows − 1). The cell farthest from both is (row 0, last bit line).
 * - one wire segment per cell pitch, including the segment from the driver to the
 *   first cell and from the last cell to the sense amplifier: a 1×1 tile is the
 *   series circuit r_wl + 1/G + r_bl.
 * - the cells are linear conductances (no selector or I–V non-linearity: 1T1R cells
 *   with their access transistor on are taken as linear resistors); every path
 *   through them, sneak paths included, is in the network.
 * - a partial tile (a layer's last row or column block) is modelled as its occupied
 *   corner next to the drivers and sense amplifiers; unused cells are taken as open.
 */
import { ConfigError, ShapeError } from '../../errors';

/** Wire resistance per cell pitch, Ω; 0 makes that line ideal (no drop). */
export interface WireResistance {
  /** Word-line segment between neighbouring cells (and from the driver to the first cell), Ω. */
  readonly wordLineOhmPerCell: number;
  /** Bit-line segment between neighbouring cells (and from the last cell to the sense amplifier), Ω. */
  readonly bitLineOhmPerCell: number;
}

/** One tile's cells on physical bit lines: conductance[i·bitLines + c], µS. */
export interface CrossbarTile {
  /** Word lines. */
  readonly rows: number;
  /** Physical bit lines (two per differential weight column). */
  readonly bitLines: number;
  /** Cell conductances, [rows × bitLines] row-major, µS (>= 0). */
  readonly conductanceMicroSiemens: Float64Array;
}

/** Checks a tile's shape and values. */
export function checkTile(tile: CrossbarTile): void {
  const { rows, bitLines, conductanceMicroSiemens: g } = tile;
  if (!(Number.isSafeInteger(rows) && rows >= 1 && Number.isSafeInteger(bitLines) && bitLines >= 1)) {
    throw new ShapeError(`crossbar tile: shape [${rows}, ${bitLines}] must be positive integers`);
  }
  if (g.length !== rows * bitLines) throw new ShapeError(`crossbar tile: ${g.length} conductances do not fill [${rows}, ${bitLines}]`);
  for (let k = 0; k < g.length; k++) {
    if (!(g[k] >= 0 && Number.isFinite(g[k]))) {
      throw new ShapeError(`crossbar tile: conductance ${g[k]} at [${Math.floor(k / bitLines)}, ${k % bitLines}] is not finite and >= 0`);
    }
  }
}

/** Checks wire resistances: finite and >= 0. */
export function checkWires(w: WireResistance, field = 'wireResistanceOhmPerCell'): void {
  if (!(Number.isFinite(w.wordLineOhmPerCell) && w.wordLineOhmPerCell >= 0)) throw new ConfigError(`${field}.wordLine`, w.wordLineOhmPerCell, 'a finite resistance >= 0, Ω per cell');
  if (!(Number.isFinite(w.bitLineOhmPerCell) && w.bitLineOhmPerCell >= 0)) throw new ConfigError(`${field}.bitLine`, w.bitLineOhmPerCell, 'a finite resistance >= 0, Ω per cell');
}

/**
 * The tile holding rows [row0, row0 + rows) and weight columns [col0, col0 + cols)
 * of a layer's G⁺/G⁻ ([fanIn × fanOut] row-major, µS), in the interleaved layout.
 */
export function interleavedTile(
  gPlus: ArrayLike<number>, gMinus: ArrayLike<number>, fanOut: number,
  row0: number, rows: number, col0: number, cols: number,
): CrossbarTile {
  const bitLines = 2 * cols;
  const g = new Float64Array(rows * bitLines);
  for (let i = 0; i < rows; i++) {
    const src = (row0 + i) * fanOut + col0;
    const dst = i * bitLines;
    for (let j = 0; j < cols; j++) {
      g[dst + 2 * j] = gPlus[src + j];
      g[dst + 2 * j + 1] = gMinus[src + j];
    }
  }
  return { rows, bitLines, conductanceMicroSiemens: g };
}

/** Per weight column, the effective G⁺ − G⁻ of an interleaved [rows × 2·cols] matrix: [rows × cols]. */
export function differentialOf(effective: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = effective[i * 2 * cols + 2 * j] - effective[i * 2 * cols + 2 * j + 1];
  }
  return out;
}

/** Ideal bit-line currents Σ_i G_ic·v_i, µA (v in V, G in µS). */
export function idealCurrents(tile: CrossbarTile, inputVolts: ArrayLike<number>): Float64Array {
  const { rows, bitLines, conductanceMicroSiemens: g } = tile;
  const out = new Float64Array(bitLines);
  for (let i = 0; i < rows; i++) {
    const v = inputVolts[i];
    if (v === 0) continue;
    for (let c = 0; c < bitLines; c++) out[c] += g[i * bitLines + c] * v;
  }
  return out;
}

/** Currents v·M for an effective conductance matrix M [rows × bitLines] (µA). */
export function currentsThrough(effective: Float64Array, rows: number, bitLines: number, inputVolts: ArrayLike<number>): Float64Array {
  return idealCurrents({ rows, bitLines, conductanceMicroSiemens: effective }, inputVolts);
}
