import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { compile, loadProgrammedChip, loadOnnxFile, IDEAL_CHIP } from '../../src/compiler';
import { ConfigError, DataError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { cnn, convVariants, denseBlock, lstmClassifier, mlp } from './tfjsModels';
import { glorot, relMaxError, seededInput, uniform } from './helpers';
import { std } from '../helpers/stats';

beforeAll(async () => {
  await initBackend();
});

/** The source model's logits: its output before a final softmax. */
function logitsOf(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const last = model.layers[model.layers.length - 1];
  const act = (last.getConfig() as { activation?: string }).activation;
  if (act !== 'softmax') return model.predict(x) as tf.Tensor;
  const cut = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
  const w = last.getWeights();
  const z = tf.matMul(cut.predict(x) as tf.Tensor2D, w[0] as tf.Tensor2D);
  return w[1] ? tf.add(z, w[1]) : z;
}

describe('compile on the ideal device with ideal converters equals the source model', () => {
  const cases: Array<[string, () => tf.LayersModel, number[]]> = [
    ['MLP', () => mlp(1), [16, 20]],
    ['CNN with conv/BN/pool', () => cnn(2), [8, 12, 12, 3]],
    ['dense block with concat', () => denseBlock(3), [4, 8, 8, 4]],
    ['LSTM classifier', () => lstmClassifier(4, true), [6, 7, 5]],
  ];
  it.each(cases)('%s: within 1e-4 of max |y|, through the tiled analog path', (_name, build, shape) => {
    const model = build();
    const x = seededInput(shape, 9);
    const compiled = compile(model, { chip: { ...IDEAL_CHIP, tile: '16x8' } });
    const chip = compiled.program(1);
    // `stats` forces the full tiled path with per-tile partial sums.
    const y = chip.run(x, { seed: 2, stats: { mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0, dacDrives: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0 } });
    const ref = logitsOf(model, x);
    expect(compiled.endsInSoftmax).toBe(true);
    expect(relMaxError(y, ref)).toBeLessThan(1e-4);
    expect(relMaxError(compiled.runIdeal(x), ref)).toBeLessThan(1e-4);
    chip.dispose();
    compiled.dispose();
  });
});

function convBnModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, kernelInitializer: glorot(11), name: 'conv' }),
      tf.layers.batchNormalization({
        name: 'bn', gammaInitializer: uniform(12, 2, 4), betaInitializer: uniform(13, -0.5, 0.5),
        movingMeanInitializer: uniform(14, -0.5, 0.5), movingVarianceInitializer: uniform(15, 0.5, 1),
      }),
      tf.layers.flatten({ name: 'flat' }),
    ],
  });
}

describe('batch-norm folding follows the noise placement', () => {
  it('folds for the device (exactly), and not for additive signal noise at the MVM output', () => {
    const model = convBnModel();
    const compiled = compile(model, { chip: IDEAL_CHIP });
    expect(compiled.foldedBatchNorms).toEqual([['bn', 'conv']]);
    expect(compiled.graph.nodes.some((n) => n.op === 'batchNorm')).toBe(false);
    expect(compiled.signalGraph.nodes.some((n) => n.op === 'batchNorm')).toBe(true);
    const x = seededInput([4, 6, 6, 2], 3);
    expect(relMaxError(compiled.runIdeal(x), model.predict(x) as tf.Tensor)).toBeLessThan(1e-4);
    compiled.dispose();
  });

  it('folding rescales additive noise by γ/√(v+ε): never vs always differ by that factor', () => {
    const model = convBnModel();
    const x = tf.tile(seededInput([1, 6, 6, 2], 3), [400, 1, 1, 1]);
    const noiseStd = (fold: 'never' | 'always') => {
      const c = compile(model, { chip: IDEAL_CHIP, foldBatchNorm: fold });
      const clean = c.runIdeal(x).dataSync();
      const y = c.runSignal(x, { kind: 'additive', sigma: 0.1 }, { seed: 5 }).dataSync();
      c.dispose();
      // channel 0 of every output position: output index % 4 === 0
      const err: number[] = [];
      for (let i = 0; i < y.length; i += 4) err.push(y[i] - clean[i]);
      return std(err);
    };
    const bn = model.getLayer('bn').getWeights().map((w) => w.dataSync());
    const scale0 = bn[0][0] / Math.sqrt(bn[3][0] + 1e-3);
    // unfolded: noise σ on the conv output, then scaled by BN; folded: σ after the BN scale
    expect(noiseStd('never') / (0.1 * scale0)).toBeCloseTo(1, 1);
    expect(noiseStd('always') / 0.1).toBeCloseTo(1, 1);
  });

  it('rejects an unknown fold mode', () => {
    expect(() => compile(convBnModel(), { chip: IDEAL_CHIP, foldBatchNorm: 'sometimes' as 'auto' })).toThrow(
      /foldBatchNorm = "sometimes": expected one of auto, always, never/,
    );
  });
});

