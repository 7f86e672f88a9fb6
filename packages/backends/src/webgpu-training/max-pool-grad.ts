import * as tf from '@tensorflow/tfjs-core';
import {
  type Attrs,
  flatDispatch,
  free,
  type KernelArgs,
  type WebGPUBackend,
  type WebGPUProgram,
} from './webgpu-backend.js';

const UNIFORMS =
  'strides : vec2<i32>, pads : vec2<i32>, convDims : vec2<i32>, filterDims : vec2<i32>, outDims : vec2<i32>,';

/**
 * The position of each window's maximum, as the cpu backend (and TensorFlow) choose it: the
 * first strictly greater value, so ties go to the first element in the window, NaN is never
 * picked and a window of only −∞ has none (−1). tfjs-webgpu's takes the last of tied values:
 * after a ReLU most windows tie at 0, and its gradient flows to a different input.
 */
function positionsProgram(outShape: number[]): WebGPUProgram {
  return {
    variableNames: ['x'],
    uniforms: UNIFORMS,
    outputShape: outShape,
    ...flatDispatch(outShape, 128),
    size: true,
    shaderKey: 'ebm_maxPoolFirstPositions',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let batch = coords[0];
          let d = coords[3];
          let corner = vec2<i32>(coords.yz) * uniforms.strides - uniforms.pads;
          var best = 0.0;
          var found = false;
          var position = -1;
          for (var wR = 0; wR < uniforms.filterDims.x; wR++) {
            let xR = corner.x + wR;
            if (xR < 0 || xR >= uniforms.convDims.x) { continue; }
            for (var wC = 0; wC < uniforms.filterDims.y; wC++) {
              let xC = corner.y + wC;
              if (xC < 0 || xC >= uniforms.convDims.y) { continue; }
              let value = getX(batch, xR, xC, d);
              // value > -FLT_MAX - anything is false for NaN and -inf, as the cpu's value > -Infinity.
              if ((found && value > best) || (!found && value >= -3.4028234663852886e38)) {
                best = value;
                found = true;
                position = wR * uniforms.filterDims.y + wC;
              }
            }
          }
          setOutputAtIndexI32(index, position);
        }
      }`,
  };
}

/** dx[n, r, c, d] = Σ dy over the windows whose chosen position is (r, c). */
function backpropProgram(inShape: number[]): WebGPUProgram {
  return {
    variableNames: ['dy', 'positions'],
    uniforms: UNIFORMS,
    outputShape: inShape,
    ...flatDispatch(inShape, 64),
    size: true,
    shaderKey: 'ebm_maxPoolFirstBackprop',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let batch = coords[0];
          let d = coords[3];
          var sum = 0.0;
          for (var wR = 0; wR < uniforms.filterDims.x; wR++) {
            let num = coords[1] + uniforms.pads.x - wR;
            if (num < 0 || num % uniforms.strides.x != 0) { continue; }
            let yR = num / uniforms.strides.x;
            if (yR >= uniforms.outDims.x) { continue; }
            for (var wC = 0; wC < uniforms.filterDims.y; wC++) {
              let numC = coords[2] + uniforms.pads.y - wC;
              if (numC < 0 || numC % uniforms.strides.y != 0) { continue; }
              let yC = numC / uniforms.strides.y;
              if (yC >= uniforms.outDims.y) { continue; }
              if (i32(getPositions(batch, yR, yC, d)) == wR * uniforms.filterDims.y + wC) {
                sum = sum + getDy(batch, yR, yC, d);
              }
            }
          }
          setOutputAtIndex(index, sum);
        }
      }`,
  };
}

/** MaxPoolGrad for webgpu with the cpu backend's tie and NaN rules (see positionsProgram). */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs['filterSize'] as number | [number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const uniforms = [
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.inHeight, info.inWidth] },
    { type: 'int32', data: [info.filterHeight, info.filterWidth] },
    { type: 'int32', data: [info.outHeight, info.outWidth] },
  ];
  const positions = backend.runWebGPUProgram(
    positionsProgram(info.outShape),
    [input],
    'int32',
    uniforms,
  );
  const dx = backend.runWebGPUProgram(
    backpropProgram(info.inShape),
    [dy, positions],
    input.dtype,
    uniforms,
  );
  free(backend, positions);
  return dx;
}
