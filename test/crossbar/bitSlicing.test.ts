/**
 * Bit-sliced weights and bit-serial inputs on one programmed layer (the tfjs
 * reference engine): exactness on an ideal device, equivalence to an n-bit DAC, the
 * programming-noise variance of a sliced weight against its closed form, the counted
 * conversions and cycles, the worst-case cost model, and the config errors.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { Rng } from '../../src/rng';
import { ConfigError } from '../../src/errors';
import { validateChipSpec, type ChipSpec } from '../../src/crossbar/chipSpec';
import { programLayer, analogMvm, emptyMvmStats } from '../../src/crossbar/programmedLayer';
import { layerCost } from '../../src/crossbar/cost';
import { quantizeWeightsToBits, weightDigits, sliceShift } from '../../src/crossbar/slicing';
import { sliceWeightScale } from '../../src/crossbar/slicedLayer';
import { seededNormals as seeded } from '../compiler/helpers';
import { validateHardware } from '../../src/compiler/hardware';
import { expandGrid, validateStudyConfig } from '../../src/study/grid';
import { pointHardware } from '../../src/study/chipEvaluator';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';

beforeAll(async () => {
  await initBackend();
});

/** Noise-free chip on the ideal device, with converters and mapping as given. */
function idealChip(extra: Record<string, unknown> = {}): ChipSpec {
  return validateChipSpec({
    device: 'ideal',
    dac: { bits: null, range: 'perInputAbsMax' },
    adc: { bits: null },
    calibration: { method: 'worstCase' },
    ...extra,
  });
}

function mvm(chip: ChipSpec, w: Float32Array, fanIn: number, fanOut: number, x: Float32Array, batch: number, seed = 1, stats?: ReturnType<typeof emptyMvmStats>) {
  const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(seed));
  const y = tf.tidy(() => analogMvm(layer, tf.tensor2d(x, [batch, fanIn]), Rng.fromSeed(seed + 100), stats));
  const out = y.dataSync() as Float32Array;
  y.dispose();
  return { layer, y: Float32Array.from(out) };
}

