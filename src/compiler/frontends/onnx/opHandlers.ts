/**
 * One conversion rule per ONNX op type: each reads its inputs through the
 * {@link Converter}, appends IR nodes, and defines its outputs. Layout-only ops
 * (Transpose, Squeeze, Unsqueeze, Gather of a size-1 axis, Identity, Dropout) append
 * nothing: they only change how a value's axes map onto its IR tensor.
 */
import { DataError, ShapeError, UnsupportedOpError } from '../../../errors';
import type { ConstTensor, OpAttrs, Padding } from '../../ir/ops';
import { sizeOf } from '../../ir/ops';
import { explicitPadding, formatShape } from '../../ir/shapes';
import type { ActValue, ConstValue, Converter, Handler, Op, Pads } from './converter';
import { ZERO_PADS, isZeroPads, mergedRefusal } from './converter';
import { denseMerged, matmulMerged, reshapeByGroups, singleAtom, transposeMerged } from './mergedAxes';
import { NCHW_AS_NHWC, batchAxisOf, identityAxes, irRankOf, moveAxisLast, permutationIndex, rowMajorAxes, transposeAxes } from './layout';
import type { TensorProto } from './onnxProto';
import type { FloatTensor, HostTensor } from './onnxTensor';
import { decodeTensor, isAllZero } from './onnxTensor';
import { convKernelFromOnnx, denseWeightsFromOnnx } from './weights';
import { concatConsts, dependsOnBatch, foldArith, isBatchSize, takeAlong } from './constFold';

/** A constant built from attribute values (`Constant.value_floats` etc.), checked like any tensor. */
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

export function normaliseAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${what} = ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}

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

/** Most elements a ConstantOfShape may build (its shape comes from the file, its data does not). */
const MAX_CONSTANT_OF_SHAPE_ELEMENTS = 1 << 26;

