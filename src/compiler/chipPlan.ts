/**
 * Mapping a graph's analog nodes onto a chip: which matrices (one per conv group),
 * which chip configuration each uses (per-layer overrides), how they tile, where
 * the tiles sit, and what each layer costs per inference.
 */
import { ConfigError } from '../errors';
import type { ChipSpec } from '../crossbar/chipSpec';
import { validateChipSpec } from '../crossbar/chipSpec';
import { layerCost, type LayerCost } from '../crossbar/cost';
import { tileGrid, type TileGrid } from '../crossbar/tiling';
import { slicingOf } from '../crossbar/slicing';
import type { MvmStats } from '../crossbar/analogMvm';
import {
  activationBits, addBreakdowns, bufferArea, energyOfEvents, scaleBreakdown, sumBreakdown, ZERO_BREAKDOWN, type Breakdown,
} from '../crossbar/peripherals';
import type { AnalogNode, Graph } from './ir/graph';
import { isAnalog, nodeMap } from './ir/graph';
import { mvmGroupCount, mvmMatrix } from './ir/mvmMatrix';

/** A raw (unvalidated) chip description, as accepted by `validateChipSpec`. */
export type RawChipConfig = Record<string, unknown>;

/**
 * Per-layer overrides merged over the base chip (shallowly: a `device` given here
 * replaces the base device). Either a map by node name or a function of the node.
 */
export type LayerOverrides =
  | Readonly<Record<string, RawChipConfig>>
  | ((node: AnalogNode) => RawChipConfig | undefined);

/** One programmed matrix: an analog node's group. */
export interface MatrixPlan {
  readonly node: string;
  readonly op: AnalogNode['op'];
  readonly group: number;
  readonly fanIn: number;
  readonly fanOut: number;
  readonly chip: ChipSpec;
  readonly grid: TileGrid;
  /** Index of this matrix's first tile on the chip (tiles are placed in graph order). */
  readonly firstTile: number;
}

/** What one analog node costs per inference (shared by the plan and the report). */
export interface LayerCostSummary {
  /** MVMs each matrix performs per inference (conv output positions, LSTM steps, dense rows). */
  readonly mvmsPerInference: number;
  readonly tiles: number;
  readonly cells: number;
  readonly utilization: number;
  /** Pipeline stage time: mvmsPerInference sequential MVMs (groups run in parallel), ns. */
  readonly stageTimeNs: number;
  /**
   * Worst-case bound of the energy of one inference, pJ: every input at full scale,
   * every cell pair at its largest target, every word line driven (see `layerCost`).
   * The sum of `energyBreakdownPicojoules`. What real inputs cost is measured on data
   * (`measuredLayerEnergy`, the compile report's `measuredEnergy`).
   */
  readonly energyPerInferencePicojoules: number;
  /** The bound per component (cells, DAC, sense, mux, ADC, accumulator, gain, buffer), pJ. */
  readonly energyBreakdownPicojoules: Breakdown;
  /** Tiles, periphery and the layer's input buffer, µm²: the sum of `areaBreakdownSquareMicrometers`. */
  readonly areaSquareMicrometers: number;
  readonly areaBreakdownSquareMicrometers: Breakdown;
  /** Activation bits read from and written to the layer's buffers per inference (inputs read once, outputs written once). */
  readonly bufferBitsPerInference: number;
}

/** One analog node on the chip: its matrices and what it costs. */
export interface LayerPlan extends LayerCostSummary {
  readonly node: string;
  readonly op: AnalogNode['op'];
  readonly matrices: readonly MatrixPlan[];
}

export interface ChipPlan {
  /** One copy of the network (tile indices `firstTile` are those of copy 0). */
  readonly layers: readonly LayerPlan[];
  /** Tiles of one copy. */
  readonly tilesPerCopy: number;
  /**
   * Copies of the whole network placed side by side for parallel voting: copy r
   * occupies tiles [r·tilesPerCopy, (r+1)·tilesPerCopy).
   */
  readonly replicas: number;
  /** tilesPerCopy · replicas. */
  readonly totalTiles: number;
}

function mvmsPerInference(node: AnalogNode, graph: Graph): number {
  const byName = nodeMap(graph);
  const input = byName.get(node.inputs[0])!.outputShape;
  const out = node.outputShape;
  const known = (dims: readonly (number | null)[], what: string) =>
    dims.map((d) => {
      if (d === null) throw new ConfigError(`graph.${node.name}`, what, 'known (non-batch) dimensions to cost the layer');
      return d;
    });
  switch (node.op) {
    case 'dense':
      return known(input.slice(1, -1), 'input shape').reduce((a, b) => a * b, 1);
    case 'conv2d': {
      const [h, w] = known(out.slice(1, 3), 'output shape');
      return h * w;
    }
    case 'lstm':
    case 'gru':
      return known(input.slice(1, 2), 'sequence length')[0];
  }
}

/**
 * Time of one of the node's MVM steps: its matrices run in parallel (conv groups),
 * except a GRU without resetAfter, whose candidate matrix (2) reads `r ⊙ h` and so
 * waits for the gate matrix (0).
 */
function stepTimeNs(node: AnalogNode, costs: readonly LayerCost[]): number {
  if (node.op === 'gru' && !node.attrs.resetAfter) {
    return Math.max(costs[0].stageTimeNs + costs[2].stageTimeNs, costs[1].stageTimeNs);
  }
  return Math.max(...costs.map((c) => c.stageTimeNs));
}

function prodKnown(dims: readonly (number | null)[]): number {
  return dims.reduce<number>((a, b) => a * (b ?? 1), 1);
}