/** x·W in float64, [batch × fanOut]. */
function matmul(x: Float32Array, w: Float32Array, batch: number, fanIn: number, fanOut: number): Float64Array {
  const y = new Float64Array(batch * fanOut);
  for (let b = 0; b < batch; b++) for (let i = 0; i < fanIn; i++) for (let j = 0; j < fanOut; j++) y[b * fanOut + j] += x[b * fanIn + i] * w[i * fanOut + j];
  return y;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('weight digits', () => {
  test('slicing a quantised weight and recombining the digits is exact', () => {
    const w = seeded(200, 1);
    const scale = sliceWeightScale({ data: w, fanIn: 20, fanOut: 10 }, false);
    for (const [k, b] of [[4, 2], [2, 4], [3, 3], [8, 1]]) {
      const digits = weightDigits(w, 10, scale, k, b);
      const q = quantizeWeightsToBits(w, 10, scale, k * b);
      const top = 2 ** (k * b) - 1;
      for (let i = 0; i < w.length; i++) {
        let sum = 0;
        for (let s = 0; s < k; s++) {
          expect(Math.abs(digits[s][i])).toBeLessThanOrEqual(2 ** b - 1);
          expect(Number.isInteger(digits[s][i])).toBe(true);
          sum += sliceShift(s, k, b) * digits[s][i];
        }
        // Σ_s 2^{b(k−1−s)}·d_s·scale/(2^{kb} − 1) is Q(w) exactly (up to float32 storage of Q).
        expect(Math.abs((sum * scale[i % 10]) / top - q[i])).toBeLessThanOrEqual(1e-6 * scale[0]);
        // Q is within half an LSB of w.
        expect(Math.abs(q[i] - w[i])).toBeLessThanOrEqual(scale[0] / (2 * top) + 1e-6);
      }
    }
  });
});

describe('bit-sliced weights on an ideal device with ideal converters', () => {
  const fanIn = 24;
  const fanOut = 7;
  const batch = 5;
  const w = seeded(fanIn * fanOut, 2, 0.3);
  const x = seeded(batch * fanIn, 3);

  for (const weightScale of ['layer', 'column'] as const) {
    test(`4 cells × 2 bits gives exactly x·Q(W), Q the 8-bit quantisation (${weightScale} scale)`, () => {
      const chip = idealChip({ slicing: { cellsPerWeight: 4, bitsPerCell: 2 }, mapping: { weightScale } });
      const { layer, y } = mvm(chip, w, fanIn, fanOut, x, batch);
      expect(layer.slices?.length).toBe(4);
      expect([layer.fanIn, layer.fanOut]).toEqual([fanIn, fanOut]);
      expect(layer.programming.cells).toBe(4 * 2 * fanIn * fanOut);
      const scale = sliceWeightScale({ data: w, fanIn, fanOut }, weightScale === 'column');
      const q = quantizeWeightsToBits(w, fanOut, scale, 8);
      const want = matmul(x, q, batch, fanIn, fanOut);
      const exact = matmul(x, w, batch, fanIn, fanOut);
      let diffQ = 0;
      let diffW = 0;
      for (let b = 0; b < batch; b++) {
        let sumX = 0;
        for (let i = 0; i < fanIn; i++) sumX += Math.abs(x[b * fanIn + i]);
        for (let j = 0; j < fanOut; j++) {
          const k = b * fanOut + j;
          diffQ = Math.max(diffQ, Math.abs(y[k] - want[k]));
          // The 8-bit weight quantisation bound: Σ_i |x_i| · scale_j / (2 · 255).
          const bound = (sumX * scale[j]) / (2 * 255);
          expect(Math.abs(y[k] - exact[k])).toBeLessThanOrEqual(bound * (1 + 1e-4) + 1e-6);
          diffW = Math.max(diffW, Math.abs(y[k] - exact[k]));
        }
      }
      expect(diffQ / maxAbs(want)).toBeLessThan(1e-5);
      // The quantisation is really there (an analog pair would give x·W to float precision).
      expect(diffW / maxAbs(exact)).toBeGreaterThan(1e-5);
      layer.dispose();
    });
  }

  test('one analog pair (the default) is bit-identical whether slicing is left out or given as one analog cell', () => {
    const base = { device: 'reram', dac: { bits: 8, range: 'perInputAbsMax' }, adc: { bits: 8 }, calibration: { method: 'worstCase' } };
    const plain = validateChipSpec(base);
    const one = validateChipSpec({ ...base, slicing: { cellsPerWeight: 1 }, inputEncoding: { kind: 'amplitude' } });
    expect(one).toEqual(plain);
    expect('slicing' in plain).toBe(false);
    const a = mvm(plain, w, fanIn, fanOut, x, batch, 7);
    const b = mvm(one, w, fanIn, fanOut, x, batch, 7);
    expect(a.layer.slices).toBeUndefined();
    expect(Array.from(b.y)).toEqual(Array.from(a.y));
    expect(Array.from(b.layer.gPlus)).toEqual(Array.from(a.layer.gPlus));
    a.layer.dispose();
    b.layer.dispose();
  });
});

describe('bit-serial inputs', () => {
  const fanIn = 300; // two row blocks on 256-row tiles
  const fanOut = 9;
  const batch = 4;
  const w = seeded(fanIn * fanOut, 4, 0.2);
  const x = seeded(batch * fanIn, 5);
  for (const range of ['perInputAbsMax', 2] as const) {
    for (const bits of [4, 8]) {
      test(`${bits}-bit bit-serial with an ideal ADC equals a ${bits}-bit amplitude DAC (range ${range})`, () => {
        const amplitude = idealChip({ dac: { bits, range } });
        const serial = idealChip({ dac: { bits: null, range }, inputEncoding: { kind: 'bitSerial', bits } });
        const a = mvm(amplitude, w, fanIn, fanOut, x, batch);
        const s = mvm(serial, w, fanIn, fanOut, x, batch);
        let diff = 0;
        for (let i = 0; i < a.y.length; i++) diff = Math.max(diff, Math.abs(a.y[i] - s.y[i]));
        expect(diff / maxAbs(a.y)).toBeLessThan(1e-5);
        // And the input quantisation is really there.
        const exact = matmul(x.map((v) => (typeof range === 'number' ? Math.max(-range, Math.min(range, v)) : v)), w, batch, fanIn, fanOut);
        let diffExact = 0;
        for (let i = 0; i < a.y.length; i++) diffExact = Math.max(diffExact, Math.abs(exact[i] - s.y[i]));
        expect(diffExact / maxAbs(exact)).toBeGreaterThan(1e-5);
        a.layer.dispose();
        s.layer.dispose();
      });
    }
  }

  test('the bits default to the DAC\'s; read noise per cycle is keyed by sample: the same at any batch size', () => {
    const chip = validateChipSpec({ device: 'reram', dac: { bits: 6, range: 'perInputAbsMax' }, adc: { bits: 8 }, calibration: { method: 'worstCase' }, inputEncoding: 'bitSerial' });
    expect(chip.inputEncoding).toEqual({ kind: 'bitSerial', bits: 6 });
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(3));
    const all = tf.tidy(() => analogMvm(layer, tf.tensor2d(x, [batch, fanIn]), Rng.fromSeed(9)).dataSync());
    const last = tf.tidy(() => analogMvm(layer, tf.tensor2d(x.subarray(3 * fanIn), [1, fanIn]), Rng.fromSeed(9), undefined, { sampleStart: 3, positions: 1, channelsFirst: false }).dataSync());
    expect(Array.from(last)).toEqual(Array.from(all.subarray(3 * fanOut)));
    // A different run seed gives different cycle noise.
    const other = tf.tidy(() => analogMvm(layer, tf.tensor2d(x, [batch, fanIn]), Rng.fromSeed(10)).dataSync());
    expect(Array.from(other)).not.toEqual(Array.from(all));
    layer.dispose();
  });
});