const constantOfShape: Handler = (c, op) => {
  op.attrs.allowOnly(['value']);
  const dims = [...c.intConst(op, 0, 'shape').data];
  if (dims.some((d) => d < 0)) throw new ShapeError(`shape [${dims.join(', ')}] has a negative size`);
  const fill = op.attrs.tensor('value');
  if (fill && fill.data.length !== 1) throw new ShapeError(`value attribute holds ${fill.data.length} values, expected 1`);
  const n = sizeOf(dims);
  if (!dims.every((d) => Number.isSafeInteger(d)) || !(n <= MAX_CONSTANT_OF_SHAPE_ELEMENTS)) {
    throw new ShapeError(`shape [${dims.join(', ')}] has ${n} elements; ConstantOfShape may build at most ${MAX_CONSTANT_OF_SHAPE_ELEMENTS}`);
  }
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

/** The same constant data under new dims (Reshape, Flatten, Squeeze, Unsqueeze of constants). */
function withDims(t: HostTensor, dims: number[]): HostTensor {
  return { ...t, dims } as HostTensor;
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
  const v = c.act(op, 0, false, true);
  if (v.merged) {
    c.setOutput(op, 0, transposeMerged(v, perm));
    return;
  }
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
  const v = c.act(op, 0, false, true);
  const want = [...spec.data];
  if (v.merged) {
    const out = reshapeByGroups(c, v, want, allowZero, op.name);
    if (typeof out === 'string') throw new UnsupportedOpError(`Reshape to [${shownShape(want)}]`, op.name, [`Reshape that regroups the axes of ${formatShape(c.onnxShape(v))} (here: ${out})`]);
    c.setOutput(op, 0, out);
    return;
  }
  try {
    c.setOutput(op, 0, reshapeKeepingBatch(c, op, v, want, allowZero));
  } catch (err) {
    // A Reshape that merges the batch with other axes (attention's batch × heads) is
    // held as groups of IR axes; if that fails too, the first refusal says why.
    if (!(err instanceof UnsupportedOpError)) throw err;
    const out = reshapeByGroups(c, v, want, allowZero, op.name);
    if (typeof out === 'string') throw err;
    c.setOutput(op, 0, out);
  }
};

function shownShape(want: readonly number[]): string {
  return want.map((d) => (isBatchSize(d) ? 'N' : dependsOnBatch(d) ? 'f(N)' : d)).join(', ');
}

/** Reshape of `v` (batch at ONNX axis k) that keeps axes 0..k and reshapes the axes after the batch. */
function reshapeKeepingBatch(c: Converter, op: Op, v: ActValue, want: readonly number[], allowZero: boolean): ActValue {
  const inShape = c.onnxShape(v);
  const k = batchAxisOf(v.axes);
  const rest = inShape.filter((_, i) => i !== k);
  if (rest.some((d) => d === null)) throw new ShapeError(`input shape ${formatShape(inShape)} has an unknown non-batch size`);
  const refuse = (why: string): never => {
    throw new UnsupportedOpError(`Reshape to [${shownShape(want)}]`, op.name, [
      `Reshape that keeps the batch axis and every axis before it and reshapes the axes after it (here the input is ${formatShape(inShape)}: ${why})`,
    ]);
  };
  if (want.some((d) => dependsOnBatch(d) && !isBatchSize(d))) refuse('a size computed from the batch size: the batch would merge with another axis');
  if (want.length <= k) refuse('the batch axis would vanish');
  // Entries up to the batch must keep their axes: 0 (copy), the same size, or at the batch the batch itself.
  for (let i = 0; i <= k; i++) {
    const d = want[i];
    const keeps = (d === 0 && !allowZero) || (i < k ? d === inShape[i] : isBatchSize(d) || d === -1 || (d > 0 && d === c.exportedBatch()));
    if (!keeps) refuse(i < k ? `axis ${i} before the batch would change` : 'the batch would merge with another axis');
  }
  const tailIn = inShape.slice(k + 1) as number[];
  const perSample = sizeOf(tailIn);
  const tailSpec = want.slice(k + 1).map((d, j) => (d === 0 && !allowZero ? tailIn[j] : d));
  if (tailSpec.some((d) => d === undefined || isBatchSize(d))) refuse('the batch would move');
  const free = tailSpec.filter((d) => d === -1).length + (want[k] === -1 ? 1 : 0);
  if (free > 1 || tailSpec.some((d) => !Number.isInteger(d) || d < -1 || d === 0)) {
    throw new ShapeError(`shape [${want.join(', ')}] is not a valid Reshape target for ${formatShape(inShape)}`);
  }
  const known = sizeOf(tailSpec.filter((d) => d !== -1));
  const target = tailSpec.map((d) => (d === -1 ? perSample / known : d));
  if (sizeOf(target) !== perSample || target.some((d) => !Number.isInteger(d) || d < 1)) {
    refuse(`the ${perSample} values per sample after the batch do not fill [${target.join(', ')}]: the batch would merge with another axis`);
  }
  // IR order: the batch, the axes before it in ONNX order, then the ones after it.
  let next = 1;
  const arrangement = v.axes.map((a, i) => (i === k ? 0 : a === null && i < k ? null : next++));
  const src = c.arrange(v, arrangement, op.name);
  const prefix = inShape.slice(0, k).filter((_, i) => v.axes[i] !== null) as number[];
  const outShape = [...prefix, ...target];
  const srcShape = c.irShape(src).slice(1);
  const same = srcShape.length === outShape.length && srcShape.every((d, i) => d === outShape[i]);
  const ir = same ? src.ir : c.addNode('reshape', op.name, [src.ir], { shape: outShape });
  let at = 1;
  const prefixAxes = v.axes.slice(0, k).map((a) => (a === null ? null : at++));
  return { kind: 'act', ir, axes: [...prefixAxes, 0, ...target.map(() => at++)] };
}

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
  const axes = given ? given.map((a) => normaliseAxis(a, rank)) : shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) {
    if (shape[a] !== 1) throw new ShapeError(`cannot squeeze axis ${a} of size ${shape[a] ?? 'N (batch)'} from ${formatShape(shape)}`);
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
  const axes = given.map((a) => normaliseAxis(a, rank)).sort((p, q) => p - q);
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

/** `v` restricted to `[start, end)` along ONNX axis `onnxAxis` (a real, non-batch axis), by an IR slice. */
export function sliceAct(c: Converter, v: ActValue, onnxAxis: number, start: number, end: number, label: string): ActValue {
  const irAxis = v.axes[onnxAxis];
  if (irAxis === null || irAxis === 0) throw new ShapeError(`cannot slice ONNX axis ${onnxAxis} of ${formatShape(c.onnxShape(v))}`);
  if (start === 0 && end === c.irShape(v)[irAxis]) return v;
  return { kind: 'act', ir: c.addNode('slice', label, [v.ir], { axis: irAxis, start, end }), axes: v.axes };
}

/** `v` without its ONNX axis `onnxAxis`, which has size 1 (dropped from the axis map, or by an IR reshape). */
export function dropUnitAxis(c: Converter, v: ActValue, onnxAxis: number, label: string): ActValue {
  const irAxis = v.axes[onnxAxis];
  const rest = v.axes.filter((_, i) => i !== onnxAxis);
  if (irAxis === null) return { kind: 'act', ir: v.ir, axes: rest };
  const shape = c.irShape(v);
  if (irAxis === 0 || shape[irAxis] !== 1) throw new ShapeError(`cannot drop ONNX axis ${onnxAxis} of ${formatShape(c.onnxShape(v))}: only size-1 axes`);
  const target = shape.filter((_, i) => i !== irAxis).slice(1) as number[];
  const ir = c.addNode('reshape', `${label}/squeeze`, [v.ir], { shape: target });
  return { kind: 'act', ir, axes: rest.map((a) => (a !== null && a > irAxis ? a - 1 : a)) };
}

const gather: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  const x = c.input(op, 0);
  if (c.input(op, 1).kind !== 'const') {
    throw new UnsupportedOpError('Gather by computed indices (an embedding lookup)', op.name, ['Gather by constant indices']);
  }
  const indices = c.intConst(op, 1, 'indices');
  if (indices.dims.length > 1) throw new UnsupportedOpError(`Gather with indices of dims [${indices.dims.join(', ')}]`, op.name, ['Gather by a scalar or 1-D index']);
  const shape = x.kind === 'const' ? x.tensor.dims : c.onnxShape(c.act(op, 0));
  const rank = shape.length;
  const axis = normaliseAxis(op.attrs.int('axis', 0), rank);
  const size = shape[axis];
  const scalar = indices.dims.length === 0;
  if (x.kind === 'act' && axis === batchAxisOf(x.axes)) {
    throw new UnsupportedOpError('Gather along the batch axis', op.name, ['Gather along a non-batch axis']);
  }
  const idx = indices.data.map((i) => (i < 0 ? i + (size as number) : i));
  idx.forEach((i, k) => {
    if (!Number.isInteger(i) || i < 0 || i >= (size as number)) {
      throw new ShapeError(`index ${indices.data[k]} is out of range for axis ${axis} of size ${size} (input ${formatShape(shape)})`);
    }
  });
  if (x.kind === 'const') {
    const taken = takeAlong(x.tensor, axis, idx, op.node.output[0] ?? op.name);
    c.setOutput(op, 0, { kind: 'const', tensor: scalar ? withDims(taken, taken.dims.filter((_, i) => i !== axis)) : taken });
    return;
  }
  const v = c.act(op, 0);
  let out: ActValue;
  if (v.axes[axis] === null) {
    // Selecting the only entry of a size-1 axis (h_n[-1] of a one-layer LSTM) moves no data.
    if (idx.length !== 1) throw new UnsupportedOpError(`Gather of ${idx.length} copies of a size-1 axis`, op.name, ['Gather of distinct entries']);
    out = v;
  } else {
    // Runs of consecutive indices are one IR slice each.
    const runs: [number, number][] = [];
    for (const i of idx) {
      const last = runs[runs.length - 1];
      if (last && last[1] === i) last[1] = i + 1;
      else runs.push([i, i + 1]);
    }
    const parts = runs.map(([a, b]) => sliceAct(c, v, axis, a, b, op.name));
    out = parts.length === 1 ? parts[0] : { kind: 'act', ir: c.addNode('concat', op.name, parts.map((p) => p.ir), { axis: v.axes[axis] as number }), axes: v.axes };
  }
  c.setOutput(op, 0, scalar ? dropUnitAxis(c, out, axis, op.name) : out);
};

