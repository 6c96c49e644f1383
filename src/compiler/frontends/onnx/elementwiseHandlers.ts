/**
 * ONNX handlers for element-wise arithmetic and activations (Sub, Mul, Div, Pow,
 * Sqrt, Erf, Clip, Gelu, HardSigmoid, …), normalisations and reductions
 * (LayerNormalization, ReduceMean, …), slicing (Slice, Split) and the shape
 * arithmetic exporters emit around them (Shape, Cast). Arithmetic on constants is
 * folded (`constFold.ts`); on activations it becomes IR nodes, all digital.
 */
import { DataError, ShapeError, UnsupportedOpError } from '../../../errors';
import type { ConstTensor, OpAttrs } from '../../ir/ops';
import { formatShape } from '../../ir/shapes';
import type { ActValue, ConstValue, Converter, Handler, Op, Value } from './converter';
import { mergedRefusal } from './converter';
import type { ArithKind } from './constFold';
import { BATCH_DERIVED, BATCH_SIZE, broadcastDims, dependsOnBatch, expandFloat, foldArith, foldUnary, sliceBounds, takeAlong } from './constFold';
import { batchAxisOf, sameAxes } from './layout';
import type { FloatTensor, HostTensor } from './onnxTensor';
import { constantForAdd, normaliseAxis, reduceAct, sliceAct } from './opHandlers';

function outName(op: Op): string {
  return op.node.output[0] ?? op.name;
}

/** The arrangement holding every ONNX axis of a rank-`rank` value as an IR axis: the batch first, the rest in ONNX order. */
function allAxesHeld(batch: number, rank: number): number[] {
  let next = 1;
  return Array.from({ length: rank }, (_, i) => (i === batch ? 0 : next++));
}

/**
 * Two activations arranged alike for a NumPy-broadcast element-wise op: equal ranks,
 * each axis equal or 1 in one of them. They take the arrangement of an operand that
 * holds every axis and has the output's shape (so an NHWC image times a per-channel
 * `[N, C, 1, 1]` gate stays NHWC), else batch-first ONNX order.
 */
function broadcastPair(c: Converter, op: Op, a: ActValue, b: ActValue): [ActValue, ActValue] {
  const sa = c.onnxShape(a);
  const sb = c.onnxShape(b);
  if (sa.length !== sb.length) {
    throw new UnsupportedOpError(`${op.type} of activations of ranks ${sa.length} and ${sb.length}`, op.name, [`${op.type} of activations of equal rank`]);
  }
  const batch = batchAxisOf(a.axes);
  if (batchAxisOf(b.axes) !== batch) {
    throw new UnsupportedOpError(`${op.type} of ${formatShape(sa)} and ${formatShape(sb)} with the batch on different axes`, op.name, [`${op.type} of activations with the batch on the same axis`]);
  }
  sa.forEach((d, i) => {
    if (i !== batch && d !== sb[i] && d !== 1 && sb[i] !== 1) throw new ShapeError(`inputs ${formatShape(sa)} and ${formatShape(sb)} do not broadcast (axis ${i})`);
  });
  if (sameAxes(a.axes, b.axes) && sa.every((d, i) => d === sb[i])) return [a, b];
  const out = sa.map((d, i) => (d === 1 ? sb[i] : d));
  const fits = (v: ActValue, s: readonly (number | null)[]) => v.axes.every((x) => x !== null) && s.every((d, i) => d === out[i]);
  const target = fits(a, sa) ? a.axes : fits(b, sb) ? b.axes : allAxesHeld(batch, sa.length);
  return [c.arrange(a, target, op.name), c.arrange(b, target, op.name)];
}

function floatOf(c: Converter, op: Op, t: HostTensor): FloatTensor {
  if (t.kind !== 'float') throw new DataError(c.file, `node '${op.name}' (${op.type}): constant '${t.name}' is an integer tensor, expected FLOAT`);
  return t;
}

/** A one-element float constant's value, or undefined. */
function scalarOf(v: Value): number | undefined {
  return v.kind === 'const' && v.tensor.kind === 'float' && v.tensor.data.length === 1 ? v.tensor.data[0] : undefined;
}

