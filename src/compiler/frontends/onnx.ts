/**
 * ONNX → IR. The `.onnx` bytes are decoded with protobufjs and the official ONNX
 * schema (see `onnx/onnxProto.ts`); the graph is then converted on demand, from the
 * graph outputs back to the inputs, so nodes that no output needs (the shape
 * arithmetic PyTorch emits to build an LSTM's zero initial state, say) are never
 * converted and cannot fail the import.
 *
 * Layouts: ONNX images are NCHW, the IR's are NHWC. Every ONNX value records where
 * its axes sit in the IR tensor that holds it (`onnx/layout.ts`), and a transpose is
 * emitted only where an op needs a particular arrangement: convolutions and pools
 * read NHWC, while Flatten, Reshape, MatMul of two activations and the graph outputs
 * read ONNX's own order. A Flatten after conv features therefore flattens in ONNX's
 * (C, H, W) order, as the following Gemm's weights expect.
 *
 * Analog marking: a Gemm or MatMul whose weight operand is a constant becomes a
 * `dense` node (analog, on crossbar tiles); a MatMul of two activations (attention
 * scores, attention · values) becomes a digital `matmul` node.
 */
import * as fs from 'fs';
import { DataError, ShapeError, UnsupportedOpError } from '../../errors';
import { GraphBuilder } from '../ir/builder';
import type { Graph } from '../ir/graph';
import type { ConstTensor, OpAttrs, OpKind, Padding, Shape } from '../ir/ops';
import { sizeOf } from '../ir/ops';
import { explicitPadding, formatShape } from '../ir/shapes';
import type { AxisMap } from './onnx/layout';
import {
  NCHW_AS_NHWC,
  batchAxisOf,
  identityAxes,
  irRankOf,
  layoutChange,
  moveAxisLast,
  onnxShapeOf,
  permutationIndex,
  rowMajorAxes,
  sameAxes,
  transposeAxes,
} from './onnx/layout';
import { NodeAttributes } from './onnx/onnxAttributes';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnx/onnxProto';
import { ONNX_DATA_TYPES, decodeOnnxModel } from './onnx/onnxProto';
import type { FloatTensor, HostTensor, IntTensor } from './onnx/onnxTensor';
import { decodeTensor, isAllZero } from './onnx/onnxTensor';
import { convKernelFromOnnx, denseWeightsFromOnnx, lstmWeightsFromOnnx } from './onnx/weights';

/** ONNX operators (default domain) that {@link fromOnnx} converts. */
export const SUPPORTED_ONNX_OPS: readonly string[] = [
  'Add',
  'AveragePool',
  'BatchNormalization',
  'Concat',
  'Constant',
  'ConstantOfShape',
  'Conv',
  'Dropout',
  'Flatten',
  'Gather',
  'Gemm',
  'GlobalAveragePool',
  'Identity',
  'LSTM',
  'MatMul',
  'MaxPool',
  'Pad',
  'Relu',
  'Reshape',
  'Sigmoid',
  'Softmax',
  'Squeeze',
  'Tanh',
  'Transpose',
  'Unsqueeze',
];

/** Default-domain opset versions {@link fromOnnx} accepts (inclusive). */
export const ONNX_OPSET_RANGE = { min: 11, max: 17 } as const;

/** Options of {@link fromOnnx}. */
export interface OnnxImportOptions {
  /** Names the model in error messages (the path when loading a file). Default `'<onnx bytes>'`. */
  readonly fileName?: string;
  /**
   * Layout the IR graph's rank-4 inputs take: `'nchw'` (default), the ONNX model's own
   * interface, with a transpose to NHWC inside the graph; or `'nhwc'`, the IR's image
   * layout (as tfjs models and ohmic's datasets use), with no transpose.
   */
  readonly imageInputLayout?: 'nchw' | 'nhwc';
}

/** `[top, bottom, left, right]` zero padding of an ONNX `Pad` not yet absorbed by a Conv or AveragePool. */
type Pads = readonly [number, number, number, number];

/** A computed (batch-dependent) ONNX value: an IR node's output, arranged as `axes` says. */
interface ActValue {
  readonly kind: 'act';
  readonly ir: string;
  readonly axes: AxisMap;
  /** Zero padding on H and W still to apply (from `Pad`). */
  readonly pad?: Pads;
}

/** A constant ONNX value (initializer, `Constant`, or folded from constants). */
interface ConstValue {
  readonly kind: 'const';
  readonly tensor: HostTensor;
}

type Value = ActValue | ConstValue;

/** The node being converted. */
interface Op {
  readonly node: NodeProto;
  readonly type: string;
  /** Display name: the node's name, else its first output's. */
  readonly name: string;
  readonly attrs: NodeAttributes;
}

type Handler = (c: Converter, op: Op) => void;

const ZERO_PADS: Pads = [0, 0, 0, 0];

function isZeroPads(p: Pads | undefined): boolean {
  return !p || p.every((v) => v === 0);
}

function shapeText(shape: readonly (number | null)[]): string {
  return formatShape(shape);
}

/** A float tensor built from attribute values, checked like any other. */
function literalTensor(name: string, dims: number[], values: readonly number[], kind: 'float' | 'int', file: string): HostTensor {
  const proto: TensorProto = {
    name,
    dims,
    dataType: kind === 'float' ? 1 : 7,
    floatData: kind === 'float' ? values : [],
    int64Data: kind === 'int' ? values : [],
    int32Data: [],
    doubleData: [],
  };
  return decodeTensor(proto, `constant '${name}'`, file);
}

function normaliseAxis(axis: number, rank: number, op: Op, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${what} = ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}

/** Wrapped errors already name their ONNX node; outer nodes pass them through. */
const namedErrors = new WeakSet<Error>();

class Converter {
  readonly b = new GraphBuilder();
  readonly opset: number;
  private readonly values = new Map<string, Value>();
  private readonly initializers = new Map<string, TensorProto>();
  private readonly producers = new Map<string, { node: NodeProto; index: number }>();
  /** Live nodes reading each value (graph outputs count as a reader). */
  private readonly readers = new Map<string, number>();
  private readonly inProgress = new Set<NodeProto>();
  private readonly layoutCache = new Map<string, ActValue>();
  /** The batch size the model was exported with, when its inputs declare one. */
  private staticBatch: number | undefined;

  constructor(
    private readonly model: ModelProto,
    readonly file: string,
    private readonly options: OnnxImportOptions,
  ) {
    const graph = model.graph!;
    const defaultOpsets = model.opsetImport.filter((o) => !o.domain || o.domain === 'ai.onnx');
    if (defaultOpsets.length === 0) throw new DataError(file, 'the model imports no default-domain (ai.onnx) opset');
    this.opset = defaultOpsets[0].version ?? 0;
    if (this.opset < ONNX_OPSET_RANGE.min || this.opset > ONNX_OPSET_RANGE.max) {
      throw new DataError(
        file,
        `default-domain opset ${this.opset} is not supported: expected ${ONNX_OPSET_RANGE.min} to ${ONNX_OPSET_RANGE.max} (re-export the model, e.g. torch.onnx.export(..., opset_version=17))`,
      );
    }
    for (const t of graph.initializer) this.initializers.set(t.name ?? '', t);
    if (graph.sparseInitializer.length > 0) throw new DataError(file, 'sparse initializers are not supported');
    graph.node.forEach((node, index) => {
      for (const out of node.output) {
        if (!out) continue;
        if (this.producers.has(out) || this.initializers.has(out)) {
          throw new DataError(file, `value '${out}' is defined twice (by node '${node.name ?? ''}' and earlier); the model is invalid`);
        }
        this.producers.set(out, { node, index });
      }
    });
  }

  /**
   * The live nodes (those the graph outputs depend on), and for each value the number
   * of graph outputs and live nodes reading it. An LSTM's zero initial state is not a
   * dependency: the IR's LSTM starts from zeros, so whatever computes the state's
   * shape (PyTorch emits Shape → Gather → ... → ConstantOfShape) is dead code here.
   */
  private findLiveNodes(): Set<NodeProto> {
    const graph = this.model.graph!;
    const live = new Set<NodeProto>();
    const stack = graph.output.map((o) => o.name ?? '');
    for (const name of stack) this.readers.set(name, (this.readers.get(name) ?? 0) + 1);
    while (stack.length > 0) {
      const producer = this.producers.get(stack.pop()!);
      if (!producer || live.has(producer.node)) continue;
      live.add(producer.node);
      producer.node.input.forEach((input, i) => {
        if (!input) return;
        if (producer.node.opType === 'LSTM' && (i === 5 || i === 6) && this.isZeroState(input)) return;
        this.readers.set(input, (this.readers.get(input) ?? 0) + 1);
        stack.push(input);
      });
    }
    return live;
  }

