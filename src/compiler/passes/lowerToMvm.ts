/**
 * The `lowerToMvm` pass: every analog layer becomes the `mvm` products a chip runs
 * and the digital work around them, so the lowered graph shows exactly what is
 * analog and what is not:
 * - dense → `mvm` (+ `add` of the bias);
 * - conv2d → per group, `im2col` of the group's input channels → `mvm`; `concat`
 *   of the groups (+ `add` of the bias);
 * - lstm / gru → the recurrence unrolled over the (static) time axis: per step the
 *   step's input slice, `[x_t, h]`, its `mvm` products (MVM site `step` = the step
 *   processed), the bias, the gates and the state update. The first step's state is
 *   zero, as the executor's, and still goes through the products.
 *
 * The node that ends a lowered layer keeps the layer's name, so its readers and the
 * graph outputs are unchanged; nodes inside a layer are called `<layer>/<part>`.
 * Each `mvm` carries `mvmMatrix(layer, group)`, so the lowered graph computes what
 * the unlowered one does (tested on every analog op kind).
 */
import { ConfigError } from '../../errors';
import type { Graph, Node, NodeOf } from '../ir/graph';
import { isAnalog } from '../ir/graph';
import { mvmMatrix } from '../ir/mvmMatrix';
import type { ConstTensor, GateActivation, NoiseAttrs, OpAttrs, OpKind, Shape } from '../ir/ops';
import { inferShape } from '../ir/shapes';
import { verifyGraph } from '../ir/verify';

/** Appends nodes with inferred shapes; names come from the layer being lowered. */
class Emitter {
  readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly taken: Set<string>;

  constructor(graph: Graph) {
    this.taken = new Set(graph.nodes.map((n) => n.name));
  }

  keep(node: Node): void {
    this.nodes.push(node);
    this.shapes.set(node.name, node.outputShape);
  }

  shape(name: string): Shape {
    return this.shapes.get(name)!;
  }

  /** A fresh name `<layer>/<part>` (suffixed if the source graph already has it). */
  fresh(layer: string, part: string): string {
    let name = `${layer}/${part}`;
    for (let k = 2; this.taken.has(name); k++) name = `${layer}/${part}_${k}`;
    this.taken.add(name);
    return name;
  }

  emit<K extends OpKind>(name: string, op: K, inputs: readonly string[], attrs: OpAttrs[K]): string {
    const outputShape = inferShape(op, attrs, inputs.map((i) => this.shape(i)));
    this.keep({ name, op, inputs, attrs, outputShape } as unknown as Node);
    return name;
  }
}

function constant(data: Float32Array, shape: readonly number[]): ConstTensor {
  return { data, shape };
}

function biasPart(bias: ConstTensor, from: number, to: number): ConstTensor {
  return constant(bias.data.slice(from, to), [to - from]);
}

/** A layer's lowering: `part(p)` names an inner node, `last` is the layer's own name. */
interface LayerScope {
  readonly e: Emitter;
  readonly node: Node;
  part(p: string): string;
}

function scope(e: Emitter, node: Node): LayerScope {
  return { e, node, part: (p) => e.fresh(node.name, p) };
}

/**
 * Ends a layer: `product(name)` emits the layer's analog result under `name`; with a
 * bias, that is an inner node and the bias `add` takes the layer's name.
 */
function endLayer(s: LayerScope, bias: ConstTensor | undefined, product: (name: string) => string): void {
  if (!bias) {
    product(s.node.name);
    return;
  }
  s.e.emit(s.node.name, 'add', [product(s.part('product'))], { constant: bias });
}

function lowerDense(s: LayerScope, node: NodeOf<'dense'>): void {
  const x = node.inputs[0];
  endLayer(s, node.attrs.bias, (name) => s.e.emit(name, 'mvm', [x], { matrix: mvmMatrix(node, 0), layer: node.name, group: 0, step: 0 }));
}

