/**
 * The chip fields of the wire model: `wireResistanceOhmPerCell`, `irDrop` and
 * `maxBitLineCurrentMicroAmps`, parsed from a raw chip description.
 *
 * Realistic wire resistance (cited): DNN+NeuroSim V1.3, Inference_pytorch/NeuroSIM/
 * Param.cpp (neurosim/DNN_NeuroSim_V1.3 @ 4921f4c), its defaults: technode 22 with
 * wireWidth = 40 (nm), for which AR = 1.90 and Rho = 4.03e-8 Ω·m at temp = 300 K, so
 * unitLengthWireResistance = Rho/(w²·AR) = 13.3 Ω/µm; over its 1T1R cell
 * (heightInFeatureSize1T1R = 4, widthInFeatureSize1T1R = 12) wireResistanceRow =
 * 13.3 Ω/µm × 4·40 nm = 2.1 Ω and wireResistanceCol = 13.3 Ω/µm × 12·40 nm = 6.4 Ω per
 * cell. Which of the two a word line or a bit line crosses depends on the layout;
 * ohmic has no default: 0 (ideal wires) unless a chip sets it.
 */
import { ConfigError } from '../../errors';
import type { WireResistance } from './tileNetwork';

/**
 * The IR-drop model a chip uses (all give a static effective conductance matrix):
 * - `firstOrder` (the default): the O(cells) perturbation of the ideal currents
 *   (firstOrder.ts); its error relative to the exact drop is about
 *   ε = r·Ḡ·(2·cols)²/2, so it is within 10 % only while ε <= 0.1;
 * - `lines`: each word and bit line solved exactly on its own, the attenuations
 *   multiplied (lineModel.ts), also O(cells): within 5 % of the exact drop on every
 *   case of bench/irdrop.bench.ts (ε up to ~16);
 * - `exact`: the nodal solve of the whole tile per word line (nodalSolve.ts), for
 *   tiles up to {@link EXACT_IR_DROP_MAX_TILE_CELLS} cell pairs.
 */
export type IrDropModel = 'firstOrder' | 'lines' | 'exact';
export const IR_DROP_MODELS: readonly IrDropModel[] = ['firstOrder', 'lines', 'exact'];
/** The model a chip with resistive wires uses when it names none: the per-line solve, as fast as first order and within 10 % of the nodal solve where first order is not (bench/irdrop.bench.ts). */
export const DEFAULT_IR_DROP_MODEL: IrDropModel = 'lines';

/** A chip's wire resistance per cell pitch, Ω, per line kind. */
export interface WireResistanceOhmPerCell {
  readonly wordLine: number;
  readonly bitLine: number;
}

/**
 * Largest tile (word lines × weight columns) the exact model accepts: it costs one
 * nodal solve per word line per tile, measured 0.3–0.6 s for a 64×64 tile (128 bit
 * lines) and 3.4 s for 128×128 (bench/irdrop.bench.ts, one shared core); 256×256
 * would take ~256 × 0.1–0.2 s per tile, every time a chip is programmed or loaded.
 */
export const EXACT_IR_DROP_MAX_TILE_CELLS = 64 * 64;

/** The chip fields this module parses (added to the chip's known keys). */
export const WIRE_FIELDS = ['wireResistanceOhmPerCell', 'irDrop', 'maxBitLineCurrentMicroAmps'] as const;

/** The parsed fields; each present only where the raw chip set it. */
export interface WireFields {
  readonly wireResistanceOhmPerCell?: WireResistanceOhmPerCell;
  readonly irDrop?: IrDropModel;
  readonly maxBitLineCurrentMicroAmps?: number;
}

function resistance(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new ConfigError(field, value, 'a resistance >= 0 in Ω per cell pitch (0: ideal wire)');
}

/**
 * Parse the wire fields of `raw` (a chip object). `tileCells` (word lines × weight
 * columns per tile) bounds the exact model.
 * @throws ConfigError for a bad value or an exact model on too large a tile.
 */
export function parseWireFields(raw: Record<string, unknown>, prefix: string, tileCells: number): WireFields {
  const out: { -readonly [K in keyof WireFields]: WireFields[K] } = {};
  const w = raw.wireResistanceOhmPerCell;
  if (w !== undefined) {
    const field = `${prefix}.wireResistanceOhmPerCell`;
    if (typeof w === 'object' && w !== null && !Array.isArray(w)) {
      const o = w as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        if (key !== 'wordLine' && key !== 'bitLine') throw new ConfigError(`${field}.${key}`, o[key], 'one of the known fields: wordLine, bitLine');
      }
      out.wireResistanceOhmPerCell = { wordLine: resistance(o.wordLine ?? 0, `${field}.wordLine`), bitLine: resistance(o.bitLine ?? 0, `${field}.bitLine`) };
    } else {
      const r = resistance(w, field);
      out.wireResistanceOhmPerCell = { wordLine: r, bitLine: r };
    }
  }
  if (raw.irDrop !== undefined) {
    const m = raw.irDrop;
    if (!(IR_DROP_MODELS as readonly unknown[]).includes(m)) throw new ConfigError(`${prefix}.irDrop`, m, '"firstOrder", "lines" or "exact"');
    if (m === 'exact' && tileCells > EXACT_IR_DROP_MAX_TILE_CELLS) {
      throw new ConfigError(
        `${prefix}.irDrop`, m,
        `"firstOrder" or "lines" for tiles over ${EXACT_IR_DROP_MAX_TILE_CELLS} cell pairs (this tile has ${tileCells}): the exact model solves the tile's network once per word line`,
      );
    }
    out.irDrop = m as IrDropModel;
  }
  if (raw.maxBitLineCurrentMicroAmps !== undefined) {
    const v = raw.maxBitLineCurrentMicroAmps;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(`${prefix}.maxBitLineCurrentMicroAmps`, v, 'a current > 0 in µA');
    out.maxBitLineCurrentMicroAmps = v;
  }
  return out;
}

/** The chip's wires as the IR-drop models take them (0 Ω when unset). */
export function wireResistanceOf(chip: WireFields): WireResistance {
  const w = chip.wireResistanceOhmPerCell;
  return { wordLineOhmPerCell: w?.wordLine ?? 0, bitLineOhmPerCell: w?.bitLine ?? 0 };
}

/** The chip's IR-drop model ({@link DEFAULT_IR_DROP_MODEL} when unset). */
export function irDropModelOf(chip: WireFields): IrDropModel {
  return chip.irDrop ?? DEFAULT_IR_DROP_MODEL;
}

/** Whether the chip's wires drop any voltage. */
export function hasIrDrop(chip: WireFields): boolean {
  const w = wireResistanceOf(chip);
  return w.wordLineOhmPerCell > 0 || w.bitLineOhmPerCell > 0;
}