const concat: Handler = (c, op) => {
  op.attrs.allowOnly(['axis']);
  // `axis` is required (no default since opset 4): without it there is no axis to name.
  if (!op.attrs.has('axis')) throw new DataError(c.file, `node '${op.name}' (Concat) has no 'axis' attribute, which Concat requires`);
  const values = op.node.input.map((_, i) => c.input(op, i));
  if (values.every((v) => v.kind === 'const')) {
    // Shape arithmetic (Unsqueeze'd sizes into a Reshape target) or constant weights.
    const tensors = values.map((v) => (v as ConstValue).tensor);
    const axis = normaliseAxis(op.attrs.int('axis', 0), tensors[0].dims.length);
    c.setOutput(op, 0, { kind: 'const', tensor: concatConsts(tensors, axis, op.node.output[0] ?? op.name) });
    return;
  }
  const inputs = op.node.input.map((_, i) => c.act(op, i));
  const rank = inputs[0].axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', 0), rank);
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
export function constantForAdd(c: Converter, x: ActValue, t: FloatTensor): ConstTensor {
  const shape = c.onnxShape(x);
  const rank = shape.length;
  if (t.dims.length > rank) {
    throw new ShapeError(`constant '${t.name}' of dims [${t.dims.join(', ')}] has more axes than the activation ${formatShape(shape)}`);
  }
  const full = shape.map((_, i) => (i < rank - t.dims.length ? 1 : t.dims[i - (rank - t.dims.length)]));
  const batch = batchAxisOf(x.axes);
  full.forEach((d, i) => {
    if (i === batch && d !== 1) {
      throw new UnsupportedOpError(`Add of a constant that varies along the batch axis ('${t.name}')`, t.name, ['Add of a constant broadcast over the batch']);
    }
    if (i !== batch && d !== 1 && d !== shape[i]) {
      throw new ShapeError(`constant '${t.name}' of dims [${t.dims.join(', ')}] does not broadcast against ${formatShape(shape)}`);
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
    c.setOutput(op, 0, { kind: 'const', tensor: foldArith('add', a.tensor, b.tensor, op.node.output[0] ?? op.name) });
    return;
  }
  if (a.kind === 'const') [a, b] = [b, a];
  const x = a as ActValue;
  if (x.merged || (b.kind === 'act' && b.merged)) throw mergedRefusal('Add', op.name);
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
    throw new ShapeError(`inputs have shapes ${formatShape(sa)} and ${formatShape(sb)}; ohmic adds activations of equal shape only (no broadcasting)`);
  }
  const y = c.arrange(b, x.axes, op.name);
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('add', op.name, [x.ir, y.ir], {}), axes: x.axes });
};

