/**
 * IR drop applied to a programmed layer: per tile (each row block × column block of
 * the layer's tile grid), the chip's model turns the tile's cells into their static
 * effective conductances, and the layer's differential matrix G⁺ − G⁻ is replaced by
 * the effective one. With linear cells the network is linear in the word-line
 * drives, so this static matrix gives the exact (or first-order) sense currents for
 * every input pattern; both inference engines read it unchanged.
 */
import type { ChipSpec } from '../chipSpec';
import { tileGrid } from '../tiling';
import { firstOrderEffectiveConductances } from './firstOrder';
import { exactEffectiveConductances } from './nodalSolve';
import { differentialOf, interleavedTile } from './tileNetwork';
import { lineModelEffectiveConductances } from './lineModel';
import { hasIrDrop, irDropModelOf, wireResistanceOf } from './wireConfig';

/** The conductances of a programmed layer, as the IR-drop application needs them. */
export interface LayerConductances {
  readonly fanIn: number;
  readonly fanOut: number;
  readonly chip: ChipSpec;
  /** G⁺, [fanIn × fanOut] row-major, µS. */
  readonly gPlus: ArrayLike<number>;
  /** G⁻, µS. */
  readonly gMinus: ArrayLike<number>;
}

/**
 * The layer's effective G⁺ − G⁻ with the chip's IR drop, [fanIn × fanOut] row-major,
 * µS; null when the chip's wires are ideal (then the effective matrix is G⁺ − G⁻).
 */
export function irDropDifferential(c: LayerConductances): Float64Array | null {
  const { chip, fanIn, fanOut } = c;
  if (!hasIrDrop(chip)) return null;
  const wires = wireResistanceOf(chip);
  const model = irDropModelOf(chip);
  const effective = model === 'exact' ? exactEffectiveConductances : model === 'lines' ? lineModelEffectiveConductances : firstOrderEffectiveConductances;
  const out = new Float64Array(fanIn * fanOut);
  for (const t of tileGrid(fanIn, fanOut, chip.tile).tiles) {
    const tile = interleavedTile(c.gPlus, c.gMinus, fanOut, t.row0, t.rows, t.col0, t.cols);
    const diff = differentialOf(effective(tile, wires), t.rows, t.cols);
    for (let i = 0; i < t.rows; i++) {
      for (let j = 0; j < t.cols; j++) out[(t.row0 + i) * fanOut + t.col0 + j] = diff[i * t.cols + j];
    }
  }
  return out;
}
