/**
 * ONNX LSTM and GRU: forward, reverse and bidirectional, one IR `lstm` / `gru` node
 * per direction (analog), with zero initial state and full-length sequences.
 *
 * Outputs: `Y` is `[seq, directions, batch, hidden]`, `Y_h` is `[directions, batch,
 * hidden]`. One direction's Y is the IR's `[batch, seq, hidden]` (the direction axis
 * exists only in the axis map); two directions are concatenated on the hidden axis
 * and split back into `[batch, seq, 2, hidden]` by a reshape. When both Y and Y_h are
 * read, Y_h is the sequence's last processed step (the first step of a reverse
 * direction), sliced from Y rather than computed twice.
 */
import { ShapeError, UnsupportedOpError } from '../../../errors';
import type { GateActivation, OpAttrs } from '../../ir/ops';
import { formatShape } from '../../ir/shapes';
import type { ActValue, Converter, Handler, Op } from './converter';
import type { FloatTensor } from './onnxTensor';
import { isAllZero } from './onnxTensor';
import { dropUnitAxis, sliceAct } from './opHandlers';
import { directionOf, gruWeightsFromOnnx, lstmWeightsFromOnnx } from './weights';

type Kind = 'LSTM' | 'GRU';

interface Common {
  readonly directions: 1 | 2;
  /** Per direction: whether it reads the sequence backwards. */
  readonly reverse: readonly boolean[];
  readonly hidden: number;
  readonly gate: GateActivation;
  readonly w: FloatTensor;
  readonly r: FloatTensor;
  readonly b: FloatTensor | undefined;
  /** The input as the IR's `[batch, seq, features]`. */
  readonly src: ActValue;
  readonly needY: boolean;
  readonly needYh: boolean;
}

/** What LSTM and GRU share: direction, activations, layout, initial state, weight shapes. */
function common(c: Converter, op: Op, kind: Kind): Common {
  const gates = kind === 'LSTM' ? 4 : 3;
  const perDirection = kind === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
  const direction = op.attrs.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw new UnsupportedOpError(`${kind} direction=${direction}`, op.name, [`${kind} with direction forward, reverse or bidirectional`]);
  }
  const directions = direction === 'bidirectional' ? 2 : 1;
  if (op.attrs.int('layout', 0) !== 0) throw new UnsupportedOpError(`${kind} layout=${op.attrs.int('layout', 0)}`, op.name, [`${kind} with layout=0`]);
  const activations = op.attrs.strings('activations', Array.from({ length: directions }, () => perDirection).flat());
  // The gate activation may be HardSigmoid (at ONNX's default alpha 0.2, beta 0.5: tfjs's); the others are Tanh.
  const gateActs = new Set(activations.filter((_, i) => i % perDirection.length === 0));
  const others = activations.filter((_, i) => i % perDirection.length !== 0);
  const alphas = op.attrs.floats('activation_alpha', []);
  const betas = op.attrs.floats('activation_beta', []);
  const defaultsOnly = alphas.every((a) => Math.abs(a - 0.2) < 1e-7) && betas.every((b) => Math.abs(b - 0.5) < 1e-7);
  if (
    activations.length !== perDirection.length * directions ||
    gateActs.size !== 1 ||
    !(gateActs.has('Sigmoid') || (gateActs.has('HardSigmoid') && defaultsOnly)) ||
    others.some((a) => a !== 'Tanh') ||
    (gateActs.has('Sigmoid') && (alphas.length > 0 || betas.length > 0))
  ) {
    throw new UnsupportedOpError(`${kind} activations=[${activations.join(', ')}]`, op.name, [
      `${kind} with activations ${perDirection.join(', ')} (or HardSigmoid with alpha 0.2, beta 0.5 for the gates) per direction`,
    ]);
  }
  if (op.node.input[4]) throw new UnsupportedOpError(`${kind} with sequence_lens`, op.name, [`${kind} without sequence_lens (all sequences full length)`]);
  const states: [number, string][] = kind === 'LSTM' ? [[5, 'initial_h'], [6, 'initial_c']] : [[5, 'initial_h']];
  for (const [i, what] of states) {
    const name = op.node.input[i];
    if (name && !c.isZeroState(name)) throw new UnsupportedOpError(`${kind} with a non-zero ${what}`, op.name, [`${kind} whose ${what} is absent or all zeros`]);
  }
  const w = c.floatConst(op, 1, 'W');
  const r = c.floatConst(op, 2, 'R');
  const b = op.node.input[3] ? c.floatConst(op, 3, 'B') : undefined;
  const hidden = op.attrs.int('hidden_size', w.dims[1] / gates);
  const x = c.act(op, 0);
  if (x.axes.length !== 3 || x.axes[1] !== 0) throw new ShapeError(`input ${formatShape(c.onnxShape(x))}: expected [seq, batch, features]`);
  const features = c.onnxShape(x)[2];
  const expect = (t: FloatTensor, dims: number[], what: string) => {
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new ShapeError(`${what} has dims [${t.dims.join(', ')}], expected [${dims.join(', ')}] (hidden_size ${hidden}, ${features} features, ${directions} direction(s))`);
    }
  };
  expect(w, [directions, gates * hidden, features ?? -1], 'W');
  expect(r, [directions, gates * hidden, hidden], 'R');
  if (b) expect(b, [directions, 2 * gates * hidden], 'B');
  const outputs = op.node.output;
  if (kind === 'LSTM' && c.used(outputs[2])) throw new UnsupportedOpError('LSTM output Y_c (final cell state)', op.name, ['LSTM with Y or Y_h used']);
  return {
    directions,
    reverse: directions === 2 ? [false, true] : [direction === 'reverse'],
    hidden,
    gate: gateActs.has('HardSigmoid') ? 'hardSigmoid' : 'sigmoid',
    w,
    r,
    b,
    // ONNX's [seq, batch, features] is the IR's [batch, seq, features] with the first two axes swapped.
    src: c.arrange(x, [1, 0, 2], op.name),
    needY: c.used(outputs[0]),
    needYh: c.used(outputs[1]),
  };
}

