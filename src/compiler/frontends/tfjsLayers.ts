/**
 * TensorFlow.js LayersModel → IR. Walks the model's symbolic graph from its outputs
 * back to its inputs (so Sequential and functional models are one case), and turns
 * each layer call into one or more IR nodes: a layer's fused activation becomes a
 * node of its own after the layer (`<layer>/<activation>`), so noise and analog
 * mapping see the MVM output before the nonlinearity.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedOpError } from '../../errors';
import { GraphBuilder } from '../ir/builder';
import type { Graph } from '../ir/graph';
import type { ConstTensor, GateActivation, Padding, Shape } from '../ir/ops';

export { loadTfjsModelFromDir, saveTfjsModelToDir } from './tfjsFiles';

/** Layer class names `fromTfjsLayersModel` accepts. */
export const SUPPORTED_TFJS_LAYERS: readonly string[] = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'Activation',
  'ReLU',
  'Softmax',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Concatenate',
  'Add',
  'Flatten',
  'Reshape',
  'Permute',
  'LSTM',
  'GRU',
  'LayerNormalization',
  'Dropout',
  'MultiplicativeGaussianNoise',
  'AdditiveGaussianNoise',
  'NoisyLSTM',
];

/** Activation names (tfjs serialised form) the frontend maps to IR nodes. */
export const SUPPORTED_TFJS_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'hardSigmoid', 'softmax', 'gelu', 'gelu_new', 'swish'];

type Config = Record<string, unknown>;
type SymbolicTensor = tf.SymbolicTensor;
type Layer = tf.layers.Layer;

function toConst(t: tf.Tensor): ConstTensor {
  // dataSync may hand back the backend's own buffer; copy so the IR owns its weights.
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

function pair(value: unknown, what: string, layer: Layer): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number];
  }
  throw new UnsupportedOpError(`${layer.getClassName()} ${what}=${JSON.stringify(value)}`, layer.name, ['a number or a pair of numbers']);
}

function padding(value: unknown, layer: Layer): Padding {
  if (value === 'valid' || value === 'same') return value;
  throw new UnsupportedOpError(`${layer.getClassName()} padding=${JSON.stringify(value)}`, layer.name, ["'valid'", "'same'"]);
}

function requireChannelsLast(config: Config, layer: Layer): void {
  const format = config.dataFormat;
  if (format !== undefined && format !== null && format !== 'channelsLast') {
    throw new UnsupportedOpError(`${layer.getClassName()} dataFormat=${JSON.stringify(format)}`, layer.name, ["'channelsLast'"]);
  }
}

/** Normalise a possibly negative axis of a rank-`rank` tensor (batch included). */
function axisOf(value: unknown, rank: number, layer: Layer): number {
  const axis = typeof value === 'number' ? value : Array.isArray(value) && value.length === 1 ? value[0] : NaN;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 1 || a >= rank) {
    throw new UnsupportedOpError(`${layer.getClassName()} axis=${JSON.stringify(value)}`, layer.name, [`a single axis in [1, ${rank - 1}]`]);
  }
  return a;
}

/** Converts layer calls into IR nodes on one builder. */
class Converter {
  readonly b = new GraphBuilder();
  /** IR value name of each symbolic tensor already converted, by tensor id. */
  private readonly values = new Map<number, string>();

  value(t: SymbolicTensor): string {
    const known = this.values.get(t.id);
    if (known !== undefined) return known;
    const layer = t.sourceLayer;
    let name: string;
    if (layer.getClassName() === 'InputLayer') {
      name = this.b.input(this.b.uniqueName(layer.name), [...t.shape] as Shape);
    } else {
      if (t.outputTensorIndex !== undefined && t.outputTensorIndex > 0) {
        throw new UnsupportedOpError(`${layer.getClassName()} with several outputs`, layer.name, SUPPORTED_TFJS_LAYERS);
      }
      const inputs = t.inputs.map((i) => this.value(i));
      name = this.layer(layer, inputs);
    }
    this.values.set(t.id, name);
    return name;
  }

