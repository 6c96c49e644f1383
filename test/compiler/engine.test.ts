/**
 * The onnxruntime engine against the frameworks that exported the models (PyTorch's
 * ONNX fixtures, tfjs models), against the tfjs reference engine under the same
 * seed, and the noise's independence from batching.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { compile, IDEAL_CHIP, type CompiledModel } from '../../src/compiler/compile';
import { loadOnnxFile } from '../../src/compiler/frontends/onnx';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import { GraphExecutor, signalNoiseHook, type MvmHook } from '../../src/compiler/executor';
import { bandChannels, lowerToOnnx } from '../../src/compiler/engine/lowerToOnnx';
import { OrtSession } from '../../src/compiler/engine/ortSession';
import type { Execution } from '../../src/compiler/engine/modelRunner';
import { applySignalNoise } from '../../src/crossbar/noise/signalNoise';
import { loadZooModel } from '../../src/models/zoo';
import { loadMnist, embeddedMnistDir } from '../../src/data';
import { Rng } from '../../src/rng';
import { RERAM_DEFAULTS } from '../../src/crossbar/presets';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import { ConfigError } from '../../src/errors';
import * as models from './tfjsModels';
import { fractionClose, readTorchRecord, relArrayError, seededNormals as seeded } from './helpers';

const DIR = path.join(__dirname, '..', 'fixtures', 'onnx');

beforeAll(async () => {
  await initBackend();
});


async function runOn(model: CompiledModel, execution: Execution, engine: 'onnxruntime' | 'tfjs', x: Float32Array, seed = 11): Promise<Float32Array> {
  const r = await model.runner(execution, { engine });
  try {
    return await r.run(x, { seed });
  } finally {
    await r.dispose();
  }
}

describe('exact execution on onnxruntime equals PyTorch on its own ONNX exports', () => {
  const fixtures = ['mlp', 'cnn', 'conv_variants', 'dense_block', 'pool_pad_ops', 'layout_ops', 'lstm', 'lstm_seq', 'attention', 'gemm_attrs', 'softmax_coerced'];
  for (const name of fixtures) {
    test(name, async () => {
      const file = fs.readdirSync(DIR).filter((f) => f.startsWith(`${name}_op`) && f.endsWith('.onnx')).sort()[0];
      const record = readTorchRecord(path.join(DIR, `${name}.json`));
      const model = compile(loadOnnxFile(path.join(DIR, file)), { chip: IDEAL_CHIP });
      const y = await runOn(model, { kind: 'exact' }, 'onnxruntime', Float32Array.from(record.input));
      // A model ending in softmax returns logits; compare after the same softmax.
      expect(relArrayError(withFinalSoftmax(model, y), record.output)).toBeLessThan(1e-4);
      model.dispose();
    });
  }
});

/** `y` through the softmax the compiled model left out (runs return logits), on the same axis. */
function withFinalSoftmax(model: CompiledModel, y: Float32Array): Float32Array {
  if (!model.endsInSoftmax) return y;
  const out = model.graph.nodes.find((n) => n.name === model.graph.outputs[0])!;
  const dims = out.outputShape.slice(1) as number[];
  const sourceAxis = model.softmaxAxis! - 1;
  const inner = dims.slice(sourceAxis + 1).reduce((a, b) => a * b, 1);
  const width = dims[sourceAxis];
  const res = new Float32Array(y.length);
  for (let base = 0; base < y.length; base += width * inner) {
    for (let j = 0; j < inner; j++) {
      let m = -Infinity;
      for (let k = 0; k < width; k++) m = Math.max(m, y[base + k * inner + j]);
      let z = 0;
      for (let k = 0; k < width; k++) z += Math.exp(y[base + k * inner + j] - m);
      for (let k = 0; k < width; k++) res[base + k * inner + j] = Math.exp(y[base + k * inner + j] - m) / z;
    }
  }
  return res;
}

interface TfjsCase {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  readonly inputDims: number[];
}