describe('report', () => {
  it('tiles, utilisation, MVMs and stage times match hand-computed values', () => {
    const model = mlp(1); // 20→32→16→12→5
    const compiled = compile(model, { chip: { device: 'reram', tile: '16x16' } });
    const r = compiled.report();
    const byName = Object.fromEntries(r.layers.map((l) => [l.name, l]));
    // fc1: 20×32 on 16×16 tiles → 2×2 = 4 tiles, utilisation 640/1024
    expect(byName.fc1.tiles).toBe(4);
    expect(byName.fc1.utilization).toBeCloseTo(640 / 1024, 12);
    expect(byName.fc2.tiles).toBe(2); // 32×16
    expect(byName.fc3.tiles).toBe(1); // 16×12
    expect(byName.out.tiles).toBe(1); // 12×5
    expect(r.totals.tiles).toBe(8);
    expect(r.totals.cells).toBe(8 * 2 * 256);
    const d = compiled.plan.layers[0].matrices[0].chip.device;
    expect(byName.fc1.stageTimeNs).toBeCloseTo(d.readPulseNs + 8 * d.adcConversionNs, 9);
    expect(r.totals.latencyNs).toBeCloseTo(4 * byName.fc1.stageTimeNs, 9);
    for (const l of r.layers) {
      expect(l.effectiveSigma).toBeGreaterThan(0.005);
      expect(l.effectiveSigma).toBeLessThan(0.5);
      expect(l.snrDb).toBeCloseTo(10 * Math.log10(1 / l.effectiveSigma ** 2), 9);
    }
    compiled.dispose();
  });

  it('counts conv MVMs per output position and groups as separate matrices', () => {
    const compiled = compile(cnn(2), { chip: { device: 'pcm' } });
    const conv1 = compiled.report().layers.find((l) => l.name === 'conv1')!;
    expect(conv1.matrixShape).toEqual([27, 8]); // 3·3·3 × 8
    expect(conv1.mvmsPerInference).toBe(144); // 12×12 'same'
    const d = compiled.plan.layers[0].matrices[0].chip.device;
    expect(conv1.stageTimeNs).toBeCloseTo(144 * (d.readPulseNs + d.columnsPerAdc * d.adcConversionNs), 6);
    compiled.dispose();
  });

  it('an ideal device with ideal converters reports zero effective noise', () => {
    const compiled = compile(mlp(1), { chip: IDEAL_CHIP });
    for (const l of compiled.report().layers) expect(l.effectiveSigma).toBeLessThan(1e-6);
    compiled.dispose();
  });
});

