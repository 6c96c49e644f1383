/**
 * The conversion state of one ONNX model: every ONNX value (constant, or an IR node's
 * output with its axis arrangement), the live nodes, and the IR graph under
 * construction. The op handlers (`opHandlers.ts`) read inputs and define outputs
 * through it.
 */
import { DataError, ShapeError, UnsupportedOpError } from '../../../errors';
import { GraphBuilder } from '../../ir/builder';
import type { Graph } from '../../ir/graph';
import type { OpAttrs, OpKind, Shape } from '../../ir/ops';
import { formatShape } from '../../ir/shapes';
import type { AxisMap } from './layout';
import { NCHW_AS_NHWC, identityAxes, layoutChange, onnxShapeOf, sameAxes } from './layout';
import { NodeAttributes } from './onnxAttributes';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnxProto';
import { ONNX_DATA_TYPES } from './onnxProto';
import type { FloatTensor, HostTensor, IntTensor } from './onnxTensor';
import { decodeTensor, isAllZero } from './onnxTensor';

/** Default-domain opset versions {@link fromOnnx} accepts (inclusive). */
export const ONNX_OPSET_RANGE = { min: 11, max: 21 } as const;

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
export type Pads = readonly [number, number, number, number];

/** A computed (batch-dependent) ONNX value: an IR node's output, arranged as `axes` says. */
export interface ActValue {
  readonly kind: 'act';
  readonly ir: string;
  readonly axes: AxisMap;
  /** Zero padding on H and W still to apply (from `Pad`). */
  readonly pad?: Pads;
  /**
   * Set when a Reshape merged the batch with other axes (attention's
   * `[seq, batch·heads, d]`): ONNX axis `i` holds IR axes `merged[i]`, in row-major
   * order (none for a size-1 axis). `axes` then only records where the batch's ONNX
   * axis is; `act` refuses such a value unless the op handles merged axes
   * (`mergedAxes.ts`), so no other op can misread it.
   */
  readonly merged?: readonly (readonly number[])[];
}

/** A constant ONNX value (initializer, `Constant`, or folded from constants). */
export interface ConstValue {
  readonly kind: 'const';
  readonly tensor: HostTensor;
}

export type Value = ActValue | ConstValue;

/** The node being converted. */
export interface Op {
  readonly node: NodeProto;
  readonly type: string;
  /** Display name: the node's name, else its first output's. */
  readonly name: string;
  readonly attrs: NodeAttributes;
}

export type Handler = (c: Converter, op: Op) => void;

/** No padding. */
export const ZERO_PADS: Pads = [0, 0, 0, 0];

/** Whether a pending `Pad` is absent or all zero. */
export function isZeroPads(p: Pads | undefined): boolean {
  return !p || p.every((v) => v === 0);
}

/** The refusal of an op that cannot read a value whose batch a Reshape merged with other axes. */
export function mergedRefusal(what: string, nodeName: string): UnsupportedOpError {
  return new UnsupportedOpError(`${what} of a tensor whose batch axis a Reshape merged with other axes`, nodeName, [
    'Transpose, Reshape, MatMul, Gemm, Softmax and arithmetic with a scalar constant on such a tensor, until a Reshape splits the batch off again',
  ]);
}

/** Wrapped errors already name their ONNX node; outer nodes pass them through. */
const namedErrors = new WeakSet<Error>();

/**
 * Converts one decoded ONNX model into an IR graph, node by node, with the op
 * handlers it is given (see `opHandlers.ts`).
 */
export class Converter {
  readonly b = new GraphBuilder();
  readonly opset: number;
  private readonly values = new Map<string, Value>();
  private readonly initializers = new Map<string, TensorProto>();
  private readonly producers = new Map<string, { node: NodeProto; index: number }>();
  /** Live nodes reading each value (graph outputs count as a reader). */
  private readonly readers = new Map<string, number>();
  private readonly inProgress = new Set<NodeProto>();
  private readonly layoutCache = new Map<string, ActValue>();
  /** The nodes the graph outputs depend on (set by `convert`). */
  private live = new Set<NodeProto>();
  /** The batch size the model was exported with, when its inputs declare one. */
  private staticBatch: number | undefined;
  /** The op types the handlers cover, for error messages. */
  private readonly supported: readonly string[];

