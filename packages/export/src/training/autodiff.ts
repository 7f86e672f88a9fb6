import { exportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { GradContext } from './grad-context.js';
import { GRAD_RULES } from './grad-rules/index.js';
import type { ShapeMap } from './shapes.js';

/**
 * Reverse-mode differentiation over the builder's (topologically sorted) graph: appends the
 * backward nodes of dL/d(wrt) for a scalar `loss`, one rule per operator, and returns each
 * `wrt` value's gradient name. Only nodes on a path from `wrt` to `loss` are differentiated.
 */
export function differentiate(
  b: GraphBuilder,
  shapes: ShapeMap,
  loss: string,
  wrt: readonly string[],
): Map<string, string> {
  const forward = [...b.graph.nodes];
  const required = new Set(wrt);
  for (const node of forward) {
    if (node.inputs.some((i) => required.has(i))) for (const o of node.outputs) required.add(o);
  }
  const ctx = new GradContext(b, shapes, required);
  const parts = new Map<string, string[]>();
  const totals = new Map<string, string>();
  const total = (value: string): string | undefined => {
    const cached = totals.get(value);
    if (cached !== undefined) return cached;
    const list = parts.get(value);
    if (list === undefined) return undefined;
    const sum = list.length === 1 ? list[0]! : b.op('Sum', list, `${value}/grad`);
    totals.set(value, sum);
    return sum;
  };
  parts.set(loss, [b.constFloat([1], shapes.get(loss) ?? [])]);

  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (!node.outputs.some((o) => parts.has(o))) continue;
    if (!node.inputs.some((x) => required.has(x))) continue;
    const rule = GRAD_RULES[node.opType];
    if (rule === undefined) {
      throw exportError(
        'UNSUPPORTED',
        `training: no gradient rule for ONNX ${node.opType} (node ${node.name}); supported: ${Object.keys(GRAD_RULES).join(', ')}.`,
        { opType: node.opType },
      );
    }
    const dxs = rule(
      ctx,
      node,
      node.outputs.map((o) => total(o)),
    );
    node.inputs.forEach((x, k) => {
      const g = dxs[k];
      if (g === undefined || !required.has(x)) return;
      const list = parts.get(x);
      if (list === undefined) parts.set(x, [g]);
      else list.push(g);
    });
  }
  const grads = new Map<string, string>();
  for (const w of wrt) {
    const g = total(w);
    if (g === undefined) {
      throw exportError('INVALID_ARGUMENT', `training: the loss does not depend on "${w}".`, {
        value: w,
      });
    }
    grads.set(w, g);
  }
  return grads;
}

/**
 * ebm.js's StopGradient marker (its rule sends nothing back) becomes an Identity, what a runtime
 * runs: call it after `differentiate`.
 */
export function lowerStopGradient(b: GraphBuilder): void {
  for (const node of b.graph.nodes) if (node.opType === 'StopGradient') node.opType = 'Identity';
}