  convert(): Graph {
    const graph = this.model.graph!;
    for (const info of graph.input) {
      const name = info.name ?? '';
      if (!this.initializers.has(name)) this.graphInput(info);
    }
    const live = this.findLiveNodes();
    // Report an unsupported op before converting anything, starting from the outputs:
    // for a GRU fed by PyTorch's shape arithmetic, the GRU is the news, not the Shape.
    for (let i = graph.node.length - 1; i >= 0; i--) {
      if (live.has(graph.node[i])) this.checkSupported(graph.node[i], i);
    }
    // Convert live nodes in file order (ONNX requires a topological order), so that
    // demand-driven conversion of each node's inputs never recurses deeply; a node
    // whose output is already defined was fused into an earlier one.
    graph.node.forEach((node, index) => {
      if (live.has(node) && !node.output.some((o) => this.hasValue(o))) this.convertNode(node, index);
    });
    const outputs = graph.output.map((info) => this.graphOutput(info));
    return this.b.build(outputs);
  }

  private graphInput(info: ValueInfoProto): void {
    const name = info.name ?? '';
    const tensorType = info.type?.tensorType;
    if (!tensorType) throw new DataError(this.file, `graph input '${name}' is not a tensor`);
    if (tensorType.elemType !== 1) {
      throw new DataError(
        this.file,
        `graph input '${name}' has element type ${ONNX_DATA_TYPES[tensorType.elemType ?? 0] ?? tensorType.elemType}; ohmic graphs take FLOAT inputs`,
      );
    }
    const dims = tensorType.shape?.dim;
    if (!dims || dims.length === 0) throw new DataError(this.file, `graph input '${name}' declares no shape; expected [batch, ...]`);
    const first = dims[0].dimValue;
    if (first !== undefined && first > 0) {
      if (this.staticBatch !== undefined && this.staticBatch !== first) {
        throw new ShapeError(`graph input '${name}' has batch size ${first} but another input has ${this.staticBatch}`);
      }
      this.staticBatch = first;
    }
    // Axis 0 is the batch, whatever size the model was exported with.
    const onnxShape: (number | null)[] = dims.map((d, i) => (i === 0 || d.dimValue === undefined || d.dimValue <= 0 ? null : d.dimValue));
    const nhwc = onnxShape.length === 4 && this.options.imageInputLayout === 'nhwc';
    const axes = nhwc ? NCHW_AS_NHWC : identityAxes(onnxShape.length);
    const irShape: (number | null)[] = new Array<number | null>(onnxShape.length);
    axes.forEach((ir, onnx) => (irShape[ir as number] = onnxShape[onnx]));
    const ir = this.b.input(name, irShape);
    this.values.set(name, { kind: 'act', ir, axes });
  }

  private graphOutput(info: ValueInfoProto): string {
    const name = info.name ?? '';
    const v = this.value(name, `graph output '${name}'`);
    if (v.kind === 'const') {
      throw new UnsupportedOpError(`constant graph output '${name}'`, name, ['graph outputs computed from the inputs']);
    }
    if (!isZeroPads(v.pad)) throw new UnsupportedOpError('Pad as a graph output', name, SUPPORTED_ONNX_OPS);
    const rank = v.axes.length;
    let out: ActValue;
    try {
      out = this.arrange(v, identityAxes(rank), name);
    } catch (err) {
      if (err instanceof ShapeError) throw new ShapeError(`graph output '${name}': ${err.message}`);
      throw err;
    }
    const declared = info.type?.tensorType?.shape?.dim;
    const have = this.onnxShape(out);
    if (declared && declared.length > 0) {
      const mismatch =
        declared.length !== rank || declared.some((d, i) => i > 0 && d.dimValue !== undefined && d.dimValue > 0 && d.dimValue !== have[i]);
      if (mismatch) {
        const want = declared.map((d) => (d.dimValue !== undefined && d.dimValue > 0 ? String(d.dimValue) : (d.dimParam ?? '?')));
        throw new ShapeError(`graph output '${name}': the model declares shape [${want.join(', ')}] but the converted graph gives ${shapeText(have)}`);
      }
    }
    return out.ir;
  }

  // ------------------------------------------------------------------ values

  /** The value called `name`, converting its producer first if needed. */
  value(name: string, reader: string): Value {
    const known = this.values.get(name);
    if (known) return known;
    const init = this.initializers.get(name);
    if (init) {
      const v: ConstValue = { kind: 'const', tensor: decodeTensor(init, `initializer '${name}'`, this.file) };
      this.values.set(name, v);
      return v;
    }
    const producer = this.producers.get(name);
    if (!producer) {
      throw new DataError(
        this.file,
        `${reader} reads value '${name}', which no node, initializer or graph input defines; the file may be truncated or corrupt`,
      );
    }
    this.convertNode(producer.node, producer.index);
    const v = this.values.get(name);
    if (!v) {
      const op = producer.node.opType ?? '';
      const i = producer.node.output.indexOf(name);
      throw new UnsupportedOpError(`${op} output ${i} ('${name}')`, this.nodeName(producer.node, producer.index), SUPPORTED_ONNX_OPS);
    }
    return v;
  }

  private nodeName(node: NodeProto, index: number): string {
    return node.name || node.output.find((o) => o) || `${node.opType ?? 'node'}#${index}`;
  }

  /** The node's handler, or `UnsupportedOpError` naming the op, the node and the supported ops. */
  private checkSupported(node: NodeProto, index: number): Handler {
    const type = node.opType ?? '';
    const name = this.nodeName(node, index);
    if (node.domain && node.domain !== 'ai.onnx') throw new UnsupportedOpError(`${node.domain}::${type}`, name, SUPPORTED_ONNX_OPS);
    const handler = Object.prototype.hasOwnProperty.call(HANDLERS, type) ? HANDLERS[type] : undefined;
    if (!handler) throw new UnsupportedOpError(type, name, SUPPORTED_ONNX_OPS);
    return handler;
  }

  private convertNode(node: NodeProto, index: number): void {
    const type = node.opType ?? '';
    const name = this.nodeName(node, index);
    if (this.inProgress.has(node)) throw new DataError(this.file, `node '${name}' (${type}) depends on its own output: the graph has a cycle`);
    const handler = this.checkSupported(node, index);
    this.inProgress.add(node);
    try {
      handler(this, { node, type, name, attrs: new NodeAttributes(node, name, this.file) });
    } catch (err) {
      if (err instanceof ShapeError && !namedErrors.has(err)) {
        const named = new ShapeError(`ONNX node '${name}' (${type}): ${err.message}`);
        namedErrors.add(named);
        throw named;
      }
      throw err;
    } finally {
      this.inProgress.delete(node);
    }
  }

  /** Whether a graph output or a live node reads value `name`. */
  used(name: string | undefined): boolean {
    return !!name && (this.readers.get(name) ?? 0) > 0;
  }

  /** How many graph outputs and live nodes read value `name`. */
  readerCount(name: string): number {
    return this.readers.get(name) ?? 0;
  }

  /** The single live node reading `name`, if exactly one node (and no graph output) does. */
  soleReader(name: string): NodeProto | undefined {
    if (this.readerCount(name) !== 1) return undefined;
    if (this.model.graph!.output.some((o) => o.name === name)) return undefined;
    return this.model.graph!.node.find((n) => n.input.includes(name));
  }

  /** Required input `i`. */
  input(op: Op, i: number): Value {
    const name = op.node.input[i];
    if (!name) throw new DataError(this.file, `node '${op.name}' (${op.type}) lacks its required input ${i}`);
    return this.value(name, `node '${op.name}' (${op.type})`);
  }

  /** Optional input `i`, or undefined when omitted (absent or empty name). */
  optionalInput(op: Op, i: number): Value | undefined {
    const name = op.node.input[i];
    return name ? this.value(name, `node '${op.name}' (${op.type})`) : undefined;
  }