describe('programming noise on a sliced weight', () => {
  test('the sliced weight\'s error variance is Σ_s 4^{b(k−1−s)} × the slice error variance (closed form, within 8 %)', () => {
    const fanIn = 64;
    const fanOut = 64;
    const sigma = 1; // µS, on every cell; gMin 20 µS so nothing is clamped
    const device = { preset: 'ideal', gMinMicroSiemens: 20, gMaxMicroSiemens: 120, programmingNoiseAddMicroSiemens: sigma, programmingClip: 'clampAtZero' };
    const w = seeded(fanIn * fanOut, 6, 0.5);
    const scale = sliceWeightScale({ data: w, fanIn, fanOut }, false);
    const window = 100;
    const k = 4;
    const b = 2;
    const sliced = programLayer({ data: w, fanIn, fanOut }, idealChip({ device, slicing: { cellsPerWeight: k, bitsPerCell: b } }), Rng.fromSeed(11));
    const analog = programLayer({ data: w, fanIn, fanOut }, idealChip({ device }), Rng.fromSeed(11));
    const q = quantizeWeightsToBits(w, fanOut, scale, k * b);
    const variance = (a: Float32Array, ref: Float32Array) => {
      let m = 0;
      let s = 0;
      for (let i = 0; i < a.length; i++) m += a[i] - ref[i];
      m /= a.length;
      for (let i = 0; i < a.length; i++) s += (a[i] - ref[i] - m) ** 2;
      return s / (a.length - 1);
    };
    const measured = variance(sliced.effectiveWeights!, q);
    // Slice s's weight error is (δ⁺ − δ⁻)·gain_s, gain_s = (2^b − 1)/window · 2^{b(k−1−s)} · scale/(2^{kb} − 1).
    const lsbGain = ((2 ** b - 1) / window) * (scale[0] / (2 ** (k * b) - 1));
    let closed = 0;
    for (let s = 0; s < k; s++) closed += 4 ** (b * (k - 1 - s)) * 2 * sigma ** 2 * lsbGain ** 2;
    // 4096 weights: the sample variance's relative std is sqrt(2/4096) = 2.2 %; 8 % is 3.6 of them.
    expect(Math.abs(measured / closed - 1)).toBeLessThan(0.08);
    // Each slice on its own matches its share (the slices' draws are independent streams).
    sliced.slices!.forEach((sl, s) => {
      const target = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < target.length; i++) target[i] = (sl.targetPlus[i] - sl.targetMinus[i]) * sl.weightPerMicroSiemens[i % fanOut];
      const share = 4 ** (b * (k - 1 - s)) * 2 * sigma ** 2 * lsbGain ** 2;
      expect(Math.abs(variance(sl.effectiveWeights!, target) / share - 1)).toBeLessThan(0.08);
    });
    // One analog pair: 2σ²·(scale/window)²; the 4 × 2-bit weight has (3/255)²·Σ_s 16^(3−s) = 0.605 of it.
    const analogVar = variance(analog.effectiveWeights!, w);
    expect(Math.abs(analogVar / (2 * sigma ** 2 * (scale[0] / window) ** 2) - 1)).toBeLessThan(0.08);
    expect(Math.abs(measured / analogVar - 0.6047)).toBeLessThan(0.08);
    sliced.dispose();
    analog.dispose();
  });
});

