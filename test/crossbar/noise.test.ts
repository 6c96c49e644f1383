import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/rng';
import {
  ideal, pcm, validateChipSpec, programLayer, analogMvm, applySignalNoise, multiplicativeSnrDb,
  applyDrift, expectedDriftFactor, signalMvm, conductancesToWeights,
} from '../../src/crossbar';
import type { DeviceOverrides } from '../../src/crossbar';
import { mean, normalCdf, std, variance } from '../helpers/stats';
import { aihwkitSigProg, aihwkitQs, aihwkitFlickerLog, driftMoments, expectOverNormal } from './aihwkitClosedForms';

beforeAll(async () => {
  await initBackend();
});

const chipWith = (overrides: DeviceOverrides, extra: Record<string, unknown> = {}) =>
  validateChipSpec({ device: ideal(overrides), dac: { bits: null }, adc: { bits: null }, ...extra });

describe('programming noise (static, per cell)', () => {
  // 100×100 weights all 0.5 of max: G⁺ targets sit at mid-window, G⁻ at gMin = 0.
  const n = 100;
  const w = new Float32Array(n * n).fill(0.5);
  w[0] = 1; // sets the layer's max |W|
  const device = ideal({ gMaxMicroSiemens: 25, programmingNoiseRelStd: 0.04, programmingNoiseAddMicroSiemens: 0.26 });
  let layer: ReturnType<typeof programLayer>;
  beforeAll(() => {
    layer = programLayer({ data: w, fanIn: n, fanOut: n }, validateChipSpec({ device }), Rng.fromSeed(11));
  });
  afterAll(() => layer.dispose());

  it('has the target mean and std sqrt((σ_rel·G)² + σ_add²) per cell (generic terms)', () => {
    const g = layer.gPlus.subarray(1);
    const target = device.gMaxMicroSiemens / 2; // 12.5 µS, 19σ from either edge: truncation changes nothing
    const expectedStd = Math.hypot(device.programmingNoiseRelStd * target, device.programmingNoiseAddMicroSiemens);
    // N = 9999: mean within 5σ/√N, std within 5·(1/√(2N)) relative
    expect(Math.abs(mean(g) - target)).toBeLessThan((5 * expectedStd) / Math.sqrt(g.length));
    expect(Math.abs(std(g) / expectedStd - 1)).toBeLessThan(5 / Math.sqrt(2 * g.length));
  });

  it('sets cells whose target is on the window edge exactly (G⁻ at gMin = 0), and counts none as clipped', () => {
    for (const v of layer.gMinus) expect(v).toBe(0);
    expect(layer.gPlus[0]).toBeCloseTo(25, 5);
    // Mid-window targets are 19σ inside: none of their draws leaves the window.
    expect(layer.programming.clippedCells).toBe(0);
  });

  it('with "clampAtZero" (aihwkit/CrossSim) clamps half the G⁻ cells at 0 and counts them', () => {
    const clamped = programLayer(
      { data: w, fanIn: n, fanOut: n },
      validateChipSpec({ device: { ...device, programmingClip: 'clampAtZero' } }),
      Rng.fromSeed(11),
    );
    let negatives = 0;
    for (const v of clamped.gMinus) if (v < 0) negatives++;
    expect(negatives).toBe(0);
    const cells = n * n;
    // G⁻ targets are 0 with additive noise: P(clamp) = 1/2; G⁺ clamps with negligible probability.
    expect(Math.abs(clamped.programming.clippedCells - cells / 2)).toBeLessThan(5 * Math.sqrt(cells / 4));
    clamped.dispose();
  });

  it('is static: the same seed programs the same bits; another seed differs', () => {
    const again = programLayer({ data: w, fanIn: n, fanOut: n }, validateChipSpec({ device }), Rng.fromSeed(11));
    const other = programLayer({ data: w, fanIn: n, fanOut: n }, validateChipSpec({ device }), Rng.fromSeed(12));
    expect(Buffer.from(again.gPlus.buffer).equals(Buffer.from(layer.gPlus.buffer))).toBe(true);
    expect(Buffer.from(other.gPlus.buffer).equals(Buffer.from(layer.gPlus.buffer))).toBe(false);
    again.dispose();
    other.dispose();
  });

  it('sticks the configured fractions of cells at gMin and gMax', () => {
    const m = 200;
    const data = new Float32Array(m * m).fill(0.3);
    data[0] = 1;
    const chip = chipWith({ gMinMicroSiemens: 1, stuckAtGMinFraction: 0.1, stuckAtGMaxFraction: 0.05 });
    const l = programLayer({ data, fanIn: m, fanOut: m }, chip, Rng.fromSeed(3));
    const cells = 2 * m * m;
    let atMax = 0;
    for (const v of [...l.gPlus, ...l.gMinus]) if (v === chip.device.gMaxMicroSiemens) atMax++;
    // binomial counts within 5σ
    expect(Math.abs(l.programming.stuckCells - 0.15 * cells)).toBeLessThan(5 * Math.sqrt(cells * 0.15 * 0.85));
    expect(Math.abs(atMax - 1 - 0.05 * cells)).toBeLessThan(5 * Math.sqrt(cells * 0.05 * 0.95) + 2);
    l.dispose();
  });
});