const TFJS_CASES: TfjsCase[] = [
  { name: 'mlp', build: () => models.mlp(1), inputDims: [20] },
  { name: 'cnn', build: () => models.cnn(2), inputDims: [12, 12, 3] },
  { name: 'convVariants (1×1, depthwise, strided same, dilated)', build: () => models.convVariants(3), inputDims: [10, 10, 4] },
  { name: 'denseBlock (concat, global pool)', build: () => models.denseBlock(4), inputDims: [8, 8, 4] },
  { name: 'lstmClassifier', build: () => models.lstmClassifier(5, true), inputDims: [7, 5] },
  { name: 'lstmSequence', build: () => models.lstmSequence(6), inputDims: [4, 3] },
];

describe('onnxruntime and tfjs engines agree under the same seed', () => {
  const batch = 6;
  for (const c of TFJS_CASES) {
    test(c.name, async () => {
      const m = c.build();
      const graph = fromTfjsLayersModel(m);
      const x = seeded(batch * c.inputDims.reduce((a, b) => a * b, 1), 3);
      // Exact: against tfjs's own predict (through softmax where the model has one).
      const ideal = compile(graph, { chip: IDEAL_CHIP });
      const want = m.predict(tf.tensor(x, [batch, ...c.inputDims])) as tf.Tensor;
      const exact = await runOn(ideal, { kind: 'exact' }, 'onnxruntime', x);
      expect(relArrayError(withFinalSoftmax(ideal, exact), want.dataSync() as Float32Array)).toBeLessThan(1e-4);
      want.dispose();
      // Signal-level noise: the same draws on both engines.
      for (const kind of ['multiplicative', 'additive'] as const) {
        const exec: Execution = { kind: 'signal', noise: { kind, sigma: 0.3 } };
        const a = await runOn(ideal, exec, 'onnxruntime', x);
        const b = await runOn(ideal, exec, 'tfjs', x);
        expect(relArrayError(a, b)).toBeLessThan(1e-4);
        expect(relArrayError(a, exact)).toBeGreaterThan(1e-3); // the noise is really there
      }
      // A chip with read and sensing noise, ideal converters: continuous, so float tolerance.
      const analog = compile(graph, { chip: { device: 'reram', dac: { bits: null }, adc: { bits: null } } });
      const chip = analog.program(4);
      const a = await runOn(analog, { kind: 'chip', chip }, 'onnxruntime', x);
      const b = await runOn(analog, { kind: 'chip', chip }, 'tfjs', x);
      expect(relArrayError(a, b)).toBeLessThan(1e-4);
      chip.dispose();
      // A fixed DAC range (elementwise converter on images) without quantisation.
      const fixed = compile(graph, { chip: { device: 'pcm', dac: { bits: null, range: { kind: 'fixed', maxAbs: 2 } }, adc: { bits: null } } });
      const fchip = fixed.program(5);
      expect(relArrayError(await runOn(fixed, { kind: 'chip', chip: fchip }, 'onnxruntime', x), await runOn(fixed, { kind: 'chip', chip: fchip }, 'tfjs', x))).toBeLessThan(1e-4);
      fchip.dispose();
      [ideal, analog, fixed].forEach((mm) => mm.dispose());
    });
  }
});

