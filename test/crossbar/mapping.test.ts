import fc from 'fast-check';
import { conductancesToWeights, weightsToConductances, quantizationBound, pcm, nand, reram } from '../../src/crossbar';
import type { DeviceSpec } from '../../src/crossbar';

const weightArb = fc
  .record({ fanIn: fc.integer({ min: 1, max: 40 }), fanOut: fc.integer({ min: 1, max: 40 }) })
  .chain(({ fanIn, fanOut }) =>
    fc.record({
      fanIn: fc.constant(fanIn),
      fanOut: fc.constant(fanOut),
      // Subnormal float32 weights are flushed to 0: their own storage error exceeds half a level.
      values: fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }).map((v) => (Math.abs(v) < 1e-30 ? 0 : v)), {
        minLength: fanIn * fanOut,
        maxLength: fanIn * fanOut,
      }),
    }),
  );

function roundTripHolds(device: DeviceSpec, weightScale: 'layer' | 'column') {
  fc.assert(
    fc.property(weightArb, ({ fanIn, fanOut, values }) => {
      const data = Float32Array.from(values);
      const pair = weightsToConductances({ data, fanIn, fanOut }, device, weightScale);
      for (let k = 0; k < data.length; k++) {
        if (pair.gPlus[k] < device.gMinMicroSiemens - 1e-4 || pair.gPlus[k] > device.gMaxMicroSiemens + 1e-4) return false;
        if (pair.gMinus[k] < device.gMinMicroSiemens - 1e-4 || pair.gMinus[k] > device.gMaxMicroSiemens + 1e-4) return false;
      }
      const back = conductancesToWeights(pair, fanIn, fanOut);
      for (let i = 0; i < fanIn; i++) {
        for (let j = 0; j < fanOut; j++) {
          const k = i * fanOut + j;
          const scale = pair.weightPerMicroSiemens[j] * (device.gMaxMicroSiemens - device.gMinMicroSiemens);
          // quantisation bound + float32 rounding of conductances (relative 1e-6 of the window)
          const tol = quantizationBound(device, pair.weightPerMicroSiemens[j]) + 2e-6 * scale;
          if (Math.abs(back.data[k] - data[k]) > tol) return false;
        }
      }
      return true;
    }),
    { numRuns: 150, seed: 20261126 },
  );
}

describe('weight ↔ conductance mapping', () => {
  it('round-trips analog cells exactly (float32) with a per-layer scale', () => roundTripHolds(pcm(), 'layer'));
  it('round-trips with a per-column scale and gMin > 0', () => roundTripHolds(reram(), 'column'));
  it('round-trips NAND (2 bits per cell) within half a level', () => roundTripHolds(nand(), 'layer'));
  it('round-trips a 16-level ReRAM within half a level', () => roundTripHolds(reram({ bitsPerCell: 4 }), 'column'));

  it('maps max |W| to the full window and zero to gMin on both cells', () => {
    const d = reram();
    const pair = weightsToConductances({ data: Float32Array.from([2, -1, 0, -2]), fanIn: 2, fanOut: 2 }, d, 'layer');
    expect(pair.gPlus[0]).toBeCloseTo(d.gMaxMicroSiemens, 4);
    expect(pair.gMinus[0]).toBeCloseTo(d.gMinMicroSiemens, 4);
    expect(pair.gMinus[1]).toBeCloseTo(d.gMinMicroSiemens + (d.gMaxMicroSiemens - d.gMinMicroSiemens) / 2, 4);
    expect(pair.gPlus[2]).toBeCloseTo(d.gMinMicroSiemens, 5);
    expect(pair.gMinus[2]).toBeCloseTo(d.gMinMicroSiemens, 5);
    expect(pair.weightPerMicroSiemens[0]).toBeCloseTo(2 / (d.gMaxMicroSiemens - d.gMinMicroSiemens), 8);
  });

  it('gives an all-zero column weight scale 0 (both cells at gMin), under a layer or a column scale', () => {
    const d = reram();
    const data = Float32Array.from([1, 0, -2, 0.5, 0, 0]); // 2 × 3, column 1 all zero
    for (const scale of ['layer', 'column'] as const) {
      const pair = weightsToConductances({ data, fanIn: 2, fanOut: 3 }, d, scale);
      expect(pair.weightPerMicroSiemens[1]).toBe(0);
      expect(pair.weightPerMicroSiemens[0]).toBeGreaterThan(0);
      expect([pair.gPlus[1], pair.gMinus[1], pair.gPlus[4], pair.gMinus[4]]).toEqual(Array(4).fill(Math.fround(d.gMinMicroSiemens)));
      expect(Array.from(conductancesToWeights(pair, 2, 3).data)).toEqual(Array.from(data));
    }
    const none = weightsToConductances({ data: new Float32Array(4), fanIn: 2, fanOut: 2 }, d, 'layer');
    expect(Array.from(none.weightPerMicroSiemens)).toEqual([0, 0]);
  });

  it('puts NAND conductances on exactly 4 levels', () => {
    const d = nand();
    const data = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const pair = weightsToConductances({ data, fanIn: 10, fanOut: 10 }, d, 'layer');
    const levels = new Set([...pair.gPlus, ...pair.gMinus].map((g) => g.toFixed(5)));
    expect(levels.size).toBeLessThanOrEqual(4);
    expect(levels.size).toBeGreaterThanOrEqual(3);
  });
});
