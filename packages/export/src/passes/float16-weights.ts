import { exportError } from '../errors.js';
import { toFloat16 } from '../float16.js';
import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { ONNX_DTYPE } from '../onnx-proto.js';

const FLOAT16_MAX = 65504;

/**
 * Stores every trained weight as float16 and casts it back to float32 in the graph, so the file
 * halves while every op still computes in float32 (ORT folds the Casts when it loads the model).
 * Helper constants such as ε² = 1e-24 stay float32: in float16 they would flush to zero.
 */
export function convertWeightsToFloat16(b: GraphBuilder): void {
  const graph = b.graph;
  const casts = [];
  for (const tensor of [...graph.initializers.values()]) {
    if (!tensor.isWeight || tensor.dataType !== 'float32') continue;
    const data = tensor.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i]!) > FLOAT16_MAX) {
        throw exportError(
          'INVALID_ARGUMENT',
          `exportOnnx: option "float16" cannot store weight "${tensor.name}": its value ${data[i]} at index ${i} is beyond float16's range ±${FLOAT16_MAX}.`,
          { option: 'float16', weight: tensor.name, index: i },
        );
      }
    }
    graph.initializers.delete(tensor.name);
    const half = b.initializer({
      ...tensor,
      name: `${tensor.name}_fp16`,
      dataType: 'float16',
      data: toFloat16(data),
    });
    casts.push({
      name: b.uniqueName(`${tensor.name}/Cast`),
      opType: 'Cast',
      inputs: [half],
      outputs: [tensor.name],
      attributes: { to: attr.int(ONNX_DTYPE.float32) },
    });
  }
  graph.nodes.unshift(...casts);
}