describe('one programmed layer with 8-bit converters: both engines give the same codes', () => {
  // Two row bands of tiles each (300 and 288 rows on 256-row tiles), per-tile ADCs.
  const dense = () => {
    const b = new GraphBuilder();
    b.input('x', [null, 300]);
    b.add('dense', 'fc', ['x'], { weights: { shape: [300, 40], data: seeded(300 * 40, 21).map((v) => v * 0.05) } });
    return b.build(['fc']);
  };
  const conv = () => {
    const b = new GraphBuilder();
    b.input('x', [null, 9, 9, 32]);
    b.add('conv2d', 'c', ['x'], { kernel: { shape: [3, 3, 32, 24], data: seeded(9 * 32 * 24, 22).map((v) => v * 0.05) }, strides: [1, 1], padding: 'same', dilations: [1, 1], groups: 1 });
    return b.build(['c']);
  };
  for (const [name, build, per] of [['dense', dense, 300], ['conv', conv, 9 * 9 * 32]] as const) {
    for (const dac of ['perInputAbsMax', 'fixed', 'calibrated'] as const) {
      test(`${name}, ${dac} DAC range, on every preset`, async () => {
        const x = seeded(5 * per, 23).map((v) => Math.max(0, v));
        for (const device of ['reram', 'pcm', 'nand']) {
          const range = dac === 'fixed' ? { kind: 'fixed' as const, maxAbs: 2 } : { kind: dac };
          // Given ranges keep the worst-case ADC full scale; a calibrated chip sets both on data.
          const model = compile(build(), { chip: { device, dac: { bits: 8, range }, ...(dac === 'calibrated' ? {} : { calibration: 'worstCase' }) } });
          const chip = model.program(3, { calibration: seeded(16 * per, 24).map((v) => Math.max(0, v)) });
          const a = await runOn(model, { kind: 'chip', chip }, 'onnxruntime', x);
          const b = await runOn(model, { kind: 'chip', chip }, 'tfjs', x);
          // One layer: a difference is at most a code flip at a rounding boundary, rarely.
          expect(fractionClose(a, b, 1e-4)).toBeGreaterThan(0.99);
          chip.dispose();
          model.dispose();
        }
      });
    }
  }
});

