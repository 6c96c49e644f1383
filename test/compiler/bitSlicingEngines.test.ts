/**
 * Bit-sliced weights and bit-serial inputs on both engines: onnxruntime (the lowered
 * model) against the tfjs reference under the same seed, on a sliced dense and a
 * sliced conv layer; the same counted conversions, cycles and shift-adds; a sliced
 * chip saved and loaded runs bit-identically.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { compile, type CompiledModel } from '../../src/compiler/compile';
import { loadProgrammedChip } from '../../src/compiler/programmedChip';
import type { Execution, LayerStats } from '../../src/compiler/engine/modelRunner';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import { Rng } from '../../src/rng';
import { fractionClose, relArrayError, seededNormals as seeded } from './helpers';

beforeAll(async () => {
  await initBackend();
});

async function runOn(model: CompiledModel, execution: Execution, engine: 'onnxruntime' | 'tfjs', x: Float32Array, stats?: LayerStats): Promise<Float32Array> {
  const r = await model.runner(execution, { engine });
  try {
    return await r.run(x, { seed: 11, ...(stats ? { stats } : {}) });
  } finally {
    await r.dispose();
  }
}

// Two row bands of tiles (300 rows, and 3·3·32 = 288 on 256-row tiles).
const dense = () => {
  const b = new GraphBuilder();
  b.input('x', [null, 300]);
  b.add('dense', 'fc', ['x'], { weights: { shape: [300, 20], data: seeded(300 * 20, 21, 0.05) } });
  return b.build(['fc']);
};
const conv = () => {
  const b = new GraphBuilder();
  b.input('x', [null, 7, 7, 32]);
  b.add('conv2d', 'c', ['x'], { kernel: { shape: [3, 3, 32, 12], data: seeded(9 * 32 * 12, 22, 0.05) }, strides: [1, 1], padding: 'same', dilations: [1, 1], groups: 1 });
  return b.build(['c']);
};
const CASES = [['dense', dense, 300], ['conv', conv, 7 * 7 * 32]] as const;
const ENCODINGS = [
  ['4 × 2-bit slices', { slicing: { cellsPerWeight: 4, bitsPerCell: 2 } }],
  ['6-bit bit-serial', { inputEncoding: { kind: 'bitSerial', bits: 6 } }],
  ['2 × 4-bit slices, 5-bit bit-serial', { slicing: { cellsPerWeight: 2, bitsPerCell: 4 }, inputEncoding: { kind: 'bitSerial', bits: 5 } }],
] as const;

function chipConfig(extra: Record<string, unknown>, dacRange: unknown, converterBits: number | null): Record<string, unknown> {
  return { device: 'reram', dac: { bits: converterBits, range: dacRange }, adc: { bits: converterBits }, calibration: { method: 'worstCase' }, ...extra };
}

describe('bit-slicing on both engines under the same seed', () => {
  for (const [name, build, per] of CASES) {
    for (const [label, extra] of ENCODINGS) {
      test(`${name}, ${label}: ideal converters within 1e-4; 8-bit converters on > 99 % of outputs`, async () => {
        const x = seeded(4 * per, 23).map((v) => Math.max(0, v));
        for (const range of ['perInputAbsMax', 2]) {
          // Ideal converters: read noise only (continuous), so float tolerance.
          const ideal = compile(build(), { chip: chipConfig(extra, range, null) });
          const chip = ideal.program(3);
          const a = await runOn(ideal, { kind: 'chip', chip }, 'onnxruntime', x);
          const b = await runOn(ideal, { kind: 'chip', chip }, 'tfjs', x);
          expect(relArrayError(a, b)).toBeLessThan(1e-4);
          // The read noise (and the slices' and cycles' own draws) is really there.
          expect(relArrayError(a, await runOn(ideal, { kind: 'exact' }, 'onnxruntime', x))).toBeGreaterThan(1e-3);
          chip.dispose();
          ideal.dispose();
          // 8-bit DAC (or bit-serial planes) and ADCs: a difference is a code flip at a rounding boundary, rarely.
          const coded = compile(build(), { chip: chipConfig(extra, range, 8) });
          const cchip = coded.program(4);
          const sa: LayerStats = {};
          const sb: LayerStats = {};
          const ca = await runOn(coded, { kind: 'chip', chip: cchip }, 'onnxruntime', x, sa);
          const cb = await runOn(coded, { kind: 'chip', chip: cchip }, 'tfjs', x, sb);
          expect(fractionClose(ca, cb, 1e-4)).toBeGreaterThan(0.99);
          // The counts that do not depend on the data agree exactly; the rest closely.
          const node = name === 'dense' ? 'fc' : 'c';
          for (const k of ['mvms', 'adcConversions', 'digitalAdds', 'digitalMultiplies', 'shiftAdds', 'inputCycles'] as const) {
            expect([k, sa[node][k]]).toEqual([k, sb[node][k]]);
          }
          expect(Math.abs(sa[node].cellEnergyPicojoules / sb[node].cellEnergyPicojoules - 1)).toBeLessThan(1e-3);
          expect(Math.abs(sa[node].dacDrives - sb[node].dacDrives)).toBeLessThanOrEqual(0.01 * sb[node].dacDrives);
          cchip.dispose();
          coded.dispose();
        }
      });
    }
  }
});

describe('a sliced chip file', () => {
  test('saved and loaded, it runs bit-identically; tile maps name every slice', async () => {
    const model = compile(conv(), { chip: chipConfig({ slicing: { cellsPerWeight: 4, bitsPerCell: 2 }, inputEncoding: { kind: 'bitSerial', bits: 4 } }, 'perInputAbsMax', 8) });
    const chip = model.program(5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-slices-'));
    try {
      const file = path.join(dir, 'chip.ohmic');
      chip.save(file);
      const loaded = loadProgrammedChip(model, file);
      expect(loaded.layers.get('c')![0].slices?.length).toBe(4);
      const x = seeded(2 * 7 * 7 * 32, 24);
      const a = await runOn(model, { kind: 'chip', chip }, 'tfjs', x);
      const b = await runOn(model, { kind: 'chip', chip: loaded }, 'tfjs', x);
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(loaded.programmingStats()).toEqual(chip.programmingStats());
      const written = chip.exportTileMaps(path.join(dir, 'maps'), 'json');
      const tiles = JSON.parse(fs.readFileSync(written.find((f) => f.endsWith('tiles.json'))!, 'utf8')) as { tiles: { slice: number; chipTile: number }[] };
      // Two row bands × 4 slices, on distinct chip tiles.
      expect(tiles.tiles.map((t) => t.slice).sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
      expect(new Set(tiles.tiles.map((t) => t.chipTile)).size).toBe(8);
      expect(model.plan.tilesPerCopy).toBe(8);
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      chip.dispose();
      model.dispose();
    }
  });
});

describe('converter ranges calibrated on data', () => {
  for (const [name, build, per] of CASES) {
    test(`${name}: every slice's ADCs and every bit-serial cycle calibrated; the calibration batch never clips; engines agree`, async () => {
      const x = seeded(6 * per, 25).map((v) => Math.max(0, v));
      for (const [, extra] of ENCODINGS) {
        // Noise-free device, 6-bit converters, ranges from the data (max): the batch itself must not clip.
        const model = compile(build(), { chip: { device: 'ideal', dac: { bits: 6 }, adc: { bits: 6 }, ...extra } });
        const chip = model.program(6, { calibration: calibrationTensor(model, x) });
        const layer = [...chip.layers.values()][0][0];
        for (const sl of layer.slices ?? [layer]) expect(sl.ranges?.adcFullScaleMicroAmps).toBeTruthy();
        if (layer.slices) {
          // Each slice has its own full scales: the less significant digits are not all on slice 0's range.
          expect(Array.from(layer.slices[3]?.ranges?.adcFullScaleMicroAmps ?? layer.slices[1].ranges!.adcFullScaleMicroAmps!)).not.toEqual(Array.from(layer.slices[0].ranges!.adcFullScaleMicroAmps!));
        }
        const sa: LayerStats = {};
        const sb: LayerStats = {};
        const a = await runOn(model, { kind: 'chip', chip }, 'onnxruntime', x, sa);
        const b = await runOn(model, { kind: 'chip', chip }, 'tfjs', x, sb);
        const node = name === 'dense' ? 'fc' : 'c';
        expect(sb[node].adcClipped).toBe(0);
        expect(sb[node].dacClipped).toBe(0);
        expect(sa[node].adcClipped).toBe(0);
        // Integer DAC codes on sliced (discrete) conductances put some ADC inputs on exact
        // half codes, where one ulp of summation order decides the rounding: of 120 dense
        // outputs, 1–3 round the other way between the engines.
        expect(fractionClose(a, b, 1e-4)).toBeGreaterThan(0.97);
        chip.dispose();
        model.dispose();
      }
    });
  }
});

function calibrationTensor(model: CompiledModel, x: Float32Array): tf.Tensor {
  const dims = model.graph.nodes[0].outputShape.slice(1) as number[];
  return tf.tensor(x, [x.length / dims.reduce((p, d) => p * d, 1), ...dims]);
}