describe('read noise (dynamic, exact variance via a second GEMM)', () => {
  it('matches a Monte Carlo simulation with per-cell draws within 3 %', () => {
    const fanIn = 40;
    const fanOut = 6;
    const w = new Float32Array(fanIn * fanOut);
    Rng.fromSeed(1).fillNormal(w);
    const sigma = 0.05;
    const chip = chipWith({ gMinMicroSiemens: 2, readNoiseRelStd: sigma });
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(2));
    const xRow = new Float32Array(fanIn);
    Rng.fromSeed(3).fillNormal(xRow);
    const trials = 60_000;
    const xs = new Float32Array(trials * fanIn);
    for (let t = 0; t < trials; t++) xs.set(xRow, t * fanIn);
    const x = tf.tensor2d(xs, [trials, fanIn]);
    const y = analogMvm(layer, x, Rng.fromSeed(4)).dataSync();
    x.dispose();

    // Per-cell Monte Carlo of the same column currents, in weight units.
    const mc = new Float64Array(trials * fanOut);
    const rng = Rng.fromSeed(5);
    const e = new Float32Array(2 * fanIn * fanOut);
    const maxAbsX = Math.max(...xRow.map(Math.abs));
    for (let t = 0; t < trials; t++) {
      rng.fillNormal(e);
      for (let j = 0; j < fanOut; j++) {
        let current = 0;
        for (let i = 0; i < fanIn; i++) {
          const k = i * fanOut + j;
          const gp = layer.gPlus[k] * (1 + sigma * e[2 * k]);
          const gm = layer.gMinus[k] * (1 + sigma * e[2 * k + 1]);
          current += (xRow[i] / maxAbsX) * (gp - gm);
        }
        mc[t * fanOut + j] = current * maxAbsX * layer.weightPerMicroSiemens[j];
      }
    }
    for (let j = 0; j < fanOut; j++) {
      const col = (a: ArrayLike<number>) => Float64Array.from({ length: trials }, (_, t) => a[t * fanOut + j]);
      const vAnalytic = variance(col(y));
      const vMc = variance(col(mc));
      // the ratio of two independent variance estimates has relative std 2/sqrt(N) = 0.8 %; 3 % ≈ 3.7σ
      expect(Math.abs(vAnalytic / vMc - 1)).toBeLessThan(0.03);
      expect(Math.abs(mean(col(y)) - mean(col(mc)))).toBeLessThan(5 * Math.sqrt(vMc / trials) * Math.SQRT2);
    }
    layer.dispose();
  });

  it('on one word line with gMin = 0 is the paper\'s multiplicative noise: SNR = 1/σ²', () => {
    const sigma = 0.4;
    const chip = chipWith({ gMinMicroSiemens: 0, readNoiseRelStd: sigma });
    const layer = programLayer({ data: Float32Array.from([0.7, -0.3]), fanIn: 1, fanOut: 2 }, chip, Rng.fromSeed(1));
    const trials = 50_000;
    const x = tf.fill([trials, 1], 2) as tf.Tensor2D;
    const y = analogMvm(layer, x, Rng.fromSeed(2)).dataSync();
    x.dispose();
    for (const [j, clean] of [[0, 1.4], [1, -0.6]] as const) {
      let signal = 0;
      let noise = 0;
      for (let t = 0; t < trials; t++) {
        signal += clean * clean;
        noise += (y[t * 2 + j] - clean) ** 2;
      }
      const snrDb = 10 * Math.log10(signal / noise);
      // noise power estimate has relative std sqrt(2/N) = 0.6 % → 0.03 dB; allow 0.1 dB
      expect(Math.abs(snrDb - multiplicativeSnrDb(sigma))).toBeLessThan(0.1);
    }
    expect(multiplicativeSnrDb(0.4)).toBeCloseTo(7.9588, 3);
    layer.dispose();
  });

  it('draws fresh noise per run: same run seed same bits, different seeds differ', () => {
    const chip = chipWith({ readNoiseRelStd: 0.1, senseNoiseRelStd: 0.01 });
    const w = new Float32Array(64 * 8);
    Rng.fromSeed(1).fillNormal(w);
    const layer = programLayer({ data: w, fanIn: 64, fanOut: 8 }, chip, Rng.fromSeed(2));
    const x = tf.ones([4, 64]) as tf.Tensor2D;
    const a = analogMvm(layer, x, Rng.fromSeed(9)).dataSync();
    const b = analogMvm(layer, x, Rng.fromSeed(9)).dataSync();
    const c = analogMvm(layer, x, Rng.fromSeed(10)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    x.dispose();
    layer.dispose();
  });
});

