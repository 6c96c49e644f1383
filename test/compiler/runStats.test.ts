/**
 * Run statistics (cell read energy Σ V²·G·t, converter clipping, conversions,
 * word-line drives, digital operations) on both engines: the onnxruntime lowering's
 * statistics outputs against the tfjs reference's `MvmStats`, a closed form of the
 * cell energy, and the measured energy against the plan's worst-case bound.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { compile, type CompiledModel } from '../../src/compiler/compile';
import type { LayerStats } from '../../src/compiler/engine/modelRunner';
import { energyFromStats, energyMetrics, measureEnergyOnData } from '../../src/compiler/report';
import { COMPONENTS } from '../../src/crossbar/peripherals';
import type { MvmStats } from '../../src/crossbar/analogMvm';
import { ConfigError } from '../../src/errors';
import { Rng } from '../../src/rng';
import * as models from './tfjsModels';

beforeAll(async () => {
  await initBackend();
});

function inputs(model: CompiledModel, n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const node = model.graph.nodes.find((v) => v.name === model.graph.inputs[0])!;
  const per = (node.outputShape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per);
  Rng.fromSeed(seed).fillUniform(x);
  for (let i = 0; i < x.length; i++) {
    x[i] = lo + (hi - lo) * x[i];
    if (i % 5 === 0) x[i] = 0; // zero inputs drive no word line
  }
  return x;
}

async function statsOn(model: CompiledModel, chipSeed: number, x: Float32Array, engine: 'tfjs' | 'onnxruntime', batchSize = 5): Promise<LayerStats> {
  // Ranges calibrated on the inputs counted (the chips' default).
  const chip = model.program(chipSeed, { calibration: x });
  const runner = await model.runner({ kind: 'chip', chip }, { engine });
  try {
    const stats: LayerStats = {};
    await runner.runAll(x, { seed: 3, stats, batchSize });
    return stats;
  } finally {
    await runner.dispose();
    chip.dispose();
  }
}

const EXACT_COUNTS: (keyof MvmStats)[] = ['mvms', 'adcConversions', 'digitalAdds', 'digitalMultiplies'];

/** Same counts on both engines: exact for those that do not depend on the data, within `rel` for the rest. */
function expectSameStats(a: LayerStats, b: LayerStats, rel: { energy: number; counts: number }): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const node of Object.keys(a)) {
    for (const k of EXACT_COUNTS) expect([node, k, b[node][k]]).toEqual([node, k, a[node][k]]);
    expect(a[node].cellEnergyPicojoules).toBeGreaterThan(0);
    expect(Math.abs(b[node].cellEnergyPicojoules - a[node].cellEnergyPicojoules) / a[node].cellEnergyPicojoules).toBeLessThan(rel.energy);
    for (const k of ['dacDrives', 'dacClipped', 'adcClipped'] as const) {
      expect(Math.abs(b[node][k] - a[node][k])).toBeLessThanOrEqual(rel.counts * Math.max(1, a[node][k]));
    }
  }
}

describe('both engines count the same', () => {
  it('fixed DAC range, 6-bit ADC with clipping, several row blocks: conv (Conv bands) and dense', async () => {
    // 16×16 tiles: conv2 (72 rows) and the dense layer span several row and column blocks.
    const model = compile(models.cnn(3), { chip: { device: 'reram', tile: '16x16', dac: { bits: 6, range: 0.8 }, adc: { bits: 6, rangeFraction: 0.25 } } });
    const x = inputs(model, 9, 1, -0.2, 1.2);
    const [a, b] = [await statsOn(model, 5, x, 'tfjs'), await statsOn(model, 5, x, 'onnxruntime')];
    // Clipping happens on both converters (the test exercises the counters).
    expect(Object.values(a).some((s) => s.dacClipped > 0)).toBe(true);
    expect(Object.values(a).some((s) => s.adcClipped > 0)).toBe(true);
    expect(Object.values(a).some((s) => s.digitalAdds > 0)).toBe(true);
    expectSameStats(a, b, { energy: 1e-4, counts: 0.002 });
    model.dispose();
  });

  it('per-vector DAC range (the im2col-patch path feeds integer codes), PCM noise', async () => {
    const model = compile(models.convVariants(2), { chip: { device: 'pcm', tile: '16x16', dac: { range: 'perInputAbsMax' } } });
    const x = inputs(model, 7, 2);
    const [a, b] = [await statsOn(model, 4, x, 'tfjs'), await statsOn(model, 4, x, 'onnxruntime', 3)];
    // The codes round(x·L/m) and round((x/m)·L) differ on exact ties only.
    expectSameStats(a, b, { energy: 2e-3, counts: 0.005 });
    model.dispose();
  });

  it('an LSTM: its steps add into one entry', async () => {
    const model = compile(models.lstmClassifier(1, true), { chip: { device: 'nand', dac: { range: 1 } } });
    const x = inputs(model, 6, 3, -1, 1);
    const [a, b] = [await statsOn(model, 2, x, 'tfjs'), await statsOn(model, 2, x, 'onnxruntime')];
    expect(a.lstm_seq.mvms).toBe(6 * 7);
    expectSameStats(a, b, { energy: 1e-4, counts: 0.002 });
    model.dispose();
  });

  it('a linear, noise-free chip still counts (its engines do not take the programmed-weights shortcut)', async () => {
    const model = compile(models.mlp(1), { chip: { device: 'ideal', dac: { bits: null }, adc: { bits: null } } });
    const x = inputs(model, 4, 4);
    const [a, b] = [await statsOn(model, 1, x, 'tfjs'), await statsOn(model, 1, x, 'onnxruntime')];
    expect(a.fc1.mvms).toBe(4);
    expectSameStats(a, b, { energy: 1e-5, counts: 0 });
    model.dispose();
  });
});