describe('per-layer configuration', () => {
  it('overrides the device and tile of named layers, or by a function of the node', () => {
    const byName = compile(mlp(1), { chip: { device: 'reram', tile: '16x16' }, layers: { fc1: { device: 'pcm', tile: '32x32' } } });
    expect(byName.plan.layers[0].matrices[0].chip.device.kind).toBe('pcm');
    expect(byName.plan.layers[0].tiles).toBe(1);
    expect(byName.plan.layers[1].matrices[0].chip.device.kind).toBe('reram');
    const byFn = compile(mlp(1), { chip: { device: 'reram' }, layers: (n) => (n.name === 'out' ? { device: 'nand' } : undefined) });
    expect(byFn.plan.layers.map((l) => l.matrices[0].chip.device.kind)).toEqual(['reram', 'reram', 'reram', 'nand']);
    expect(() => compile(mlp(1), { chip: { device: 'reram' }, layers: { fc9: { device: 'pcm' } } })).toThrow(
      /layers\.fc9 = .*expected a layer name of the model \(fc1, fc2, fc3, out\)/,
    );
    expect(() => compile(mlp(1), { chip: { device: 'reram' }, layers: { fc1: { adc: { bits: 1 } } } })).toThrow(/layers\.fc1\.adc\.bits = 1/);
    [byName, byFn].forEach((c) => c.dispose());
  });
});

describe('programming and runs', () => {
  it('same seeds give the same bits; a new programming seed or run seed changes them', () => {
    const compiled = compile(mlp(1), { chip: { device: 'reram' } });
    const x = seededInput([8, 20], 1);
    const calibration = { calibration: seededInput([32, 20], 2) };
    const a = compiled.program(3, calibration);
    const b = compiled.program(3, calibration);
    const c = compiled.program(4, calibration);
    const ya = Array.from(a.run(x, { seed: 1 }).dataSync());
    expect(Array.from(b.run(x, { seed: 1 }).dataSync())).toEqual(ya);
    expect(Array.from(a.run(x, { seed: 2 }).dataSync())).not.toEqual(ya);
    expect(Array.from(c.run(x, { seed: 1 }).dataSync())).not.toEqual(ya);
    expect(Array.from(a.run(x, { seed: Rng.fromSeed(1) }).dataSync())).toEqual(ya);
    [a, b, c].forEach((p) => p.dispose());
    compiled.dispose();
  });

  it('signal mode: σ=0 is exact, σ>0 gives the requested relative noise on a one-layer model', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 6, useBias: false, kernelInitializer: glorot(5) })] });
    const compiled = compile(model, { chip: IDEAL_CHIP });
    const x = tf.tile(seededInput([1, 10], 2), [3000, 1]);
    const clean = compiled.runIdeal(x).dataSync();
    expect(Array.from(compiled.runSignal(x, { kind: 'multiplicative', sigma: 0 }, { seed: 1 }).dataSync())).toEqual(Array.from(clean));
    const y = compiled.runSignal(x, { kind: 'multiplicative', sigma: 0.4 }, { seed: 1 }).dataSync();
    const rel = Array.from(y, (v, i) => v / clean[i] - 1);
    expect(std(rel)).toBeCloseTo(0.4, 1);
    compiled.dispose();
  });
});