  /** Input `i` as an activation; constants and pending pads are rejected unless allowed. */
  act(op: Op, i: number, allowPad = false): ActValue {
    const v = this.input(op, i);
    if (v.kind === 'const') {
      throw new UnsupportedOpError(`${op.type} of constant input '${op.node.input[i]}'`, op.name, [`${op.type} of a computed (batch-dependent) input`]);
    }
    if (!allowPad && !isZeroPads(v.pad)) {
      throw new UnsupportedOpError(`Pad followed by ${op.type}`, op.name, ['Pad (constant zero, H and W only) followed by Conv or AveragePool']);
    }
    return v;
  }

  /** Input `i` as a constant float tensor (a weight). */
  floatConst(op: Op, i: number, what: string): FloatTensor {
    const v = this.input(op, i);
    if (v.kind !== 'const') {
      throw new UnsupportedOpError(`${op.type} with a computed ${what} (input '${op.node.input[i]}')`, op.name, [`${op.type} with a constant ${what}`]);
    }
    if (v.tensor.kind !== 'float') throw new DataError(this.file, `node '${op.name}' (${op.type}): ${what} '${op.node.input[i]}' is an integer tensor, expected FLOAT`);
    return v.tensor;
  }

  /** Input `i` as a constant integer tensor (a shape, axes, pads). */
  intConst(op: Op, i: number, what: string): IntTensor {
    const v = this.input(op, i);
    if (v.kind !== 'const') {
      throw new UnsupportedOpError(`${op.type} with a computed ${what} (input '${op.node.input[i]}')`, op.name, [`${op.type} with a constant ${what}`]);
    }
    if (v.tensor.kind !== 'int') throw new DataError(this.file, `node '${op.name}' (${op.type}): ${what} '${op.node.input[i]}' is a float tensor, expected INT64`);
    return v.tensor;
  }

  setOutput(op: Op, i: number, v: Value): void {
    const name = op.node.output[i];
    if (name) this.values.set(name, v);
  }

  /** Whether value `name` is already defined. */
  hasValue(name: string | undefined): boolean {
    return !!name && this.values.has(name);
  }

  /** Define value `name` (the output of a node fused into the current one). */
  setValue(name: string, v: Value): void {
    this.values.set(name, v);
  }

  /**
   * Value `name` if it is a constant that converting adds no IR node for (initializer,
   * `Constant`, or `Identity` of one); undefined otherwise. Never converts activations.
   */
  peekConst(name: string): ConstValue | undefined {
    const known = this.values.get(name);
    if (known) return known.kind === 'const' ? known : undefined;
    if (this.initializers.has(name)) return this.value(name, 'constant lookup') as ConstValue;
    const producer = this.producers.get(name)?.node;
    if (producer?.opType === 'Constant' && (!producer.domain || producer.domain === 'ai.onnx')) {
      return this.value(name, 'constant lookup') as ConstValue;
    }
    if (producer?.opType === 'Identity' && producer.input[0] && this.peekConst(producer.input[0])) {
      return this.value(name, 'constant lookup') as ConstValue;
    }
    return undefined;
  }

  /** Refuse ops whose extra outputs (BN statistics, pool indices, masks) something reads. */
  onlyFirstOutput(op: Op): void {
    op.node.output.forEach((name, i) => {
      if (i > 0 && this.used(name)) {
        throw new UnsupportedOpError(`${op.type} output ${i} ('${name}')`, op.name, [`${op.type} with only its first output used`]);
      }
    });
  }

  irShape(v: ActValue): Shape {
    return this.b.shapeOf(v.ir);
  }

  /** The value's ONNX shape (`null` for the batch). */
  onnxShape(v: ActValue): (number | null)[] {
    return onnxShapeOf(v.axes, this.irShape(v));
  }

  /** Append an IR node named after `base` and return its name. */
  addNode<K extends OpKind>(op: K, base: string, inputs: readonly string[], attrs: OpAttrs[K]): string {
    return this.b.add(op, this.b.uniqueName(base), inputs, attrs);
  }

  /** The value held in arrangement `to`, with an IR transpose and/or reshape if needed (cached). */
  arrange(v: ActValue, to: AxisMap, label: string): ActValue {
    if (sameAxes(v.axes, to)) return v;
    const key = `${v.ir}|${v.axes.join(',')}|${to.join(',')}`;
    const cached = this.layoutCache.get(key);
    if (cached) return { ...cached, pad: v.pad };
    const change = layoutChange(v.axes, to, this.onnxShape(v));
    let ir = v.ir;
    const suffix = sameAxes(to, NCHW_AS_NHWC) ? 'nhwc' : to.every((a, i) => a === i) ? 'onnx_order' : 'relayout';
    if (change.transpose) ir = this.addNode('transpose', `${label}/${suffix}`, [ir], { perm: change.transpose });
    if (change.reshape) ir = this.addNode('reshape', `${label}/${suffix}_reshape`, [ir], { shape: change.reshape });
    const out: ActValue = { kind: 'act', ir, axes: to };
    this.layoutCache.set(key, out);
    return { ...out, pad: v.pad };
  }

  /** Whether value `name` is a zero LSTM state: an all-zero constant or a ConstantOfShape of zero. */
  isZeroState(name: string): boolean {
    const init = this.initializers.get(name);
    if (init) return isAllZero(decodeTensor(init, `initializer '${name}'`, this.file));
    const known = this.values.get(name);
    if (known) return known.kind === 'const' && isAllZero(known.tensor);
    const producer = this.producers.get(name);
    if (!producer) return false;
    const node = producer.node;
    const attrs = new NodeAttributes(node, this.nodeName(node, producer.index), this.file);
    switch (node.opType) {
      case 'Constant': {
        const v = this.value(name, 'LSTM initial state');
        return v.kind === 'const' && isAllZero(v.tensor);
      }
      case 'ConstantOfShape': {
        // The fill value alone decides; the shape may be computed from the batch size.
        const fill = attrs.tensor('value');
        return !fill || isAllZero(fill);
      }
      case 'Identity':
        return this.isZeroState(node.input[0]);
      default:
        return false;
    }
  }

  /** The batch size the model's inputs declare, if fixed at export. */
  exportedBatch(): number | undefined {
    return this.staticBatch;
  }
}

// ------------------------------------------------------------------ op handlers

function elementwise(kind: 'relu' | 'sigmoid' | 'tanh'): Handler {
  return (c, op) => {
    op.attrs.allowOnly([]);
    const x = c.act(op, 0);
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode(kind, op.name, [x.ir], {}), axes: x.axes });
  };
}

/** Inference-time no-ops: the output is the input value itself. */
const identity: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  c.setOutput(op, 0, c.input(op, 0));
};

const dropout: Handler = (c, op) => {
  op.attrs.allowOnly(['ratio', 'seed', 'is_test']);
  const training = c.optionalInput(op, 2);
  if (training && !(training.kind === 'const' && isAllZero(training.tensor))) {
    throw new UnsupportedOpError('Dropout with training_mode', op.name, ['Dropout in inference mode (training_mode absent or false)']);
  }
  c.onlyFirstOutput(op);
  c.setOutput(op, 0, c.input(op, 0));
};