/** Define Y and Y_h from one IR node per direction (each `[batch, seq, hidden]` or `[batch, hidden]`). */
function defineOutputs(c: Converter, op: Op, k: Common, nodes: readonly string[]): void {
  const { hidden, directions, needY, needYh, reverse } = k;
  const steps = c.irShape(k.src)[1];
  if (needY) {
    if (directions === 1) {
      c.setOutput(op, 0, { kind: 'act', ir: nodes[0], axes: [1, null, 0, 2] });
    } else {
      if (steps === null) throw new ShapeError(`a bidirectional ${op.type} needs a known sequence length, got ${formatShape(c.irShape(k.src))}`);
      const both = c.addNode('concat', `${op.name}/Y`, nodes, { axis: 2 });
      const ir = c.addNode('reshape', `${op.name}/Y_directions`, [both], { shape: [steps, 2, hidden] });
      c.setOutput(op, 0, { kind: 'act', ir, axes: [1, 2, 0, 3] });
    }
  }
  if (!needYh) return;
  const last = nodes.map((n, d) => {
    if (!needY) return n;
    // The state after the last step processed: step seq-1 forwards, step 0 backwards.
    const seq: ActValue = { kind: 'act', ir: n, axes: [0, 1, 2] };
    const t = reverse[d] ? 0 : (steps as number) - 1;
    return dropUnitAxis(c, sliceAct(c, seq, 1, t, t + 1, `${op.name}/Y_h${d}`), 1, `${op.name}/Y_h${d}`).ir;
  });
  if (directions === 1) {
    c.setOutput(op, 1, { kind: 'act', ir: last[0], axes: [null, 0, 1] });
    return;
  }
  const both = c.addNode('concat', `${op.name}/Y_h`, last, { axis: 1 });
  const ir = c.addNode('reshape', `${op.name}/Y_h_directions`, [both], { shape: [2, hidden] });
  c.setOutput(op, 1, { kind: 'act', ir, axes: [1, 0, 2] });
}

function nodeName(op: Op, k: Common, d: number): string {
  return k.directions === 1 ? op.name : `${op.name}/${d === 0 ? 'forward' : 'backward'}`;
}

const lstm: Handler = (c, op) => {
  op.attrs.allowOnly(['activation_alpha', 'activation_beta', 'activations', 'direction', 'hidden_size', 'input_forget', 'layout']);
  if (op.attrs.int('input_forget', 0) !== 0) throw new UnsupportedOpError('LSTM input_forget=1', op.name, ['LSTM with input_forget=0']);
  const peephole = c.optionalInput(op, 7);
  if (peephole && !(peephole.kind === 'const' && isAllZero(peephole.tensor))) {
    throw new UnsupportedOpError('LSTM with peepholes', op.name, ['LSTM without peepholes (P absent or zero)']);
  }
  const k = common(c, op, 'LSTM');
  const nodes = k.reverse.map((reverse, d) => {
    const weights = lstmWeightsFromOnnx(directionOf(k.w, d), directionOf(k.r, d), k.b && directionOf(k.b, d), k.hidden);
    const attrs: OpAttrs['lstm'] = {
      units: k.hidden,
      ...weights,
      returnSequences: k.needY,
      ...(k.gate !== 'sigmoid' ? { recurrentActivation: k.gate } : {}),
      ...(reverse ? { reverse } : {}),
    };
    return c.addNode('lstm', nodeName(op, k, d), [k.src.ir], attrs);
  });
  defineOutputs(c, op, k, nodes);
};

const gru: Handler = (c, op) => {
  op.attrs.allowOnly(['activation_alpha', 'activation_beta', 'activations', 'direction', 'hidden_size', 'layout', 'linear_before_reset']);
  const k = common(c, op, 'GRU');
  const resetAfter = op.attrs.int('linear_before_reset', 0) !== 0;
  const nodes = k.reverse.map((reverse, d) => {
    const weights = gruWeightsFromOnnx(directionOf(k.w, d), directionOf(k.r, d), k.b && directionOf(k.b, d), k.hidden, resetAfter);
    const attrs: OpAttrs['gru'] = {
      units: k.hidden,
      ...weights,
      resetAfter,
      returnSequences: k.needY,
      ...(k.gate !== 'sigmoid' ? { recurrentActivation: k.gate } : {}),
      ...(reverse ? { reverse } : {}),
    };
    return c.addNode('gru', nodeName(op, k, d), [k.src.ir], attrs);
  });
  defineOutputs(c, op, k, nodes);
};

/** Handlers of this file, by ONNX op type. */
export const RECURRENT_ONNX_HANDLERS: Readonly<Record<string, Handler>> = { GRU: gru, LSTM: lstm };
