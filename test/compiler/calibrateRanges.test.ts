/**
 * Converter ranges calibrated on data: clip counts on the calibration batch and on
 * shifted inputs, the worst-case bound kept as an option, percentiles, per-column
 * full scales, drift losing resolution instead of re-ranging, the chip file, and
 * both engines running a calibrated chip alike.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { compile, loadProgrammedChip } from '../../src/compiler';
import type { CompiledModel, ProgrammedChip } from '../../src/compiler';
import { analogMvm, emptyMvmStats, type MvmStats } from '../../src/crossbar/analogMvm';
import { programLayer } from '../../src/crossbar/programmedLayer';
import { calibrateLayer, calibrateRanges } from '../../src/compiler/calibrateRanges';
import { Rng } from '../../src/rng';
import { validateChipSpec } from '../../src/crossbar/chipSpec';
import { ConfigError } from '../../src/errors';
import { cnn, lstmClassifier, mlp } from './tfjsModels';
import { fractionClose, seededInput } from './helpers';

/** The error `fn` throws, checked to be a `cls`. */
function expectThrows(fn: () => unknown, cls: new (...args: never[]) => Error): Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(cls);
    return err as Error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  await initBackend();
});

/** Ideal device (no noise), finite converters: ranges alone decide clipping. */
const quantisedIdeal = (extra: Record<string, unknown> = {}) => ({ device: 'ideal', tile: '16x8', dac: { bits: 8 }, adc: { bits: 6 }, ...extra });

/** The chip's outputs on `x` with run seed `seed` on onnxruntime, then on tfjs. */
async function onBothEngines(model: CompiledModel, chip: ProgrammedChip, x: tf.Tensor, seed: number): Promise<Float32Array[]> {
  const data = x.dataSync() as Float32Array;
  const out: Float32Array[] = [];
  for (const engine of ['onnxruntime', 'tfjs'] as const) {
    const r = await model.runner({ kind: 'chip', chip }, { engine });
    out.push(await r.run(data, { seed }));
    await r.dispose();
  }
  return out;
}

function statsOf(model: CompiledModel, chip: ReturnType<CompiledModel['program']>, x: tf.Tensor): MvmStats {
  const stats = emptyMvmStats();
  tf.dispose(chip.run(x, { seed: 3, stats }));
  return stats;
}