  /** Append an activation node after `x` unless it is linear. */
  private activation(act: unknown, x: string, layer: Layer): string {
    const rank = this.b.shapeOf(x).length;
    switch (act) {
      case 'linear':
      case undefined:
      case null:
        return x;
      case 'relu':
        return this.b.add('relu', this.b.uniqueName(`${layer.name}/relu`), [x], {});
      case 'tanh':
        return this.b.add('tanh', this.b.uniqueName(`${layer.name}/tanh`), [x], {});
      case 'sigmoid':
        return this.b.add('sigmoid', this.b.uniqueName(`${layer.name}/sigmoid`), [x], {});
      case 'softmax':
        return this.b.add('softmax', this.b.uniqueName(`${layer.name}/softmax`), [x], { axis: rank - 1 });
      case 'relu6':
        return this.b.add('clip', this.b.uniqueName(`${layer.name}/relu6`), [x], { min: 0, max: 6 });
      case 'hardSigmoid':
        return this.b.add('hardSigmoid', this.b.uniqueName(`${layer.name}/hardSigmoid`), [x], { alpha: 0.2, beta: 0.5 });
      case 'gelu':
      case 'gelu_new':
        return this.b.add('gelu', this.b.uniqueName(`${layer.name}/${act}`), [x], { approximate: act === 'gelu' ? 'none' : 'tanh' });
      case 'swish': {
        const gate = this.b.add('sigmoid', this.b.uniqueName(`${layer.name}/swish_gate`), [x], {});
        return this.b.add('mul', this.b.uniqueName(`${layer.name}/swish`), [x, gate], {});
      }
      default:
        throw new UnsupportedOpError(`activation ${JSON.stringify(act)}`, layer.name, SUPPORTED_TFJS_ACTIVATIONS);
    }
  }

