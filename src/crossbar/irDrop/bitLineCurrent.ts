/**
 * The worst-case bit-line current of each tile, against a limit.
 *
 * Worst case: every word line of the tile driven at V_read with one sign, so a bit
 * line carries V_read·Σ_i G(i,c) (its cells' currents add; G⁺ and G⁻ run on separate
 * bit lines, layout in tileNetwork.ts, and are subtracted only after sensing). Taken
 * on the ideal wires: IR drop only lowers it, so this is a bound.
 *
 * The default limit, {@link DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS} = 1 mA, is
 * `assumed`: no source at hand gives a sense-amplifier input range or a pulsed-read
 * electromigration rule for these arrays. For scale (also assumed, not from a cited
 * table): a Cu line of DNN+NeuroSim V1.3's default 40 nm wire (40 nm × 76 nm, AR = 1.90) at a DC
 * design current density of ~1 MA/cm² carries ~30 µA; short read pulses at low duty
 * cycle tolerate more. A chip sets its own with `maxBitLineCurrentMicroAmps`.
 */
import type { ChipSpec } from '../chipSpec';
import { tileGrid } from '../tiling';
import type { LayerConductances } from './tileApplication';

/** Assumed limit of one bit line's current, µA (see the module comment). */
export const DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS = 1000;

/** One tile's worst bit line. */
export interface TileBitLineCurrent {
  /** Index of the tile in the layer's grid (row-block-major, see `tileGrid`). */
  readonly tile: number;
  readonly row0: number;
  readonly col0: number;
  /** The weight column (of the layer) whose bit line is the worst. */
  readonly column: number;
  /** Which cell of the pair that bit line carries. */
  readonly line: 'G+' | 'G-';
  /** V_read·Σ_i G(i,c) on that bit line, µA. */
  readonly currentMicroAmps: number;
  /** The chip's limit, µA. */
  readonly limitMicroAmps: number;
  readonly exceeds: boolean;
}

/** The chip's bit-line current limit, µA. */
export function bitLineCurrentLimit(chip: ChipSpec): number {
  return chip.maxBitLineCurrentMicroAmps ?? DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS;
}

/** Per tile of the layer, its worst-case bit-line current and whether it exceeds the chip's limit. */
export function worstBitLineCurrents(c: LayerConductances): TileBitLineCurrent[] {
  const { chip, fanIn, fanOut } = c;
  const v = chip.device.readVoltageVolts;
  const limit = bitLineCurrentLimit(chip);
  const plus = new Float64Array(fanOut);
  const minus = new Float64Array(fanOut);
  const grid = tileGrid(fanIn, fanOut, chip.tile);
  return grid.tiles.map((t, index) => {
    plus.fill(0);
    minus.fill(0);
    for (let i = t.row0; i < t.row0 + t.rows; i++) {
      for (let j = t.col0; j < t.col0 + t.cols; j++) {
        plus[j] += c.gPlus[i * fanOut + j];
        minus[j] += c.gMinus[i * fanOut + j];
      }
    }
    let worst = -1;
    let column = t.col0;
    let line: 'G+' | 'G-' = 'G+';
    for (let j = t.col0; j < t.col0 + t.cols; j++) {
      if (plus[j] > worst) [worst, column, line] = [plus[j], j, 'G+'];
      if (minus[j] > worst) [worst, column, line] = [minus[j], j, 'G-'];
    }
    const current = worst * v;
    return { tile: index, row0: t.row0, col0: t.col0, column, line, currentMicroAmps: current, limitMicroAmps: limit, exceeds: current > limit };
  });
}