/** Sub, Mul, Div, Pow: folded on constants, an IR node on activations. */
function arithmetic(kind: Exclude<ArithKind, 'add'>): Handler {
  return (c, op) => {
    op.attrs.allowOnly([]);
    const a = c.input(op, 0);
    const b = c.input(op, 1);
    if (a.kind === 'const' && b.kind === 'const') {
      c.setOutput(op, 0, { kind: 'const', tensor: foldArith(kind, a.tensor, b.tensor, outName(op)) });
      return;
    }
    if (kind === 'pow') {
      // The exponent may be an integer tensor (ONNX allows it for Pow).
      const exponent = b.kind === 'const' && b.tensor.kind === 'int' && b.tensor.data.length === 1 && Number.isFinite(b.tensor.data[0]) ? b.tensor.data[0] : scalarOf(b);
      if (a.kind !== 'act' || exponent === undefined) {
        throw new UnsupportedOpError(a.kind === 'const' ? 'Pow of a constant base' : 'Pow with a computed or non-scalar exponent', op.name, [
          'Pow of an activation by a constant scalar exponent',
        ]);
      }
      const x = c.act(op, 0);
      c.setOutput(op, 0, { kind: 'act', ir: c.addNode('pow', op.name, [x.ir], { exponent }), axes: x.axes });
      return;
    }
    if (a.kind === 'act' && b.kind === 'act') {
      const [x, y] = broadcastPair(c, op, c.act(op, 0), c.act(op, 1));
      c.setOutput(op, 0, { kind: 'act', ir: c.addNode(kind, op.name, [x.ir, y.ir], {}), axes: x.axes });
      return;
    }
    const constantFirst = a.kind === 'const';
    const x = c.act(op, constantFirst ? 1 : 0, false, true);
    const t = floatOf(c, op, ((constantFirst ? a : b) as ConstValue).tensor);
    // A merged value (attention's batch × heads) takes scalars only: their layout cannot matter.
    if (x.merged && t.data.length !== 1) throw mergedRefusal(`${op.type} by a non-scalar constant`, op.name);
    const constant = x.merged ? { shape: [1], data: Float32Array.from(t.data) } : constantForAdd(c, x, t);
    const attrs: OpAttrs['mul'] = constantFirst && kind !== 'mul' ? { constant, constantFirst: true } : { constant };
    c.setOutput(op, 0, { kind: 'act', ir: c.addNode(kind, op.name, [x.ir], attrs), axes: x.axes, ...(x.merged ? { merged: x.merged } : {}) });
  };
}

/** An element-wise function: folded on constants (`fold`), an IR node on activations. */
function unary(build: (c: Converter, op: Op, x: ActValue) => string, fold?: (x: number) => number): Handler {
  return (c, op) => {
    const x = c.input(op, 0);
    if (x.kind === 'const') {
      if (!fold) throw new UnsupportedOpError(`${op.type} of a constant`, op.name, [`${op.type} of a computed input`]);
      c.setOutput(op, 0, { kind: 'const', tensor: foldUnary(x.tensor, fold, op.type, outName(op)) });
      return;
    }
    const v = c.act(op, 0);
    c.setOutput(op, 0, { kind: 'act', ir: build(c, op, v), axes: v.axes });
  };
}

const scalarConst = (v: number): ConstTensor => ({ shape: [1], data: Float32Array.of(v) });

const sqrt = unary((c, op, x) => {
  op.attrs.allowOnly([]);
  return c.addNode('sqrt', op.name, [x.ir], {});
}, Math.sqrt);

/** JavaScript has no erf to fold with, so Erf of a constant is refused (exporters never emit one). */
const erf = unary((c, op, x) => {
  op.attrs.allowOnly([]);
  return c.addNode('erf', op.name, [x.ir], {});
});

const neg = unary(
  (c, op, x) => {
    op.attrs.allowOnly([]);
    return c.addNode('mul', op.name, [x.ir], { constant: scalarConst(-1) });
  },
  (v) => -v,
);

const reciprocal = unary(
  (c, op, x) => {
    op.attrs.allowOnly([]);
    return c.addNode('div', op.name, [x.ir], { constant: scalarConst(1), constantFirst: true });
  },
  (v) => 1 / v,
);

const hardSigmoid = unary((c, op, x) => {
  op.attrs.allowOnly(['alpha', 'beta']);
  return c.addNode('hardSigmoid', op.name, [x.ir], { alpha: op.attrs.float('alpha', 0.2), beta: op.attrs.float('beta', 0.5) });
});

/** HardSwish(x) = x · HardSigmoid(x) with alpha 1/6, beta 0.5 (MobileNetV3). */
const hardSwish = unary((c, op, x) => {
  op.attrs.allowOnly([]);
  const gate = c.addNode('hardSigmoid', `${op.name}/gate`, [x.ir], { alpha: 1 / 6, beta: 0.5 });
  return c.addNode('mul', op.name, [x.ir, gate], {});
});