/** `x` arranged so that ONNX axis `onnxAxis` is the last IR axis (features for dense, channels for BN). */
export function withAxisLast(c: Converter, x: ActValue, onnxAxis: number, label: string): ActValue {
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
  if (x.merged) return denseMerged(c, op, x, weights, bias);
  const rank = x.axes.length;
  const fanIn = c.onnxShape(x)[rank - 1];
  if (fanIn !== weights.shape[0]) {
    throw new ShapeError(`input ${formatShape(c.onnxShape(x))} has ${fanIn} features but the weight is [${weights.shape.join(', ')}] (fanIn ${weights.shape[0]})`);
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
    const x = c.act(op, 0, false, true);
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
    const x = c.act(op, 0, false, true);
    const y = c.act(op, 1, false, true);
    if (x.merged || y.merged) {
      c.setOutput(op, 0, matmulMerged(c, op, x, y));
      return;
    }
    const rank = x.axes.length;
    if (rank < 3 || y.axes.length !== rank) {
      throw new UnsupportedOpError(`MatMul of activations of shapes ${formatShape(c.onnxShape(x))} and ${formatShape(c.onnxShape(y))}`, op.name, [
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
  const a = c.act(op, 0, false, true);
  if (a.merged && transA) throw mergedRefusal('Gemm with transA=1', op.name);
  const w = c.floatConst(op, 1, 'B (weight)');
  if (a.axes.length !== 2 || w.dims.length !== 2) {
    throw new ShapeError(`Gemm takes 2-D A and B, got A ${formatShape(c.onnxShape(a))} and B [${w.dims.join(', ')}]`);
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
  pads: readonly number[],
  inH: number | null,
  inW: number | null,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  prePad: Pads,
): Padding {
  const autoPad = op.attrs.string('auto_pad', 'NOTSET');
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
    throw new UnsupportedOpError(`${op.type} on a rank-${x.axes.length} input ${formatShape(c.onnxShape(x))}`, op.name, [`${op.type} on NCHW images (rank 4)`]);
  }
  return c.arrange(x, NCHW_AS_NHWC, op.name);
}

/** A window op's input (Conv, pools): an NCHW image, or an NCL sequence (1-D) as an image of height 1. */
interface Spatial {
  /** The input as an NHWC IR image. */
  readonly src: ActValue;
  readonly oneD: boolean;
}

function spatialInput(c: Converter, op: Op, x: ActValue): Spatial {
  if (x.axes.length === 3) {
    // [N, C, L] is [N, C, 1, L] with a size-1 height the IR adds by a reshape.
    const x4: ActValue = { ...x, axes: [x.axes[0], x.axes[1], null, x.axes[2]] };
    return { src: c.arrange(x4, NCHW_AS_NHWC, op.name), oneD: true };
  }
  return { src: image(c, op, x), oneD: false };
}

/** A per-axis window attribute (kernel_shape, strides, dilations) as 2-D: a 1-D op's one value is the width's. */
function spatialInts(op: Op, name: string, oneD: boolean): number[] {
  const v = op.attrs.ints(name, []);
  if (!oneD || v.length === 0) return v;
  if (v.length !== 1) throw new ShapeError(`${name} = [${v.join(', ')}]: expected 1 value for a 1-D ${op.type}`);
  return [1, v[0]];
}

/** ONNX `pads` as 2-D `[top, left, bottom, right]` (a 1-D op's `[begin, end]` pads the width). */
function spatialPads(op: Op, oneD: boolean): number[] {
  if (!oneD) return op.attrs.ints('pads', [0, 0, 0, 0]);
  const p = op.attrs.ints('pads', [0, 0]);
  if (p.length !== 2) throw new ShapeError(`pads = [${p.join(', ')}]: expected 2 values [begin, end] for a 1-D ${op.type}`);
  return [0, p[0], 0, p[1]];
}

/** A window op's NHWC output in ONNX terms: NCHW, or NCL for a 1-D op (its height of 1 dropped). */
function spatialOutput(c: Converter, ir: string, oneD: boolean, label: string): ActValue {
  const v: ActValue = { kind: 'act', ir, axes: NCHW_AS_NHWC };
  return oneD ? dropUnitAxis(c, v, 2, label) : v;
}

const conv: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
  const x = c.act(op, 0, true);
  const w0 = c.floatConst(op, 1, 'weight');
  if (x.axes.length !== 3 && x.axes.length !== 4) {
    throw new UnsupportedOpError(`Conv on a rank-${x.axes.length} input ${formatShape(c.onnxShape(x))}`, op.name, ['Conv on NCHW images (rank 4) or NCL sequences (rank 3)']);
  }
  const { src, oneD } = spatialInput(c, op, x);
  if (w0.dims.length !== (oneD ? 3 : 4)) {
    throw new ShapeError(`weight has dims [${w0.dims.join(', ')}], expected ${oneD ? '[M, C/group, k]' : '[M, C/group, kH, kW]'}`);
  }
  const w: FloatTensor = oneD ? { ...w0, dims: [w0.dims[0], w0.dims[1], 1, w0.dims[2]] } : w0;
  const kernelShape = spatialInts(op, 'kernel_shape', oneD);
  if (kernelShape.length > 0 && (kernelShape[0] !== w.dims[2] || kernelShape[1] !== w.dims[3] || kernelShape.length !== 2)) {
    throw new ShapeError(`kernel_shape [${op.attrs.ints('kernel_shape', []).join(', ')}] does not match the weight dims [${w0.dims.join(', ')}]`);
  }
  const bias = op.node.input[2] ? c.floatConst(op, 2, 'bias') : undefined;
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== w.dims[0])) {
    throw new ShapeError(`bias has dims [${bias.dims.join(', ')}], expected [${w.dims[0]}]`);
  }
  const strides = pair(spatialInts(op, 'strides', oneD), 'strides', [1, 1]);
  const dilations = pair(spatialInts(op, 'dilations', oneD), 'dilations', [1, 1]);
  const groups = op.attrs.int('group', 1);
  const [, h, wd] = c.irShape(src);
  const window: [number, number] = [w.dims[2], w.dims[3]];
  const padding = windowPadding(op, spatialPads(op, oneD), h, wd, window, strides, dilations, x.pad ?? ZERO_PADS);
  const kernel = convKernelFromOnnx(w);
  const attrs: OpAttrs['conv2d'] = { kernel, strides, padding, dilations, groups, ...(bias ? { bias: { shape: [...bias.dims], data: bias.data } } : {}) };
  c.setOutput(op, 0, spatialOutput(c, c.addNode('conv2d', op.name, [src.ir], attrs), oneD, op.name));
};

/**
 * Extra padding after the input that makes floor-mode windows give ceil_mode's output
 * size, by PyTorch's rule (ONNX's since opset 19): ceil, less one if the last window
 * would start past the input and its leading padding.
 */
function ceilModeExtra(size: number, before: number, after: number, k: number, s: number): number {
  const span = size + before + after - k;
  const floorOut = Math.floor(span / s) + 1;
  let ceilOut = Math.ceil(span / s) + 1;
  if ((ceilOut - 1) * s >= size + before) ceilOut--;
  return ceilOut > floorOut ? (ceilOut - 1) * s + k - (size + before + after) : 0;
}

/** `padding` grown for ceil_mode=1 (bottom and right only; zero growth leaves it as it is). */
function withCeilMode(op: Op, src: ActValue, c: Converter, padding: Padding, window: [number, number], strides: [number, number]): { padding: Padding; grew: boolean } {
  if (op.attrs.int('ceil_mode', 0) === 0 || padding === 'same') return { padding, grew: false };
  const [, h, w] = c.irShape(src);
  if (h === null || w === null) throw new ShapeError(`ceil_mode=1 needs the input height and width, got ${formatShape(c.onnxShape(src))}`);
  const [pt, pb, pl, pr] = padding === 'valid' ? [0, 0, 0, 0] : padding;
  const eh = ceilModeExtra(h, pt, pb, window[0], strides[0]);
  const ew = ceilModeExtra(w, pl, pr, window[1], strides[1]);
  if (eh === 0 && ew === 0) return { padding, grew: false };
  return { padding: [pt, pb + eh, pl, pr + ew], grew: true };
}

const maxPool: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides']);
  c.onlyFirstOutput(op);
  const x = c.act(op, 0);
  const { src, oneD } = spatialInput(c, op, x);
  const dilations = pair(spatialInts(op, 'dilations', oneD), 'dilations', [1, 1]);
  if (dilations[0] !== 1 || dilations[1] !== 1) {
    throw new UnsupportedOpError(`MaxPool dilations=[${op.attrs.ints('dilations', []).join(', ')}]`, op.name, ['MaxPool with dilations 1']);
  }
  const poolSize = pair(spatialInts(op, 'kernel_shape', oneD), 'kernel_shape', [0, 0]);
  const strides = pair(spatialInts(op, 'strides', oneD), 'strides', [1, 1]);
  const [, h, w] = c.irShape(src);
  // Padded positions never win a max, so ceil_mode's overhanging windows are extra padding.
  const { padding } = withCeilMode(op, src, c, windowPadding(op, spatialPads(op, oneD), h, w, poolSize, strides, [1, 1], ZERO_PADS), poolSize, strides);
  c.setOutput(op, 0, spatialOutput(c, c.addNode('maxPool', op.name, [src.ir], { poolSize, strides, padding }), oneD, op.name));
};