const constant: Handler = (c, op) => {
  op.attrs.allowOnly(['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
  const out = op.node.output[0] ?? op.name;
  let t: HostTensor | undefined = op.attrs.tensor('value');
  if (!t && op.attrs.has('value_float')) t = literalTensor(out, [], [op.attrs.float('value_float', 0)], 'float', c.file);
  if (!t && op.attrs.has('value_floats')) {
    const v = op.attrs.floats('value_floats', []);
    t = literalTensor(out, [v.length], v, 'float', c.file);
  }
  if (!t && op.attrs.has('value_int')) t = literalTensor(out, [], [op.attrs.int('value_int', 0)], 'int', c.file);
  if (!t && op.attrs.has('value_ints')) {
    const v = op.attrs.ints('value_ints', []);
    t = literalTensor(out, [v.length], v, 'int', c.file);
  }
  if (!t) throw new DataError(c.file, `node '${op.name}' (Constant) has no value attribute`);
  c.setOutput(op, 0, { kind: 'const', tensor: t });
};

const constantOfShape: Handler = (c, op) => {
  op.attrs.allowOnly(['value']);
  const dims = [...c.intConst(op, 0, 'shape').data];
  if (dims.some((d) => d < 0)) throw new ShapeError(`shape [${dims.join(', ')}] has a negative size`);
  const fill = op.attrs.tensor('value');
  if (fill && fill.data.length !== 1) throw new ShapeError(`value attribute holds ${fill.data.length} values, expected 1`);
  const n = sizeOf(dims);
  const name = op.node.output[0] ?? op.name;
  const tensor: HostTensor =
    fill?.kind === 'int'
      ? { kind: 'int', name, dims, data: new Array<number>(n).fill(fill.data[0]) }
      : { kind: 'float', name, dims, data: new Float32Array(n).fill(fill ? fill.data[0] : 0) };
  c.setOutput(op, 0, { kind: 'const', tensor });
};

function permuteConst(t: HostTensor, perm: readonly number[]): HostTensor {
  const { index, dims } = permutationIndex(t.dims, perm);
  if (t.kind === 'float') {
    const data = new Float32Array(index.length);
    for (let k = 0; k < index.length; k++) data[k] = t.data[index[k]];
    return { kind: 'float', name: t.name, dims, data };
  }
  return { kind: 'int', name: t.name, dims, data: Array.from(index, (i) => t.data[i]) };
}

function withDims(t: HostTensor, dims: number[]): HostTensor {
  return t.kind === 'float' ? { ...t, dims } : { ...t, dims };
}

const transpose: Handler = (c, op) => {
  op.attrs.allowOnly(['perm']);
  const x = c.input(op, 0);
  const rank = x.kind === 'const' ? x.tensor.dims.length : x.axes.length;
  const perm = op.attrs.ints('perm', identityAxes(rank).reverse());
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    throw new ShapeError(`perm [${perm.join(', ')}] is not a permutation of the ${rank} axes of its input`);
  }
  if (x.kind === 'const') {
    c.setOutput(op, 0, { kind: 'const', tensor: permuteConst(x.tensor, perm) });
    return;
  }
  const v = c.act(op, 0);
  // No IR node: the next op that needs a particular arrangement asks for it.
  c.setOutput(op, 0, { kind: 'act', ir: v.ir, axes: transposeAxes(v.axes, perm) });
};

/** Resolve ONNX Reshape's `0` and `-1` entries against `inShape` (per ONNX, `0` copies unless allowzero). */
function reshapeTarget(spec: readonly number[], inShape: readonly (number | null)[], allowZero: boolean): (number | null)[] {
  let inferAt = -1;
  const out = spec.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= inShape.length) throw new ShapeError(`shape entry ${i} is 0 (copy) but the input has only ${inShape.length} axes`);
      return inShape[i];
    }
    if (d === 0) throw new ShapeError(`shape [${spec.join(', ')}] with allowzero=1 asks for an empty tensor`);
    if (d === -1) {
      if (inferAt >= 0) throw new ShapeError(`shape [${spec.join(', ')}] has more than one -1`);
      inferAt = i;
      return -1;
    }
    if (!Number.isInteger(d) || d < -1) throw new ShapeError(`shape [${spec.join(', ')}] has an invalid entry ${d}`);
    return d;
  });
  return out;
}

const reshape: Handler = (c, op) => {
  op.attrs.allowOnly(c.opset >= 14 ? ['allowzero'] : []);
  const allowZero = op.attrs.int('allowzero', 0) === 1;
  const spec = c.intConst(op, 1, 'shape');
  if (spec.dims.length !== 1) throw new ShapeError(`shape input has dims [${spec.dims.join(', ')}], expected a 1-D tensor`);
  const x = c.input(op, 0);
  if (x.kind === 'const') {
    const out = reshapeTarget(spec.data, x.tensor.dims, allowZero) as number[];
    const n = x.tensor.data.length;
    const known = sizeOf(out.filter((d) => d !== -1));
    const resolved = out.map((d) => (d === -1 ? n / known : d));
    if (sizeOf(resolved) !== n || resolved.some((d) => !Number.isInteger(d))) {
      throw new ShapeError(`cannot reshape constant of dims [${x.tensor.dims.join(', ')}] to [${spec.data.join(', ')}]`);
    }
    c.setOutput(op, 0, { kind: 'const', tensor: withDims(x.tensor, resolved) });
    return;
  }
  const v = c.act(op, 0);
  if (batchAxisOf(v.axes) !== 0) {
    throw new UnsupportedOpError('Reshape of a tensor whose batch is not its first axis', op.name, ['Reshape of a batch-first tensor']);
  }
  const inShape = c.onnxShape(v);
  const rest = inShape.slice(1);
  if (rest.some((d) => d === null)) throw new ShapeError(`input shape ${shapeText(inShape)} has an unknown non-batch size`);
  const perSample = sizeOf(rest as number[]);
  const out = reshapeTarget(spec.data, inShape, allowZero);
  const first = spec.data[0];
  const keepsBatch =
    (first === 0 && !allowZero) || first === -1 || (first !== undefined && first > 0 && first === c.exportedBatch());
  if (!keepsBatch) {
    throw new UnsupportedOpError(`Reshape to [${spec.data.join(', ')}]`, op.name, [
      'Reshape whose first entry is the batch: 0 (copy), -1, or the batch size the model was exported with',
    ]);
  }
  const tail = out.slice(1) as number[];
  const known = sizeOf(tail.filter((d) => d !== -1));
  const target = tail.map((d) => (d === -1 ? perSample / known : d));
  if (sizeOf(target) !== perSample || target.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`cannot reshape ${shapeText(inShape)} (${perSample} values per sample) to [${spec.data.join(', ')}] keeping the batch first`);
  }
  const src = c.arrange(v, rowMajorAxes(v.axes), op.name);
  const srcShape = c.irShape(src).slice(1);
  const same = srcShape.length === target.length && srcShape.every((d, i) => d === target[i]);
  const ir = same ? src.ir : c.addNode('reshape', op.name, [src.ir], { shape: target });
  c.setOutput(op, 0, { kind: 'act', ir, axes: identityAxes(target.length + 1) });
};

const flatten: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  const x = c.input(op, 0);
  const rank = x.kind === 'const' ? x.tensor.dims.length : x.axes.length;
  const rawAxis = op.attrs.int('axis', 1);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (axis < 0 || axis > rank) throw new ShapeError(`axis = ${rawAxis} is out of range for a rank-${rank} tensor`);
  if (x.kind === 'const') {
    const d = x.tensor.dims;
    c.setOutput(op, 0, { kind: 'const', tensor: withDims(x.tensor, [sizeOf(d.slice(0, axis)), sizeOf(d.slice(axis))]) });
    return;
  }
  const v = c.act(op, 0);
  if (axis !== 1 || batchAxisOf(v.axes) !== 0) {
    throw new UnsupportedOpError(`Flatten with axis=${rawAxis}`, op.name, ['Flatten with axis=1 of a batch-first tensor']);
  }
  // ONNX flattens in its own axis order (C, H, W for images): undo the IR's NHWC first.
  const src = c.arrange(v, rowMajorAxes(v.axes), op.name);
  const ir = irRankOf(src.axes) === 2 ? src.ir : c.addNode('flatten', op.name, [src.ir], {});
  c.setOutput(op, 0, { kind: 'act', ir, axes: [0, 1] });
};

/** Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13 on. */
function axesOperand(c: Converter, op: Op): number[] | undefined {
  if (c.opset < 13) {
    op.attrs.allowOnly(['axes']);
    return op.attrs.has('axes') ? op.attrs.ints('axes', []) : undefined;
  }
  op.attrs.allowOnly([]);
  const v = c.optionalInput(op, 1);
  if (!v) return undefined;
  if (v.kind !== 'const' || v.tensor.kind !== 'int') {
    throw new UnsupportedOpError(`${op.type} with computed axes`, op.name, [`${op.type} with constant axes`]);
  }
  return [...v.tensor.data];
}