describe('saving and loading a programmed chip', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-chip-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips: the loaded chip gives the same bits for the same run seed', () => {
    const compiled = compile(cnn(2), { chip: { device: 'pcm', readTimeSeconds: 3600 } });
    const chip = compiled.program(7, { calibration: seededInput([8, 12, 12, 3], 3) });
    const file = path.join(dir, 'chip.ohmic');
    chip.save(file);
    const loaded = loadProgrammedChip(compiled, file);
    const x = seededInput([2, 12, 12, 3], 4);
    expect(Array.from(loaded.run(x, { seed: 5 }).dataSync())).toEqual(Array.from(chip.run(x, { seed: 5 }).dataSync()));
    expect(loaded.seed).toBe(7);
    expect(loaded.programmingStats()).toEqual(chip.programmingStats());
    chip.dispose();
    loaded.dispose();
    compiled.dispose();
  });

  it('gives clear errors for a corrupt file, another version, another model and a missing file', () => {
    const compiled = compile(mlp(1), { chip: { device: 'reram' } });
    const chip = compiled.program(1, { calibration: seededInput([16, 20], 3) });
    const file = path.join(dir, 'mlp.ohmic');
    chip.save(file);
    const bytes = fs.readFileSync(file);
    const corrupt = path.join(dir, 'corrupt.ohmic');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0xff;
    fs.writeFileSync(corrupt, flipped);
    expect(() => loadProgrammedChip(compiled, corrupt)).toThrow(DataError);
    expect(() => loadProgrammedChip(compiled, corrupt)).toThrow(/payload checksum .* does not match/);
    const other = path.join(dir, 'v2.ohmic');
    fs.writeFileSync(other, Buffer.from(bytes.toString('latin1').replace('"version":3', '"version":9'), 'latin1'));
    expect(() => loadProgrammedChip(compiled, other)).toThrow(/version 9; this ohmic reads ohmic-programmed-chip version 3/);
    const garbage = path.join(dir, 'garbage.ohmic');
    fs.writeFileSync(garbage, 'hello world, not a chip');
    expect(() => loadProgrammedChip(compiled, garbage)).toThrow(/not an ohmic chip file \(magic "hello wo", expected "OHMICHIP"\)/);
    const otherModel = compile(mlp(2), { chip: { device: 'reram' } });
    expect(() => loadProgrammedChip(otherModel, file)).toThrow(/programmed for a different model or compile settings/);
    expect(() => loadProgrammedChip(compiled, path.join(dir, 'none.ohmic'))).toThrow(/none\.ohmic: no such file/);
    chip.dispose();
    compiled.dispose();
    otherModel.dispose();
  });

  it('exports per-tile conductance maps as .npy files with the right headers and values', () => {
    const compiled = compile(mlp(1), { chip: { device: 'reram', tile: '16x16' } });
    const chip = compiled.program(1, { calibration: seededInput([16, 20], 3) });
    const files = chip.exportTileMaps(path.join(dir, 'maps'));
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'maps', 'tiles.json'), 'utf8'));
    expect(index.tiles).toHaveLength(8);
    expect(files).toHaveLength(17);
    const t = index.tiles[1]; // fc1, tile (0, 1): rows 0..15, cols 16..31
    const npy = fs.readFileSync(path.join(dir, 'maps', t.files[0]));
    expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLen = npy.readUInt16LE(8);
    expect(npy.toString('latin1', 10, 10 + headerLen)).toContain(`'shape': (${t.rows}, ${t.cols})`);
    expect((10 + headerLen) % 64).toBe(0);
    const values = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLen, npy.byteOffset + npy.length));
    const layer = chip.layers.get('fc1')![0];
    expect(values[0]).toBe(layer.gPlus[0 * 32 + 16]);
    expect(values[t.cols + 2]).toBe(layer.gPlus[1 * 32 + 18]);
    expect(() => chip.exportTileMaps(dir, 'csv' as 'npy')).toThrow(ConfigError);
    chip.dispose();
    compiled.dispose();
  });
});