function lowerConv(s: LayerScope, node: NodeOf<'conv2d'>): void {
  const { kernel, strides, padding, dilations, groups } = node.attrs;
  const [kh, kw, cInG] = kernel.shape;
  const x = node.inputs[0];
  const product = (g: number, name: string): string => {
    const patches = s.e.emit(s.part(groups === 1 ? 'im2col' : `im2col:${g}`), 'im2col', [x], {
      window: [kh, kw], strides, padding, dilations, channelStart: g * cInG, channelEnd: (g + 1) * cInG,
    });
    return s.e.emit(name, 'mvm', [patches], { matrix: mvmMatrix(node, g), layer: node.name, group: g, step: 0 });
  };
  endLayer(s, node.attrs.bias, (name) => {
    if (groups === 1) return product(0, name);
    const parts = Array.from({ length: groups }, (_, g) => product(g, s.part(`mvm:${g}`)));
    return s.e.emit(name, 'concat', parts, { axis: 3 });
  });
}

/** Helpers for the unrolled recurrences: each returns the new node's name. */
class Steps {
  constructor(private readonly s: LayerScope) {}

  op<K extends OpKind>(part: string, op: K, inputs: readonly string[], attrs: OpAttrs[K]): string {
    return this.s.e.emit(this.s.part(part), op, inputs, attrs);
  }

  /** `x[:, t, :]` as `[batch, features]`. */
  stepInput(x: string, t: number, features: number): string {
    const sliced = this.op(`x:${t}`, 'slice', [x], { axis: 1, start: t, end: t + 1 });
    return this.op(`x:${t}/flat`, 'reshape', [sliced], { shape: [features] });
  }

  /** Zeros `[batch, units]`, from a step input (the initial state the products still read). */
  zeros(ref: string, units: number, k: number): string {
    const one = this.op(`zero:${k}/pick`, 'slice', [ref], { axis: 1, start: 0, end: 1 });
    const zero = this.op(`zero:${k}/times0`, 'mul', [one], { constant: constant(new Float32Array([0]), [1]) });
    return units === 1 ? zero : this.op(`zero:${k}`, 'pad', [zero], { axis: 1, before: 0, after: units - 1 });
  }

  gate(part: string, z: string, kind: GateActivation | undefined): string {
    return kind === 'hardSigmoid' ? this.op(part, 'hardSigmoid', [z], { alpha: 0.2, beta: 0.5 }) : this.op(part, 'sigmoid', [z], {});
  }

  columns(part: string, z: string, from: number, to: number): string {
    return this.op(part, 'slice', [z], { axis: 1, start: from, end: to });
  }

  /** The layer's output: the last state, or the states of every step stacked in time order. */
  finish(hs: readonly string[], units: number, returnSequences: boolean, last: string): void {
    if (!returnSequences) {
      this.s.e.emit(this.s.node.name, 'identity', [last], {});
      return;
    }
    const framed = hs.map((h, t) => this.op(`h:${t}/framed`, 'reshape', [h], { shape: [1, units] }));
    this.s.e.emit(this.s.node.name, 'concat', framed, { axis: 1 });
  }
}

function staticSteps(s: LayerScope, x: string): [number, number] {
  const shape = s.e.shape(x);
  const [, steps, features] = shape;
  if (typeof steps !== 'number' || typeof features !== 'number') {
    throw new ConfigError(`node ${s.node.name}`, `input shape [${shape.map((d) => d ?? '?').join(', ')}]`, 'a static number of time steps and features to unroll the recurrence (lowerToMvm)');
  }
  return [steps, features];
}

function lowerLstm(s: LayerScope, node: NodeOf<'lstm'>): void {
  const { units, bias, recurrentActivation, reverse, gateNoise, returnSequences } = node.attrs;
  const x = node.inputs[0];
  const [steps, features] = staticSteps(s, x);
  const st = new Steps(s);
  const matrix = mvmMatrix(node, 0);
  const hs: string[] = new Array<string>(steps);
  let h = '';
  let c = '';
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    const xt = st.stepInput(x, t, features);
    const xh = k === 0 ? st.op(`xh:${k}`, 'pad', [xt], { axis: 1, before: 0, after: units }) : st.op(`xh:${k}`, 'concat', [xt, h], { axis: 1 });
    let z = st.op(`mvm:${k}`, 'mvm', [xh], { matrix, layer: node.name, group: 0, step: k });
    if (gateNoise) z = st.op(`noise:${k}`, 'noise', [z], gateNoise as NoiseAttrs);
    z = st.op(`z:${k}`, 'add', [z], { constant: bias });
    // Gate order i, f, c, o (LstmAttrs).
    const gi = st.gate(`i:${k}`, st.columns(`zi:${k}`, z, 0, units), recurrentActivation);
    const gf = st.gate(`f:${k}`, st.columns(`zf:${k}`, z, units, 2 * units), recurrentActivation);
    const gc = st.op(`g:${k}`, 'tanh', [st.columns(`zc:${k}`, z, 2 * units, 3 * units)], {});
    const go = st.gate(`o:${k}`, st.columns(`zo:${k}`, z, 3 * units, 4 * units), recurrentActivation);
    const ig = st.op(`ig:${k}`, 'mul', [gi, gc], {});
    c = k === 0 ? ig : st.op(`c:${k}`, 'add', [st.op(`fc:${k}`, 'mul', [gf, c], {}), ig], {});
    h = st.op(`h:${k}`, 'mul', [go, st.op(`tanhc:${k}`, 'tanh', [c], {})], {});
    hs[t] = h;
  }
  st.finish(hs, units, returnSequences, h);
}

