/**
 * A programmed chip: one static draw of every analog layer's conductances, as plain
 * data (per layer, `ProgrammedLayer`s), plus the compiled model it was drawn for.
 * Runs take fresh dynamic noise per seed; files and tile maps are in `chipFile.ts`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ProgrammedLayer, MvmStats } from '../crossbar/programmedLayer';
import { emptyMvmStats, addMvmStats } from '../crossbar/analogMvm';
import { GraphExecutor, NOISE_OFF, type ExecutorInputs } from './executor';
import { substituteMatrices } from './passes/substituteMatrices';
import type { CompiledModel, RunOptions } from './compile';
import { sampleOffsetOf, toRng } from './runSeed';
import { exportTileMaps, saveProgrammedChip } from './chipFile';
import { calibrateRanges, type LayerCalibration } from './calibrateRanges';

export { CHIP_FILE_MAGIC, CHIP_FILE_VERSION, loadProgrammedChip, modelFingerprint } from './chipFile';

export class ProgrammedChip {
  /** Executor over the programmed effective weights, when every MVM is linear and noise-free. */
  private linearExecutor: GraphExecutor | null | undefined;

  constructor(
    readonly model: CompiledModel,
    /** Programmed layers per analog node, one per conv group. */
    readonly layers: ReadonlyMap<string, readonly ProgrammedLayer[]>,
    /** The programming seed (or the Rng path it came from). */
    readonly seed: number | string,
    /** How each calibrated layer's converter ranges were set (empty: no range came from data). */
    readonly rangeCalibration: readonly LayerCalibration[] = [],
  ) {}

  /**
   * The same programmed conductances with converter ranges recalibrated on `inputs`
   * as the chip reads now (after drift: a periodic recalibration). This chip stays
   * usable; dispose both.
   */
  recalibrated(inputs: ExecutorInputs): ProgrammedChip {
    const { layers, calibration } = calibrateRanges(this.model.deviceExecutorForCalibration(), this.layers, inputs);
    return new ProgrammedChip(this.model, layers, this.seed, calibration);
  }

  /**
   * Run a batch with fresh read and sensing noise drawn from `options.seed`. `stats`
   * accumulates every MVM's counts; `layerStats` the same per analog node (entries
   * created as needed).
   */
  run(x: ExecutorInputs, options: RunOptions & { stats?: MvmStats; layerStats?: Record<string, MvmStats> }): tf.Tensor {
    // Ideal converters and no dynamic noise: the chip is the programmed weights, so the
    // executor's fused kernels give the same product faster (stats need the tiled path).
    const counting = options.stats !== undefined || options.layerStats !== undefined;
    const linear = counting ? null : this.linear();
    if (linear) return linear.run(x, { noise: NOISE_OFF });
    const { stats, layerStats } = options;
    if (!layerStats) return this.model.runOnLayers(x, this.layers, toRng(options.seed).fold('run'), stats, sampleOffsetOf(options));
    const fresh: Record<string, MvmStats> = {};
    const y = this.model.runOnLayers(x, this.layers, toRng(options.seed).fold('run'), (node) => (fresh[node] ??= emptyMvmStats()), sampleOffsetOf(options));
    for (const [node, s] of Object.entries(fresh)) {
      addMvmStats((layerStats[node] ??= emptyMvmStats()), s);
      if (stats) addMvmStats(stats, s);
    }
    return y;
  }

  private linear(): GraphExecutor | null {
    if (this.linearExecutor === undefined) {
      const all = [...this.layers.values()].flat();
      if (all.every((l) => l.effectiveWeights !== null)) {
        const matrices = new Map<string, Float32Array[]>();
        for (const [node, ls] of this.layers) matrices.set(node, ls.map((l) => l.effectiveWeights!));
        this.linearExecutor = new GraphExecutor(substituteMatrices(this.model.graph, matrices));
      } else {
        this.linearExecutor = null;
      }
    }
    return this.linearExecutor;
  }

  /** Total programming statistics over every layer. */
  programmingStats(): { cells: number; clippedCells: number; stuckCells: number } {
    let cells = 0;
    let clippedCells = 0;
    let stuckCells = 0;
    for (const ls of this.layers.values()) {
      for (const l of ls) {
        cells += l.programming.cells;
        clippedCells += l.programming.clippedCells;
        stuckCells += l.programming.stuckCells;
      }
    }
    return { cells, clippedCells, stuckCells };
  }

  /** Write the chip (conductances, seed, per-layer configuration) atomically to `file` (see `chipFile.ts`). */
  save(file: string): void {
    saveProgrammedChip(this, file);
  }

  /**
   * Export each tile's G⁺ and G⁻ maps (µS, the tile's used rows × cols) as `.npy`
   * or one JSON file, plus `tiles.json` with the placement. Returns the files written.
   */
  exportTileMaps(dir: string, format: 'npy' | 'json' = 'npy'): string[] {
    return exportTileMaps(this, dir, format);
  }

  dispose(): void {
    this.linearExecutor?.dispose();
    for (const ls of this.layers.values()) ls.forEach((l) => l.dispose());
  }
}
