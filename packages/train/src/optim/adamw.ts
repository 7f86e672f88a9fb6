import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ: θ ← θ − lr·λ·θ each step, outside the adaptive update. Default 0.01. */
  weightDecay?: number;
  /** Parameters the decay skips; default: rank ≤ 1 (biases, BatchNorm scales), as is customary. */
  decay?: (variableName: string, shape: readonly number[]) => boolean;
}

/** A named tensor as tfjs optimizers exchange them in getWeights/setWeights. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  name: string;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter 2019), which tfjs lacks:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·(m̂/(√v̂ + ε) + λθ).
 */
export class AdamW extends tf.Optimizer {
  static className = 'EbmAdamW';

  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly decay: (name: string, shape: readonly number[]) => boolean;
  private readonly slots = new Map<string, Slot>();
  private step = 0;

  constructor(options: AdamWOptions) {
    super();
    const {
      learningRate,
      beta1 = 0.9,
      beta2 = 0.999,
      epsilon = 1e-8,
      weightDecay = 0.01,
    } = options;
    validate.assertNumber(learningRate, 'AdamW: learningRate', { min: 0 });
    validate.assertNumber(beta1, 'AdamW: beta1', { min: 0, max: 1 });
    validate.assertNumber(beta2, 'AdamW: beta2', { min: 0, max: 1 });
    validate.assertNumber(weightDecay, 'AdamW: weightDecay', { min: 0 });
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    this.decay = options.decay ?? ((_, shape) => shape.length > 1);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    this.step++;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    for (const [name, gradient] of entries) {
      if (gradient == null) continue;
      const value = tf.engine().registeredVariables[name];
      if (value === undefined) continue;
      const slot = this.slot(name, value);
      tf.tidy(() => {
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        let update = tf.div(
          tf.div(m, correction1),
          tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon),
        );
        if (this.weightDecay > 0 && this.decay(name, value.shape))
          update = tf.add(update, tf.mul(value, this.weightDecay));
        value.assign(tf.sub(value, tf.mul(update, this.learningRate)));
      });
    }
    this.incrementIterations();
  }

  private slot(name: string, value: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = {
        name,
        m: tf.tidy(() => tf.variable(tf.zerosLike(value), false)),
        v: tf.tidy(() => tf.variable(tf.zerosLike(value), false)),
      };
      this.slots.set(name, slot);
    }
    return slot;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(this.step, 'int32') }];
    for (const slot of this.slots.values()) {
      out.push(
        { name: `${slot.name}/m`, tensor: slot.m },
        { name: `${slot.name}/v`, tensor: slot.v },
      );
    }
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    for (const { name, tensor } of weightValues) {
      if (name === 'iter') {
        this.step = (await tensor.data())[0]!;
        continue;
      }
      const cut = name.lastIndexOf('/');
      const varName = name.slice(0, cut);
      const variable = tf.engine().registeredVariables[varName];
      if (variable === undefined) continue;
      const slot = this.slot(varName, variable);
      (name.endsWith('/m') ? slot.m : slot.v).assign(tensor);
    }
  }

  override dispose(): void {
    for (const slot of this.slots.values()) tf.dispose([slot.m, slot.v]);
    this.slots.clear();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as unknown as AdamWOptions);
  }
}

tf.serialization.registerClass(AdamW);