  constructor(
    private readonly model: ModelProto,
    readonly file: string,
    private readonly options: OnnxImportOptions,
    private readonly handlers: Readonly<Record<string, Handler>>,
  ) {
    this.supported = Object.keys(handlers).sort();
    const graph = model.graph!;
    const defaultOpsets = model.opsetImport.filter((o) => !o.domain || o.domain === 'ai.onnx');
    if (defaultOpsets.length === 0) throw new DataError(file, 'the model imports no default-domain (ai.onnx) opset');
    this.opset = defaultOpsets[0].version ?? 0;
    if (this.opset < ONNX_OPSET_RANGE.min || this.opset > ONNX_OPSET_RANGE.max) {
      throw new DataError(
        file,
        `default-domain opset ${this.opset} is not supported: expected ${ONNX_OPSET_RANGE.min} to ${ONNX_OPSET_RANGE.max} (re-export the model, e.g. torch.onnx.export(..., opset_version=${ONNX_OPSET_RANGE.max}))`,
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
   * of graph outputs and live nodes reading it. An LSTM's or GRU's zero initial state
   * is not a dependency: the IR's recurrent layers start from zeros, so whatever
   * computes the state's shape (PyTorch emits Shape → Gather → ... → ConstantOfShape)
   * is dead code here.
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
        const type = producer.node.opType;
        const isState = (type === 'LSTM' && (i === 5 || i === 6)) || (type === 'GRU' && i === 5);
        if (isState && this.isZeroState(input)) return;
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
    this.live = live;
    // Report every unsupported op before converting anything, starting from the outputs.
    const unsupported: UnsupportedOpError[] = [];
    for (let i = graph.node.length - 1; i >= 0; i--) {
      if (!live.has(graph.node[i])) continue;
      try {
        this.checkSupported(graph.node[i], i);
      } catch (err) {
        if (!(err instanceof UnsupportedOpError)) throw err;
        unsupported.push(err);
      }
    }
    if (unsupported.length === 1) throw unsupported[0];
    if (unsupported.length > 1) {
      unsupported.reverse(); // file order
      // One error naming every unsupported node, so a user sees the whole list at once.
      throw new UnsupportedOpError(unsupported.map((e) => e.op).join(', '), unsupported.map((e) => e.nodeName).join("', '"), this.supported);
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
    dims.forEach((d, i) => {
      // 0 is a real size (an input that holds nothing), not "unknown"; sizes past 2^53 are not sizes.
      if (d.dimValue === undefined || d.dimValue < 0) return;
      if (!Number.isSafeInteger(d.dimValue) || (i > 0 && d.dimValue === 0)) {
        throw new DataError(
          this.file,
          `graph input '${name}' declares size ${d.dimValue} on axis ${i}; expected a positive integer below 2^53 (or a symbolic size)`,
        );
      }
    });
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
    if (!isZeroPads(v.pad)) throw new UnsupportedOpError('Pad as a graph output', name, this.supported);
    if (v.merged) throw mergedRefusal('a graph output', name);
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
        throw new ShapeError(`graph output '${name}': the model declares shape [${want.join(', ')}] but the converted graph gives ${formatShape(have)}`);
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
      throw new UnsupportedOpError(`${op} output ${i} ('${name}')`, this.nodeName(producer.node, producer.index), this.supported);
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
    if (node.domain && node.domain !== 'ai.onnx') throw new UnsupportedOpError(`${node.domain}::${type}`, name, this.supported);
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, type) ? this.handlers[type] : undefined;
    if (!handler) throw new UnsupportedOpError(type, name, this.supported);
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
    return this.model.graph!.node.find((n) => this.live.has(n) && n.input.includes(name));
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
  act(op: Op, i: number, allowPad = false, allowMerged = false): ActValue {
    const v = this.input(op, i);
    if (v.kind === 'const') {
      throw new UnsupportedOpError(`${op.type} of constant input '${op.node.input[i]}'`, op.name, [`${op.type} of a computed (batch-dependent) input`]);
    }
    if (v.merged && !allowMerged) throw mergedRefusal(op.type, op.name);
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
    if (name) this.setValue(name, v);
  }

  /** Whether value `name` is already defined. */
  hasValue(name: string | undefined): boolean {
    return !!name && this.values.has(name);
  }

  /** Define value `name` (an op's output, or the output of a node fused into the current one). */
  setValue(name: string, v: Value): void {
    if (v.kind === 'act') this.checkHeld(name, v);
    this.values.set(name, v);
  }

  /**
   * A guard against handler bugs that would give wrong answers: every IR axis of the
   * tensor holding `v` is held by exactly one ONNX axis (by `axes`, or `merged`).
   */
  private checkHeld(name: string, v: ActValue): void {
    const rank = this.irShape(v).length;
    const held = (v.merged ?? v.axes.map((a) => (a === null ? [] : [a]))).flat();
    const sorted = [...held].sort((p, q) => p - q);
    if (sorted.length !== rank || sorted.some((a, k) => a !== k) || (v.merged && v.merged.length !== v.axes.length)) {
      throw new Error(`internal error: ONNX value '${name}' maps its axes ${JSON.stringify(v.merged ?? v.axes)} onto an IR tensor of rank ${rank}`);
    }
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
    const ir = this.irShape(v);
    if (v.merged) return v.merged.map((g) => (g.includes(0) ? null : g.reduce((p, a) => p * (ir[a] as number), 1)));
    return onnxShapeOf(v.axes, ir);
  }

  /** Append an IR node named after `base` and return its name. */
  addNode<K extends OpKind>(op: K, base: string, inputs: readonly string[], attrs: OpAttrs[K]): string {
    return this.b.add(op, this.b.uniqueName(base), inputs, attrs);
  }

  /** The value held in arrangement `to`, with an IR transpose and/or reshape if needed (cached). */
  arrange(v: ActValue, to: AxisMap, label: string): ActValue {
    if (v.merged) throw mergedRefusal('a layout change', label);
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

  /** Whether value `name` is a zero recurrent state: an all-zero constant or a ConstantOfShape of zero, or a part of one. */
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
      case 'Cast':
      case 'Slice':
      case 'Gather':
      case 'Squeeze':
      case 'Unsqueeze':
      case 'Reshape':
      case 'Expand':
        // Parts and re-shapes of a zero state are zero (PyTorch slices one layer's
        // state out of a [layers·directions, batch, hidden] zero tensor).
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