const averagePool: Handler = (c, op) => {
  op.attrs.allowOnly(['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides', ...(c.opset >= 19 ? ['dilations'] : [])]);
  const x = c.act(op, 0, true);
  const { src, oneD } = spatialInput(c, op, x);
  const dilations = spatialInts(op, 'dilations', oneD);
  if (dilations.some((d) => d !== 1)) {
    throw new UnsupportedOpError(`AveragePool dilations=[${op.attrs.ints('dilations', []).join(', ')}]`, op.name, ['AveragePool with dilations 1']);
  }
  const poolSize = pair(spatialInts(op, 'kernel_shape', oneD), 'kernel_shape', [0, 0]);
  const strides = pair(spatialInts(op, 'strides', oneD), 'strides', [1, 1]);
  const pads = spatialPads(op, oneD);
  let countIncludePad = op.attrs.int('count_include_pad', 0) === 1;
  const prePad = x.pad ?? ZERO_PADS;
  const [, h, w] = c.irShape(src);
  if (!isZeroPads(prePad)) {
    // Pad's zeros are real pixels to AveragePool: they count in the divisor.
    const own = windowPadding(op, pads, h, w, poolSize, strides, [1, 1], ZERO_PADS);
    if (own !== 'valid' && !countIncludePad) {
      throw new UnsupportedOpError('Pad followed by AveragePool with its own padding and count_include_pad=0', op.name, [
        'Pad followed by AveragePool without padding, or with count_include_pad=1',
      ]);
    }
    countIncludePad = true;
  }
  const base = windowPadding(op, pads, h, w, poolSize, strides, [1, 1], prePad);
  const { padding, grew } = withCeilMode(op, src, c, base, poolSize, strides);
  if (grew && countIncludePad && base !== 'valid') {
    // Windows overhanging the padded input divide by their part inside it: neither divisor the IR has.
    throw new UnsupportedOpError(`AveragePool with ceil_mode=1, padding and count_include_pad=1 on input ${formatShape(c.onnxShape(x))}`, op.name, [
      'AveragePool with ceil_mode=0, or ceil_mode=1 with count_include_pad=0 or no padding, or where ceil_mode gives the same output size',
    ]);
  }
  // With no padding of its own, an overhanging window divides by its real pixels.
  const attrs = { poolSize, strides, padding, countIncludePad: countIncludePad && !grew };
  c.setOutput(op, 0, spatialOutput(c, c.addNode('avgPool', op.name, [src.ir], attrs), oneD, op.name));
};