const squeeze: Handler = (c, op) => {
  const x = c.input(op, 0);
  const shape = x.kind === 'const' ? x.tensor.dims : c.onnxShape(c.act(op, 0));
  const rank = shape.length;
  const given = axesOperand(c, op);
  const axes = given ? given.map((a) => normaliseAxis(a, rank, op)) : shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) {
    if (shape[a] !== 1) throw new ShapeError(`cannot squeeze axis ${a} of size ${shape[a] ?? 'N (batch)'} from ${shapeText(shape)}`);
  }
  if (x.kind === 'const') {
    c.setOutput(op, 0, { kind: 'const', tensor: withDims(x.tensor, x.tensor.dims.filter((_, i) => !axes.includes(i))) });
    return;
  }
  const v = c.act(op, 0);
  // Make the squeezed axes size-1 axes the IR lacks, keeping the order of the others.
  const remaining = v.axes.filter((a, i) => a !== null && !axes.includes(i)) as number[];
  const renumber = new Map([...remaining].sort((p, q) => p - q).map((a, k) => [a, k]));
  const target = v.axes.map((a, i) => (a === null || axes.includes(i) ? null : renumber.get(a)!));
  const src = c.arrange(v, target, op.name);
  c.setOutput(op, 0, { kind: 'act', ir: src.ir, axes: target.filter((_, i) => !axes.includes(i)) });
};

const unsqueeze: Handler = (c, op) => {
  const x = c.input(op, 0);
  const given = axesOperand(c, op);
  if (!given) throw new DataError(c.file, `node '${op.name}' (Unsqueeze) has no axes`);
  const rank = (x.kind === 'const' ? x.tensor.dims.length : x.axes.length) + given.length;
  const axes = given.map((a) => normaliseAxis(a, rank, op)).sort((p, q) => p - q);
  const insert = <T>(items: readonly T[], unit: T): T[] => {
    const out: T[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? unit : items[k++]);
    return out;
  };
  if (x.kind === 'const') {
    c.setOutput(op, 0, { kind: 'const', tensor: withDims(x.tensor, insert(x.tensor.dims, 1)) });
    return;
  }
  const v = c.act(op, 0);
  c.setOutput(op, 0, { kind: 'act', ir: v.ir, axes: insert<number | null>(v.axes, null) });
};

const gather: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  const v = c.act(op, 0);
  const indices = c.intConst(op, 1, 'indices');
  const rank = v.axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', 0), rank, op);
  const index = indices.data.length === 1 ? indices.data[0] : NaN;
  // Selecting the only entry of a size-1 axis (h_n[-1] of a one-layer LSTM) only drops that axis.
  if (v.axes[axis] !== null || !(index === 0 || index === -1) || indices.dims.length > 1) {
    throw new UnsupportedOpError(`Gather on axis ${axis} of shape ${shapeText(c.onnxShape(v))}`, op.name, [
      'Gather of index 0 or -1 along a size-1 axis (e.g. the direction axis of an LSTM state)',
    ]);
  }
  const axes = indices.dims.length === 0 ? v.axes.filter((_, i) => i !== axis) : v.axes;
  c.setOutput(op, 0, { kind: 'act', ir: v.ir, axes });
};

const concat: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  const inputs = op.node.input.map((_, i) => c.act(op, i));
  const rank = inputs[0].axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', 0), rank, op);
  if (axis === batchAxisOf(inputs[0].axes)) {
    throw new UnsupportedOpError('Concat along the batch axis', op.name, ['Concat along a non-batch axis']);
  }
  let target = inputs[0].axes;
  if (target[axis] === null) target = identityAxes(rank);
  const arranged = inputs.map((v) => {
    if (v.axes.length !== rank) throw new ShapeError(`inputs have ranks ${inputs.map((u) => u.axes.length).join(', ')}`);
    return c.arrange(v, target, op.name);
  });
  const ir = c.addNode('concat', op.name, arranged.map((v) => v.ir), { axis: target[axis] as number });
  c.setOutput(op, 0, { kind: 'act', ir, axes: target });
};

/**
 * A constant broadcast (NumPy rules) against activation `x`, re-laid out as the IR
 * `add` constant: per-sample, in the IR's axis order, size 1 where it broadcasts.
 */
function constantForAdd(c: Converter, x: ActValue, t: FloatTensor): ConstTensor {
  const shape = c.onnxShape(x);
  const rank = shape.length;
  if (t.dims.length > rank) {
    throw new ShapeError(`constant '${t.name}' of dims [${t.dims.join(', ')}] has more axes than the activation ${shapeText(shape)}`);
  }
  const full = shape.map((_, i) => (i < rank - t.dims.length ? 1 : t.dims[i - (rank - t.dims.length)]));
  const batch = batchAxisOf(x.axes);
  full.forEach((d, i) => {
    if (i === batch && d !== 1) {
      throw new UnsupportedOpError(`Add of a constant that varies along the batch axis ('${t.name}')`, t.name, ['Add of a constant broadcast over the batch']);
    }
    if (i !== batch && d !== 1 && d !== shape[i]) {
      throw new ShapeError(`constant '${t.name}' of dims [${t.dims.join(', ')}] does not broadcast against ${shapeText(shape)}`);
    }
  });
  // ONNX axes in IR order, then the size-1 axes the IR lacks (they move no data).
  const irRank = irRankOf(x.axes);
  const order: number[] = new Array<number>(irRank);
  x.axes.forEach((ir, onnx) => {
    if (ir !== null) order[ir] = onnx;
  });
  const perm = [...order, ...x.axes.flatMap((ir, onnx) => (ir === null ? [onnx] : []))];
  const { index } = permutationIndex(full, perm);
  const data = new Float32Array(index.length);
  for (let k = 0; k < index.length; k++) data[k] = t.data[index[k]];
  const dims = order.slice(1).map((o) => full[o]);
  while (dims.length > 1 && dims[0] === 1) dims.shift();
  return { shape: dims.length === 0 ? [1] : dims, data };
}

const add: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  let a = c.input(op, 0);
  let b = c.input(op, 1);
  // Converting the inputs may have fused this Add into the MatMul before it (as its bias).
  if (c.hasValue(op.node.output[0])) return;
  if (a.kind === 'const' && b.kind === 'const') {
    throw new UnsupportedOpError('Add of two constants', op.name, ['Add with at least one computed input']);
  }
  if (a.kind === 'const') [a, b] = [b, a];
  const x = a as ActValue;
  if (!isZeroPads(x.pad)) throw new UnsupportedOpError('Pad followed by Add', op.name, ['Pad (constant zero, H and W only) followed by Conv or AveragePool']);
  if (b.kind === 'const') {
    if (b.tensor.kind !== 'float') throw new DataError(c.file, `node '${op.name}' (Add): constant '${b.tensor.name}' is an integer tensor, expected FLOAT`);
    const constantTensor = constantForAdd(c, x, b.tensor);
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode('add', op.name, [x.ir], { constant: constantTensor }), axes: x.axes });
    return;
  }
  if (!isZeroPads(b.pad)) throw new UnsupportedOpError('Pad followed by Add', op.name, ['Pad (constant zero, H and W only) followed by Conv or AveragePool']);
  const sa = c.onnxShape(x);
  const sb = c.onnxShape(b);
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
    throw new ShapeError(`inputs have shapes ${shapeText(sa)} and ${shapeText(sb)}; ohmic adds activations of equal shape only (no broadcasting)`);
  }
  const y = c.arrange(b, x.axes, op.name);
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('add', op.name, [x.ir, y.ir], {}), axes: x.axes });
};

/** `x` arranged so that ONNX axis `onnxAxis` is the last IR axis (features for dense, channels for BN). */
function withAxisLast(c: Converter, x: ActValue, onnxAxis: number, label: string): ActValue {
  const irRank = irRankOf(x.axes);
  if (x.axes[onnxAxis] === irRank - 1) return x;
  if (x.axes[onnxAxis] === 0) throw new ShapeError(`ONNX axis ${onnxAxis} is the batch axis; it cannot be contracted or normalised over`);
  return c.arrange(x, moveAxisLast(x.axes, onnxAxis), label);
}

/**
 * A dense (analog) node computing `x · weights (+ bias)` over the last ONNX axis of `x`.
 * `bias` may be undefined.
 */
