import type { GradRule } from '../grad-context.js';
import { addGrad } from './add.js';
import { batchNormTrainingGrad } from './batch-norm-training.js';
import { concatGrad } from './concat.js';
import { convGrad } from './conv.js';
import { divGrad } from './div.js';
import { none } from './elementwise.js';
import { expGrad } from './exp.js';
import { gemmGrad } from './gemm.js';
import { identityGrad } from './identity.js';
import { logGrad } from './log.js';
import { logSoftmaxGrad } from './log-softmax.js';
import { matMulGrad } from './mat-mul.js';
import { maxGrad } from './max.js';
import { maxPoolGrad } from './max-pool.js';
import { mulGrad } from './mul.js';
import { negGrad } from './neg.js';
import { reciprocalGrad } from './reciprocal.js';
import { reduceL2Grad } from './reduce-l2.js';
import { reduceMeanGrad } from './reduce-mean.js';
import { reduceSumGrad } from './reduce-sum.js';
import { reduceSumSquareGrad } from './reduce-sum-square.js';
import { reluGrad } from './relu.js';
import { reshapeGrad } from './reshape.js';
import { softmaxGrad } from './softmax.js';
import { softplusGrad } from './softplus.js';
import { sqrtGrad } from './sqrt.js';
import { subGrad } from './sub.js';
import { transposeGrad } from './transpose.js';

/** One reverse-mode rule per ONNX operator the training graphs use. */
export const GRAD_RULES: Readonly<Record<string, GradRule>> = {
  Add: addGrad,
  Sub: subGrad,
  Mul: mulGrad,
  Div: divGrad,
  Max: maxGrad,
  Neg: negGrad,
  Identity: identityGrad,
  Exp: expGrad,
  Log: logGrad,
  Sqrt: sqrtGrad,
  Reciprocal: reciprocalGrad,
  Relu: reluGrad,
  ReduceMean: reduceMeanGrad,
  ReduceSum: reduceSumGrad,
  ReduceSumSquare: reduceSumSquareGrad,
  ReduceL2: reduceL2Grad,
  Softmax: softmaxGrad,
  LogSoftmax: logSoftmaxGrad,
  Softplus: softplusGrad,
  // ebm.js's own marker (lowered to Identity after differentiation): no gradient flows back.
  StopGradient: none,
  Gemm: gemmGrad,
  MatMul: matMulGrad,
  Transpose: transposeGrad,
  Reshape: reshapeGrad,
  Flatten: reshapeGrad,
  Concat: concatGrad,
  Conv: convGrad,
  MaxPool: maxPoolGrad,
  BatchNormTraining: batchNormTrainingGrad,
  Shape: none,
};
