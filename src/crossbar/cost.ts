/**
 * Time, energy and area of one layer's tiles, from the device's timing and energy
 * figures and the peripheral model (`peripherals.ts`). Assumptions (stated because
 * they decide the numbers):
 * - inputs are applied as one amplitude-coded read pulse per MVM, or bit-serially
 *   (`inputEncoding`): n − 1 read cycles for n-bit inputs (sign as polarity), each
 *   with its own read pulse and conversions, one after another (no overlap of a
 *   cycle's conversions with the next read pulse is modelled), then shift-added;
 * - a bit-sliced weight (`slicing`, k cells) takes k× the tiles; the slices sit on
 *   their own tiles and read in parallel (k× cells read, drives and conversions, no
 *   extra latency; the shift-and-adds are pipelined behind the conversions: assumed);
 * - all tiles of a layer read concurrently; each tile's `cols` outputs share
 *   ceil(cols / columnsPerAdc) ADCs, each converting its columns one after another;
 * - a weight occupies two cells (G⁺ and G⁻); the differential current is formed
 *   before the ADC, so there is one conversion (and one sense sample) per weight
 *   column per row block;
 * - partial sums of row blocks are added digitally, then multiplied by the output gain.
 *
 * The energy here is the worst-case bound: every input at full scale (V = V_read on
 * every word line, each driven) and every cell pair at its largest target,
 * G⁺ + G⁻ = gMin + gMax. What real inputs cost is measured during a run
 * (`MvmStats`: Σ V²·G·t of the real voltages and programmed conductances, and the
 * counted drives, conversions and digital operations), priced by the same model
 * (`energyOfEvents`).
 */
import type { ChipSpec } from './chipSpec';
import { tileGrid } from './tiling';
import { energyOfEvents, sumBreakdown, tileArea, type Breakdown } from './peripherals';
import { inputCyclesOf, slicingOf } from './slicing';

export interface LayerCost {
  readonly tiles: number;
  /** Physical cells (two per weight per slice). */
  readonly cells: number;
  readonly utilization: number;
  readonly adcs: number;
  /** Time of one MVM (the layer's pipeline stage time), ns. */
  readonly stageTimeNs: number;
  /** Energy of one MVM of one input vector, worst case, pJ (the sum of `energyBreakdownPerMvmPicojoules`). */
  readonly energyPerMvmPicojoules: number;
  readonly cellEnergyPicojoules: number;
  readonly adcEnergyPicojoules: number;
  readonly dacEnergyPicojoules: number;
  /** Worst-case energy of one MVM per component, pJ (no buffer: the plan adds the layer's). */
  readonly energyBreakdownPerMvmPicojoules: Breakdown;
  /** Area of the tiles and their periphery (no buffer), µm²: the sum of `areaBreakdownSquareMicrometers`. */
  readonly areaSquareMicrometers: number;
  readonly areaBreakdownSquareMicrometers: Breakdown;
}

/**
 * Cost of one [fanIn × fanOut] layer on the chip.
 * @param meanConductanceMicroSiemens mean G over the layer's cells (for cell energy);
 *   defaults to the middle of the device window (a pair's largest target sum / 2).
 */
export function layerCost(fanIn: number, fanOut: number, chip: ChipSpec, meanConductanceMicroSiemens?: number): LayerCost {
  const d = chip.device;
  const grid = tileGrid(fanIn, fanOut, chip.tile);
  const k = slicingOf(chip).cellsPerWeight;
  const cycles = inputCyclesOf(chip);
  const tiles = k * grid.tiles.length;
  const cells = 2 * tiles * chip.tile.rows * chip.tile.cols;
  const adcsPerTile = Math.ceil(chip.tile.cols / d.columnsPerAdc);
  const adcs = tiles * adcsPerTile;
  const conversionsPerAdc = Math.min(d.columnsPerAdc, chip.tile.cols);
  const stageTimeNs = cycles * (d.readPulseNs + conversionsPerAdc * d.adcConversionNs);
  const gMean = meanConductanceMicroSiemens ?? (d.gMinMicroSiemens + d.gMaxMicroSiemens) / 2;
  const usedCells = 2 * fanIn * fanOut * k;
  // µS · V² · ns = 1e-3 pJ; every cycle reads every cell (worst case: every input bit set).
  const cellEnergyPicojoules = cycles * usedCells * gMean * d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
  const energy = energyOfEvents(chip, grid.rowBlocks, {
    cellEnergyPicojoules,
    dacDrives: k * cycles * fanIn * grid.colBlocks,
    adcConversions: k * cycles * grid.rowBlocks * fanOut,
    digitalAdds: k * (grid.rowBlocks - 1) * fanOut,
    digitalMultiplies: fanOut,
    shiftAdds: fanOut * (k * grid.rowBlocks * (cycles - 1) + (k - 1)),
    bufferBits: 0,
  });
  const area = tileArea(chip, tiles, grid.rowBlocks);
  return {
    tiles,
    cells,
    utilization: grid.utilization,
    adcs,
    stageTimeNs,
    energyPerMvmPicojoules: sumBreakdown(energy),
    cellEnergyPicojoules,
    adcEnergyPicojoules: energy.adc,
    dacEnergyPicojoules: energy.dac,
    energyBreakdownPerMvmPicojoules: energy,
    areaSquareMicrometers: sumBreakdown(area),
    areaBreakdownSquareMicrometers: area,
  };
}