describe('counted conversions and cycles', () => {
  const fanIn = 300;
  const fanOut = 6;
  const batch = 3;
  const w = seeded(fanIn * fanOut, 8, 0.2);
  const x = seeded(batch * fanIn, 9);
  const base = { device: 'reram', dac: { bits: 8, range: 'perInputAbsMax' }, adc: { bits: 8 }, calibration: { method: 'worstCase' } };
  const countsOf = (extra: Record<string, unknown>) => {
    const stats = emptyMvmStats();
    const { layer } = mvm(validateChipSpec({ ...base, ...extra }), w, fanIn, fanOut, x, batch, 1, stats);
    layer.dispose();
    return stats;
  };
  test('conversions scale as (n − 1)·k, cycles as n − 1, cell energy and drives with both', () => {
    const one = countsOf({});
    const rowBlocks = 2;
    expect(one.adcConversions).toBe(batch * fanOut * rowBlocks);
    expect(one.inputCycles).toBe(batch);
    expect(one.shiftAdds).toBe(0);
    for (const [n, k] of [[8, 1], [4, 1], [8, 4], [6, 2]]) {
      const extra: Record<string, unknown> = { inputEncoding: { kind: 'bitSerial', bits: n } };
      if (k > 1) extra.slicing = { cellsPerWeight: k, bitsPerCell: 8 / k };
      const s = countsOf(extra);
      expect(s.mvms).toBe(one.mvms);
      expect(s.adcConversions).toBe(one.adcConversions * (n - 1) * k);
      expect(s.inputCycles).toBe(one.inputCycles * (n - 1));
      expect(s.digitalMultiplies).toBe(one.digitalMultiplies);
      expect(s.digitalAdds).toBe(one.digitalAdds * k);
      // Per slice, (n − 2) shift-adds per column per row block; then (k − 1) per column to combine the slices.
      expect(s.shiftAdds).toBe(batch * fanOut * (k * rowBlocks * (n - 2) + (k - 1)));
      // A word line is driven in every cycle whose bit of its input's code is set: k·Σ popcount(c).
      let popcount = 0;
      for (let r = 0; r < batch; r++) {
        const row = x.subarray(r * fanIn, (r + 1) * fanIn);
        const m = maxAbs(row);
        for (const v of row) {
          let c = Math.round((Math.abs(v) / m) * (2 ** (n - 1) - 1));
          for (; c > 0; c >>= 1) popcount += c & 1;
        }
      }
      expect(Math.abs(s.dacDrives - k * popcount)).toBeLessThanOrEqual(k * 2);
      expect(s.cellEnergyPicojoules).toBeGreaterThan(0);
    }
    // Slicing alone: k× cells read with the same voltages (the digit conductances differ).
    const sliced = countsOf({ slicing: { cellsPerWeight: 4, bitsPerCell: 2 } });
    expect(sliced.adcConversions).toBe(4 * one.adcConversions);
    expect(sliced.dacDrives).toBe(4 * one.dacDrives);
    expect(sliced.inputCycles).toBe(one.inputCycles);
  });

  test('the worst-case cost: k× tiles, cells and ADCs; (n − 1)× the stage time; conversions (n − 1)·k×', () => {
    const one = layerCost(fanIn, fanOut, validateChipSpec(base));
    const c = layerCost(fanIn, fanOut, validateChipSpec({ ...base, slicing: { cellsPerWeight: 4, bitsPerCell: 2 }, inputEncoding: { kind: 'bitSerial', bits: 8 } }));
    expect(c.tiles).toBe(4 * one.tiles);
    expect(c.cells).toBe(4 * one.cells);
    expect(c.adcs).toBe(4 * one.adcs);
    expect(c.stageTimeNs).toBeCloseTo(7 * one.stageTimeNs, 9);
    expect(c.adcEnergyPicojoules).toBeCloseTo(28 * one.adcEnergyPicojoules, 6);
    expect(c.cellEnergyPicojoules).toBeCloseTo(28 * one.cellEnergyPicojoules, 6);
    // Shift-and-add units add area to the accumulators.
    expect(c.areaBreakdownSquareMicrometers.accumulator).toBeGreaterThan(4 * one.areaBreakdownSquareMicrometers.accumulator);
    expect(c.energyBreakdownPerMvmPicojoules.accumulator).toBeGreaterThan(4 * one.energyBreakdownPerMvmPicojoules.accumulator);
  });
});

