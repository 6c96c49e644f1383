import { initBackend, tf } from '../../src/backend';
import { ConfigError } from '../../src/errors';
import { noiseSources } from '../../src/models/noiseLayers';
import { buildModel } from '../../src/models/paper/buildModel';
import { CNN6_PARAMETERS } from '../../src/models/paper/cnn6';
import { DENSENET_PARAMETERS } from '../../src/models/paper/densenet';
import { LSTM_HIDDEN_UNITS, LSTM_PARAMETERS, LSTM_TIME_STEPS } from '../../src/models/paper/lstm';
import { MADRY_CNN4_PARAMETERS } from '../../src/models/paper/madryCnn4';

beforeAll(async () => {
  await initBackend();
});

function counts(model: tf.LayersModel): { trainable: number; total: number } {
  const size = (w: tf.LayerVariable): number => w.shape.reduce((a: number, b) => a * (b as number), 1);
  return { trainable: model.trainableWeights.reduce((n, w) => n + size(w), 0), total: model.countParams() };
}

function forward(model: tf.LayersModel, shape: number[], training: boolean): Float32Array {
  return tf.tidy(() => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 101) / 101), shape);
    return (model.apply(x, { training }) as tf.Tensor).dataSync() as Float32Array;
  });
}

const CASES = [
  { name: 'cnn6', input: [28, 28, 1], params: CNN6_PARAMETERS, mvms: 6 },
  { name: 'madryCnn4', input: [28, 28, 1], params: { multiplicative: MADRY_CNN4_PARAMETERS, additive: MADRY_CNN4_PARAMETERS }, mvms: 4 },
  { name: 'densenet40', input: [32, 32, 3], params: DENSENET_PARAMETERS[40], mvms: 1 + 36 + 2 + 1 },
  { name: 'lstm', input: [LSTM_TIME_STEPS, 2], params: { multiplicative: LSTM_PARAMETERS, additive: LSTM_PARAMETERS }, mvms: 2 },
] as const;

describe.each(CASES)('$name', ({ name, input, params, mvms }) => {
  it.each(['multiplicative', 'additive'] as const)('has the parameter count stated in its file (%s noise)', (noise) => {
    const model = buildModel(name, { noise, sigma: 0.1, seed: 1 });
    expect(counts(model)).toEqual(params[noise]);
    // A noise source after every MVM (the LSTM layer owns the noise of its gate MVMs).
    expect(noiseSources(model)).toHaveLength(mvms);
    model.dispose();
  });

  it('runs forward on a batch of 2 to 10 finite logits; noiseless inference is repeatable', () => {
    const a = buildModel(name, { sigma: 0.5, seed: 3 });
    const ya = forward(a, [2, ...input], true);
    expect(ya).toHaveLength(20);
    expect(ya.every(Number.isFinite)).toBe(true);
    const p1 = forward(a, [2, ...input], false);
    expect(p1.every(Number.isFinite)).toBe(true);
    expect(Array.from(forward(a, [2, ...input], false))).toEqual(Array.from(p1));
    // Training-mode noise (σ = 0.5) moves the logits.
    expect(Array.from(ya)).not.toEqual(Array.from(forward(a, [2, ...input], true)));
    a.dispose();
  });
});

describe.each(['cnn6', 'lstm'])('%s is seeded', (name) => {
  it('same seed, same bits (weights and noise); another seed differs', () => {
    const input = name === 'cnn6' ? [2, 28, 28, 1] : [2, LSTM_TIME_STEPS, 2];
    const [a, b, c] = [3, 3, 4].map((seed) => buildModel(name, { sigma: 0.5, seed }));
    const ya = forward(a, input, true);
    expect(Buffer.from(forward(b, input, true).buffer).equals(Buffer.from(ya.buffer))).toBe(true);
    expect(Buffer.from(forward(c, input, true).buffer).equals(Buffer.from(ya.buffer))).toBe(false);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('DenseNet-100', () => {
  it('has 6,979,642 trainable parameters (Huang et al.: 7.0 M) and the additive variant drops γ, β', () => {
    const m = buildModel('densenet100', { seed: 0 });
    expect(counts(m)).toEqual(DENSENET_PARAMETERS[100].multiplicative);
    expect(noiseSources(m)).toHaveLength(1 + 96 + 2 + 1);
    const add = buildModel('densenet100', { noise: 'additive', seed: 0 });
    expect(counts(add)).toEqual(DENSENET_PARAMETERS[100].additive);
  });
});

describe('buildModel', () => {
  it('rejects unknown names and bad options with ConfigError', () => {
    expect(() => buildModel('resnet50')).toThrow(/model = "resnet50": expected one of cnn6, madryCnn4, densenet40, densenet100, lstm/);
    expect(() => buildModel('cnn6', { sigma: -1 })).toThrow(ConfigError);
    expect(() => buildModel('cnn6', { noise: 'both' as never })).toThrow(/noise = "both"/);
  });

  it('puts CNN-6 noise after BN and before ReLU, as Table 1', () => {
    const m = buildModel('cnn6', { sigma: 0.2 });
    const names = m.layers.map((l) => l.name);
    expect(names.slice(1, 5)).toEqual(['conv1', 'conv1_bn', 'conv1_noise', 'conv1_relu']);
    expect(names.slice(-2)).toEqual(['fc2', 'fc2_noise']);
  });

  it('keeps the LSTM hidden state at the documented size', () => {
    const m = buildModel('lstm');
    expect(m.outputs[0].shape).toEqual([null, 10]);
    expect(m.getLayer('lstm').outputShape).toEqual([null, LSTM_HIDDEN_UNITS]);
  });
});