/** Gelu (opset 20). */
const gelu = unary((c, op, x) => {
  op.attrs.allowOnly(['approximate']);
  const approximate = op.attrs.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new UnsupportedOpError(`Gelu approximate=${approximate}`, op.name, ['Gelu with approximate none or tanh']);
  }
  return c.addNode('gelu', op.name, [x.ir], { approximate });
});

const clip: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  const bound = (i: number, what: string): number | undefined => {
    const v = c.optionalInput(op, i);
    if (!v) return undefined;
    const s = scalarOf(v);
    if (s === undefined) throw new UnsupportedOpError(`Clip with a computed or non-scalar ${what}`, op.name, [`Clip with a constant scalar ${what}`]);
    return s;
  };
  const min = bound(1, 'min');
  const max = bound(2, 'max');
  const x = c.act(op, 0);
  const attrs = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('clip', op.name, [x.ir], attrs), axes: x.axes });
};

/** ONNX data types a Cast may target: FLOAT (and wider/narrower floats, run as float32) and integers. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

const cast: Handler = (c, op) => {
  op.attrs.allowOnly(c.opset >= 19 ? ['to', 'saturate'] : ['to']);
  const to = op.attrs.int('to', 0);
  const x = c.input(op, 0);
  if (x.kind === 'act') {
    if (to !== 1) throw new UnsupportedOpError(`Cast of an activation to data type ${to}`, op.name, ['Cast of an activation to FLOAT']);
    c.setOutput(op, 0, x);
    return;
  }
  const t = x.tensor;
  const name = outName(op);
  if (FLOAT_TYPES.has(to)) {
    if (t.kind === 'float') {
      c.setOutput(op, 0, { kind: 'const', tensor: { ...t, name } });
      return;
    }
    if (t.data.some(dependsOnBatch)) {
      throw new UnsupportedOpError('Cast of a size computed from the batch size to a float', op.name, ['Cast of constant sizes']);
    }
    c.setOutput(op, 0, { kind: 'const', tensor: { kind: 'float', name, dims: t.dims, data: Float32Array.from(t.data) } });
    return;
  }
  if (!INT_TYPES.has(to)) throw new UnsupportedOpError(`Cast to data type ${to}`, op.name, ['Cast to FLOAT, DOUBLE or an integer type']);
  const data = t.kind === 'float' ? Array.from(t.data, (v) => (to === 9 ? (v !== 0 ? 1 : 0) : Math.trunc(v))) : t.data.map((v) => (to === 9 && Number.isFinite(v) ? (v !== 0 ? 1 : 0) : v));
  c.setOutput(op, 0, { kind: 'const', tensor: { kind: 'int', name, dims: t.dims, data } });
};

/** Shape: the sizes as an integer constant, {@link BATCH_SIZE} at the batch axis. */
const shape: Handler = (c, op) => {
  op.attrs.allowOnly(c.opset >= 15 ? ['start', 'end'] : []);
  const x = c.input(op, 0);
  let dims: number[];
  if (x.kind === 'const') {
    dims = [...x.tensor.dims];
  } else {
    const v = c.act(op, 0, false, true); // a pending Pad would change the sizes: refused by act
    const batch = batchAxisOf(v.axes);
    dims = c.onnxShape(v).map((d, i) => {
      if (i === batch) return v.merged && v.merged[i].length > 1 ? BATCH_DERIVED : BATCH_SIZE;
      if (d === null) throw new UnsupportedOpError(`Shape of ${formatShape(c.onnxShape(v))} with an unknown non-batch size`, op.name, ['Shape of inputs of known size']);
      return d;
    });
  }
  const [start, end] = sliceBounds(op.attrs.int('start', 0), op.attrs.int('end', dims.length), dims.length);
  c.setOutput(op, 0, { kind: 'const', tensor: { kind: 'int', name: outName(op), dims: [Math.max(end - start, 0)], data: dims.slice(start, end) } });
};

/** A Slice's [start, end) per axis, or a refusal for what the IR cannot slice. */
function sliceOne(c: Converter, op: Op, v: ActValue, axis: number, start: number, end: number): ActValue {
  if (dependsOnBatch(start) || dependsOnBatch(end)) {
    throw new UnsupportedOpError('Slice with bounds computed from the batch size', op.name, ['Slice with constant bounds']);
  }
  const size = c.onnxShape(v)[axis];
  if (axis === batchAxisOf(v.axes)) {
    // Only "all of it" is known to be all of a batch of any size.
    if (start === 0 && end >= 2 ** 31 - 1) return v;
    throw new UnsupportedOpError('Slice of the batch axis', op.name, ['Slice of non-batch axes']);
  }
  const [s, e] = sliceBounds(start, end, size as number);
  if (s >= e) throw new UnsupportedOpError(`Slice [${start}, ${end}) of axis ${axis} of ${formatShape(c.onnxShape(v))}: empty`, op.name, ['Slice with a non-empty result']);
  if (v.axes[axis] === null) return v;
  return sliceAct(c, v, axis, s, e, op.name);
}

