import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './adamw.js';

export interface LarsOptions {
  learningRate: number;
  momentum?: number;
  /** Weight decay added to the gradient (coupled, as LARS does). Default 1e-6 (SimCLR). */
  weightDecay?: number;
  /** Trust coefficient η. Default 0.001. */
  trustCoefficient?: number;
  /** Parameters that get neither decay nor adaptation; default: rank ≤ 1 (biases, BatchNorm). */
  adapt?: (variableName: string, shape: readonly number[]) => boolean;
}

/**
 * LARS (You et al. 2017), SimCLR's large-batch optimizer: per layer, the step is scaled by the
 * trust ratio η‖w‖ / (‖g‖ + λ‖w‖), then applied with momentum:
 * g′ = (g + λw)·trust, v ← μv + lr·g′, w ← w − v.
 */
export class Lars extends tf.Optimizer {
  static className = 'EbmLars';

  learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly trustCoefficient: number;
  private readonly adapt: (name: string, shape: readonly number[]) => boolean;
  private readonly velocity = new Map<string, tf.Variable>();

  constructor(options: LarsOptions) {
    super();
    const { learningRate, momentum = 0.9, weightDecay = 1e-6, trustCoefficient = 0.001 } = options;
    validate.assertNumber(learningRate, 'Lars: learningRate', { min: 0 });
    validate.assertNumber(momentum, 'Lars: momentum', { min: 0, max: 1 });
    validate.assertNumber(weightDecay, 'Lars: weightDecay', { min: 0 });
    validate.assertNumber(trustCoefficient, 'Lars: trustCoefficient', {
      min: 0,
      exclusiveMin: true,
    });
    this.learningRate = learningRate;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.trustCoefficient = trustCoefficient;
    this.adapt = options.adapt ?? ((_, shape) => shape.length > 1);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    for (const [name, gradient] of entries) {
      if (gradient == null) continue;
      const value = tf.engine().registeredVariables[name];
      if (value === undefined) continue;
      const velocity = this.slot(name, value);
      tf.tidy(() => {
        let g = gradient;
        if (this.adapt(name, value.shape)) {
          g = tf.add(g, tf.mul(value, this.weightDecay));
          const wNorm = tf.norm(value);
          const gNorm = tf.norm(gradient);
          const denominator = tf.add(gNorm, tf.mul(wNorm, this.weightDecay));
          // Trust ratio 1 where either norm is 0 (fresh zero-initialised layers).
          const ratio = tf.where(
            tf.logicalAnd(tf.greater(wNorm, 0), tf.greater(gNorm, 0)),
            tf.div(tf.mul(wNorm, this.trustCoefficient), denominator),
            tf.onesLike(wNorm),
          );
          g = tf.mul(g, ratio);
        }
        const v = tf.add(tf.mul(velocity, this.momentum), tf.mul(g, this.learningRate));
        velocity.assign(v);
        value.assign(tf.sub(value, v));
      });
    }
    this.incrementIterations();
  }

  private slot(name: string, value: tf.Variable): tf.Variable {
    let v = this.velocity.get(name);
    if (v === undefined) {
      v = tf.tidy(() => tf.variable(tf.zerosLike(value), false));
      this.velocity.set(name, v);
    }
    return v;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [...this.velocity.entries()].map(([name, tensor]) => ({
      name: `${name}/velocity`,
      tensor,
    }));
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    for (const { name, tensor } of weightValues) {
      const varName = name.replace(/\/velocity$/, '');
      const variable = tf.engine().registeredVariables[varName];
      if (variable !== undefined) this.slot(varName, variable).assign(tensor);
    }
  }

  override dispose(): void {
    tf.dispose([...this.velocity.values()]);
    this.velocity.clear();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      trustCoefficient: this.trustCoefficient,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as unknown as LarsOptions);
  }
}

tf.serialization.registerClass(Lars);