function lowerGru(s: LayerScope, node: NodeOf<'gru'>): void {
  const { units, bias, recurrentBias, resetAfter, recurrentActivation, reverse, returnSequences } = node.attrs;
  const x = node.inputs[0];
  const [steps, features] = staticSteps(s, x);
  const st = new Steps(s);
  const matrices = [0, 1, 2].map((g) => mvmMatrix(node, g));
  const mvm = (k: number, g: number, input: string) => st.op(`mvm:${k}:${g}`, 'mvm', [input], { matrix: matrices[g], layer: node.name, group: g, step: k });
  const hs: string[] = new Array<string>(steps);
  let h = '';
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    const xt = st.stepInput(x, t, features);
    const state = k === 0 ? st.zeros(xt, units, k) : h;
    const xh = k === 0 ? st.op(`xh:${k}`, 'pad', [xt], { axis: 1, before: 0, after: units }) : st.op(`xh:${k}`, 'concat', [xt, h], { axis: 1 });
    // Gate order z, r, n; the three matrices of GruAttrs.
    const zr = st.gate(`zr:${k}`, st.op(`zrb:${k}`, 'add', [mvm(k, 0, xh)], { constant: biasPart(bias, 0, 2 * units) }), recurrentActivation);
    const z = st.columns(`z:${k}`, zr, 0, units);
    const r = st.columns(`r:${k}`, zr, units, 2 * units);
    const xn = st.op(`xn:${k}`, 'add', [mvm(k, 1, xt)], { constant: biasPart(bias, 2 * units, 3 * units) });
    let hn: string;
    if (resetAfter) {
      const rh = mvm(k, 2, state);
      hn = st.op(`hn:${k}`, 'mul', [r, recurrentBias ? st.op(`rhb:${k}`, 'add', [rh], { constant: recurrentBias }) : rh], {});
    } else {
      hn = mvm(k, 2, st.op(`rh:${k}`, 'mul', [r, state], {}));
    }
    const cand = st.op(`n:${k}`, 'tanh', [st.op(`nz:${k}`, 'add', [xn, hn], {})], {});
    // (1 − z) ⊙ n + z ⊙ h
    h = st.op(`h:${k}`, 'add', [cand, st.op(`zd:${k}`, 'mul', [z, st.op(`d:${k}`, 'sub', [state, cand], {})], {})], {});
    hs[t] = h;
  }
  st.finish(hs, units, returnSequences, h);
}

/**
 * The graph with every analog layer lowered to `mvm` products (see the module
 * comment). A graph with no analog layers comes back unchanged.
 * @throws ConfigError for a recurrent layer whose time axis is not static.
 */
export function lowerToMvm(graph: Graph): Graph {
  if (!graph.nodes.some(isAnalog)) return graph;
  const e = new Emitter(graph);
  for (const node of graph.nodes) {
    if (!isAnalog(node)) {
      e.keep(node);
      continue;
    }
    const s = scope(e, node);
    if (node.op === 'dense') lowerDense(s, node);
    else if (node.op === 'conv2d') lowerConv(s, node);
    else if (node.op === 'lstm') lowerLstm(s, node);
    else lowerGru(s, node);
  }
  return verifyGraph({ nodes: e.nodes, inputs: graph.inputs, outputs: graph.outputs });
}

/** The `mvm` nodes of a lowered graph, in order, with how many products each analog layer became. */
export function mvmNodes(graph: Graph): NodeOf<'mvm'>[] {
  return graph.nodes.filter((n): n is NodeOf<'mvm'> => n.op === 'mvm');
}
