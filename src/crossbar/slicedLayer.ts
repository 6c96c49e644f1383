/**
 * A bit-sliced programmed layer: k programmed layers of the weights' digits (see
 * `slicing.ts` for the arithmetic), one per slice, plus the digital combine. Each
 * slice is an ordinary programmed layer (own tiles, programming noise, drift, stuck
 * cells, read noise, ADC ranges, file entry), so the MVM, the converters and both
 * engines' lowering are reused; the shift 2^{b(k−1−s)} and the layer's weight scale
 * are folded into the slice's digital output gain (`weightPerMicroSiemens`), so the
 * layer's output is the sum of the slices' outputs: Σ_s 2^{b(k−1−s)}·y_s·scale/(2^{kb} − 1).
 *
 * Conductance of a digit: d/(2^b − 1) of the device window above gMin, on G⁺ for a
 * positive weight and G⁻ for a negative one (the other cell at gMin): the largest
 * digit takes the full window, as the largest |W| does on one analog pair.
 */
import type { Rng } from '../rng';
import type { ChipSpec } from './chipSpec';
import { columnAbsMax, type WeightMatrix } from './mapping';
import type { ProgrammedConductances } from './programmedLayer';
import { drawProgrammedConductances } from './noise/staticDraw';
import { layerFromConductances, type ProgrammedLayer } from './layerState';
import { slicingOf, sliceShift, weightDigits } from './slicing';


/** The weight scale per column the slices' digits are taken of: the mapping's own (see {@link columnAbsMax}). */
export const sliceWeightScale = columnAbsMax;

/**
 * Program the conductances of every slice of `weights` (checked) on `chip` (whose
 * `slicing` has bits): slice s is drawn from `rng.fold('slice').fold(s)`, so its
 * static noise does not depend on the other slices. With one cell per weight the
 * single slice is drawn from `rng` itself (a quantised single pair).
 */
export function drawSliceConductances(weights: WeightMatrix, chip: ChipSpec, rng: Rng): ProgrammedConductances[] {
  const { cellsPerWeight: k, bitsPerCell } = slicingOf(chip);
  const b = bitsPerCell!;
  const { fanIn, fanOut } = weights;
  const window = chip.device.gMaxMicroSiemens - chip.device.gMinMicroSiemens;
  const scale = sliceWeightScale(weights, chip.mapping.weightScale === 'column');
  const digits = weightDigits(weights.data, fanOut, scale, k, b);
  const digitMax = 2 ** b - 1;
  const top = 2 ** (k * b) - 1;
  // Every used column maps digit 2^b − 1 to the full window, whichever digits occur in it.
  const digitScale = Float64Array.from(scale, (s) => (s > 0 ? digitMax : 0));
  return digits.map((data, s) => {
    const c = drawProgrammedConductances({ data, fanIn, fanOut }, chip, k === 1 ? rng : rng.fold('slice').fold(s), digitScale);
    // Digits per µS (2^b − 1 over the window) × the slice's shift × weight per LSB of the k·b-bit code.
    const shift = sliceShift(s, k, b);
    const weightPerMicroSiemens = Float64Array.from(scale, (sc) => (sc > 0 ? ((digitMax / window) * shift * sc) / top : 0));
    return { ...c, weightPerMicroSiemens };
  });
}

/**
 * The sliced layer of its slices (most significant first): what the engines run
 * (the sum of the slices' MVMs). Its own stored fields are those of `slices[0]`;
 * `programming` sums the slices', `effectiveWeights` is the sum of theirs (when every
 * slice is linear and noise-free), `calibrated` holds when every slice is.
 */
export function combineSlices(slices: readonly ProgrammedLayer[]): ProgrammedLayer {
  if (slices.length === 1) return slices[0];
  const first = slices[0];
  let effectiveWeights: Float32Array | null = null;
  if (slices.every((l) => l.effectiveWeights !== null)) {
    effectiveWeights = new Float32Array(first.fanIn * first.fanOut);
    for (const l of slices) {
      const e = l.effectiveWeights!;
      for (let i = 0; i < e.length; i++) effectiveWeights[i] += e[i];
    }
  }
  const programming = {
    cells: slices.reduce((s, l) => s + l.programming.cells, 0),
    clippedCells: slices.reduce((s, l) => s + l.programming.clippedCells, 0),
    stuckCells: slices.reduce((s, l) => s + l.programming.stuckCells, 0),
  };
  const ranges = slices.every((l) => l.ranges !== undefined) ? { ...first.ranges!, slices: slices.map((l) => l.ranges!) } : undefined;
  return {
    ...first,
    programming,
    effectiveWeights,
    calibrated: slices.every((l) => l.calibrated),
    ...(ranges ? { ranges } : {}),
    slices,
    dispose() {
      slices.forEach((l) => l.dispose());
    },
  };
}

/** Program a bit-sliced layer (see {@link drawSliceConductances}, {@link combineSlices}). */
export function programSlicedLayer(weights: WeightMatrix, chip: ChipSpec, rng: Rng): ProgrammedLayer {
  return combineSlices(drawSliceConductances(weights, chip, rng).map(layerFromConductances));
}

/** The physical programmed layers of a layer: its slices, or the layer itself. */
export function physicalLayers(layer: ProgrammedLayer): readonly ProgrammedLayer[] {
  return layer.slices ?? [layer];
}