describe('state-independent read noise (one variance column per row band)', () => {
  // σ_add per cell, both cells of a pair: every column's variance is Σ x²·2σ², one product for all.
  const sigmaAdd = 0.3;
  const fanIn = 300;
  const fanOut = 5;
  const w = new Float32Array(fanIn * fanOut);
  Rng.fromSeed(21).fillNormal(w);
  const chip = chipWith({ readNoiseAddMicroSiemens: sigmaAdd }, { tile: { rows: 256, cols: 256 } });

  it('keeps one variance per row, 2σ², and none when the read noise scales with G', () => {
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(22));
    expect(layer.rowBlocks.map((rb) => rb.rows)).toEqual([256, 44]);
    for (const rb of layer.rowBlocks) {
      expect(rb.gSqRow).not.toBeNull();
      for (const v of rb.gSqRow!) expect(v).toBeCloseTo(2 * sigmaAdd * sigmaAdd, 6);
    }
    layer.dispose();
    const relative = programLayer({ data: w, fanIn, fanOut }, chipWith({ readNoiseRelStd: 0.05 }), Rng.fromSeed(22));
    expect(relative.rowBlocks[0].gSqRow).toBeNull();
    relative.dispose();
  });

  it('gives the bits of the full variance product and the closed-form std √(Σx²·2σ²)·w/µS', () => {
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(22));
    // The same layer with the per-row form withheld takes the [rows × fanOut] product.
    const full = { ...layer, rowBlocks: layer.rowBlocks.map((rb) => ({ ...rb, gSqRow: null })) };
    const trials = 20_000;
    const x = tf.ones([trials, fanIn]) as tf.Tensor2D;
    const y = analogMvm(layer, x, Rng.fromSeed(23)).dataSync();
    const yFull = analogMvm(full, x, Rng.fromSeed(23)).dataSync();
    x.dispose();
    let worst = 0;
    for (let k = 0; k < y.length; k++) worst = Math.max(worst, Math.abs(y[k] - yFull[k]));
    expect(worst).toBeLessThan(1e-4);
    for (let j = 0; j < fanOut; j++) {
      const col = Float64Array.from({ length: trials }, (_, t) => y[t * fanOut + j]);
      const expected = Math.sqrt(fanIn * 2 * sigmaAdd * sigmaAdd) * layer.weightPerMicroSiemens[j];
      // std of a std estimate: 1/√(2N) relative; 5σ.
      expect(Math.abs(std(col) / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * trials));
    }
    layer.dispose();
  });
});

describe('sensing noise (additive per column)', () => {
  it('has std σ_s · I_fs at the column, in output units', () => {
    const sigmaS = 0.01;
    const fanIn = 30;
    const fanOut = 4;
    const w = new Float32Array(fanIn * fanOut);
    Rng.fromSeed(7).fillNormal(w);
    const chip = chipWith({ senseNoiseRelStd: sigmaS });
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(8));
    const trials = 20_000;
    const x = tf.ones([trials, fanIn]) as tf.Tensor2D;
    const y = analogMvm(layer, x, Rng.fromSeed(9)).dataSync();
    x.dispose();
    const vRead = chip.device.readVoltageVolts;
    for (let j = 0; j < fanOut; j++) {
      const col = Float64Array.from({ length: trials }, (_, t) => y[t * fanOut + j]);
      const fs = layer.rowBlocks[0].fullScaleMicroAmps[j];
      const expected = (sigmaS * fs * layer.weightPerMicroSiemens[j]) / vRead;
      expect(Math.abs(std(col) / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * trials));
      let clean = 0;
      for (let i = 0; i < fanIn; i++) clean += w[i * fanOut + j];
      expect(Math.abs(mean(col) - clean)).toBeLessThan((5 * expected) / Math.sqrt(trials));
    }
    layer.dispose();
  });
});