describe('range calibration on data', () => {
  let x: tf.Tensor;
  let model: CompiledModel;
  beforeAll(() => {
    x = seededInput([16, 20], 5);
    model = compile(mlp(7), { chip: quantisedIdeal() });
  });
  afterAll(() => model.dispose());

  it('is the default, and a chip that needs it refuses to program without data', () => {
    const spec = validateChipSpec({ device: 'reram' });
    expect(spec.calibration.method).toBe('max');
    expect(spec.dac.range.kind).toBe('calibrated');
    const err = expectThrows(() => model.program(1), ConfigError);
    expect(err.message).toMatch(/calibration/);
  });

  it('never clips on the calibration batch at max; clips shifted inputs', () => {
    const chip = model.program(1, { calibration: x });
    const own = statsOf(model, chip, x);
    expect(own.mvms).toBeGreaterThan(0);
    expect(own.dacClipped).toBe(0);
    expect(own.adcClipped).toBe(0);
    const shifted = tf.mul(x, 3);
    const moved = statsOf(model, chip, shifted);
    expect(moved.dacClipped).toBeGreaterThan(0);
    expect(chip.rangeCalibration.length).toBe(4);
    for (const c of chip.rangeCalibration) {
      expect(c.dacMaxAbs).toBeGreaterThan(0);
      expect(c.adcFullScaleMicroAmps![1]).toBeGreaterThan(0);
    }
    shifted.dispose();
    chip.dispose();
  });

  it('sets the first layer DAC range to the batch max |x| exactly, and ADC full scales below the worst case', () => {
    const chip = model.program(1, { calibration: x });
    const first = chip.layers.get(model.plan.layers[0].node)![0];
    const maxAbs = tf.max(tf.abs(x)).dataSync()[0];
    expect(first.dac.range).toEqual({ kind: 'fixed', maxAbs: expect.closeTo(maxAbs, 6) });
    const worst = compile(mlp(7), { chip: quantisedIdeal({ calibration: 'worstCase' }) });
    const wchip = worst.program(1);
    const wfirst = wchip.layers.get(worst.plan.layers[0].node)![0];
    expect(wfirst.dac.range.kind).toBe('perInputAbsMax');
    for (let a = 0; a < first.rowBlocks.length; a++) {
      const cal = first.rowBlocks[a].fullScaleMicroAmps;
      const bound = wfirst.rowBlocks[a].fullScaleMicroAmps;
      for (let j = 0; j < cal.length; j++) expect(cal[j]).toBeLessThanOrEqual(bound[j] * (1 + 1e-6));
    }
    // Worst case (the earlier behaviour): each tile's largest Σ|G⁺ − G⁻| · V_read.
    const rb = wfirst.rowBlocks[0];
    let worstCol = 0;
    for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let i = 0; i < rb.rows; i++) s += Math.abs(rb.gDiff[i * wfirst.fanOut + j]);
      worstCol = Math.max(worstCol, s);
    }
    expect(rb.fullScaleMicroAmps[0]).toBeCloseTo(worstCol * wfirst.chip.device.readVoltageVolts, 3);
    wchip.dispose();
    worst.dispose();
    chip.dispose();
  });

  it('gives a smaller output error than the worst-case bound at 4-bit ADCs', () => {
    const at4 = (calibration: string) => compile(mlp(7), { chip: quantisedIdeal({ adc: { bits: 4 }, calibration }) });
    const ideal = model.runIdeal(x);
    const err = (m: CompiledModel) => {
      const chip = m.program(1, { calibration: x });
      const y = chip.run(x, { seed: 2 });
      const e = tf.sqrt(tf.mean(tf.square(tf.sub(y, ideal)))).dataSync()[0];
      tf.dispose(y);
      chip.dispose();
      m.dispose();
      return e;
    };
    const calibrated = err(at4('max'));
    const worstCase = err(at4('worstCase'));
    expect(calibrated).toBeLessThan(0.7 * worstCase);
    ideal.dispose();
  });

  it('percentile clips about the tail it leaves out of the range', () => {
    const big = seededInput([400, 20], 9);
    const m = compile(mlp(7), { chip: quantisedIdeal({ calibration: { method: 'percentile', percentile: 99 } }) });
    const chip = m.program(1, { calibration: big });
    const first = chip.layers.get(m.plan.layers[0].node)![0];
    const maxAbs = tf.max(tf.abs(big)).dataSync()[0];
    expect((first.dac.range as { maxAbs: number }).maxAbs).toBeLessThan(maxAbs);
    const s = emptyMvmStats();
    // The first layer's inputs are the batch: about 1 % of its 8000 values lie beyond the 99th percentile.
    tf.dispose(chip.run(big, { seed: 1, layerStats: { [m.plan.layers[0].node]: s } }));
    expect(s.dacClipped / 8000).toBeGreaterThan(0.004);
    expect(s.dacClipped / 8000).toBeLessThan(0.0125);
    chip.dispose();
    m.dispose();
    big.dispose();
  });

  it('per-column full scale is each column\'s own largest |current|', () => {
    const m = compile(mlp(7), { chip: quantisedIdeal({ calibration: { adcGranularity: 'column' } }) });
    const chip = m.program(1, { calibration: x });
    const tileChip = model.program(1, { calibration: x });
    const l = chip.layers.get(m.plan.layers[0].node)![0];
    const t = tileChip.layers.get(model.plan.layers[0].node)![0];
    const perCol = l.rowBlocks[0].fullScaleMicroAmps;
    const perTile = t.rowBlocks[0].fullScaleMicroAmps;
    // Each column's own max is at most its tile's shared max, and the tile's max is one of its columns'.
    let equal = 0;
    for (let j = 0; j < 8; j++) {
      expect(perCol[j]).toBeLessThanOrEqual(perTile[j] * (1 + 1e-6));
      if (Math.abs(perCol[j] - perTile[j]) <= 1e-6 * perTile[j]) equal++;
    }
    expect(equal).toBeGreaterThanOrEqual(1);
    expect(new Set(Array.from(perCol.slice(0, 8))).size).toBeGreaterThan(1);
    expect(statsOf(m, chip, x).adcClipped).toBe(0);
    chip.dispose();
    tileChip.dispose();
    m.dispose();
  });

  it('rejects unknown or misplaced calibration fields by name', () => {
    expect(expectThrows(() => validateChipSpec({ device: 'reram', calibration: { method: 'mean' } }), ConfigError).message).toMatch(/calibration\.method/);
    expect(expectThrows(() => validateChipSpec({ device: 'reram', calibration: { methd: 'max' } }), ConfigError).message).toMatch(/calibration\.methd/);
    expect(expectThrows(() => validateChipSpec({ device: 'reram', calibration: { percentile: 99 } }), ConfigError).message).toMatch(/calibration\.percentile/);
    expect(expectThrows(() => validateChipSpec({ device: 'reram', calibration: 'worstCase', dac: { range: 'calibrated' } }), ConfigError).message).toMatch(/dac\.range/);
  });
});

