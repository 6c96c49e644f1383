/**
 * The compile report: per analog layer and in total, tiles, cells, utilisation,
 * stage time, energy per inference, area, and the effective noise a device setting
 * amounts to. The effective σ is measured, not assumed: each layer's matrix is
 * programmed (seeded) and run on 64 seeded inputs uniform in [0, 1) (post-ReLU-like
 * activations); σ_eff = rms(y_chip − y_exact) / rms(y_exact) over its outputs, and
 * SNR = 10·log10(1/σ_eff²), the figure the paper's multiplicative model uses.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { programLayer, analogMvm } from '../crossbar/programmedLayer';
import { isAnalog } from './ir/graph';
import { mvmMatrix } from './ir/mvmMatrix';
import type { CompiledModel } from './compile';
import type { LayerCostSummary } from './chipPlan';

export interface LayerReport extends LayerCostSummary {
  readonly name: string;
  readonly op: string;
  readonly device: string;
  /** `[rows, cols]` of each programmed matrix (one per conv group). */
  readonly matrixShape: readonly [number, number];
  readonly groups: number;
  readonly effectiveSigma: number;
  readonly snrDb: number;
}

export interface CompileReport {
  readonly layers: readonly LayerReport[];
  readonly totals: {
    readonly analogLayers: number;
    readonly tiles: number;
    readonly cells: number;
    readonly utilization: number;
    /** Σ stage times: latency of one inference with no pipelining, ns. */
    readonly latencyNs: number;
    /** The slowest stage: a pipelined chip's decision interval, ns. */
    readonly maxStageTimeNs: number;
    readonly energyPerInferencePicojoules: number;
    readonly areaSquareMicrometers: number;
    readonly foldedBatchNorms: number;
    /** Copies of the network on the chip; tiles, cells and area count all of them. */
    readonly replicas: number;
  };
  readonly seed: number;
}

const CALIBRATION_VECTORS = 64;

function measureEffectiveSigma(model: CompiledModel, nodeName: string, seed: number): number {
  const node = model.graph.nodes.find((n) => n.name === nodeName)!;
  if (!isAnalog(node)) return 0;
  const plan = model.plan.layers.find((l) => l.node === nodeName)!;
  let signal = 0;
  let noise = 0;
  const root = Rng.fromSeed(seed).fold('report').fold(nodeName);
  for (const m of plan.matrices) {
    const w = mvmMatrix(node, m.group);
    const layer = programLayer({ data: w.data, fanIn: m.fanIn, fanOut: m.fanOut }, m.chip, root.fold('program').fold(m.group));
    const xData = new Float32Array(CALIBRATION_VECTORS * m.fanIn);
    root.fold('inputs').fold(m.group).fillUniform(xData);
    const x = tf.tensor2d(xData, [CALIBRATION_VECTORS, m.fanIn]);
    const exact = tf.tidy(() => tf.matMul(x, tf.tensor2d(w.data, [m.fanIn, m.fanOut])).dataSync());
    const y = analogMvm(layer, x, root.fold('run').fold(m.group));
    const got = y.dataSync();
    for (let i = 0; i < got.length; i++) {
      signal += exact[i] * exact[i];
      noise += (got[i] - exact[i]) ** 2;
    }
    tf.dispose([x, y]);
    layer.dispose();
  }
  return signal > 0 ? Math.sqrt(noise / signal) : 0;
}

export function buildReport(model: CompiledModel, seed: number): CompileReport {
  const layers: LayerReport[] = model.plan.layers.map((l) => {
    const sigma = measureEffectiveSigma(model, l.node, seed);
    const chip = l.matrices[0].chip;
    return {
      name: l.node,
      op: l.op,
      device: chip.device.kind,
      matrixShape: [l.matrices[0].fanIn, l.matrices[0].fanOut] as const,
      groups: l.matrices.length,
      mvmsPerInference: l.mvmsPerInference,
      tiles: l.tiles,
      cells: l.cells,
      utilization: l.utilization,
      stageTimeNs: l.stageTimeNs,
      energyPerInferencePicojoules: l.energyPerInferencePicojoules,
      areaSquareMicrometers: l.areaSquareMicrometers,
      effectiveSigma: sigma,
      snrDb: sigma > 0 ? 10 * Math.log10(1 / (sigma * sigma)) : Infinity,
    };
  });
  const sum = (f: (l: LayerReport) => number) => layers.reduce((s, l) => s + f(l), 0);
  const slots = model.plan.layers.reduce((s, l) => s + l.tiles * l.matrices[0].chip.tile.rows * l.matrices[0].chip.tile.cols, 0);
  const used = model.plan.layers.reduce((s, l) => s + l.matrices.reduce((t, m) => t + m.fanIn * m.fanOut, 0), 0);
  return {
    layers,
    totals: {
      analogLayers: layers.length,
      tiles: sum((l) => l.tiles) * model.plan.replicas,
      cells: sum((l) => l.cells) * model.plan.replicas,
      utilization: slots > 0 ? used / slots : 0,
      latencyNs: sum((l) => l.stageTimeNs),
      maxStageTimeNs: Math.max(0, ...layers.map((l) => l.stageTimeNs)),
      energyPerInferencePicojoules: sum((l) => l.energyPerInferencePicojoules),
      areaSquareMicrometers: sum((l) => l.areaSquareMicrometers) * model.plan.replicas,
      foldedBatchNorms: model.foldedBatchNorms.length,
      replicas: model.plan.replicas,
    },
    seed,
  };
}