describe('signal-level noise (paper Eq. 2 and 3)', () => {
  it('multiplicative σ = 0.4 gives SNR = 1/σ² = 7.96 dB', () => {
    const clean = new Float32Array(200_000);
    Rng.fromSeed(1).fillUniform(clean);
    const y = applySignalNoise(tf.tensor1d(clean), { kind: 'multiplicative', sigma: 0.4 }, Rng.fromSeed(2)).dataSync();
    let s = 0;
    let nz = 0;
    for (let i = 0; i < y.length; i++) {
      s += clean[i] ** 2;
      nz += (y[i] - clean[i]) ** 2;
    }
    expect(Math.abs(10 * Math.log10(s / nz) - 7.9588)).toBeLessThan(0.05);
  });

  it('additive σ adds N(0, σ²) independent of the signal', () => {
    const y = applySignalNoise(tf.fill([100_000], 3), { kind: 'additive', sigma: 0.25 }, Rng.fromSeed(4)).dataSync();
    expect(Math.abs(mean(y) - 3)).toBeLessThan((5 * 0.25) / Math.sqrt(y.length));
    expect(Math.abs(std(y) / 0.25 - 1)).toBeLessThan(5 / Math.sqrt(2 * y.length));
  });

  it('signalMvm is the exact product at σ = 0 and noisy otherwise', () => {
    const x = tf.tensor2d([[1, 2]]);
    const w = tf.tensor2d([[1, 0], [0, 1]]);
    expect(Array.from(signalMvm(x, w, { kind: 'multiplicative', sigma: 0 }, Rng.fromSeed(1)).dataSync())).toEqual([1, 2]);
    const noisy = signalMvm(x, w, { kind: 'additive', sigma: 1 }, Rng.fromSeed(1)).dataSync();
    expect(noisy[0]).not.toBe(1);
    tf.dispose([x, w]);
  });
});

describe('drift (power law)', () => {
  it('follows (t/t0)^(−ν) exactly for a fixed ν', () => {
    const g = new Float32Array(10).fill(20);
    applyDrift(g, { nuMean: 0.06, nuStd: 0, t0Seconds: 20, tSeconds: 20 * 3600 }, Rng.fromSeed(1));
    for (const v of g) expect(v).toBeCloseTo(20 * 3600 ** -0.06, 4);
  });

  it('has the log-normal mean E[(t/t0)^(−ν)] for Gaussian ν, and no drift at t0', () => {
    const p = { nuMean: 0.05, nuStd: 0.02, t0Seconds: 20, tSeconds: 20 * 86400 };
    const g = new Float32Array(100_000).fill(1);
    applyDrift(g, p, Rng.fromSeed(2));
    expect(Math.abs(mean(g) / expectedDriftFactor(p) - 1)).toBeLessThan(0.002);
    const still = new Float32Array(4).fill(5);
    applyDrift(still, { ...p, tSeconds: 20 }, Rng.fromSeed(2));
    expect(Array.from(still)).toEqual([5, 5, 5, 5]);
  });

  it('global drift compensation restores the output scale of a drifted layer', () => {
    const fanIn = 64;
    const fanOut = 16;
    const w = new Float32Array(fanIn * fanOut);
    Rng.fromSeed(3).fillNormal(w);
    const base = { gMinMicroSiemens: 0, driftNuMean: 0.05, driftNuStd: 0, driftT0Seconds: 20 };
    const t = 20 * 86400 * 30;
    const drifted = programLayer({ data: w, fanIn, fanOut }, chipWith(base, { readTimeSeconds: t }), Rng.fromSeed(1));
    const compensated = programLayer(
      { data: w, fanIn, fanOut },
      chipWith(base, { readTimeSeconds: t, driftCompensation: true }),
      Rng.fromSeed(1),
    );
    const x = tf.ones([1, fanIn]) as tf.Tensor2D;
    const ref = tf.matMul(x, tf.tensor2d(w, [fanIn, fanOut])).dataSync();
    const yd = analogMvm(drifted, x, Rng.fromSeed(1)).dataSync();
    const yc = analogMvm(compensated, x, Rng.fromSeed(1)).dataSync();
    const factor = (t / 20) ** -0.05;
    for (let j = 0; j < fanOut; j++) {
      expect(yd[j]).toBeCloseTo(ref[j] * factor, 3);
      expect(yc[j]).toBeCloseTo(ref[j], 3);
    }
    x.dispose();
    drifted.dispose();
    compensated.dispose();
  });
});