function denseNode(c: Converter, op: Op, x: ActValue, weights: ConstTensor, bias: ConstTensor | undefined): ActValue {
  const rank = x.axes.length;
  const fanIn = c.onnxShape(x)[rank - 1];
  if (fanIn !== weights.shape[0]) {
    throw new ShapeError(`input ${shapeText(c.onnxShape(x))} has ${fanIn} features but the weight is [${weights.shape.join(', ')}] (fanIn ${weights.shape[0]})`);
  }
  const src = withAxisLast(c, x, rank - 1, op.name);
  const ir = c.addNode('dense', op.name, [src.ir], bias ? { weights, bias } : { weights });
  return { kind: 'act', ir, axes: src.axes };
}

/**
 * If the only reader of `output` is an `Add` of a constant that is a plain `[M]` bias
 * (all leading dims 1), return it and that Add's output name: PyTorch exports
 * `nn.Linear` on rank-3 inputs as MatMul + Add, which is one dense layer.
 */
function fusableBias(c: Converter, output: string, fanOut: number): { bias: ConstTensor; addOutput: string } | undefined {
  const reader = c.soleReader(output);
  if (!reader || reader.opType !== 'Add' || (reader.domain && reader.domain !== 'ai.onnx') || reader.input.length !== 2) return undefined;
  if (reader.attribute.length > 0 || !reader.output[0]) return undefined;
  const other = reader.input[0] === output ? reader.input[1] : reader.input[0];
  if (other === output) return undefined;
  const v = c.peekConst(other);
  if (!v || v.tensor.kind !== 'float') return undefined;
  const dims = v.tensor.dims;
  if (dims.length === 0 || dims[dims.length - 1] !== fanOut || dims.slice(0, -1).some((d) => d !== 1)) return undefined;
  return { bias: { shape: [fanOut], data: Float32Array.from(v.tensor.data) }, addOutput: reader.output[0] };
}

const matMul: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  const a = c.input(op, 0);
  const b = c.input(op, 1);
  if (a.kind === 'act' && b.kind === 'const') {
    const x = c.act(op, 0);
    const w = c.floatConst(op, 1, 'weight');
    if (w.dims.length !== 2) {
      throw new UnsupportedOpError(`MatMul by a constant of dims [${w.dims.join(', ')}]`, op.name, ['MatMul by a constant 2-D weight [K, M]']);
    }
    const weights = denseWeightsFromOnnx(w, false, 1);
    const fused = op.node.output[0] ? fusableBias(c, op.node.output[0], weights.shape[1]) : undefined;
    const y = denseNode(c, op, x, weights, fused?.bias);
    c.setOutput(op, 0, y);
    if (fused) c.setValue(fused.addOutput, y);
    return;
  }
  if (a.kind === 'act' && b.kind === 'act') {
    // A product of two activations: nothing to program into a crossbar, so digital.
    const x = c.act(op, 0);
    const y = c.act(op, 1);
    const rank = x.axes.length;
    if (rank < 3 || y.axes.length !== rank) {
      throw new UnsupportedOpError(`MatMul of activations of shapes ${shapeText(c.onnxShape(x))} and ${shapeText(c.onnxShape(y))}`, op.name, [
        'MatMul of two batch-first activations of equal rank >= 3',
      ]);
    }
    const xs = c.arrange(x, identityAxes(rank), op.name);
    const ys = c.arrange(y, identityAxes(rank), op.name);
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode('matmul', op.name, [xs.ir, ys.ir], {}), axes: identityAxes(rank) });
    return;
  }
  throw new UnsupportedOpError(a.kind === 'const' && b.kind === 'const' ? 'MatMul of two constants' : 'MatMul with a constant left operand', op.name, [
    'MatMul of an activation by a constant weight (analog)',
    'MatMul of two activations (digital)',
  ]);
};

const gemm: Handler = (c, op) => {
  op.attrs.allowOnly(['alpha', 'beta', 'transA', 'transB']);
  const alpha = op.attrs.float('alpha', 1);
  const beta = op.attrs.float('beta', 1);
  const transA = op.attrs.int('transA', 0) === 1;
  const transB = op.attrs.int('transB', 0) === 1;
  const a = c.act(op, 0);
  const w = c.floatConst(op, 1, 'B (weight)');
  if (a.axes.length !== 2 || w.dims.length !== 2) {
    throw new ShapeError(`Gemm takes 2-D A and B, got A ${shapeText(c.onnxShape(a))} and B [${w.dims.join(', ')}]`);
  }
  const x: ActValue = transA ? { ...a, axes: [a.axes[1], a.axes[0]] } : a;
  if (batchAxisOf(x.axes) !== 0) {
    throw new UnsupportedOpError('Gemm contracting over the batch axis', op.name, ['Gemm whose A (after transA) is [batch, K]']);
  }
  const weights = denseWeightsFromOnnx(w, transB, alpha);
  const fanOut = weights.shape[1];
  let bias: ConstTensor | undefined;
  const cv = c.optionalInput(op, 2);
  if (cv && beta !== 0) {
    if (cv.kind !== 'const' || cv.tensor.kind !== 'float') {
      throw new UnsupportedOpError('Gemm with a computed C', op.name, ['Gemm with a constant C (bias)']);
    }
    const dims = cv.tensor.dims;
    const lastOk = dims.length === 0 || dims[dims.length - 1] === fanOut || dims[dims.length - 1] === 1;
    if (dims.length > 2 || !lastOk || (dims.length === 2 && dims[0] !== 1)) {
      throw new ShapeError(`C of dims [${dims.join(', ')}] is not a bias broadcast over the batch: expected [], [${fanOut}] or [1, ${fanOut}]`);
    }
    const data = new Float32Array(fanOut);
    const src = cv.tensor.data;
    for (let j = 0; j < fanOut; j++) data[j] = beta * src[src.length === 1 ? 0 : j];
    bias = { shape: [fanOut], data };
  }
  c.setOutput(op, 0, denseNode(c, op, x, weights, bias));
};

/** Spatial padding of a window op from ONNX `auto_pad` / `pads` plus a preceding `Pad`. */
function windowPadding(
  op: Op,
  inH: number | null,
  inW: number | null,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  prePad: Pads,
): Padding {
  const autoPad = op.attrs.string('auto_pad', 'NOTSET');
  const pads = op.attrs.ints('pads', [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new ShapeError(`pads = [${pads.join(', ')}]: expected 4 non-negative integers [top, left, bottom, right]`);
  }
  const [pt, pb, pl, pr] = prePad;
  const withPre = (p: readonly number[]): Padding => {
    const total: [number, number, number, number] = [p[0] + pt, p[1] + pb, p[2] + pl, p[3] + pr];
    return total.every((v) => v === 0) ? 'valid' : total;
  };
  switch (autoPad) {
    case 'NOTSET':
      // ONNX pads are [x1_begin, x2_begin, x1_end, x2_end]; the IR's [top, bottom, left, right].
      return withPre([pads[0], pads[2], pads[1], pads[3]]);
    case 'VALID':
      return withPre([0, 0, 0, 0]);
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      if (autoPad === 'SAME_UPPER' && isZeroPads(prePad)) return 'same';
      if (inH === null || inW === null) throw new ShapeError(`auto_pad=${autoPad} needs the input height and width`);
      const [t, b, l, r] = explicitPadding('same', inH + pt + pb, inW + pl + pr, window, strides, dilations);
      // explicitPadding puts the smaller half first (SAME_UPPER); SAME_LOWER puts it last.
      return withPre(autoPad === 'SAME_UPPER' ? [t, b, l, r] : [b, t, r, l]);
    }
    default:
      throw new UnsupportedOpError(`${op.type} auto_pad=${autoPad}`, op.name, ['auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER']);
  }
}

function pair(values: number[], what: string, fallback: [number, number]): [number, number] {
  if (values.length === 0) return fallback;
  if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ShapeError(`${what} = [${values.join(', ')}]: expected 2 positive integers (2-D images)`);
  }
  return [values[0], values[1]];
}

/** `x` as an NHWC image, or an error for non-image inputs. */
function image(c: Converter, op: Op, x: ActValue): ActValue {
  if (x.axes.length !== 4) {
    throw new UnsupportedOpError(`${op.type} on a rank-${x.axes.length} input ${shapeText(c.onnxShape(x))}`, op.name, [`${op.type} on NCHW images (rank 4)`]);
  }
  return c.arrange(x, NCHW_AS_NHWC, op.name);
}