describe('row bands of a convolution read channel counts onnxruntime runs fast', () => {
  test('bandChannels widens a band to the next multiple of 16 channels where the image has them', () => {
    expect(bandChannels(0, 28, 32)).toEqual([0, 32]); // 29 channels: the whole image
    expect(bandChannels(28, 31, 32)).toEqual([28, 4]); // fewer than a block: as they are
    expect(bandChannels(28, 56, 64)).toEqual([28, 32]);
    expect(bandChannels(16, 47, 64)).toEqual([16, 32]); // already a multiple
    expect(bandChannels(22, 39, 40)).toEqual([8, 32]); // ends with the image
    expect(bandChannels(3, 39, 40)).toEqual([3, 37]); // 48 channels would not fit in the image
    // Every band inside every image up to 80 channels: covered, inside the image, fast where it can be.
    const wrong: string[] = [];
    for (let cIn = 1; cIn <= 80; cIn++) {
      for (let first = 0; first < cIn; first++) {
        for (let last = first; last < cIn; last++) {
          const [c0, n] = bandChannels(first, last, cIn);
          const need = last - first + 1;
          // The fewest channels onnxruntime's NCHWc Conv takes, where the image has them.
          const want = need < 16 || Math.ceil(need / 16) * 16 > cIn ? need : Math.ceil(need / 16) * 16;
          if (!(c0 >= 0 && c0 <= first && c0 + n > last && c0 + n <= cIn) || n !== want) wrong.push(`${first}..${last} of ${cIn} → ${c0}+${n}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  // 40 input channels on 200-row tiles: band 0 holds channels 0–22 (read as 0–31), band 1
  // channels 22–39 (read as 8–39), with a partial channel at the cut.
  const conv = () => {
    const b = new GraphBuilder();
    b.input('x', [null, 7, 7, 40]);
    b.add('conv2d', 'c', ['x'], { kernel: { shape: [3, 3, 40, 16], data: seeded(9 * 40 * 16, 31).map((v) => v * 0.05) }, strides: [1, 1], padding: 'valid', dilations: [1, 1], groups: 1 });
    return b.build(['c']);
  };
  test('both engines agree on widened bands, with read noise (continuous) and with 8-bit converters', async () => {
    const x = seeded(5 * 7 * 7 * 40, 32).map((v) => Math.max(0, v));
    // Read noise 20× the preset's, so a band's variance that missed a few rows would show.
    const loud = { kind: 'reram', ...RERAM_DEFAULTS, readNoiseAddMicroSiemens: 20 * RERAM_DEFAULTS.readNoiseAddMicroSiemens };
    // A fixed DAC range: the elementwise DAC whose bands are Convs over their channels.
    const analog = compile(conv(), { chip: { device: loud, tile: '200x64', dac: { bits: null, range: { kind: 'fixed', maxAbs: 3 } }, adc: { bits: null } } });
    const chip = analog.program(4);
    expect(chip.layers.get('c')![0].rowBlocks.map((rb) => [rb.row0, rb.rows])).toEqual([[0, 200], [200, 160]]);
    const exec: Execution = { kind: 'chip', chip };
    const a = await runOn(analog, exec, 'onnxruntime', x);
    const b = await runOn(analog, exec, 'tfjs', x);
    expect(relArrayError(a, b)).toBeLessThan(1e-4);
    // The read and sensing noise alone (two seeds' difference: the programmed weights cancel)
    // agree too: a variance short of one band's partial channel (2 of its 200 rows) is 4.6× this bound.
    const noiseOf = async (engine: 'onnxruntime' | 'tfjs') => {
      const [u, v] = [await runOn(analog, exec, engine, x, 11), await runOn(analog, exec, engine, x, 12)];
      return u.map((t, i) => t - v[i]);
    };
    expect(relArrayError(await noiseOf('onnxruntime'), await noiseOf('tfjs'))).toBeLessThan(1e-3);
    chip.dispose();
    analog.dispose();
    const coded = compile(conv(), { chip: { device: 'reram', tile: '200x64', dac: { bits: 8 } } });
    const cchip = coded.program(3, { calibration: seeded(16 * 7 * 7 * 40, 33).map((v) => Math.max(0, v)) });
    expect(fractionClose(await runOn(coded, { kind: 'chip', chip: cchip }, 'onnxruntime', x), await runOn(coded, { kind: 'chip', chip: cchip }, 'tfjs', x), 1e-4)).toBeGreaterThan(0.99);
    cchip.dispose();
    coded.dispose();
  });
});

describe('the zoo CNN-6 on real digits', () => {
  const n = 32;
  let digits: Float32Array;
  let labels: Uint8Array;
  let graphModel: tf.LayersModel;
  beforeAll(async () => {
    const d = loadMnist(embeddedMnistDir(), 'test', { limit: n });
    digits = d.images;
    labels = d.labels;
    graphModel = await loadZooModel('cnn6-mnist-mult-0.4');
  });

  const argmax = (y: Float32Array, i: number) => {
    let k = 0;
    for (let c = 1; c < 10; c++) if (y[i * 10 + c] > y[i * 10 + k]) k = c;
    return k;
  };

  test('chips with 8-bit converters: both engines decide the same digits', async () => {
    for (const device of ['reram', 'pcm', 'nand']) {
      const model = compile(graphModel, { chip: { device } });
      const chip = model.program(7, { calibration: digits });
      const a = await runOn(model, { kind: 'chip', chip }, 'onnxruntime', digits);
      const b = await runOn(model, { kind: 'chip', chip }, 'tfjs', digits);
      let same = 0;
      let correctA = 0;
      let correctB = 0;
      for (let i = 0; i < n; i++) {
        if (argmax(a, i) === argmax(b, i)) same++;
        if (argmax(a, i) === labels[i]) correctA++;
        if (argmax(b, i) === labels[i]) correctB++;
      }
      // A converter code can flip where the engines' float sums differ by an ulp, and a
      // flip early in the network moves everything after it a little: decisions agree.
      expect(same).toBeGreaterThanOrEqual(n - 2);
      expect(Math.abs(correctA - correctB)).toBeLessThanOrEqual(2);
      chip.dispose();
      model.dispose();
    }
  });
  test('noise is keyed by sample: bit-identical at batch 1, 7 and all at once, on both engines', async () => {
    const model = compile(graphModel, { chip: { device: 'reram' } });
    const chip = model.program(2, { calibration: digits });
    for (const exec of [{ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 } }, { kind: 'chip', chip }] as Execution[]) {
      const ort = await model.runner(exec);
      const whole = await ort.run(digits, { seed: 9 });
      for (const batchSize of [1, 7]) expect(Array.from(await ort.runAll(digits, { seed: 9, batchSize }))).toEqual(Array.from(whole));
      // A later slice on its own, told its offset, draws what it drew inside the whole run.
      const tail = await ort.run(digits.subarray(30 * 784), { seed: 9, sampleOffset: 30 });
      expect(Array.from(tail)).toEqual(Array.from(whole.subarray(30 * 10)));
      await ort.dispose();
      const ref = await model.runner(exec, { engine: 'tfjs' });
      const part = digits.subarray(0, 14 * 784);
      const refWhole = await ref.run(part, { seed: 9 });
      expect(Array.from(await ref.runAll(part, { seed: 9, batchSize: 5 }))).toEqual(Array.from(refWhole));
      await ref.dispose();
    }
    chip.dispose();
    model.dispose();
  });

  test('a batch split into cache-sized onnxruntime calls gives the bits of one call', async () => {
    const model = compile(graphModel, { chip: { device: 'reram' } });
    const chip = model.program(2, { calibration: digits });
    const batch = digits.length / 784;
    for (const [graph, mode] of [
      [model.signalGraph, { kind: 'signal', noise: { kind: 'multiplicative', sigma: 1 }, noisyMvm: () => true, noiseNodes: false }],
      [model.graph, { kind: 'chip', layers: chip.layers }],
    ] as const) {
      const lowered = lowerToOnnx(graph, mode);
      const perSample = lowered.noise.reduce((a, f) => a + f.perSite * f.sites.length, 0) * 4;
      const unlimited = Number.MAX_SAFE_INTEGER;
      const one = await OrtSession.create(lowered, { noiseBytesPerCall: unlimited, activationBytesPerCall: unlimited });
      const split = await OrtSession.create(lowered, { noiseBytesPerCall: 3 * perSample, activationBytesPerCall: unlimited });
      expect(one.samplesPerCall(batch)).toBe(batch);
      expect(split.samplesPerCall(batch)).toBe(3);
      // The largest layer output sizes a call too (the zoo CNN-6's first conv: 26·26·32 values).
      expect(lowered.largestValuePerSample).toBe(26 * 26 * 32);
      const byActivation = await OrtSession.create(lowered, { noiseBytesPerCall: unlimited, activationBytesPerCall: 5 * 4 * 26 * 26 * 32 });
      expect(byActivation.samplesPerCall(batch)).toBe(5);
      await byActivation.dispose();
      const run = Rng.fromSeed(4).fold('run');
      const [a] = await one.run([digits], batch, run, 5, 0.4);
      const [b] = await split.run([digits], batch, run, 5, 0.4);
      expect(Array.from(b)).toEqual(Array.from(a));
      // A second batch reuses the first one's noise buffers and still draws afresh.
      const [c] = await split.run([digits], batch, run, 5 + batch, 0.4);
      expect(relArrayError(c, a)).toBeGreaterThan(1e-3);
      await Promise.all([one.dispose(), split.dispose()]);
    }
    chip.dispose();
    model.dispose();
  });

  test('different seeds and different runs draw different noise', async () => {
    const model = compile(graphModel, { chip: IDEAL_CHIP });
    const r = await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 } });
    const a = await r.run(digits, { seed: 1 });
    const b = await r.run(digits, { seed: 2 });
    expect(relArrayError(a, b)).toBeGreaterThan(1e-2);
    expect(Array.from(await r.run(digits, { seed: 1 }))).toEqual(Array.from(a));
    // σ = 0 is the exact network, and needs no seed.
    const quiet = await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0 } });
    const exact = await model.runner({ kind: 'exact' });
    expect(relArrayError(await quiet.run(digits), await exact.run(digits))).toBeLessThan(1e-5);
    await Promise.all([r.dispose(), quiet.dispose(), exact.dispose()]);
    model.dispose();
  });
});

describe('the tfjs executor draws the same noise however a convolution is chunked', () => {
  test('im2col budgets that cut the batch into 1, 3 and 8 chunks give the same bits', () => {
    const graph = fromTfjsLayersModel(models.cnn(7));
    const x = tf.tensor(seeded(8 * 12 * 12 * 3, 1), [8, 12, 12, 3]);
    const rng = Rng.fromSeed(5).fold('signal');
    const noise = { kind: 'multiplicative' as const, sigma: 0.5 };
    const mvm: MvmHook = (node, input, site) =>
      applySignalNoise(tf.matMul(input, site.matrix) as tf.Tensor2D, noise, rng.fold(node.name).fold(site.group).fold(site.step), site.sampleStart, input.shape[0] / site.positions, site.channelsFirst);
    const ex = new GraphExecutor(graph);
    const runs = [Infinity, 12 * 12 * 27 * 3, 12 * 12 * 27].map((budget) => {
      const y = ex.run(x, { mvm, noise: signalNoiseHook(rng, noise), im2colBudget: budget });
      const d = Array.from(y.dataSync());
      y.dispose();
      return d;
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    ex.dispose();
    x.dispose();
  });
});

describe('lowering errors', () => {
  test('a runner refuses a wrongly sized batch and a missing seed, naming the field', async () => {
    const model = compile(fromTfjsLayersModel(models.mlp(2)), { chip: IDEAL_CHIP });
    const r = await model.runner({ kind: 'signal', noise: { kind: 'additive', sigma: 0.1 } });
    await expect(r.run(new Float32Array(21))).rejects.toThrow(ConfigError);
    await expect(r.run(new Float32Array(20))).rejects.toThrow(/options\.seed/);
    await expect(model.runner({ kind: 'exact' }, { engine: 'cuda' as never })).rejects.toThrow(/engine/);
    await r.dispose();
    model.dispose();
  });

  test('every noise site becomes one graph input, keyed by node, group and step', () => {
    const model = compile(fromTfjsLayersModel(models.convVariants(3)), { chip: IDEAL_CHIP });
    const lowered = lowerToOnnx(model.signalGraph, { kind: 'signal', noise: { kind: 'multiplicative', sigma: 1 }, noisyMvm: () => true, noiseNodes: false });
    const analog = model.signalGraph.nodes.filter((n) => ['dense', 'conv2d', 'lstm'].includes(n.op));
    expect(lowered.noise).toHaveLength(analog.length);
    const depthwise = lowered.noise.find((f) => f.sites[0][0] === 'depthwise')!;
    // Depthwise: one site per group (input channel), consecutive channel ranges of one input.
    expect(depthwise.sites).toHaveLength(5);
    expect(depthwise.sites.map((s) => s[1])).toEqual([0, 1, 2, 3, 4]);
    model.dispose();
  });
});

describe('worker pools', () => {
  test('two onnxruntime workers give the same bits as one session, in order', async () => {
    const d = loadMnist(embeddedMnistDir(), 'test', { limit: 40 });
    const model = compile(await loadZooModel('cnn6-mnist-mult-0'), { chip: { device: 'pcm' } });
    const chip = model.program(4, { calibration: d.images });
    for (const exec of [{ kind: 'signal', noise: { kind: 'additive', sigma: 0.5 } }, { kind: 'chip', chip }] as Execution[]) {
      const one = await model.runner(exec);
      const two = await model.runner(exec, { workers: 2 });
      const a = await one.runAll(d.images, { seed: 3, batchSize: 9 });
      const b = await two.runAll(d.images, { seed: 3, batchSize: 9 });
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(Array.from(await two.run(d.images.subarray(0, 5 * 784), { seed: 3 }))).toEqual(Array.from(a.subarray(0, 50)));
      await Promise.all([one.dispose(), two.dispose()]);
    }
    chip.dispose();
    model.dispose();
  });
});