describe('large convolutions are cut into batch chunks', () => {
  it('stay exact on the ideal chip and draw independent noise per chunk', () => {
    // 64×64×64 input, 3×3 'same' conv: 4096·576 patch values per sample, so the 16 M
    // budget takes 7 samples per chunk and a batch of 8 runs as two chunks.
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [64, 64, 64], filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: glorot(3), name: 'big' })],
    });
    const one = seededInput([1, 64, 64, 64], 8);
    const x = tf.tile(one, [8, 1, 1, 1]);
    const ideal = compile(model, { chip: IDEAL_CHIP });
    const chip = ideal.program(1);
    const y = chip.run(x, { seed: 1, stats: { mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0, dacDrives: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0 } });
    expect(relMaxError(y, model.predict(x) as tf.Tensor)).toBeLessThan(1e-4);
    chip.dispose();
    ideal.dispose();

    const noisy = compile(model, { chip: IDEAL_CHIP });
    const out = noisy.runSignal(x, { kind: 'additive', sigma: 1 }, { seed: 2 });
    const [first, last] = [tf.slice(out, [0, 0, 0, 0], [1, -1, -1, -1]), tf.slice(out, [7, 0, 0, 0], [1, -1, -1, -1])];
    const [second] = [tf.slice(out, [1, 0, 0, 0], [1, -1, -1, -1])];
    // same input in every sample: samples in different chunks (0 and 7) and in the same chunk (0 and 1) all differ
    expect(tf.sum(tf.abs(tf.sub(first, last))).dataSync()[0]).toBeGreaterThan(1000);
    expect(tf.sum(tf.abs(tf.sub(first, second))).dataSync()[0]).toBeGreaterThan(1000);
    noisy.dispose();
  });
});

describe('the linear fast path of a programmed chip', () => {
  // Programming noise but ideal converters and no dynamic noise: the chip is a fixed
  // (noisy) weight set, run on fused kernels; it must equal the tiled im2col path.
  const staticOnly = { device: { preset: 'ideal', programmingNoiseRelStd: 0.05 }, dac: { bits: null }, adc: { bits: null } };
  const cases: Array<[string, () => tf.LayersModel, number[]]> = [
    ['depthwise, strided and dilated convs', () => convVariants(5), [3, 10, 10, 4]],
    ['stacked LSTM', () => lstmClassifier(6, true), [3, 7, 5]],
    ['dense block', () => denseBlock(7), [3, 8, 8, 4]],
  ];
  it.each(cases)('%s: equals the tiled path with the same programmed conductances', (_name, build, shape) => {
    const compiled = compile(build(), { chip: staticOnly });
    const chip = compiled.program(3);
    const x = seededInput(shape, 2);
    const fast = chip.run(x, { seed: 1 });
    const tiled = chip.run(x, { seed: 1, stats: { mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0, dacDrives: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0 } });
    expect(relMaxError(fast, tiled)).toBeLessThan(1e-5);
    // and the programming noise is really there
    expect(relMaxError(fast, compiled.runIdeal(x))).toBeGreaterThan(1e-3);
    chip.dispose();
    compiled.dispose();
  });
});

describe('compile on the ideal device equals PyTorch on its ONNX exports', () => {
  const ONNX_DIR = path.join(__dirname, '..', 'fixtures', 'onnx');
  const models: Array<[string, number]> = [['mlp', 13], ['cnn', 11], ['dense_block', 17], ['lstm', 13], ['attention', 17]];
  it.each(models)('%s (opset %d): the tiled analog path within 1e-4 of max |y|', (name, opset) => {
    const record = JSON.parse(fs.readFileSync(path.join(ONNX_DIR, `${name}.json`), 'utf8'));
    const compiled = compile(loadOnnxFile(path.join(ONNX_DIR, `${name}_op${opset}.onnx`)), { chip: { ...IDEAL_CHIP, tile: '32x16' } });
    const chip = compiled.program(0);
    const x = tf.tensor(record.input, record.inputShape);
    const want = tf.tensor(record.output, record.outputShape);
    const y = chip.run(x, { seed: 0, stats: { mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0, dacDrives: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0 } });
    // Runs return logits: where the export ends in a softmax, compare probabilities.
    expect(compiled.endsInSoftmax).toBe(name === 'mlp');
    expect(relMaxError(compiled.endsInSoftmax ? tf.softmax(y) : y, want)).toBeLessThan(1e-4);
    expect(compiled.plan.layers.length).toBeGreaterThan(0);
    chip.dispose();
    compiled.dispose();
  });
});