describe('max ranges from the currents the chip converts', () => {
  it('equal the two-pass percentile-100 path bit for bit, with a patch matrix read in row slices', async () => {
    // 64 images × 144 positions = 9,216 patch rows at conv1: more than one calibration slice.
    const x = seededInput([64, 12, 12, 3], 8);
    const chips = ['max', { method: 'percentile', percentile: 100 }].map((calibration) => {
      const model = compile(cnn(4), { chip: quantisedIdeal({ calibration }) });
      return { model, chip: model.program(2, { calibration: x }) };
    });
    const [fast, twoPass] = chips;
    expect(fast.chip.rangeCalibration.length).toBe(3);
    for (const [node, ls] of fast.chip.layers) {
      ls.forEach((l, g) => {
        const other = twoPass.chip.layers.get(node)![g];
        expect(l.ranges!.dacMaxAbs).toBe(other.ranges!.dacMaxAbs);
        expect(Array.from(l.ranges!.adcFullScaleMicroAmps!)).toEqual(Array.from(other.ranges!.adcFullScaleMicroAmps!));
      });
    }
    const [a] = await onBothEngines(fast.model, fast.chip, x, 5);
    const [b] = await onBothEngines(twoPass.model, twoPass.chip, x, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
    for (const c of chips) {
      c.chip.dispose();
      c.model.dispose();
    }
    x.dispose();
  });
});

describe('layer-level and recurrent calibration', () => {
  it('calibrateLayer sets one programmed layer\'s ranges from its inputs', () => {
    const w = new Float32Array(40 * 12);
    Rng.fromSeed(3).fillNormal(w, 0, 0.2);
    const chip = validateChipSpec({ device: 'ideal', tile: '16x8', adc: { bits: 6 } });
    const raw = programLayer({ data: w, fanIn: 40, fanOut: 12 }, chip, Rng.fromSeed(1));
    expect(raw.calibrated).toBe(false);
    const x = seededInput([32, 40], 2) as tf.Tensor2D;
    const layer = calibrateLayer(raw, x);
    expect(layer.calibrated).toBe(true);
    expect((layer.dac.range as { maxAbs: number }).maxAbs).toBeCloseTo(tf.max(tf.abs(x)).dataSync()[0], 6);
    const stats = emptyMvmStats();
    tf.dispose(analogMvm(layer, x, Rng.fromSeed(4), stats));
    expect(stats.dacClipped).toBe(0);
    expect(stats.adcClipped).toBe(0);
    expect(() => analogMvm(raw, x, Rng.fromSeed(4))).toThrow(/not calibrated/);
    x.dispose();
  });

  it('an LSTM\'s ranges cover every step; the chip runs on both engines alike', async () => {
    const x = seededInput([12, 7, 5], 6);
    const model = compile(lstmClassifier(2, true), { chip: { device: 'ideal', tile: '16x16', adc: { bits: 8 } } });
    const chip = model.program(1, { calibration: x });
    expect(chip.rangeCalibration.length).toBe(model.plan.layers.reduce((s, l) => s + l.matrices.length, 0));
    for (const c of chip.rangeCalibration) expect(c.dacMaxAbs).toBeGreaterThan(0);
    const stats = emptyMvmStats();
    tf.dispose(chip.run(x, { seed: 1, stats }));
    // Recurrent ranges come from a run with ideal converters: the converted run clips a handful at most.
    expect(stats.dacClipped).toBeLessThanOrEqual(0.01 * stats.mvms * 5);
    const [ort, ref] = await onBothEngines(model, chip, x, 2);
    expect(fractionClose(ort, ref, 1e-3)).toBeGreaterThan(0.95);
    chip.dispose();
    model.dispose();
    x.dispose();
  });
});

describe('a batch too big to take whole', () => {
  it('is calibrated in chunks from ideal-converter runs: ranges close to the whole-batch ones', () => {
    const x = seededInput([12, 12, 12, 3], 7);
    const model = compile(cnn(5), { chip: { device: 'ideal', tile: '32x16', adc: { bits: 8 } } });
    const raw = model.program(1, { calibration: x });
    const chunked = calibrateRanges(model.deviceExecutorForCalibration(), raw.layers, x, { wholeBatch: false });
    for (const c of chunked.calibration) {
      const whole = raw.rangeCalibration.find((w) => w.node === c.node && w.group === c.group)!;
      // Only the converters upstream differ: ideal in the chunked runs, 8-bit in the whole-batch one.
      expect(Math.abs(c.dacMaxAbs! - whole.dacMaxAbs!) / whole.dacMaxAbs!).toBeLessThan(0.05);
      expect(Math.abs(c.adcFullScaleMicroAmps![1] - whole.adcFullScaleMicroAmps![1]) / whole.adcFullScaleMicroAmps![1]).toBeLessThan(0.05);
    }
    expect(chunked.calibration.length).toBe(raw.rangeCalibration.length);
    for (const ls of chunked.layers.values()) ls.forEach((l) => l.dispose());
    raw.dispose();
    model.dispose();
    x.dispose();
  });
});

describe('calibrated ranges stay fixed after drift', () => {
  let x: tf.Tensor;
  beforeAll(() => {
    x = seededInput([8, 12, 12, 3], 4);
  });
  const chipAt = (readTimeSeconds: number) => compile(cnn(3), { chip: { device: 'pcm', tile: '32x16', adc: { bits: 8 }, readTimeSeconds } });

  it('a chip read a day later keeps the ranges of its first read and loses resolution', () => {
    const fresh = chipAt(20);
    const later = chipAt(86400);
    const a = fresh.program(5, { calibration: x });
    const b = later.program(5, { calibration: x });
    for (const [node, ls] of a.layers) {
      const la = ls[0];
      const lb = b.layers.get(node)![0];
      expect(lb.dac.range).toEqual(la.dac.range);
      expect(Array.from(lb.rowBlocks[0].fullScaleMicroAmps)).toEqual(Array.from(la.rowBlocks[0].fullScaleMicroAmps));
    }
    // PCM conductances drift down: the drifted chip's currents fill less of the same range.
    const node = later.plan.layers[0].node;
    const la = a.layers.get(node)![0];
    const lb = b.layers.get(node)![0];
    const sum = (g: Float32Array) => g.reduce((s, v) => s + Math.abs(v), 0);
    expect(sum(lb.rowBlocks[0].gDiff)).toBeLessThan(0.95 * sum(la.rowBlocks[0].gDiff));
    // Recalibrating the drifted chip re-ranges it: smaller full scales.
    const re = b.recalibrated(x);
    const lr = re.layers.get(node)![0];
    const fsB = lb.rowBlocks[0].fullScaleMicroAmps;
    const fsR = lr.rowBlocks[0].fullScaleMicroAmps;
    expect(fsR[0]).toBeLessThan(0.95 * fsB[0]);
    [a, b, re].forEach((c) => c.dispose());
    fresh.dispose();
    later.dispose();
  });
});

describe('calibrated chips in files and on both engines', () => {
  let x: tf.Tensor;
  let model: CompiledModel;
  beforeAll(() => {
    x = seededInput([6, 12, 12, 3], 8);
    model = compile(cnn(4), { chip: { device: 'reram', tile: '32x16' } });
  });
  afterAll(() => model.dispose());

  it('a saved chip keeps its calibrated ranges and runs bit-identically', () => {
    const chip = model.program(2, { calibration: x });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-cal-'));
    const file = path.join(dir, 'chip.ohmic');
    chip.save(file);
    const loaded = loadProgrammedChip(model, file);
    for (const [node, ls] of chip.layers) {
      const l2 = loaded.layers.get(node)![0];
      expect(l2.dac).toEqual(ls[0].dac);
      expect(Array.from(l2.rowBlocks[0].fullScaleMicroAmps)).toEqual(Array.from(ls[0].rowBlocks[0].fullScaleMicroAmps));
    }
    const y1 = chip.run(x, { seed: 4 }).dataSync();
    const y2 = loaded.run(x, { seed: 4 }).dataSync();
    expect(Array.from(y2)).toEqual(Array.from(y1));
    chip.dispose();
    loaded.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('onnxruntime and tfjs agree on a calibrated chip (fixed-range DAC conv bands)', async () => {
    const chip = model.program(2, { calibration: x });
    const [ort, ref] = await onBothEngines(model, chip, x, 6);
    expect(fractionClose(ort, ref, 1e-3)).toBeGreaterThan(0.95);
    chip.dispose();
  });
});