describe('cell energy Σ V²·G·t', () => {
  it('equals the closed form on a dense layer: Σ_i (x_i / max|x|)² · Σ_j (G⁺ + G⁻)_ij · V_read² · t', async () => {
    const model = compile(models.mlp(2), { chip: { device: 'reram', dac: { bits: null }, adc: { bits: null } } });
    const x = inputs(model, 3, 8);
    const chip = model.program(6);
    const layer = chip.layers.get('fc1')![0];
    const d = layer.chip.device;
    let expected = 0;
    for (let s = 0; s < 3; s++) {
      const row = x.subarray(s * 20, (s + 1) * 20);
      const m = Math.max(...Array.from(row, Math.abs));
      row.forEach((v, i) => {
        expected += (v / m) ** 2 * layer.rowConductanceMicroSiemens[i];
      });
    }
    expected *= d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
    for (const engine of ['tfjs', 'onnxruntime'] as const) {
      const runner = await model.runner({ kind: 'chip', chip }, { engine });
      const stats: LayerStats = {};
      await runner.run(x, { seed: 1, stats });
      expect(stats.fc1.cellEnergyPicojoules).toBeCloseTo(expected, 4);
      expect(stats.fc1.dacDrives).toBe(Array.from(x).filter((v) => v !== 0).length);
      await runner.dispose();
    }
    chip.dispose();
    model.dispose();
  });
});

describe('counting changes nothing else', () => {
  it('the outputs with statistics are those without, bit for bit, on both engines', async () => {
    const model = compile(models.cnn(2), { chip: { device: 'reram', tile: '32x32' } });
    const x = inputs(model, 4, 5);
    const chip = model.program(2, { calibration: x });
    for (const engine of ['tfjs', 'onnxruntime'] as const) {
      const runner = await model.runner({ kind: 'chip', chip }, { engine });
      const plain = await runner.runAll(x, { seed: 9, batchSize: 3 });
      const counted = await runner.runAll(x, { seed: 9, batchSize: 3, stats: {} });
      expect(Array.from(counted)).toEqual(Array.from(plain));
      await runner.dispose();
    }
    chip.dispose();
    model.dispose();
  });
});

describe('measured energy vs the bound', () => {
  it('measureEnergyOnData is deterministic and gives the study metrics', async () => {
    const model = compile(models.mlp(3), { chip: { device: 'nand' } });
    const x = inputs(model, 12, 6);
    const a = await measureEnergyOnData(model, x, { limit: 10, batchSize: 4 });
    const b = await measureEnergyOnData(model, x, { limit: 10, batchSize: 7 });
    expect(a.samples).toBe(10);
    expect(b.perInferencePicojoules).toBeCloseTo(a.perInferencePicojoules, 6);
    expect(a.perInferencePicojoules).toBeLessThan(a.boundPerInferencePicojoules);
    const m = energyMetrics(model, a, 5);
    expect(m.energyBoundPicojoules).toBeCloseTo(5 * a.boundPerInferencePicojoules, 6);
    expect(m.energyPerInferencePicojoules).toBe(a.perInferencePicojoules);
    for (const k of ['Cells', 'Dac', 'Sense', 'Mux', 'Adc', 'Accumulator', 'Gain', 'Buffer']) {
      expect(Number.isFinite(m[`energy${k}PerInferencePicojoules`])).toBe(true);
      expect(Number.isFinite(m[`area${k}SquareMicrometers`])).toBe(true);
    }
    model.dispose();
  });

  it('is at most the bound in every component, and the counted components equal their plan', async () => {
    const model = compile(models.cnn(1), { chip: { device: 'pcm', tile: '64x64' } });
    const x = inputs(model, 5, 9);
    const stats = await statsOn(model, 1, x, 'onnxruntime');
    const e = energyFromStats(model, stats, 5);
    for (const k of COMPONENTS) expect(e.breakdownPicojoules[k]).toBeLessThanOrEqual(e.boundBreakdownPicojoules[k] * (1 + 1e-9));
    // Conversions, sense samples, digital operations and buffer traffic do not depend on the data.
    for (const k of ['sense', 'adc', 'accumulator', 'gain', 'buffer'] as const) {
      expect(e.breakdownPicojoules[k]).toBeCloseTo(e.boundBreakdownPicojoules[k], 6);
    }
    expect(e.breakdownPicojoules.cells).toBeLessThan(0.5 * e.boundBreakdownPicojoules.cells);
    expect(e.perInferencePicojoules).toBeCloseTo(COMPONENTS.reduce((s, k) => s + e.breakdownPicojoules[k], 0), 6);
    expect(() => energyFromStats(model, {}, 5)).toThrow(ConfigError);
    model.dispose();
  });

  it('statistics are refused for executions without a chip', async () => {
    const model = compile(models.mlp(1), { chip: { device: 'reram' } });
    const x = inputs(model, 2, 1);
    for (const engine of ['tfjs', 'onnxruntime'] as const) {
      const r = await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.1 } }, { engine });
      await expect(r.run(x, { seed: 1, stats: {} })).rejects.toThrow(/a chip execution/);
      await r.dispose();
    }
    model.dispose();
    tf.disposeVariables();
  });
});
