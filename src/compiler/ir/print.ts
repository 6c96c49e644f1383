/**
 * Readable text dump of a graph, one line per node, e.g.
 * `%dense_1 = dense(%flatten) {weights: [784, 128], bias: [128]} : [?, 128]  # analog`.
 * Used by error messages (`verifyGraph`) and for inspection.
 */
import type { Graph, Node } from './graph';
import { isAnalog } from './graph';
import type { ConstTensor, MvmPlacement } from './ops';
import { formatShape } from './shapes';

function formatAttr(value: unknown): string {
  if (value && typeof value === 'object' && (value as ConstTensor).data instanceof Float32Array) {
    return formatShape((value as ConstTensor).shape);
  }
  if (value && typeof value === 'object' && 'rowBlocks' in value) {
    const t = value as MvmPlacement;
    return `${t.rowBlocks}x${t.colBlocks} ${t.device} tiles of ${t.tile} from #${t.firstTile}`;
  }
  return JSON.stringify(value);
}

/** One node as a line of text (no trailing newline). */
export function printNode(node: Node): string {
  const args = node.inputs.map((i) => `%${i}`).join(', ');
  const attrs = Object.entries(node.attrs as object)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${formatAttr(v)}`)
    .join(', ');
  const attrText = attrs ? ` {${attrs}}` : '';
  const tag = isAnalog(node) || node.op === 'mvm' ? '  # analog' : '';
  return `%${node.name} = ${node.op}(${args})${attrText} : ${formatShape(node.outputShape)}${tag}`;
}

/**
 * The whole graph as text: a header with inputs, one line per node, and the outputs.
 * @param marks optional node indices to flag with `>>>` (used by `verifyGraph`).
 */
export function printGraph(graph: Graph, marks: ReadonlySet<number> = new Set()): string {
  const lines = [`graph(${graph.inputs.map((i) => `%${i}`).join(', ')}) {`];
  graph.nodes.forEach((n, i) => lines.push(`${marks.has(i) ? '>>> ' : '    '}${printNode(n)}`));
  lines.push(`} -> (${graph.outputs.map((o) => `%${o}`).join(', ')})`);
  return lines.join('\n');
}

/** Lines for nodes `[index - radius, index + radius]`, the one at `index` flagged. */
export function printNeighbourhood(graph: Graph, index: number, radius = 2): string {
  const from = Math.max(0, index - radius);
  const to = Math.min(graph.nodes.length, index + radius + 1);
  const lines: string[] = [];
  if (from > 0) lines.push('    ...');
  for (let i = from; i < to; i++) lines.push(`${i === index ? '>>> ' : '    '}${printNode(graph.nodes[i])}`);
  if (to < graph.nodes.length) lines.push('    ...');
  return lines.join('\n');
}
