/**
 * Effective σ on data, on the zoo CNN-6 (cnn6-mnist-mult-0) with embedded MNIST
 * digits: the report's σ, measured on calibration digits (not the evaluation ones),
 * predicts the device-level accuracy through the signal-level model
 * - for read-noise-dominated chips: the mean over programmed chips within
 *   READ_TOLERANCE_POINTS percentage points (0.2 points on 500 digits and six chips
 *   when this was written);
 * - for programming-noise-dominated chips the report's verdict is `static`: the
 *   signal level at σ matches the best programmed chip within STATIC_TOLERANCE_POINTS,
 *   while the mean over chips is lower (5–8 points on 500 digits, single chips down to
 *   70 %: frozen errors hit every input alike, fresh signal-level noise does not).
 * For sensing/ADC-dominated chips (and for read noise so large that its additive part
 * dominates) the report says the equivalence fails instead, and the signal level at
 * its σ does overstate the chip by more than 10 points.
 *
 * Counts are small (EVAL digits, a few programming draws, 2 signal-level seeds); the
 * tolerances cover their sampling error (~1.2 points at 97 %).
 */
import { initBackend } from '../../src/backend';
import { compile, IDEAL_CHIP, type CompiledModel } from '../../src/compiler/compile';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import type { Graph } from '../../src/compiler/ir/graph';
import type { CompileReport } from '../../src/compiler/report';
import { loadZooModel } from '../../src/models/zoo';
import { loadMnist, embeddedMnistDir } from '../../src/data';

const EVAL = 150;
const CALIBRATION = 64;
const READ_TOLERANCE_POINTS = 3;
const STATIC_TOLERANCE_POINTS = 3;

let graph: Graph;
let images: Float32Array;
let labels: Uint8Array;
let calibration: Float32Array;

beforeAll(async () => {
  await initBackend();
  graph = fromTfjsLayersModel(await loadZooModel('cnn6-mnist-mult-0'));
  const data = loadMnist(embeddedMnistDir(), 'test', { limit: EVAL + CALIBRATION });
  images = data.images.subarray(0, EVAL * 784);
  labels = data.labels.subarray(0, EVAL);
  // Calibration digits are not the evaluation digits.
  calibration = data.images.subarray(EVAL * 784, (EVAL + CALIBRATION) * 784);
});

function accuracy(logits: Float32Array): number {
  let correct = 0;
  for (let i = 0; i < EVAL; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (logits[i * 10 + j] > logits[i * 10 + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return (100 * correct) / EVAL;
}

/** Device-level accuracy of each programmed chip (mean, best), and the signal level at the reported σ over two seeds, %. */
async function accuracies(model: CompiledModel, sigma: number, chips: number): Promise<{ device: number; best: number; signal: number }> {
  const perChip: number[] = [];
  for (let k = 0; k < chips; k++) {
    const chip = model.program(21 + k, { calibration });
    const runner = await model.runner({ kind: 'chip', chip });
    perChip.push(accuracy(await runner.runAll(images, { seed: 121 + k })));
    await runner.dispose();
    chip.dispose();
  }
  const device = perChip.reduce((a, b) => a + b, 0) / chips;
  let signal = 0;
  const runner = await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma } });
  for (const seed of [1, 2]) signal += accuracy(await runner.runAll(images, { seed })) / 2;
  await runner.dispose();
  return { device, best: Math.max(...perChip), signal };
}

async function study(chip: Record<string, unknown>, chips = 2): Promise<{ report: CompileReport; device: number; best: number; signal: number }> {
  const model = compile(graph, { chip });
  try {
    const report = model.report({ seed: 3, calibration });
    return { report, ...(await accuracies(model, report.totals.effectiveSigma, chips)) };
  } finally {
    model.dispose();
  }
}