const conv: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
  const x = c.act(op, 0, true);
  const w = c.floatConst(op, 1, 'weight');
  if (w.dims.length !== 4) throw new ShapeError(`weight has dims [${w.dims.join(', ')}], expected [M, C/group, kH, kW]`);
  const kernelShape = op.attrs.ints('kernel_shape', []);
  if (kernelShape.length > 0 && (kernelShape[0] !== w.dims[2] || kernelShape[1] !== w.dims[3] || kernelShape.length !== 2)) {
    throw new ShapeError(`kernel_shape [${kernelShape.join(', ')}] does not match the weight dims [${w.dims.join(', ')}]`);
  }
  const bias = op.node.input[2] ? c.floatConst(op, 2, 'bias') : undefined;
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== w.dims[0])) {
    throw new ShapeError(`bias has dims [${bias.dims.join(', ')}], expected [${w.dims[0]}]`);
  }
  const strides = pair(op.attrs.ints('strides', []), 'strides', [1, 1]);
  const dilations = pair(op.attrs.ints('dilations', []), 'dilations', [1, 1]);
  const groups = op.attrs.int('group', 1);
  const src = image(c, op, x);
  const [, h, wd] = c.irShape(src);
  const window: [number, number] = [w.dims[2], w.dims[3]];
  const padding = windowPadding(op, h, wd, window, strides, dilations, x.pad ?? ZERO_PADS);
  const kernel = convKernelFromOnnx(w);
  const attrs: OpAttrs['conv2d'] = { kernel, strides, padding, dilations, groups, ...(bias ? { bias: { shape: [...bias.dims], data: bias.data } } : {}) };
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('conv2d', op.name, [src.ir], attrs), axes: NCHW_AS_NHWC });
};

/** Rejects ceil_mode=1 where it would change the output size (the IR pools in floor mode). */
function checkCeilMode(c: Converter, op: Op, src: ActValue, padding: Padding, window: [number, number], strides: [number, number]): void {
  if (op.attrs.int('ceil_mode', 0) === 0 || padding === 'same') return;
  const [, h, w] = c.irShape(src);
  const [pt, pb, pl, pr] = padding === 'valid' ? [0, 0, 0, 0] : padding;
  const sizes: [number | null, number, number, number, number][] = [
    [h, pt + pb, window[0], strides[0], 0],
    [w, pl + pr, window[1], strides[1], 1],
  ];
  for (const [size, pad, k, s] of sizes) {
    if (size === null) continue;
    if (Math.ceil((size + pad - k) / s) !== Math.floor((size + pad - k) / s)) {
      throw new UnsupportedOpError(`${op.type} with ceil_mode=1 on input ${shapeText(c.onnxShape(src))}`, op.name, [
        `${op.type} with ceil_mode=0, or ceil_mode=1 where it gives the same output size`,
      ]);
    }
  }
}

const maxPool: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides']);
  c.onlyFirstOutput(op);
  const dilations = pair(op.attrs.ints('dilations', []), 'dilations', [1, 1]);
  if (dilations[0] !== 1 || dilations[1] !== 1) {
    throw new UnsupportedOpError(`MaxPool dilations=[${dilations.join(', ')}]`, op.name, ['MaxPool with dilations 1']);
  }
  const src = image(c, op, c.act(op, 0));
  const poolSize = pair(op.attrs.ints('kernel_shape', []), 'kernel_shape', [0, 0]);
  const strides = pair(op.attrs.ints('strides', []), 'strides', [1, 1]);
  const [, h, w] = c.irShape(src);
  const padding = windowPadding(op, h, w, poolSize, strides, [1, 1], ZERO_PADS);
  checkCeilMode(c, op, src, padding, poolSize, strides);
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('maxPool', op.name, [src.ir], { poolSize, strides, padding }), axes: NCHW_AS_NHWC });
};

const averagePool: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);
  const x = c.act(op, 0, true);
  const src = image(c, op, x);
  const poolSize = pair(op.attrs.ints('kernel_shape', []), 'kernel_shape', [0, 0]);
  const strides = pair(op.attrs.ints('strides', []), 'strides', [1, 1]);
  let countIncludePad = op.attrs.int('count_include_pad', 0) === 1;
  const prePad = x.pad ?? ZERO_PADS;
  const [, h, w] = c.irShape(src);
  if (!isZeroPads(prePad)) {
    // Pad's zeros are real pixels to AveragePool: they count in the divisor.
    const own = windowPadding(op, h, w, poolSize, strides, [1, 1], ZERO_PADS);
    if (own !== 'valid' && !countIncludePad) {
      throw new UnsupportedOpError('Pad followed by AveragePool with its own padding and count_include_pad=0', op.name, [
        'Pad followed by AveragePool without padding, or with count_include_pad=1',
      ]);
    }
    countIncludePad = true;
  }
  const padding = windowPadding(op, h, w, poolSize, strides, [1, 1], prePad);
  checkCeilMode(c, op, src, padding, poolSize, strides);
  const attrs = { poolSize, strides, padding, countIncludePad };
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('avgPool', op.name, [src.ir], attrs), axes: NCHW_AS_NHWC });
};

const globalAveragePool: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  const src = image(c, op, c.act(op, 0));
  // [N, C] in the IR; ONNX's [N, C, 1, 1] keeps its two size-1 axes only in the axis map.
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('globalAvgPool', op.name, [src.ir], { keepDims: false }), axes: [0, 1, null, null] });
};

const batchNormalization: Handler = (c, op) => {
  op.attrs.allowOnly(['epsilon', 'momentum', 'training_mode']);
  if (op.attrs.int('training_mode', 0) !== 0) {
    throw new UnsupportedOpError('BatchNormalization with training_mode=1', op.name, ['BatchNormalization in inference mode']);
  }
  c.onlyFirstOutput(op);
  const x = c.act(op, 0);
  if (x.axes.length < 2 || batchAxisOf(x.axes) !== 0) {
    throw new ShapeError(`input ${shapeText(c.onnxShape(x))}: expected [N, C, ...] with the batch first`);
  }
  const channels = c.onnxShape(x)[1];
  const vec = (i: number, what: string): ConstTensor => {
    const t = c.floatConst(op, i, what);
    if (t.dims.length !== 1 || t.dims[0] !== channels) {
      throw new ShapeError(`${what} '${op.node.input[i]}' has dims [${t.dims.join(', ')}], expected [${channels}] (the channels of ${shapeText(c.onnxShape(x))})`);
    }
    return { shape: [channels], data: t.data };
  };
  const attrs = {
    gamma: vec(1, 'scale'),
    beta: vec(2, 'bias'),
    mean: vec(3, 'mean'),
    variance: vec(4, 'var'),
    epsilon: op.attrs.float('epsilon', 1e-5),
  };
  const src = withAxisLast(c, x, 1, op.name);
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('batchNorm', op.name, [src.ir], attrs), axes: src.axes });
};

const softmax: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  const x = c.act(op, 0);
  const rank = x.axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', c.opset < 13 ? 1 : -1), rank, op);
  if (axis <= batchAxisOf(x.axes)) {
    throw new UnsupportedOpError(`Softmax with axis=${axis} over the batch`, op.name, ['Softmax over non-batch axes']);
  }
  const shape = c.onnxShape(x);
  const coerced = c.opset < 13 && shape.slice(axis + 1).some((d) => d !== 1);
  if (!coerced) {
    const src = x.axes[axis] === null ? c.arrange(x, identityAxes(rank), op.name) : x;
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode('softmax', op.name, [src.ir], { axis: src.axes[axis] as number }), axes: src.axes });
    return;
  }
  // Before opset 13, Softmax normalises over all axes from `axis` on, as one flattened axis.
  if (batchAxisOf(x.axes) !== 0) throw new UnsupportedOpError('Softmax (opset < 13) of a tensor whose batch is not first', op.name, SUPPORTED_ONNX_OPS);
  const src = c.arrange(x, identityAxes(rank), op.name);
  const lead = shape.slice(1, axis) as number[];
  const tail = shape.slice(axis) as number[];
  const flat = c.addNode('reshape', `${op.name}/coerce_2d`, [src.ir], { shape: [...lead, sizeOf(tail)] });
  const soft = c.addNode('softmax', op.name, [flat], { axis });
  const back = c.addNode('reshape', `${op.name}/restore`, [soft], { shape: shape.slice(1) as number[] });
  c.setOutput(op, 0, { kind: 'act', ir: back, axes: identityAxes(rank) });
};