/** Mean (or max) over every axis after the channels, kept as size-1 axes: GlobalAveragePool / GlobalMaxPool. */
function globalPool(kind: 'mean' | 'max'): Handler {
  return (c, op) => {
    op.attrs.allowOnly([]);
    const x = c.act(op, 0);
    const rank = x.axes.length;
    if (kind === 'mean' && rank === 4) {
      const src = image(c, op, x);
      // [N, C] in the IR; ONNX's [N, C, 1, 1] keeps its two size-1 axes only in the axis map.
      c.setOutput(op, 0, { kind: 'act', ir: c.addNode('globalAvgPool', op.name, [src.ir], { keepDims: false }), axes: [0, 1, null, null] });
      return;
    }
    if (rank < 3 || batchAxisOf(x.axes) !== 0) {
      throw new UnsupportedOpError(`${op.type} on input ${formatShape(c.onnxShape(x))}`, op.name, [`${op.type} on [N, C, spatial...] inputs`]);
    }
    c.setOutput(op, 0, reduceAct(c, x, identityAxes(rank).slice(2), true, kind, op.name));
  };
}

const globalAveragePool = globalPool('mean');
const globalMaxPool = globalPool('max');

/**
 * `x` reduced over ONNX `axes` (non-batch): size-1 axes the IR lacks reduce to
 * themselves; the rest become one IR `reduce`. With `keepDims` the reduced axes stay
 * (size 1) in the IR; without, they leave the axis map.
 */