describe('signal-level accuracy at the reported σ predicts cell-noise-dominated chips', () => {
  it('programming noise (ReRAM with 8 µS state-independent spread, the preset converters): verdict static, the best chip predicted', async () => {
    const { report, device, best, signal } = await study({ device: { preset: 'reram', programmingNoiseAddMicroSiemens: 8 } }, 3);
    const t = report.totals;
    expect(report.calibration).toEqual({ source: 'data', samples: CALIBRATION, maxRowsPerMatrix: 8192 });
    expect(t.equivalence.verdict).toBe('static');
    expect(t.equivalence.holds).toBe(false);
    expect(t.equivalence.dominant).toBe('static');
    expect(t.equivalence.staticShare).toBeGreaterThan(0.5);
    expect(t.staticSigma).toBeGreaterThan(t.dynamicSigma);
    expect(t.effectiveSigma).toBeGreaterThan(0.25); // noisy enough to cost accuracy
    expect(Math.abs(best - signal)).toBeLessThanOrEqual(STATIC_TOLERANCE_POINTS);
    // Typical chips are not better than the signal level (it is the optimistic figure the verdict warns of).
    expect(device).toBeLessThanOrEqual(signal + 1);
  });

  it('read noise (PCM with 40 % read noise of G, no sensing noise, ideal converters): verdict holds, the chips predicted', async () => {
    const { report, device, signal } = await study({ device: { preset: 'pcm', readNoiseRelStd: 0.4, senseNoiseRelStd: 0 }, dac: { bits: null }, adc: { bits: null } });
    const t = report.totals;
    expect(t.equivalence.verdict).toBe('holds');
    expect(t.equivalence.holds).toBe(true);
    expect(t.equivalence.dominant).toBe('read');
    expect(t.dynamicSigma).toBeGreaterThan(t.staticSigma);
    expect(t.effectiveSigma).toBeGreaterThan(0.25);
    for (const l of report.layers) expect(l.noise.converterSigma).toBeLessThan(1e-6);
    expect(Math.abs(device - signal)).toBeLessThanOrEqual(READ_TOLERANCE_POINTS);
  });
});

describe('sensing/ADC-dominated chips are flagged, not predicted', () => {
  it('sensing noise 3 % of the ADC full scale (the issue\'s ReRAM case)', async () => {
    // At the worst-case full scale, as the issue measured it (calibrated ranges shrink the sensing noise with the full scale).
    const { report, device, signal } = await study({ device: { preset: 'reram', senseNoiseRelStd: 0.03 }, calibration: 'worstCase' });
    const e = report.totals.equivalence;
    expect(e.verdict).toBe('fails');
    expect(e.holds).toBe(false);
    expect(e.dominant).toBe('sensing');
    expect(e.columnShare).toBeGreaterThan(0.5);
    expect(e.reason).toMatch(/does not predict/);
    // The signal level at the reported σ does overstate the chip: why it is flagged.
    expect(signal - device).toBeGreaterThan(10);
  });

  it('a 4-bit ADC at the worst-case full scale (rounds most outputs to zero: a systematic gain)', async () => {
    const { report, device, signal } = await study({ device: 'reram', adc: { bits: 4 }, calibration: 'worstCase' });
    const e = report.totals.equivalence;
    expect(e.verdict).toBe('fails');
    expect(e.dominant).toBe('converters');
    expect(e.maxSystematicGain).toBeGreaterThan(0.5);
    expect(signal - device).toBeGreaterThan(10);
  });

  it('read noise so large that its additive part dominates is flagged too', async () => {
    const { report, device, signal } = await study({ device: { preset: 'pcm', readNoiseRelStd: 0.8 } });
    const e = report.totals.equivalence;
    expect(e.verdict).toBe('fails');
    expect(e.dominant).toBe('read');
    expect(e.additiveSigmaRms).toBeGreaterThan(0.35);
    expect(signal - device).toBeGreaterThan(10);
  });
});

describe('the report without data, and on an exact chip', () => {
  it('labels the uniform-random fallback and gives no measured energy', () => {
    const model = compile(graph, { chip: { device: 'pcm' } });
    const r = model.report({ seed: 1 });
    expect(r.calibration.source).toBe('uniform-random-fallback');
    expect(r.totals.measuredEnergyPerInferencePicojoules).toBeNull();
    for (const l of r.layers) {
      expect(l.measuredEnergyPerInferencePicojoules).toBeNull();
      expect(l.effectiveSigma).toBeGreaterThan(0);
    }
    model.dispose();
  });

  it('an ideal device with ideal converters: zero σ in every part, verdict negligible, energy measured below the bound', () => {
    const model = compile(graph, { chip: IDEAL_CHIP });
    const r = model.report({ seed: 1, calibration: calibration.subarray(0, 8 * 784) });
    for (const l of r.layers) {
      expect(l.effectiveSigma).toBeLessThan(1e-5);
      expect(l.noise.staticSigma).toBeLessThan(1e-5);
      expect(l.noise.dynamicSigma).toBeLessThan(1e-5);
    }
    expect(r.totals.equivalence.verdict).toBe('negligible');
    expect(r.totals.measuredEnergyPerInferencePicojoules!).toBeLessThan(r.totals.boundEnergyPerInferencePicojoules);
    model.dispose();
  });

  it('static and dynamic parts add in quadrature (independent noises)', () => {
    const model = compile(graph, { chip: { device: 'nand' } });
    const r = model.report({ seed: 2, calibration: calibration.subarray(0, 16 * 784) });
    for (const l of r.layers) {
      const sum = Math.sqrt(l.noise.staticSigma ** 2 + l.noise.dynamicSigma ** 2);
      expect(Math.abs(sum - l.effectiveSigma) / l.effectiveSigma).toBeLessThan(0.1);
    }
    model.dispose();
  });
});