describe("ohmic's own NoisyLSTM model", () => {
  it('compiles exactly, and the signal mode puts noise on its gate MVMs and its output layer', () => {
    const { buildModel } = require('../../src/models/paper/buildModel') as typeof import('../../src/models/paper/buildModel');
    const model = buildModel('lstm', { noise: 'multiplicative', sigma: 0.3, seed: 2 });
    const compiled = compile(model, { chip: IDEAL_CHIP });
    const lstm = compiled.graph.nodes.find((n) => n.op === 'lstm')!;
    expect(lstm.op === 'lstm' && lstm.attrs.gateNoise).toEqual({ kind: 'multiplicative', sigma: 0.3 });
    const x = tf.mul(seededInput([4, 100, 2], 1), 0.2);
    const ref = logitsOf(model, x);
    expect(relMaxError(compiled.runIdeal(x), ref)).toBeLessThan(1e-4);
    const chip = compiled.program(0);
    expect(relMaxError(chip.run(x, { seed: 0 }), ref)).toBeLessThan(1e-4);
    const noise = { kind: 'multiplicative' as const, sigma: 0.3 };
    const noisy = compiled.runSignal(x, noise, { seed: 1 });
    expect(relMaxError(noisy, ref)).toBeGreaterThan(1e-3);
    expect(Array.from(compiled.runSignal(x, noise, { seed: 1 }).dataSync())).toEqual(Array.from(noisy.dataSync()));
    // The same graph without the gate-noise point (output noise node only) differs at the same seed:
    // the gates really are noisy.
    const withoutGates = {
      ...compiled.signalGraph,
      nodes: compiled.signalGraph.nodes.map((n) => (n.op === 'lstm' ? { ...n, attrs: { ...n.attrs, gateNoise: undefined } } : n)),
    };
    const outputOnly = compile(withoutGates, { chip: IDEAL_CHIP });
    expect(relMaxError(outputOnly.runSignal(x, noise, { seed: 1 }), noisy)).toBeGreaterThan(1e-3);
    chip.dispose();
    compiled.dispose();
    outputOnly.dispose();
  });
});

describe('replication for parallel voting', () => {
  it('places V copies (V× tiles, cells and area) and programs them independently', () => {
    const one = compile(mlp(1), { chip: { device: 'reram', tile: '16x16' } });
    const four = compile(mlp(1), { chip: { device: 'reram', tile: '16x16' }, replicas: 4 });
    const [r1, r4] = [one.report(), four.report()];
    expect(four.plan.tilesPerCopy).toBe(one.plan.totalTiles);
    expect(r4.totals.tiles).toBe(4 * r1.totals.tiles);
    expect(r4.totals.cells).toBe(4 * r1.totals.cells);
    expect(r4.totals.areaSquareMicrometers).toBeCloseTo(4 * r1.totals.areaSquareMicrometers, 6);
    expect(r4.totals.energyPerInferencePicojoules).toBeCloseTo(r1.totals.energyPerInferencePicojoules, 9);
    const calibration = { calibration: seededInput([16, 20], 3) };
    const copies = four.programReplicas(7, calibration);
    expect(copies).toHaveLength(4);
    const x = seededInput([2, 20], 1);
    const outs = copies.map((c) => Array.from(c.run(x, { seed: 1 }).dataSync()));
    expect(new Set(outs.map((o) => o.join(','))).size).toBe(4);
    // copy r does not depend on the number of copies
    const two = compile(mlp(1), { chip: { device: 'reram', tile: '16x16' }, replicas: 2 }).programReplicas(7, calibration);
    expect(Array.from(two[1].run(x, { seed: 1 }).dataSync())).toEqual(outs[1]);
    expect(() => compile(mlp(1), { chip: { device: 'reram' }, replicas: 0 })).toThrow(/replicas = 0: expected an integer >= 1/);
    [...copies, ...two].forEach((c) => c.dispose());
    [one, four].forEach((c) => c.dispose());
  });
});