export function reduceAct(c: Converter, x: ActValue, axes: readonly number[], keepDims: boolean, kind: OpAttrs['reduce']['kind'], label: string): ActValue {
  const batch = batchAxisOf(x.axes);
  if (axes.includes(batch)) throw new UnsupportedOpError(`reduction over the batch axis of ${formatShape(c.onnxShape(x))}`, label, ['reductions over non-batch axes']);
  const irAxes = axes.flatMap((a) => (x.axes[a] === null ? [] : [x.axes[a] as number])).sort((p, q) => p - q);
  if (irAxes.length === 0) return keepDims ? x : { ...x, axes: x.axes.filter((_, i) => !axes.includes(i)) };
  const ir = c.addNode('reduce', label, [x.ir], { kind, axes: irAxes, keepDims });
  if (keepDims) return { kind: 'act', ir, axes: x.axes };
  const kept = x.axes.filter((_, i) => !axes.includes(i));
  return { kind: 'act', ir, axes: kept.map((a) => (a === null ? null : a - irAxes.filter((r) => r < a).length)) };
}

const batchNormalization: Handler = (c, op) => {
  op.attrs.allowOnly(['epsilon', 'momentum', 'training_mode']);
  if (op.attrs.int('training_mode', 0) !== 0) {
    throw new UnsupportedOpError('BatchNormalization with training_mode=1', op.name, ['BatchNormalization in inference mode']);
  }
  c.onlyFirstOutput(op);
  const x = c.act(op, 0);
  if (x.axes.length < 2 || batchAxisOf(x.axes) !== 0) {
    throw new ShapeError(`input ${formatShape(c.onnxShape(x))}: expected [N, C, ...] with the batch first`);
  }
  const channels = c.onnxShape(x)[1];
  const vec = (i: number, what: string): ConstTensor => {
    const t = c.floatConst(op, i, what);
    if (t.dims.length !== 1 || t.dims[0] !== channels) {
      throw new ShapeError(`${what} '${op.node.input[i]}' has dims [${t.dims.join(', ')}], expected [${channels}] (the channels of ${formatShape(c.onnxShape(x))})`);
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
  const x = c.act(op, 0, false, true);
  const rank = x.axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', c.opset < 13 ? 1 : -1), rank);
  if (axis <= batchAxisOf(x.axes)) {
    throw new UnsupportedOpError(`Softmax with axis=${axis} over the batch`, op.name, ['Softmax over non-batch axes']);
  }
  const shape = c.onnxShape(x);
  const coerced = c.opset < 13 && shape.slice(axis + 1).some((d) => d !== 1);
  if (x.merged) {
    if (coerced) throw mergedRefusal('Softmax (opset < 13) over several axes', op.name);
    c.setOutput(op, 0, { ...x, ir: c.addNode('softmax', op.name, [x.ir], { axis: singleAtom(x, axis, op) }) });
    return;
  }
  if (!coerced) {
    const src = x.axes[axis] === null ? c.arrange(x, identityAxes(rank), op.name) : x;
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode('softmax', op.name, [src.ir], { axis: src.axes[axis] as number }), axes: src.axes });
    return;
  }
  // Before opset 13, Softmax normalises over all axes from `axis` on, as one flattened axis.
  if (batchAxisOf(x.axes) !== 0) throw new UnsupportedOpError('Softmax (opset < 13) of a tensor whose batch is not first', op.name, ['Softmax of a batch-first tensor']);
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
  const rank = x.axes.length;
  let pads = c.intConst(op, 1, 'pads').data;
  const value = c.optionalInput(op, 2);
  if (value && !(value.kind === 'const' && isAllZero(value.tensor))) {
    throw new UnsupportedOpError('Pad with a non-zero constant_value', op.name, ['Pad with constant_value 0']);
  }
  if (op.node.input[3]) {
    // Opset 18: pads [begin of each listed axis..., end of each...] for the `axes` input only.
    const axes = c.intConst(op, 3, 'axes').data.map((a) => normaliseAxis(a, rank));
    if (pads.length !== 2 * axes.length) throw new ShapeError(`pads has ${pads.length} entries, expected ${2 * axes.length} for axes [${axes.join(', ')}]`);
    const full = new Array<number>(2 * rank).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i];
      full[rank + a] = pads[axes.length + i];
    });
    pads = full;
  }
  if (pads.length !== 2 * rank) throw new ShapeError(`pads has ${pads.length} entries, expected ${2 * rank} for a rank-${rank} input`);
  if (pads.every((p) => p === 0)) {
    c.setOutput(op, 0, x);
    return;
  }
  const image2d = rank === 4 && [0, 1, 4, 5].every((i) => pads[i] === 0);
  const sequence1d = rank === 3 && [0, 1, 3, 4].every((i) => pads[i] === 0);
  if (!(image2d || sequence1d) || pads.some((p) => p < 0)) {
    throw new UnsupportedOpError(`Pad with pads [${pads.join(', ')}]`, op.name, ['Pad of H and W of an NCHW image (or L of an NCL sequence) by non-negative amounts']);
  }
  const before = x.pad ?? ZERO_PADS;
  // [top, bottom, left, right]; a sequence's length is an image's width.
  const total: Pads = image2d
    ? [before[0] + pads[2], before[1] + pads[6], before[2] + pads[3], before[3] + pads[7]]
    : [before[0], before[1], before[2] + pads[2], before[3] + pads[5]];
  c.setOutput(op, 0, { ...x, pad: total });
};

/**
 * The handlers of this file, by ONNX op type; `handlers.ts` joins them with the
 * elementwise and recurrent ones into the frontend's table.
 */
export const BASE_ONNX_HANDLERS: Readonly<Record<string, Handler>> = {
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
  GlobalMaxPool: globalMaxPool,
  Identity: identity,
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