  private layer(layer: Layer, inputs: string[]): string {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Config;
    const weights = layer.getWeights().map(toConst);
    const name = this.b.uniqueName(layer.name);
    const b = this.b;
    const x = inputs[0];
    switch (cls) {
      case 'Dense': {
        const y = b.add('dense', name, [x], { weights: weights[0], ...(config.useBias ? { bias: weights[1] } : {}) });
        return this.activation(config.activation, y, layer);
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        requireChannelsLast(config, layer);
        let kernel = weights[0];
        let groups = 1;
        if (cls === 'DepthwiseConv2D') {
          // [kh, kw, cIn, mult] has the same row-major data as [kh, kw, 1, cIn·mult]
          // with groups = cIn: output channel c·mult + m is filter m of channel c.
          const [kh, kw, cIn, mult] = kernel.shape;
          kernel = { shape: [kh, kw, 1, cIn * mult], data: kernel.data };
          groups = cIn;
        }
        const y = b.add('conv2d', name, [x], {
          kernel,
          ...(config.useBias ? { bias: weights[1] } : {}),
          strides: pair(config.strides, 'strides', layer),
          padding: padding(config.padding, layer),
          dilations: pair(config.dilationRate ?? 1, 'dilationRate', layer),
          groups,
        });
        return this.activation(config.activation, y, layer);
      }
      case 'BatchNormalization': {
        const rank = b.shapeOf(x).length;
        const axis = axisOf(config.axis, rank, layer);
        if (axis !== rank - 1) {
          throw new UnsupportedOpError(`BatchNormalization axis=${JSON.stringify(config.axis)}`, layer.name, ['the last (channel) axis']);
        }
        const channels = b.shapeOf(x)[axis] as number;
        let k = 0;
        const ones: ConstTensor = { shape: [channels], data: new Float32Array(channels).fill(1) };
        const zeros: ConstTensor = { shape: [channels], data: new Float32Array(channels) };
        const gamma = config.scale ? weights[k++] : ones;
        const beta = config.center ? weights[k++] : zeros;
        const mean = weights[k++];
        const variance = weights[k++];
        return b.add('batchNorm', name, [x], { gamma, beta, mean, variance, epsilon: config.epsilon as number });
      }
      case 'Activation': {
        const y = this.activation(config.activation, x, layer);
        return y === x ? b.add('identity', name, [x], {}) : y;
      }
      case 'ReLU': {
        const max = config.maxValue;
        if (max !== null && max !== undefined) {
          if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) {
            throw new UnsupportedOpError(`ReLU maxValue=${JSON.stringify(max)}`, layer.name, ['ReLU without maxValue, or with a finite maxValue ≥ 0']);
          }
          return b.add('clip', name, [x], { min: 0, max });
        }
        return b.add('relu', name, [x], {});
      }
      case 'Softmax':
        return b.add('softmax', name, [x], { axis: axisOf(config.axis, b.shapeOf(x).length, layer) });
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        requireChannelsLast(config, layer);
        const poolSize = pair(config.poolSize, 'poolSize', layer);
        const strides = config.strides === null || config.strides === undefined ? poolSize : pair(config.strides, 'strides', layer);
        const pad = padding(config.padding, layer);
        return cls === 'MaxPooling2D'
          ? b.add('maxPool', name, [x], { poolSize, strides, padding: pad })
          : // TF's 'same' average pooling divides by the number of real pixels.
            b.add('avgPool', name, [x], { poolSize, strides, padding: pad, countIncludePad: false });
      }
      case 'GlobalAveragePooling2D':
        requireChannelsLast(config, layer);
        return b.add('globalAvgPool', name, [x], { keepDims: config.keepDims === true });
      case 'Concatenate':
        return b.add('concat', name, inputs, { axis: axisOf(config.axis ?? -1, b.shapeOf(x).length, layer) });
      case 'Add':
        return b.add('add', name, inputs, {});
      case 'Flatten':
        requireChannelsLast(config, layer);
        return b.add('flatten', name, [x], {});
      case 'Reshape':
        return b.add('reshape', name, [x], { shape: [...(config.targetShape as number[])] });
      case 'Permute':
        return b.add('transpose', name, [x], { perm: [0, ...(config.dims as number[])] });
      case 'Dropout':
        return b.add('identity', name, [x], {});
      case 'LSTM':
        return this.lstm(layer, config, weights, name, x);
      case 'GRU':
        return this.gru(layer, config, weights, name, x);
      case 'LayerNormalization': {
        const shape = b.shapeOf(x);
        const rank = shape.length;
        const axes = (Array.isArray(config.axis) ? (config.axis as number[]) : [config.axis ?? -1]).map((a) => (typeof a === 'number' && a < 0 ? a + rank : a));
        const sorted = [...axes].sort((p, q) => (p as number) - (q as number)) as number[];
        const first = sorted[0];
        // The IR normalises over trailing axes [first, rank): the listed axes must be exactly those.
        if (!Number.isInteger(first) || first < 1 || sorted.some((a, i) => a !== first + i) || sorted[sorted.length - 1] !== rank - 1) {
          throw new UnsupportedOpError(`LayerNormalization axis=${JSON.stringify(config.axis)}`, layer.name, ['LayerNormalization over the last axes (e.g. axis -1)']);
        }
        const paramShape = shape.slice(first) as number[];
        const n = paramShape.reduce((p, d) => p * d, 1);
        let k = 0;
        const reshaped = (t: ConstTensor): ConstTensor => ({ shape: paramShape, data: t.data });
        const gamma = config.scale ? reshaped(weights[k++]) : { shape: paramShape, data: new Float32Array(n).fill(1) };
        const beta = config.center ? reshaped(weights[k++]) : undefined;
        return b.add('layerNorm', name, [x], { axis: first, gamma, ...(beta ? { beta } : {}), epsilon: config.epsilon as number });
      }
      case 'NoisyLSTM': {
        // ohmic's own LSTM (src/models/paper/lstm.ts): gates i, f, c, o like the IR,
        // no bias option, last state out, and the paper's noise on the gate MVMs.
        const units = config.units as number;
        const kind = config.noise;
        const sigma = config.sigma;
        if ((kind !== 'multiplicative' && kind !== 'additive') || typeof sigma !== 'number') {
          throw new UnsupportedOpError(`NoisyLSTM with noise ${JSON.stringify(kind)}, sigma ${JSON.stringify(sigma)}`, layer.name, SUPPORTED_TFJS_LAYERS);
        }
        return this.b.add('lstm', name, [x], {
          units,
          kernel: weights[0],
          recurrentKernel: weights[1],
          bias: weights[2],
          returnSequences: false,
          gateNoise: { kind, sigma },
        });
      }
      case 'MultiplicativeGaussianNoise':
      case 'AdditiveGaussianNoise': {
        const sigma = config.sigma ?? config.stddev;
        if (typeof sigma !== 'number') {
          throw new UnsupportedOpError(`${cls} without a numeric sigma/stddev (config ${JSON.stringify(config)})`, layer.name, SUPPORTED_TFJS_LAYERS);
        }
        const kind = cls === 'MultiplicativeGaussianNoise' ? 'multiplicative' : 'additive';
        return b.add('noise', name, [x], { kind, sigma });
      }
      default:
        throw new UnsupportedOpError(cls, layer.name, SUPPORTED_TFJS_LAYERS);
    }
  }

  private lstm(layer: Layer, config: Config, weights: ConstTensor[], name: string, x: string): string {
    const expect = (field: string, wanted: unknown) => {
      if (config[field] !== wanted) {
        throw new UnsupportedOpError(`LSTM ${field}=${JSON.stringify(config[field])}`, layer.name, [`LSTM with ${field}=${JSON.stringify(wanted)}`]);
      }
    };
    expect('activation', 'tanh');
    const recurrentActivation = this.gateActivation(layer, config);
    expect('returnState', false);
    expect('goBackwards', false);
    expect('stateful', false);
    const units = config.units as number;
    const bias: ConstTensor = config.useBias ? weights[2] : { shape: [4 * units], data: new Float32Array(4 * units) };
    // tfjs LSTMCell splits z into i, f, c, o: the IR's order, so no permutation.
    return this.b.add('lstm', name, [x], {
      units,
      kernel: weights[0],
      recurrentKernel: weights[1],
      bias,
      returnSequences: config.returnSequences === true,
      ...(recurrentActivation === 'sigmoid' ? {} : { recurrentActivation }),
    });
  }

  /** An LSTM's or GRU's gate activation: sigmoid, or tfjs's default hardSigmoid. */
  private gateActivation(layer: Layer, config: Config): GateActivation {
    const act = config.recurrentActivation;
    if (act === 'sigmoid' || act === 'hardSigmoid') return act;
    throw new UnsupportedOpError(`${layer.getClassName()} recurrentActivation=${JSON.stringify(act)}`, layer.name, [
      `${layer.getClassName()} with recurrentActivation "sigmoid" or "hardSigmoid"`,
    ]);
  }

  private gru(layer: Layer, config: Config, weights: ConstTensor[], name: string, x: string): string {
    for (const [field, wanted] of [['activation', 'tanh'], ['returnState', false], ['goBackwards', false], ['stateful', false]] as const) {
      if (config[field] !== wanted) {
        throw new UnsupportedOpError(`GRU ${field}=${JSON.stringify(config[field])}`, layer.name, [`GRU with ${field}=${JSON.stringify(wanted)}`]);
      }
    }
    if (config.resetAfter === true) throw new UnsupportedOpError('GRU resetAfter=true', layer.name, ['GRU with resetAfter=false']);
    const recurrentActivation = this.gateActivation(layer, config);
    const units = config.units as number;
    // tfjs GRUCell: kernel and recurrent kernel columns z, r, h (the IR's z, r, n), one
    // bias on the input side, and the candidate's recurrent product taken of r ⊙ h.
    return this.b.add('gru', name, [x], {
      units,
      kernel: weights[0],
      recurrentKernel: weights[1],
      bias: config.useBias ? weights[2] : { shape: [3 * units], data: new Float32Array(3 * units) },
      resetAfter: false,
      returnSequences: config.returnSequences === true,
      ...(recurrentActivation === 'sigmoid' ? {} : { recurrentActivation }),
    });
  }
}

/**
 * Convert a tfjs `LayersModel` (Sequential or functional) to an IR graph with the
 * model's inputs and outputs in order. Weights are copied out of the model.
 *
 * @throws UnsupportedOpError for a layer class, activation or setting not in
 *   {@link SUPPORTED_TFJS_LAYERS} / {@link SUPPORTED_TFJS_ACTIVATIONS}, naming the layer.
 * @throws ShapeError when a weight is non-finite or shapes do not fit.
 *
 * @example
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
 * const graph = fromTfjsLayersModel(model);
 * printGraph(graph);
 */
export function fromTfjsLayersModel(model: tf.LayersModel): Graph {
  const c = new Converter();
  // Convert inputs first so graph.inputs follows model.inputs even for unused ones.
  for (const t of model.inputs) c.value(t);
  const outputs = model.outputs.map((t) => c.value(t));
  return c.b.build(outputs);
}