const pad: Handler = (c, op) => {
  op.attrs.allowOnly(['mode']);
  const mode = op.attrs.string('mode', 'constant');
  if (mode !== 'constant') throw new UnsupportedOpError(`Pad mode=${mode}`, op.name, ['Pad with mode=constant']);
  const x = c.act(op, 0, true);
  const pads = c.intConst(op, 1, 'pads').data;
  const value = c.optionalInput(op, 2);
  if (value && !(value.kind === 'const' && isAllZero(value.tensor))) {
    throw new UnsupportedOpError('Pad with a non-zero constant_value', op.name, ['Pad with constant_value 0']);
  }
  if (op.node.input[3]) throw new UnsupportedOpError('Pad with axes', op.name, ['Pad without the axes input']);
  const rank = x.axes.length;
  if (pads.length !== 2 * rank) throw new ShapeError(`pads has ${pads.length} entries, expected ${2 * rank} for a rank-${rank} input`);
  if (pads.every((p) => p === 0)) {
    c.setOutput(op, 0, x);
    return;
  }
  const spatialOnly = rank === 4 && [0, 1, 4, 5].every((i) => pads[i] === 0) && pads.every((p) => p >= 0);
  if (!spatialOnly) {
    throw new UnsupportedOpError(`Pad with pads [${pads.join(', ')}]`, op.name, ['Pad of H and W of an NCHW image by non-negative amounts']);
  }
  const before = x.pad ?? ZERO_PADS;
  const total: Pads = [before[0] + pads[2], before[1] + pads[6], before[2] + pads[3], before[3] + pads[7]];
  c.setOutput(op, 0, { ...x, pad: total });
};

const lstm: Handler = (c, op) => {
  op.attrs.allowOnly(['activations', 'direction', 'hidden_size', 'input_forget', 'layout']);
  const direction = op.attrs.string('direction', 'forward');
  if (direction !== 'forward') {
    throw new UnsupportedOpError(`LSTM direction=${direction}`, op.name, ['LSTM with direction=forward']);
  }
  if (op.attrs.int('layout', 0) !== 0) throw new UnsupportedOpError(`LSTM layout=${op.attrs.int('layout', 0)}`, op.name, ['LSTM with layout=0']);
  if (op.attrs.int('input_forget', 0) !== 0) throw new UnsupportedOpError('LSTM input_forget=1', op.name, ['LSTM with input_forget=0']);
  const activations = op.attrs.strings('activations', ['Sigmoid', 'Tanh', 'Tanh']);
  if (activations.join(',') !== 'Sigmoid,Tanh,Tanh') {
    throw new UnsupportedOpError(`LSTM activations=[${activations.join(', ')}]`, op.name, ['LSTM with activations Sigmoid, Tanh, Tanh']);
  }
  if (op.node.input[4]) throw new UnsupportedOpError('LSTM with sequence_lens', op.name, ['LSTM without sequence_lens (all sequences full length)']);
  for (const [i, what] of [[5, 'initial_h'], [6, 'initial_c']] as const) {
    const name = op.node.input[i];
    if (name && !c.isZeroState(name)) {
      throw new UnsupportedOpError(`LSTM with a non-zero ${what}`, op.name, [`LSTM whose ${what} is absent or all zeros`]);
    }
  }
  const peephole = c.optionalInput(op, 7);
  if (peephole && !(peephole.kind === 'const' && isAllZero(peephole.tensor))) {
    throw new UnsupportedOpError('LSTM with peepholes', op.name, ['LSTM without peepholes (P absent or zero)']);
  }
  const [yName, yhName, ycName] = [op.node.output[0], op.node.output[1], op.node.output[2]];
  if (c.used(ycName)) throw new UnsupportedOpError('LSTM output Y_c (final cell state)', op.name, ['LSTM with Y or Y_h used']);
  if (c.used(yName) && c.used(yhName)) {
    throw new UnsupportedOpError('LSTM with both Y and Y_h used', op.name, ['LSTM with either Y (all hidden states) or Y_h (last hidden state) used']);
  }
  const w = c.floatConst(op, 1, 'W');
  const r = c.floatConst(op, 2, 'R');
  const b = op.node.input[3] ? c.floatConst(op, 3, 'B') : undefined;
  const hidden = op.attrs.int('hidden_size', w.dims[1] / 4);
  const x = c.act(op, 0);
  if (x.axes.length !== 3) throw new ShapeError(`input ${shapeText(c.onnxShape(x))}: expected [seq, batch, features]`);
  const features = c.onnxShape(x)[2];
  const expect = (t: FloatTensor, dims: number[], what: string) => {
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new ShapeError(`${what} has dims [${t.dims.join(', ')}], expected [${dims.join(', ')}] (hidden_size ${hidden}, ${features} features)`);
    }
  };
  expect(w, [1, 4 * hidden, features ?? -1], 'W');
  expect(r, [1, 4 * hidden, hidden], 'R');
  if (b) expect(b, [1, 8 * hidden], 'B');
  // ONNX's [seq, batch, features] is the IR's [batch, seq, features] with the first two axes swapped.
  const src = c.arrange(x, [1, 0, 2], op.name);
  const returnSequences = c.used(yName);
  const attrs = { units: hidden, ...lstmWeightsFromOnnx(w, r, b, hidden), returnSequences };
  const ir = c.addNode('lstm', op.name, [src.ir], attrs);
  // Y is [seq, 1, batch, hidden], Y_h [1, batch, hidden]; the direction axis exists only in ONNX.
  if (returnSequences) c.setOutput(op, 0, { kind: 'act', ir, axes: [1, null, 0, 2] });
  else c.setOutput(op, 1, { kind: 'act', ir, axes: [null, 0, 1] });
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  Add: add,
  AveragePool: averagePool,
  BatchNormalization: batchNormalization,
  Concat: concat,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Conv: conv,
  Dropout: dropout,
  Flatten: flatten,
  Gather: gather,
  Gemm: gemm,
  GlobalAveragePool: globalAveragePool,
  Identity: identity,
  LSTM: lstm,
  MatMul: matMul,
  MaxPool: maxPool,
  Pad: pad,
  Relu: elementwise('relu'),
  Reshape: reshape,
  Sigmoid: elementwise('sigmoid'),
  Softmax: softmax,
  Squeeze: squeeze,
  Tanh: elementwise('tanh'),
  Transpose: transpose,
  Unsqueeze: unsqueeze,
};

/**
 * Convert an ONNX model (the bytes of a `.onnx` file) to an IR graph. Graph inputs
 * and outputs keep the ONNX model's names, order and layout (rank-4 inputs NCHW
 * unless `imageInputLayout: 'nhwc'`); axis 0 of every input is the batch, of any
 * size. Gemm/MatMul with constant weights become analog `dense` nodes (a MatMul
 * followed by an Add of a constant bias is one dense node); MatMul of two
 * activations is a digital `matmul` node.
 *
 * Supports {@link SUPPORTED_ONNX_OPS} at default-domain opsets
 * {@link ONNX_OPSET_RANGE}; LSTMs must be single-direction (forward), layout 0,
 * with zero initial state.
 *
 * @throws DataError naming the file when the bytes are not an ONNX model
 *   (truncated, garbage), use an opset outside the range, or reference undefined values.
 * @throws UnsupportedOpError naming the op, the node and the supported ops.
 * @throws ShapeError naming the node (or tensor) when shapes do not fit or a weight
 *   is NaN or infinite.
 *
 * @example
 * const graph = fromOnnx(fs.readFileSync('model.onnx'), { fileName: 'model.onnx' });
 * const y = execute(graph, tf.tensor(data, [1, 3, 32, 32]));
 */
export function fromOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): Graph {
  const file = options.fileName ?? '<onnx bytes>';
  const model = decodeOnnxModel(bytes, file);
  return new Converter(model, file, options).convert();
}

/**
 * Read a `.onnx` file and convert it with {@link fromOnnx}; errors name the file.
 *
 * @throws DataError when the file cannot be read or is not an ONNX model.
 */
export function loadOnnxFile(path: string, options: Omit<OnnxImportOptions, 'fileName'> = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new DataError(path, `cannot read the ONNX model (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return fromOnnx(bytes, { ...options, fileName: path });
}