/**
 * Activation traffic and storage of a node: its inputs are read once from its input
 * buffer (line-buffer reuse for convolutions: each pixel once, not once per patch)
 * and its outputs written once; the buffer holds one inference's input (plus the
 * state of a recurrent layer).
 */
function bufferBits(node: AnalogNode, graph: Graph, matrices: readonly MatrixPlan[], mvms: number, bits: number): { traffic: number; capacity: number } {
  const input = nodeMap(graph).get(node.inputs[0])!.outputShape.slice(1);
  const inputElements = prodKnown(input);
  if (node.op === 'conv2d') {
    return { traffic: (inputElements + prodKnown(node.outputShape.slice(1))) * bits, capacity: inputElements * bits };
  }
  const traffic = matrices.reduce((s, m) => s + mvms * (m.fanIn + m.fanOut), 0) * bits;
  const state = node.op === 'lstm' || node.op === 'gru' ? node.attrs.units * (node.op === 'lstm' ? 2 : 1) : 0;
  return { traffic, capacity: (inputElements + state) * bits };
}

/**
 * The measured energy of one inference of a layer, per component, pJ: `stats` counted
 * over `samples` inferences of the layer's MVMs (both engines count the same), priced
 * by the peripheral model; the buffer traffic is the plan's (it does not depend on
 * the data).
 */
export function measuredLayerEnergy(layer: LayerPlan, stats: MvmStats, samples: number): Breakdown {
  if (!(samples > 0)) throw new ConfigError('samples', samples, 'a positive number of inferences');
  const chip = layer.matrices[0].chip;
  const rowBlocks = Math.max(...layer.matrices.map((m) => m.grid.rowBlocks));
  const total = energyOfEvents(chip, rowBlocks, { ...stats, bufferBits: 0 });
  return { ...scaleBreakdown(total, 1 / samples), buffer: layer.energyBreakdownPicojoules.buffer };
}

/** Σ of a breakdown's components. */
export { sumBreakdown };

function overridesFor(node: AnalogNode, overrides: LayerOverrides | undefined): RawChipConfig | undefined {
  if (!overrides) return undefined;
  if (typeof overrides === 'function') return overrides(node);
  return overrides[node.name];
}

/** Plan every analog node of `graph` onto the chip. */
export function planChip(graph: Graph, baseChip: RawChipConfig, overrides?: LayerOverrides, replicas = 1): ChipPlan {
  if (!Number.isInteger(replicas) || replicas < 1) throw new ConfigError('replicas', replicas, 'an integer >= 1');
  const base = validateChipSpec(baseChip);
  if (overrides && typeof overrides !== 'function') {
    const names = new Set(graph.nodes.filter(isAnalog).map((n) => n.name));
    for (const key of Object.keys(overrides)) {
      if (!names.has(key)) {
        throw new ConfigError(`layers.${key}`, overrides[key], `the name of an analog node (${[...names].join(', ')})`);
      }
    }
  }
  let nextTile = 0;
  const layers: LayerPlan[] = [];
  for (const node of graph.nodes) {
    if (!isAnalog(node)) continue;
    const extra = overridesFor(node, overrides);
    const chip = extra ? validateChipSpec({ ...baseChip, ...extra }, `layers.${node.name}`) : base;
    const matrices: MatrixPlan[] = [];
    const costs: LayerCost[] = [];
    for (let g = 0; g < mvmGroupCount(node); g++) {
      const [fanIn, fanOut] = mvmMatrix(node, g).shape;
      const grid = tileGrid(fanIn, fanOut, chip.tile);
      matrices.push({ node: node.name, op: node.op, group: g, fanIn, fanOut, chip, grid, firstTile: nextTile });
      // A bit-sliced matrix takes one set of tiles per slice.
      nextTile += slicingOf(chip).cellsPerWeight * grid.tiles.length;
      costs.push(layerCost(fanIn, fanOut, chip));
    }
    const mvms = mvmsPerInference(node, graph);
    const tiles = costs.reduce((s, c) => s + c.tiles, 0);
    const slots = tiles * chip.tile.rows * chip.tile.cols;
    const used = matrices.reduce((s, m) => s + m.fanIn * m.fanOut * slicingOf(m.chip).cellsPerWeight, 0);
    const buffer = bufferBits(node, graph, matrices, mvms, activationBits(chip));
    const rowBlocks = Math.max(...matrices.map((m) => m.grid.rowBlocks));
    let energy = costs.reduce((acc, c) => addBreakdowns(acc, c.energyBreakdownPerMvmPicojoules, mvms), ZERO_BREAKDOWN);
    energy = { ...energy, buffer: energyOfEvents(chip, rowBlocks, { cellEnergyPicojoules: 0, dacDrives: 0, adcConversions: 0, digitalAdds: 0, digitalMultiplies: 0, bufferBits: buffer.traffic }).buffer };
    let area = costs.reduce((acc, c) => addBreakdowns(acc, c.areaBreakdownSquareMicrometers), ZERO_BREAKDOWN);
    area = { ...area, buffer: bufferArea(chip, buffer.capacity) };
    layers.push({
      node: node.name,
      op: node.op,
      matrices,
      mvmsPerInference: mvms,
      tiles,
      cells: costs.reduce((s, c) => s + c.cells, 0),
      utilization: used / slots,
      stageTimeNs: mvms * stepTimeNs(node, costs),
      energyPerInferencePicojoules: sumBreakdown(energy),
      energyBreakdownPicojoules: energy,
      areaSquareMicrometers: sumBreakdown(area),
      areaBreakdownSquareMicrometers: area,
      bufferBitsPerInference: buffer.traffic,
    });
  }
  return { layers, tilesPerCopy: nextTile, replicas, totalTiles: nextTile * replicas };
}
