/**
 * IR drop through the compiler: both inference engines run the dropped effective
 * conductances alike, outputs shrink against the same chip without wire
 * resistance, and the compile report carries the bit-line warnings and the σ note.
 */
import { initBackend } from '../../src/backend';
import { compile, type CompiledModel } from '../../src/compiler/compile';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import { formatReport } from '../../src/cli/commands/compile';
import { relArrayError, seededNormals as seeded } from '../compiler/helpers';

beforeAll(async () => {
  await initBackend();
});

function dense() {
  const b = new GraphBuilder();
  b.input('x', [null, 96]);
  b.add('dense', 'fc', ['x'], { weights: { shape: [96, 24], data: seeded(96 * 24, 21).map((v) => v * 0.1) } });
  return b.build(['fc']);
}

async function runOn(model: CompiledModel, engine: 'onnxruntime' | 'tfjs', x: Float32Array, programSeed = 3): Promise<Float32Array> {
  const chip = model.program(programSeed);
  const r = await model.runner({ kind: 'chip', chip }, { engine });
  try {
    return await r.run(x, { seed: 11 });
  } finally {
    await r.dispose();
    chip.dispose();
  }
}

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] ** 2;
  return Math.sqrt(s / a.length);
}

describe('both engines run the IR drop', () => {
  const x = seeded(6 * 96, 5).map((v) => Math.max(0, v));
  // Noiseless analog cells on 32×8 tiles: ideal converters (one matrix product) and
  // 8-bit converters on worst-case ranges (the per-tile path).
  const cases: [string, Record<string, unknown>][] = [
    ['ideal converters', { dac: { bits: null }, adc: { bits: null } }],
    ['8-bit converters', { dac: { bits: 8 }, adc: { bits: 8 }, calibration: 'worstCase' }],
  ];
  for (const [name, converters] of cases) {
    test(`${name}: onnxruntime = tfjs, and outputs shrink against 0 Ω`, async () => {
      const base = { device: 'ideal', tile: '32x8', ...converters };
      const wired = compile(dense(), { chip: { ...base, wireResistanceOhmPerCell: 20, irDrop: 'lines' } });
      const plain = compile(dense(), { chip: base });
      const a = await runOn(wired, 'onnxruntime', x);
      const b = await runOn(wired, 'tfjs', x);
      expect(relArrayError(a, b)).toBeLessThan(1e-4);
      const y0 = await runOn(plain, 'onnxruntime', x);
      // 32-row tiles of up to 100 µS cells at 20 Ω/cell: outputs lose a few to ~20 %.
      const shrink = rms(a) / rms(y0);
      expect(shrink).toBeLessThan(0.97);
      expect(shrink).toBeGreaterThan(0.7);
      // Same direction, not noise: the outputs stay strongly correlated with the ideal ones.
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += a[k] * y0[k];
      expect(dot / (rms(a) * rms(y0) * a.length)).toBeGreaterThan(0.98);
      wired.dispose();
      plain.dispose();
    });
  }
});

describe('compile report', () => {
  test('bit lines over the limit are warnings naming layer, tile, current and limit; IR drop gets its σ note', () => {
    const model = compile(dense(), {
      chip: { device: 'ideal', tile: '64x8', dac: { bits: null }, adc: { bits: null }, wireResistanceOhmPerCell: 2, maxBitLineCurrentMicroAmps: 500 },
    });
    const report = model.report({ seed: 1 });
    // 96 rows → tiles of 64 and 32 rows; the worst column of a 64-row tile carries
    // well over 500 µA at 0.5 V with cells up to 100 µS.
    expect(report.warnings.length).toBeGreaterThan(0);
    for (const w of report.warnings) {
      expect(w.layer).toBe('fc');
      expect(w.currentMicroAmps).toBeGreaterThan(500);
      expect(w.limitMicroAmps).toBe(500);
      expect(w.message).toContain('fc');
      expect(w.message).toContain(`tile ${w.tile}`);
    }
    expect(report.warnings.some((w) => w.row0 === 0)).toBe(true);
    expect(report.notes.join(' ')).toMatch(/static.*systematic/);
    // On a noiseless device with ideal converters the drop is all of the error, and all static.
    expect(report.totals.staticSigma).toBeGreaterThan(1e-3);
    expect(report.totals.dynamicSigma).toBeLessThan(1e-6);
    // The drop's own σ on the same inputs is then the static σ itself (float32 rounding apart).
    const fc = report.layers[0];
    expect(fc.irDropSigma).toBeDefined();
    expect(Math.abs(fc.irDropSigma! - fc.noise.staticSigma) / fc.noise.staticSigma).toBeLessThan(1e-3);
    expect(report.notes[0]).toContain(`fc ${fc.irDropSigma!.toFixed(4)}`);
    // `ohmic compile` prints the note and the warnings (at most 8, then a count).
    const text = formatReport(report);
    expect(text).toContain('note: IR drop: r_wl = 2 Ω, r_bl = 2 Ω per cell (lines model)');
    const printed = text.split('\n').filter((l) => l.startsWith('warning: bit-line current over the limit: layer fc'));
    expect(printed.length).toBe(Math.min(8, report.warnings.length));
    model.dispose();
    // Without wires and with a high limit: no warning and no note.
    const quiet = compile(dense(), { chip: { device: 'ideal', tile: '64x8', dac: { bits: null }, adc: { bits: null }, maxBitLineCurrentMicroAmps: 1e6 } });
    const r2 = quiet.report({ seed: 1 });
    expect(r2.warnings).toEqual([]);
    expect(r2.notes).toEqual([]);
    expect(r2.totals.staticSigma).toBeLessThan(1e-6);
    expect('irDropSigma' in r2.layers[0]).toBe(false);
    quiet.dispose();
  });
});
