/**
 * Graph checker in the style of jax's `check_jaxpr`: every value is defined before
 * it is read, every node's recorded shape is what its inputs imply, and every
 * constant is finite and the size its shape says. Failures throw `ShapeError`
 * naming the node and printing the nodes around it.
 */
import { ShapeError } from '../../errors';
import type { Graph, Node } from './graph';
import type { OpKind, Shape } from './ops';
import { OP_ARITY, OP_KINDS, constTensorsOf, sizeOf } from './ops';
import { printNeighbourhood } from './print';
import { formatShape, inferShape } from './shapes';

function fail(graph: Graph, index: number, detail: string): never {
  const node = graph.nodes[index];
  throw new ShapeError(`node '${node.name}' (${node.op}): ${detail}\n${printNeighbourhood(graph, index)}`);
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A cycle through `start` following input edges, as a list of names, or undefined. */
function findCycle(byName: Map<string, Node>, start: string): string[] | undefined {
  const stack: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onPath.has(name)) return [...stack.slice(stack.indexOf(name)), name];
    if (done.has(name)) return undefined;
    const node = byName.get(name);
    if (!node) return undefined;
    onPath.add(name);
    stack.push(name);
    for (const i of node.inputs) {
      const c = visit(i);
      if (c) return c;
    }
    stack.pop();
    onPath.delete(name);
    done.add(name);
    return undefined;
  };
  return visit(start);
}

function checkConstants(graph: Graph, index: number): void {
  const node = graph.nodes[index];
  for (const [key, t] of constTensorsOf(node.attrs)) {
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      fail(graph, index, `constant '${key}' has invalid shape ${formatShape(t.shape)}`);
    }
    if (t.data.length !== sizeOf(t.shape)) {
      fail(graph, index, `constant '${key}' of shape ${formatShape(t.shape)} holds ${t.data.length} values, expected ${sizeOf(t.shape)}`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        fail(graph, index, `constant '${key}' has a non-finite value ${t.data[i]} at flat index ${i}`);
      }
    }
  }
}

/**
 * Check `graph` and return it unchanged, or throw `ShapeError`. Checks: unique node
 * names; known op kinds and input counts; inputs defined earlier in the list (a
 * later definition is reported as a cycle or an ordering error); graph inputs are
 * `input` nodes and outputs exist; each recorded `outputShape` equals the inferred
 * one; constants are finite and match their shapes.
 */
export function verifyGraph(graph: Graph): Graph {
  const byName = new Map<string, Node>();
  const position = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    if (position.has(n.name)) fail(graph, i, `duplicate node name (first defined at index ${position.get(n.name)})`);
    position.set(n.name, i);
    byName.set(n.name, n);
  });

  graph.nodes.forEach((node, index) => {
    if (!(OP_KINDS as readonly string[]).includes(node.op)) {
      fail(graph, index, `unknown op kind ${JSON.stringify(node.op)}; known: ${OP_KINDS.join(', ')}`);
    }
    const arity = OP_ARITY[node.op as OpKind];
    const [lo, hi] = typeof arity === 'number' ? [arity, arity] : arity;
    if (node.inputs.length < lo || node.inputs.length > hi) {
      const expected = lo === hi ? `${lo}` : `${lo}..${hi === Infinity ? 'n' : hi}`;
      fail(graph, index, `takes ${expected} input(s), got ${node.inputs.length}`);
    }
    for (const input of node.inputs) {
      const at = position.get(input);
      if (at === undefined) fail(graph, index, `reads unknown value '%${input}'`);
      if (at >= index) {
        const cycle = findCycle(byName, node.name);
        if (cycle) fail(graph, index, `cycle: ${cycle.map((c) => `%${c}`).join(' -> ')}`);
        fail(graph, index, `reads '%${input}', which is defined later (index ${at}); nodes must be in topological order`);
      }
    }
    checkConstants(graph, index);
    let inferred: Shape;
    try {
      inferred = inferShape(node.op, node.attrs as never, node.inputs.map((i) => byName.get(i)!.outputShape));
    } catch (err) {
      if (err instanceof ShapeError) fail(graph, index, err.message);
      throw err;
    }
    if (!sameShape(inferred, node.outputShape)) {
      fail(graph, index, `recorded output shape ${formatShape(node.outputShape)} but its inputs give ${formatShape(inferred)}`);
    }
  });

  for (const name of graph.inputs) {
    const at = position.get(name);
    if (at === undefined || graph.nodes[at].op !== 'input') {
      throw new ShapeError(`graph input '%${name}' is not an input node`);
    }
  }
  const declared = new Set(graph.inputs);
  graph.nodes.forEach((n, i) => {
    if (n.op === 'input' && !declared.has(n.name)) fail(graph, i, 'input node missing from graph.inputs');
  });
  if (graph.outputs.length === 0) throw new ShapeError('graph has no outputs');
  for (const name of graph.outputs) {
    if (!position.has(name)) throw new ShapeError(`graph output '%${name}' is not a node`);
  }
  return graph;
}
