/**
 * Time, energy and area of one layer's tiles, from the device's timing and energy
 * figures. Assumptions (stated because they decide the numbers):
 * - inputs are applied as one amplitude-coded read pulse per MVM (not bit-serial);
 * - all tiles of a layer read concurrently; each tile's `cols` outputs share
 *   ceil(cols / columnsPerAdc) ADCs, each converting its columns one after another;
 * - a weight occupies two cells (G⁺ and G⁻); the differential current is formed
 *   before the ADC, so there is one conversion per weight column;
 * - cell read energy is V²·G·t per cell; the figure here is the worst case (every
 *   input at full scale); `MvmStats.cellEnergyPicojoules` gives the energy of real inputs.
 */
import type { ChipSpec } from './chipSpec';
import { tileGrid } from './tiling';

export interface LayerCost {
  readonly tiles: number;
  /** Physical cells (two per weight). */
  readonly cells: number;
  readonly utilization: number;
  readonly adcs: number;
  /** Time of one MVM (the layer's pipeline stage time), ns. */
  readonly stageTimeNs: number;
  /** Energy of one MVM of one input vector, worst case, pJ. */
  readonly energyPerMvmPicojoules: number;
  readonly cellEnergyPicojoules: number;
  readonly adcEnergyPicojoules: number;
  readonly dacEnergyPicojoules: number;
  readonly areaSquareMicrometers: number;
}

/**
 * Cost of one [fanIn × fanOut] layer on the chip.
 * @param meanConductanceMicroSiemens mean G over the layer's cells (for cell energy);
 *   defaults to the middle of the device window.
 */
export function layerCost(fanIn: number, fanOut: number, chip: ChipSpec, meanConductanceMicroSiemens?: number): LayerCost {
  const d = chip.device;
  const grid = tileGrid(fanIn, fanOut, chip.tile);
  const tiles = grid.tiles.length;
  const cells = 2 * tiles * chip.tile.rows * chip.tile.cols;
  const adcsPerTile = Math.ceil(chip.tile.cols / d.columnsPerAdc);
  const adcs = tiles * adcsPerTile;
  const conversionsPerAdc = Math.min(d.columnsPerAdc, chip.tile.cols);
  const stageTimeNs = d.readPulseNs + conversionsPerAdc * d.adcConversionNs;
  const gMean = meanConductanceMicroSiemens ?? (d.gMinMicroSiemens + d.gMaxMicroSiemens) / 2;
  const usedCells = 2 * fanIn * fanOut;
  // µS · V² · ns = 1e-3 pJ
  const cellEnergyPicojoules = usedCells * gMean * d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
  const adcEnergyPicojoules = grid.rowBlocks * fanOut * d.adcEnergyPicojoules;
  const dacEnergyPicojoules = fanIn * grid.colBlocks * d.dacEnergyPicojoules;
  const areaSquareMicrometers = cells * d.cellAreaSquareMicrometers + adcs * d.adcAreaSquareMicrometers;
  return {
    tiles,
    cells,
    utilization: grid.utilization,
    adcs,
    stageTimeNs,
    energyPerMvmPicojoules: cellEnergyPicojoules + adcEnergyPicojoules + dacEnergyPicojoules,
    cellEnergyPicojoules,
    adcEnergyPicojoules,
    dacEnergyPicojoules,
    areaSquareMicrometers,
  };
}