describe('an all-zero weight column', () => {
  it('is left unprogrammed (G⁺ = G⁻ = gMin, weight scale 0) and outputs exactly zero, read and sensing noise on', () => {
    const fanIn = 32;
    const fanOut = 4;
    const w = new Float32Array(fanIn * fanOut);
    Rng.fromSeed(21).fillNormal(w);
    for (let i = 0; i < fanIn; i++) w[i * fanOut + 2] = 0;
    const chip = validateChipSpec({
      device: pcm({ senseNoiseRelStd: 0.01, programmingClip: 'clampAtZero' }),
      dac: { bits: null },
      adc: { bits: null },
      mapping: { weightScale: 'column' },
      readTimeSeconds: 86400,
    });
    const layer = programLayer({ data: w, fanIn, fanOut }, chip, Rng.fromSeed(22));
    expect(layer.weightPerMicroSiemens[2]).toBe(0);
    for (let i = 0; i < fanIn; i++) {
      expect(layer.gPlus[i * fanOut + 2]).toBe(layer.gMinus[i * fanOut + 2]);
      expect(layer.gPlus[i * fanOut + 2]).toBe(0);
    }
    const back = conductancesToWeights(layer, fanIn, fanOut);
    for (let i = 0; i < fanIn; i++) expect(back.data[i * fanOut + 2]).toBe(0);
    const x = tf.randomUniform([64, fanIn], -1, 1, 'float32', 5) as tf.Tensor2D;
    const y = analogMvm(layer, x, Rng.fromSeed(23)).dataSync();
    let largest = 0;
    for (let b = 0; b < 64; b++) largest = Math.max(largest, Math.abs(y[b * fanOut + 2]));
    expect(largest).toBe(0);
    // The other columns still carry noise (the read is not silently switched off).
    expect(variance(Float64Array.from({ length: 64 }, (_, b) => y[b * fanOut]))).toBeGreaterThan(0);
    x.dispose();
    layer.dispose();
  });
});

describe('drift compensation is estimated from noisy calibration reads, as on a chip', () => {
  it('matches aihwkit\'s α = E|y(t0)| / E|y(t)| with read noise in both reads, not the exact-conductance ratio', () => {
    // G_T = 0.25 µS (0.01 gMax), read 1 year after programming: 1/f noise is ~0.7 of G at t0 and ~1 at t,
    // so |y| picks up a folded-normal excess that differs between the two reads (aihwkit's readout does the same).
    const rows = 100_000;
    const gT = 0.25;
    const t = 365.25 * 86400 + 20;
    const data = new Float32Array(rows * 2);
    for (let i = 0; i < rows; i++) data[i * 2] = gT / 25;
    data[1] = 1;
    const chip = validateChipSpec({ device: pcm(), dac: { bits: null }, adc: { bits: null }, readTimeSeconds: t, driftCompensation: true });
    const layer = programLayer({ data, fanIn: rows, fanOut: 2 }, chip, Rng.fromSeed(31));
    // E|N(m, (r·m)²)| = m·h(r), h(r) = r·sqrt(2/π)·exp(−1/(2r²)) + 1 − 2Φ(−1/r).
    const h = (r: number) => r * Math.sqrt(2 / Math.PI) * Math.exp(-1 / (2 * r * r)) + 1 - 2 * normalCdf(-1 / r);
    const sigma = aihwkitSigProg(gT);
    const readAt = (tt: number) => expectOverNormal((d) => (gT + d) * h(aihwkitQs(gT + d) * Math.sqrt(aihwkitFlickerLog(tt))), sigma, gT);
    const { d1 } = driftMoments(gT, t);
    // The gMax cell adds 25 µS to both sums (its 1/f noise, 4 % of G, folds nothing).
    const alpha = (rows * readAt(20) + 25) / (rows * readAt(t) * d1 + 25 * driftMoments(25, t).d1);
    const exactRatio = (rows * gT + 25) / (rows * gT * d1 + 25 * driftMoments(25, t).d1);
    // What a gain from the exact conductances would get wrong: 6.6 % here.
    expect(alpha / exactRatio).toBeCloseTo(0.934, 3);
    // α from 100,000 noisy reads: relative std ≈ 0.4 %; 1.7 % is 4σ, and a quarter of the exact ratio's error.
    expect(Math.abs(layer.driftGain / alpha - 1)).toBeLessThan(0.017);
    layer.dispose();
  });
});