const slice: Handler = (c, op) => {
  op.attrs.allowOnly([]);
  const x = c.input(op, 0);
  const rank = x.kind === 'const' ? x.tensor.dims.length : x.axes.length;
  const starts = c.intConst(op, 1, 'starts').data;
  const ends = c.intConst(op, 2, 'ends').data;
  const axes = op.node.input[3] ? c.intConst(op, 3, 'axes').data.map((a) => normaliseAxis(a, rank)) : starts.map((_, i) => i);
  const steps = op.node.input[4] ? c.intConst(op, 4, 'steps').data : starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new ShapeError(`starts, ends, axes and steps have ${starts.length}, ${ends.length}, ${axes.length} and ${steps.length} entries`);
  }
  if (steps.some((s) => s !== 1)) throw new UnsupportedOpError(`Slice with steps [${steps.join(', ')}]`, op.name, ['Slice with steps 1']);
  if (x.kind === 'const') {
    let t = x.tensor;
    axes.forEach((axis, i) => {
      if (dependsOnBatch(starts[i]) || dependsOnBatch(ends[i])) throw new UnsupportedOpError('Slice with bounds computed from the batch size', op.name, ['Slice with constant bounds']);
      const [s, e] = sliceBounds(starts[i], ends[i], t.dims[axis]);
      t = takeAlong(t, axis, Array.from({ length: Math.max(e - s, 0) }, (_, k) => s + k), outName(op));
    });
    c.setOutput(op, 0, { kind: 'const', tensor: t });
    return;
  }
  let v = c.act(op, 0);
  axes.forEach((axis, i) => {
    v = sliceOne(c, op, v, axis, starts[i], ends[i]);
  });
  c.setOutput(op, 0, v);
};

const split: Handler = (c, op) => {
  op.attrs.allowOnly(c.opset < 13 ? ['axis', 'split'] : c.opset < 18 ? ['axis'] : ['axis', 'num_outputs']);
  const x = c.input(op, 0);
  const dims = x.kind === 'const' ? x.tensor.dims : c.onnxShape(c.act(op, 0));
  const axis = normaliseAxis(op.attrs.int('axis', 0), dims.length);
  const size = dims[axis];
  if (size === null || (x.kind === 'act' && axis === batchAxisOf(x.axes))) {
    throw new UnsupportedOpError('Split of the batch axis', op.name, ['Split of a non-batch axis']);
  }
  const outputs = op.node.output.length;
  let sizes: number[];
  if (c.opset < 13 && op.attrs.has('split')) sizes = op.attrs.ints('split', []);
  else if (c.opset >= 13 && op.node.input[1]) sizes = [...c.intConst(op, 1, 'split').data];
  else if (op.attrs.has('num_outputs')) {
    // Opset 18: ceil(size / n) each, the last one smaller.
    const n = op.attrs.int('num_outputs', outputs);
    const each = Math.ceil(size / n);
    sizes = Array.from({ length: n }, (_, i) => Math.min(each, size - i * each));
  } else {
    if (size % outputs !== 0) throw new ShapeError(`cannot split axis ${axis} of size ${size} into ${outputs} equal parts`);
    sizes = new Array<number>(outputs).fill(size / outputs);
  }
  if (sizes.length !== outputs || sizes.some((s) => !Number.isInteger(s) || s < 1) || sizes.reduce((a, b) => a + b, 0) !== size) {
    throw new ShapeError(`split sizes [${sizes.join(', ')}] do not divide axis ${axis} of size ${size} into ${outputs} outputs`);
  }
  let start = 0;
  sizes.forEach((n, i) => {
    const name = op.node.output[i];
    const [s, e] = [start, start + n];
    start = e;
    if (!name) return;
    if (x.kind === 'const') {
      c.setValue(name, { kind: 'const', tensor: takeAlong(x.tensor, axis, Array.from({ length: n }, (_, k) => s + k), name) });
    } else if (c.used(name)) {
      const v = c.act(op, 0);
      c.setValue(name, v.axes[axis] === null ? v : sliceAct(c, v, axis, s, e, `${op.name}/${i}`));
    }
  });
};

