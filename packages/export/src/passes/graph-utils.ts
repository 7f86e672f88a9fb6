import type { IrGraph, IrNode } from '../ir.js';

/** value name -> nodes reading it (a node reading a value twice appears once). */
export function consumersOf(graph: IrGraph): Map<string, IrNode[]> {
  const map = new Map<string, IrNode[]>();
  for (const node of graph.nodes) {
    for (const input of new Set(node.inputs)) {
      if (input === '') continue;
      const list = map.get(input);
      if (list === undefined) map.set(input, [node]);
      else list.push(node);
    }
  }
  return map;
}

/** value name -> the node producing it. */
export function producersOf(graph: IrGraph): Map<string, IrNode> {
  const map = new Map<string, IrNode>();
  for (const node of graph.nodes) for (const output of node.outputs) map.set(output, node);
  return map;
}

export function graphOutputNames(graph: IrGraph): Set<string> {
  return new Set(graph.outputs.map((o) => o.name));
}

/** Removes nodes and initializers that no graph output depends on (node order does not matter). */
export function removeDeadNodes(graph: IrGraph): void {
  const producers = producersOf(graph);
  const live = new Set<string>();
  const liveNodes = new Set<IrNode>();
  const stack = graph.outputs.map((o) => o.name);
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (live.has(value)) continue;
    live.add(value);
    const node = producers.get(value);
    if (node !== undefined && !liveNodes.has(node)) {
      liveNodes.add(node);
      stack.push(...node.inputs);
    }
  }
  graph.nodes = graph.nodes.filter((n) => liveNodes.has(n));
  for (const name of [...graph.initializers.keys()]) {
    if (!live.has(name)) graph.initializers.delete(name);
  }
}

/**
 * Orders nodes so every value is produced before it is read (ONNX requires it; rewrites may
 * append a node that feeds an earlier one). Stable: keeps the current order where it can.
 */
export function topologicalSort(graph: IrGraph): void {
  const available = new Set<string>([
    ...graph.inputs.map((i) => i.name),
    ...graph.initializers.keys(),
    '',
  ]);
  const pending = [...graph.nodes];
  const sorted: IrNode[] = [];
  while (pending.length > 0) {
    const index = pending.findIndex((n) => n.inputs.every((i) => available.has(i)));
    if (index < 0) {
      const node = pending[0]!;
      const missing = node.inputs.filter((i) => !available.has(i));
      throw new Error(
        `topologicalSort: node ${node.name} reads ${missing.join(', ')}, which nothing produces before it`,
      );
    }
    const [node] = pending.splice(index, 1);
    sorted.push(node!);
    for (const o of node!.outputs) available.add(o);
  }
  graph.nodes = sorted;
}

/** Replaces every read of `from` with `to`. */
export function replaceUses(graph: IrGraph, from: string, to: string): void {
  for (const node of graph.nodes) {
    node.inputs = node.inputs.map((i) => (i === from ? to : i));
  }
}

export function countOps(graph: IrGraph, opType: string): number {
  return graph.nodes.filter((n) => n.opType === opType).length;
}
