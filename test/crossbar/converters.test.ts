import fc from 'fast-check';
import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/rng';
import { applyDac, applyAdc, adcConvert, adcHalfLsb, validateChipSpec, programLayer, analogMvm, emptyMvmStats, ideal } from '../../src/crossbar';

beforeAll(async () => {
  await initBackend();
});

describe('DAC', () => {
  /** The DAC on one input vector, read back to numbers. */
  function dacOf(values: Float32Array, spec: Parameters<typeof applyDac>[1]) {
    return tf.tidy(() => {
      const r = applyDac(tf.tensor2d(values, [1, values.length]), spec, true);
      return { normalized: r.normalized.dataSync() as Float32Array, rowScale: r.rowScale.dataSync()[0], clipped: r.clipped ? r.clipped.dataSync()[0] : 0 };
    });
  }

  it('quantises within half an LSB of the normalised input (per-input abs-max range)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 64 }),
        (bits, values) => {
          const x = Float32Array.from(values);
          const r = dacOf(x, { bits, range: { kind: 'perInputAbsMax' } });
          const halfLsb = 1 / (2 * (2 ** (bits - 1) - 1));
          return x.every((v, i) => Math.abs(r.normalized[i] - v / r.rowScale) <= halfLsb + 1e-6) && r.clipped === 0;
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });

  it('clips inputs beyond a fixed range and counts them', () => {
    const r = dacOf(Float32Array.from([-3, -1, 0.5, 2, 1]), { bits: 8, range: { kind: 'fixed', maxAbs: 1 } });
    expect(Array.from(r.normalized)).toEqual([-1, -1, Math.round(0.5 * 127) / 127, 1, 1].map((v) => Math.fround(v)));
    expect(r.clipped).toBe(2);
  });
});

describe('ADC', () => {
  it('is within half an LSB inside the range and saturates outside', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 16 }), fc.double({ min: -1.5, max: 1.5, noNaN: true }), (bits, u) => {
        const fs = 3.7;
        const levels = 2 ** (bits - 1) - 1;
        const q = adcConvert(u * fs, fs, levels);
        if (Math.abs(u) <= 1) return Math.abs(q - u * fs) <= adcHalfLsb(fs, bits) + 1e-12;
        return q === Math.sign(u) * fs;
      }),
      { numRuns: 500, seed: 2 },
    );
  });

  it('the tensor ADC the MVM uses agrees with the scalar reference (to float32 rounding) and counts clipping', () => {
    const fs = 3.7;
    const bits = 6;
    const levels = 2 ** (bits - 1) - 1;
    const currents = Array.from({ length: 401 }, (_, i) => (i / 200 - 1) * 1.5 * fs);
    const got = tf.tidy(() => {
      const r = applyAdc(tf.tensor2d(currents, [1, currents.length]), tf.scalar(levels / fs), tf.scalar(fs / levels), levels, true);
      return { values: Array.from(r.converted.dataSync()), clipped: r.clipped!.dataSync()[0] };
    });
    currents.forEach((c, i) => {
      const want = adcConvert(c, fs, levels);
      // a current exactly at a code boundary may round either way in float32
      const tol = Math.abs(Math.abs(c / fs) * levels % 1 - 0.5) < 1e-5 ? fs / levels + 1e-6 : 1e-5;
      expect(Math.abs(got.values[i] - want)).toBeLessThanOrEqual(tol);
    });
    // Clipped: the range changed the code, i.e. beyond full scale by more than half an LSB.
    expect(got.clipped).toBe(currents.filter((c) => Math.abs(c) > fs * (1 + 0.5 / levels) * (1 + 1e-6)).length);
  });

  it('bounds the tiled MVM error by half an LSB per tile partial sum, and counts clipping', () => {
    const fanIn = 300;
    const fanOut = 20;
    const w = new Float32Array(fanIn * fanOut);
    Rng.fromSeed(1).fillNormal(w);
    const bits = 6;
    const chip = validateChipSpec({ device: ideal(), tile: '128x8', dac: { bits: null }, adc: { bits }, calibration: 'worstCase' });
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(1));
    const xData = new Float32Array(8 * fanIn);
    Rng.fromSeed(2).fillNormal(xData);
    const x = tf.tensor2d(xData, [8, fanIn]);
    const stats = emptyMvmStats();
    const y = analogMvm(layer, x, Rng.fromSeed(3), stats).dataSync();
    const ref = tf.matMul(x, tf.tensor2d(w, [fanIn, fanOut])).dataSync();
    const vRead = chip.device.readVoltageVolts;
    for (let b = 0; b < 8; b++) {
      let rowMax = 0;
      for (let i = 0; i < fanIn; i++) rowMax = Math.max(rowMax, Math.abs(xData[b * fanIn + i]));
      for (let j = 0; j < fanOut; j++) {
        let bound = 0;
        for (const rb of layer.rowBlocks) bound += adcHalfLsb(rb.fullScaleMicroAmps[j], bits);
        bound *= (rowMax * layer.weightPerMicroSiemens[j]) / vRead;
        expect(Math.abs(y[b * fanOut + j] - ref[b * fanOut + j])).toBeLessThanOrEqual(bound * 1.0001 + 1e-5);
      }
    }
    // range 1 = the worst-case column current: nothing can clip
    expect(stats.adcClipped).toBe(0);
    expect(stats.adcConversions).toBe(8 * fanOut * 3);
    expect(stats.mvms).toBe(8);
    x.dispose();
    layer.dispose();
  });

  it('clips when the range is narrowed', () => {
    const w = new Float32Array(64).fill(1);
    const chip = validateChipSpec({ device: ideal(), dac: { bits: null }, adc: { bits: 8, rangeFraction: 0.25 }, calibration: 'worstCase' });
    const layer = programLayer({ data: w, fanIn: 64, fanOut: 1 }, chip, Rng.fromSeed(1));
    const stats = emptyMvmStats();
    const x = tf.ones([2, 64]) as tf.Tensor2D;
    const y = analogMvm(layer, x, Rng.fromSeed(1), stats).dataSync();
    expect(stats.adcClipped).toBe(2);
    expect(y[0]).toBeCloseTo(16, 3); // saturated at a quarter of the full 64
    x.dispose();
    layer.dispose();
  });
});
