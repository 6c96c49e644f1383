/**
 * The compile report's wire section: a warning per tile whose worst-case bit-line
 * current exceeds the chip's limit, and a note on how IR drop enters the effective σ.
 */
import type { ProgrammedLayer } from '../crossbar/layerState';
import type { ChipSpec } from '../crossbar/chipSpec';
import { worstBitLineCurrents, DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS, type TileBitLineCurrent } from '../crossbar/irDrop/bitLineCurrent';
import { hasIrDrop, irDropModelOf, wireResistanceOf } from '../crossbar/irDrop/wireConfig';

/**
 * A tile whose worst-case bit-line current is above the chip's limit: the tile's
 * worst bit line as `worstBitLineCurrents` gives it (every input at ±V_read, ideal
 * wires: a bound), and where it is.
 */
export interface BitLineCurrentWarning extends Omit<TileBitLineCurrent, 'exceeds'> {
  readonly kind: 'bitLineCurrent';
  readonly layer: string;
  /** The matrix (conv group) of the layer. */
  readonly group: number;
  /** The bit-slice (most significant first) of a sliced layer; 0 otherwise. */
  readonly slice: number;
  readonly message: string;
}

/** The report's warning kinds (one for now). */
export type ReportWarning = BitLineCurrentWarning;

function amps(micro: number): string {
  return micro >= 1000 ? `${(micro / 1000).toFixed(2)} mA` : `${micro.toFixed(1)} µA`;
}

/** Warnings for every tile of every programmed matrix whose bit line exceeds its chip's limit. */
export function bitLineWarnings(layers: ReadonlyMap<string, readonly ProgrammedLayer[]>): BitLineCurrentWarning[] {
  const out: BitLineCurrentWarning[] = [];
  for (const [name, groups] of layers) {
    groups.forEach((layer, group) => {
      const parts = layer.slices ?? [layer];
      parts.forEach((part, slice) => {
        for (const t of worstBitLineCurrents(part)) {
          if (!t.exceeds) continue;
          const limitSource = part.chip.maxBitLineCurrentMicroAmps === undefined ? `the assumed default ${amps(DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS)}; set chip.maxBitLineCurrentMicroAmps` : 'chip.maxBitLineCurrentMicroAmps';
          const where = `${name}${groups.length > 1 ? ` group ${group}` : ''}${parts.length > 1 ? ` slice ${slice}` : ''}`;
          out.push({
            kind: 'bitLineCurrent', layer: name, group, slice, tile: t.tile, row0: t.row0, col0: t.col0, column: t.column, line: t.line,
            currentMicroAmps: t.currentMicroAmps, limitMicroAmps: t.limitMicroAmps,
            message: `bit-line current over the limit: layer ${where}, tile ${t.tile} (rows from ${t.row0}, columns from ${t.col0}): ${amps(t.currentMicroAmps)} on column ${t.column} (${t.line}) with every input at ±V_read, limit ${amps(t.limitMicroAmps)} (${limitSource})`,
          });
        }
      });
    });
  }
  return out;
}

/**
 * The IR drop's own output error on the report's inputs, accumulated over a layer's
 * matrices: rms(x·ΔW)/rms(x·W) with ΔW the change the wires make to the programmed
 * weights ((effective − cell) G⁺ − G⁻ times the output gain, summed over bit-slices)
 * and W the exact weights. It is part of σ_static (the report's static execution
 * runs the same effective conductances).
 */
export class IrDropSums {
  private err = 0;
  private signal = 0;
  /** Whether any matrix added had resistive wires. */
  active = false;

  /** Adds `rows` input rows `x` ([rows × fanIn]) of one programmed matrix with exact weights `w` ([fanIn × fanOut]). */
  add(layer: ProgrammedLayer, w: ArrayLike<number>, x: ArrayLike<number>, rows: number): void {
    const { fanIn, fanOut } = layer;
    const parts = layer.slices ?? [layer];
    if (!parts.some((p) => hasIrDrop(p.chip))) return;
    this.active = true;
    const delta = new Float64Array(fanIn * fanOut);
    for (const p of parts) {
      for (const rb of p.rowBlocks) {
        for (let i = 0; i < rb.rows; i++) {
          const k0 = (rb.row0 + i) * fanOut;
          for (let j = 0; j < fanOut; j++) {
            delta[k0 + j] += (rb.gDiff[i * fanOut + j] - (p.gPlus[k0 + j] - p.gMinus[k0 + j])) * p.outputScale[j];
          }
        }
      }
    }
    const dy = new Float64Array(fanOut);
    const y = new Float64Array(fanOut);
    for (let r = 0; r < rows; r++) {
      dy.fill(0);
      y.fill(0);
      for (let i = 0; i < fanIn; i++) {
        const v = x[r * fanIn + i];
        if (v === 0) continue;
        const k0 = i * fanOut;
        for (let j = 0; j < fanOut; j++) {
          dy[j] += v * delta[k0 + j];
          y[j] += v * w[k0 + j];
        }
      }
      for (let j = 0; j < fanOut; j++) {
        this.err += dy[j] * dy[j];
        this.signal += y[j] * y[j];
      }
    }
  }

  /** rms(x·ΔW)/rms(x·W), or undefined when no matrix had resistive wires. */
  sigma(): number | undefined {
    if (!this.active) return undefined;
    return this.signal > 0 ? Math.sqrt(this.err / this.signal) : 0;
  }
}

/**
 * The report's note on IR drop, or null when no chip of the model has resistive
 * wires; `layerSigmas` (layer → its {@link IrDropSums} σ) are quoted in it.
 */
export function irDropNote(chips: readonly ChipSpec[], layerSigmas: readonly { readonly name: string; readonly sigma: number }[] = []): string | null {
  const wired = chips.filter(hasIrDrop);
  if (wired.length === 0) return null;
  const kinds = [...new Set(wired.map((c) => {
    const w = wireResistanceOf(c);
    return `r_wl = ${w.wordLineOhmPerCell} Ω, r_bl = ${w.bitLineOhmPerCell} Ω per cell (${irDropModelOf(c)} model)`;
  }))];
  return (
    `IR drop: ${kinds.join('; ')}, applied to every tile's programmed conductances (G⁺/G⁻ on interleaved bit lines, drivers and sense amplifiers at one end each: assumed layout). ` +
    'With linear cells it is static and independent of the input pattern: a deterministic gain error per column (largest far from the drivers and sense amplifiers) that is the same on every pass of a chip. ' +
    'It enters the effective σ measured on data as a systematic component: in σ_static and the systematic gain, not in σ_dynamic; votes over passes cannot average it' +
    (layerSigmas.length ? ` (its own part on these inputs, rms of the output change over rms y: ${layerSigmas.map((l) => `${l.name} ${l.sigma.toFixed(4)}`).join(', ')})` : '') +
    '. ' +
    'Worst-case ADC ranges, read-noise variances and read energy use the cells without the wires; ranges calibrated on data see the drop.'
  );
}