function reduce(kind: OpAttrs['reduce']['kind']): Handler {
  return (c, op) => {
    const axesAsInput = c.opset >= 18 || (kind === 'sum' && c.opset >= 13);
    op.attrs.allowOnly(axesAsInput ? ['keepdims', 'noop_with_empty_axes'] : ['axes', 'keepdims']);
    const keepDims = op.attrs.int('keepdims', 1) === 1;
    let axes: number[] = [];
    if (axesAsInput && op.node.input[1]) axes = [...c.intConst(op, 1, 'axes').data];
    else if (!axesAsInput) axes = op.attrs.ints('axes', []);
    if (c.input(op, 0).kind === 'const') throw new UnsupportedOpError(`${op.type} of a constant`, op.name, [`${op.type} of a computed input`]);
    const x = c.act(op, 0);
    const rank = x.axes.length;
    if (axes.length === 0) {
      if (axesAsInput && op.attrs.int('noop_with_empty_axes', 0) === 1) {
        c.setOutput(op, 0, x);
        return;
      }
      throw new UnsupportedOpError(`${op.type} over every axis, the batch included`, op.name, [`${op.type} over non-batch axes`]);
    }
    const normalised = [...new Set(axes.map((a) => normaliseAxis(a, rank)))].sort((p, q) => p - q);
    c.setOutput(op, 0, reduceAct(c, x, normalised, keepDims, kind, op.name));
  };
}

/** LayerNormalization (opset 17): over ONNX axes [axis, rank), which must not hold the batch. */
const layerNormalization: Handler = (c, op) => {
  op.attrs.allowOnly(['axis', 'epsilon', 'stash_type']);
  if (op.attrs.int('stash_type', 1) !== 1) {
    throw new UnsupportedOpError(`LayerNormalization stash_type=${op.attrs.int('stash_type', 1)}`, op.name, ['LayerNormalization with stash_type 1 (float32)']);
  }
  c.onlyFirstOutput(op);
  const x = c.act(op, 0);
  const rank = x.axes.length;
  const axis = normaliseAxis(op.attrs.int('axis', -1), rank);
  const shapeIn = c.onnxShape(x);
  if (batchAxisOf(x.axes) >= axis) {
    throw new UnsupportedOpError(`LayerNormalization over axes [${axis}, ${rank}) of ${formatShape(shapeIn)}, the batch among them`, op.name, [
      'LayerNormalization over axes after the batch',
    ]);
  }
  const normDims = shapeIn.slice(axis) as number[];
  const param = (i: number, what: string): ConstTensor | undefined => {
    if (!op.node.input[i]) return undefined;
    const t = c.floatConst(op, i, what);
    const b = broadcastDims(t.dims, normDims, what);
    if (b.length !== normDims.length || b.some((d, k) => d !== normDims[k])) {
      throw new ShapeError(`${what} '${t.name}' of dims [${t.dims.join(', ')}] does not broadcast to the normalised dims [${normDims.join(', ')}]`);
    }
    return { shape: normDims, data: expandFloat(t, normDims) };
  };
  const gamma = param(1, 'scale')!;
  if (!gamma) throw new DataError(c.file, `node '${op.name}' (LayerNormalization) lacks its required input 1 (Scale)`);
  const beta = param(2, 'bias');
  // The leading axes keep their IR order; the normalised ones become the last IR axes, in ONNX order.
  const leadingIr = x.axes.slice(0, axis).filter((a): a is number => a !== null).sort((p, q) => p - q);
  const renumber = new Map(leadingIr.map((a, k) => [a, k]));
  const target = x.axes.map((a, i) => (i < axis ? (a === null ? null : renumber.get(a)!) : leadingIr.length + i - axis));
  const src = c.arrange(x, target, op.name);
  const attrs: OpAttrs['layerNorm'] = { axis: leadingIr.length, gamma, ...(beta ? { beta } : {}), epsilon: op.attrs.float('epsilon', 1e-5) };
  c.setOutput(op, 0, { kind: 'act', ir: c.addNode('layerNorm', op.name, [src.ir], attrs), axes: src.axes });
};

/** Handlers of this file, by ONNX op type. */
export const ELEMENTWISE_ONNX_HANDLERS: Readonly<Record<string, Handler>> = {
  Cast: cast,
  Clip: clip,
  Div: arithmetic('div'),
  Erf: erf,
  Gelu: gelu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  LayerNormalization: layerNormalization,
  Mul: arithmetic('mul'),
  Neg: neg,
  Pow: arithmetic('pow'),
  Reciprocal: reciprocal,
  ReduceMax: reduce('max'),
  ReduceMean: reduce('mean'),
  ReduceMin: reduce('min'),
  ReduceSum: reduce('sum'),
  Shape: shape,
  Slice: slice,
  Split: split,
  Sqrt: sqrt,
  Sub: arithmetic('sub'),
};
