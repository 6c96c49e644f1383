/**
 * tfjs models with tfjs's own defaults: the LSTM and GRU with
 * `recurrentActivation: "hardSigmoid"`, a GRU (reset before the candidate's
 * recurrent product, as tfjs computes it), LayerNormalization and the activations
 * relu6, hardSigmoid, gelu, gelu_new and swish: the IR on the tfjs executor and on
 * the onnxruntime engine against tfjs's own predict.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { compile, IDEAL_CHIP } from '../../src/compiler/compile';
import { execute } from '../../src/compiler/executor';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import { UnsupportedOpError } from '../../src/errors';
import { glorot, relMaxError, seededInput, uniform } from './helpers';

beforeAll(async () => {
  await initBackend();
});

function recurrentModel(seed: number): tf.LayersModel {
  // tfjs's defaults: hardSigmoid gates for both, no resetAfter for the GRU.
  const input = tf.input({ shape: [7, 4] });
  const lstm = tf.layers
    .lstm({ units: 5, returnSequences: true, kernelInitializer: glorot(seed), recurrentInitializer: glorot(seed + 1), biasInitializer: uniform(seed + 2, -0.3, 0.3), name: 'lstm_default' })
    .apply(input) as tf.SymbolicTensor;
  const gru = tf.layers
    .gru({ units: 4, returnSequences: true, kernelInitializer: glorot(seed + 3), recurrentInitializer: glorot(seed + 4), biasInitializer: uniform(seed + 5, -0.3, 0.3), name: 'gru_default' })
    .apply(lstm) as tf.SymbolicTensor;
  const gruSigmoid = tf.layers
    .gru({ units: 3, recurrentActivation: 'sigmoid', kernelInitializer: glorot(seed + 6), recurrentInitializer: glorot(seed + 7), biasInitializer: uniform(seed + 8, -0.3, 0.3), name: 'gru_sigmoid' })
    .apply(gru) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, kernelInitializer: glorot(seed + 9), name: 'head' }).apply(gruSigmoid) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function normalisedModel(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [6, 8] });
  let x = tf.layers.dense({ units: 8, activation: 'gelu', kernelInitializer: glorot(seed), name: 'fc_gelu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.layerNormalization({ betaInitializer: uniform(seed + 1, -0.5, 0.5), gammaInitializer: uniform(seed + 2, 0.5, 1.5), name: 'ln_last' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 8, activation: 'gelu_new', kernelInitializer: glorot(seed + 3), name: 'fc_gelu_new' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.layerNormalization({ axis: [1, 2], epsilon: 1e-5, center: false, gammaInitializer: uniform(seed + 4, 0.5, 1.5), name: 'ln_both' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 6, activation: 'swish', kernelInitializer: glorot(seed + 5), name: 'fc_swish' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 6, activation: 'relu6', kernelInitializer: glorot(seed + 6), name: 'fc_relu6' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 0.5, name: 'relu_capped' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 4, activation: 'hardSigmoid', kernelInitializer: glorot(seed + 7), name: 'fc_hard' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.flatten().apply(x) as tf.SymbolicTensor });
}

describe("tfjs's default recurrent layers and normalisations run exactly", () => {
  const cases: [string, () => tf.LayersModel, number[]][] = [
    ['hardSigmoid LSTM → hardSigmoid GRU → sigmoid GRU', () => recurrentModel(11), [7, 4]],
    ['LayerNormalization (last axis; two axes without beta), gelu, gelu_new, swish, relu6, ReLU maxValue, hardSigmoid', () => normalisedModel(21), [6, 8]],
  ];
  test.each(cases)('%s', async (_name, build, dims) => {
    const model = build();
    const graph = fromTfjsLayersModel(model);
    const x = seededInput([5, ...dims], 3);
    const want = model.predict(x) as tf.Tensor;
    const got = execute(graph, x);
    expect(relMaxError(got, want)).toBeLessThan(1e-4);
    const compiled = compile(graph, { chip: IDEAL_CHIP });
    const runner = await compiled.runner({ kind: 'exact' });
    try {
      const onnx = await runner.run(x.dataSync() as Float32Array);
      expect(relMaxError(tf.tensor(onnx, want.shape), want)).toBeLessThan(1e-4);
    } finally {
      await runner.dispose();
      compiled.dispose();
      tf.dispose([x, want, got]);
    }
  });

  test('what the IR records: gate activations, the GRU variant, the normalised axes', () => {
    const g = fromTfjsLayersModel(recurrentModel(11));
    const lstm = g.nodes.find((n) => n.name === 'lstm_default');
    const gru = g.nodes.find((n) => n.name === 'gru_default');
    const gruSigmoid = g.nodes.find((n) => n.name === 'gru_sigmoid');
    expect(lstm?.op === 'lstm' && lstm.attrs.recurrentActivation).toBe('hardSigmoid');
    expect(gru?.op === 'gru' && [gru.attrs.recurrentActivation, gru.attrs.resetAfter, gru.attrs.returnSequences]).toEqual(['hardSigmoid', false, true]);
    expect(gruSigmoid?.op === 'gru' && gruSigmoid.attrs.recurrentActivation).toBeUndefined();
    const n = fromTfjsLayersModel(normalisedModel(21));
    const both = n.nodes.find((m) => m.name === 'ln_both');
    expect(both?.op === 'layerNorm' && [both.attrs.axis, both.attrs.gamma.shape, both.attrs.beta]).toEqual([1, [6, 8], undefined]);
  });

  test('settings the IR does not have are refused, naming the layer', () => {
    const lstm = tf.sequential({ layers: [tf.layers.lstm({ inputShape: [4, 3], units: 2, recurrentActivation: 'tanh', name: 'tanh_gates' })] });
    expect(() => fromTfjsLayersModel(lstm)).toThrow(UnsupportedOpError);
    expect(() => fromTfjsLayersModel(lstm)).toThrow(/unsupported op 'LSTM recurrentActivation="tanh"' at node 'tanh_gates'/);
    const gru = tf.sequential({ layers: [tf.layers.gru({ inputShape: [4, 3], units: 2, goBackwards: true, name: 'backwards' })] });
    expect(() => fromTfjsLayersModel(gru)).toThrow(/unsupported op 'GRU goBackwards=true' at node 'backwards'/);
    const ln = tf.sequential({ layers: [tf.layers.layerNormalization({ inputShape: [4, 3], axis: 1, name: 'ln_middle' })] });
    expect(() => fromTfjsLayersModel(ln)).toThrow(/unsupported op 'LayerNormalization axis=\[1\]' at node 'ln_middle'/);
  });
});