describe('configuration', () => {
  const expectConfigError = (f: () => unknown, field: string) => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe(field);
      return;
    }
    throw new Error(`expected a ConfigError on ${field}`);
  };
  test('unknown and invalid slicing and encoding fields are ConfigErrors naming the field', () => {
    expectConfigError(() => validateChipSpec({ device: 'reram', slicing: { cellsPerWeight: 4, bitsPerCell: 2, cellBits: 2 } }), 'chip.slicing.cellBits');
    expectConfigError(() => validateChipSpec({ device: 'reram', slicing: { cellsPerWeight: 4 } }), 'chip.slicing.bitsPerCell');
    expectConfigError(() => validateChipSpec({ device: 'reram', slicing: { cellsPerWeight: 0, bitsPerCell: 2 } }), 'chip.slicing.cellsPerWeight');
    expectConfigError(() => validateChipSpec({ device: 'reram', slicing: { cellsPerWeight: 9, bitsPerCell: 3 } }), 'chip.slicing');
    // NAND cells hold 2 bits.
    expectConfigError(() => validateChipSpec({ device: 'nand', slicing: { cellsPerWeight: 2, bitsPerCell: 4 } }), 'chip.slicing.bitsPerCell');
    expectConfigError(() => validateChipSpec({ device: 'reram', inputEncoding: { kind: 'thermometer' } }), 'chip.inputEncoding.kind');
    expectConfigError(() => validateChipSpec({ device: 'reram', inputEncoding: { kind: 'bitSerial', bits: 8, cycles: 7 } }), 'chip.inputEncoding.cycles');
    expectConfigError(() => validateChipSpec({ device: 'reram', dac: { bits: null }, inputEncoding: 'bitSerial' }), 'chip.inputEncoding.bits');
    // Through a hardware description (what the CLI and studies read), per layer too.
    expectConfigError(() => validateHardware({ kind: 'chip', chip: { device: 'reram', slicing: { cellsPerWeigth: 4 } } }), 'hardware.chip.slicing.cellsPerWeigth');
    const hw = validateHardware({ kind: 'chip', chip: { device: 'reram', slicing: { cellsPerWeight: 4, bitsPerCell: 2 } }, layers: { fc: { inputEncoding: { kind: 'bitSerial', bits: 6 } } } });
    expect(hw.kind === 'chip' && hw.chip.slicing).toEqual({ cellsPerWeight: 4, bitsPerCell: 2 });
    expect(hw.kind === 'chip' && hw.layers?.fc.inputEncoding).toEqual({ kind: 'bitSerial', bits: 6 });
    expect(hw.kind === 'chip' && hw.layers?.fc.slicing).toEqual({ cellsPerWeight: 4, bitsPerCell: 2 });
  });
});

describe('study sweeps over slicing and input bits', () => {
  test('cells per weight, bits per cell and bit-serial input bits are grid axes; a wrong slicing key names the axis', () => {
    const config = validateStudyConfig(
      {
        models: ['m'], devices: ['reram'], noise: ['device'], semantics: ['passes'], dataset: { name: 'mnist', limit: 10 },
        axes: { 'slicing.cellsPerWeight': [1, 2, 4], 'slicing.bitsPerCell': [8, 4, 2], 'inputEncoding.bits': [4, 6, 8] },
        zip: true,
      },
      STUDY_DEVICES,
    );
    const points = expandGrid(config);
    expect(points).toHaveLength(3);
    const hw = pointHardware(points[2]);
    expect(hw.kind === 'chip' && [hw.chip.slicing, hw.chip.inputEncoding]).toEqual([{ cellsPerWeight: 4, bitsPerCell: 2 }, { kind: 'bitSerial', bits: 8 }]);
    expect(() =>
      validateStudyConfig({ models: ['m'], devices: ['reram'], noise: ['device'], semantics: ['passes'], dataset: { name: 'mnist', limit: 10 }, axes: { 'slicing.cells': [2] } }, STUDY_DEVICES),
    ).toThrow(/^axes\.slicing\.cells = \[2\]: expected a field of slicing: one of cellsPerWeight, bitsPerCell/);
  });
});

describe('tensor lifetime', () => {
  test('a sliced, bit-serial MVM leaves no tensors behind (with and without counting)', () => {
    const chip = validateChipSpec({ device: 'reram', dac: { bits: 8, range: 'perInputAbsMax' }, adc: { bits: 8 }, calibration: { method: 'worstCase' }, slicing: { cellsPerWeight: 2, bitsPerCell: 4 }, inputEncoding: { kind: 'bitSerial', bits: 5 } });
    const layer = programLayer({ data: seeded(300 * 5, 12), fanIn: 300, fanOut: 5 }, chip, Rng.fromSeed(1));
    const x = tf.tensor2d(seeded(2 * 300, 13), [2, 300]);
    analogMvm(layer, x, Rng.fromSeed(2)).dispose(); // first use caches the layer's tensors
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      analogMvm(layer, x, Rng.fromSeed(2)).dispose();
      analogMvm(layer, x, Rng.fromSeed(2), emptyMvmStats()).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
    x.dispose();
  });
});
