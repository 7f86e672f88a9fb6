import { resolveOptions } from '@ebmjs/contract';
import { EbmError, type Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { positiveInt, unitInterval } from './checks.js';
import { type Encoder, toModel } from './encoder.js';
import { loadBundle, type SaveTarget, StateReader, saveBundle } from './persistence.js';
import { applyShuffled, shufflePlan } from './shuffle-bn.js';

export interface MomentumEncoderOptions {
  /** m in θ_k ← m·θ_k + (1 − m)·θ_q; with the cosine schedule, its value at step 0. Default 0.99. */
  momentum?: number;
  /** 'constant' (MoCo v1/v2) or 'cosine' from `momentum` to 1 over `totalSteps` (BYOL, MoCo v3). Default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /** Length of the cosine schedule; required with it. */
  totalSteps?: number;
  /**
   * Non-trainable weights (BatchNorm moving statistics): 'ema' averages them like parameters,
   * 'copy' takes the online values. Default 'ema'.
   */
  nonTrainable?: 'ema' | 'copy';
}

type OnlineInput = tfl.LayersModel | Encoder | readonly (tfl.LayersModel | Encoder)[];

/**
 * The slowly moving key/target network of MoCo and BYOL: a structural copy of one or more
 * online models (encoder, then head) whose weights follow θ_k ← m·θ_k + (1 − m)·θ_q after each
 * `update()`. Its variables are non-trainable, so optimizers never touch them and no gradient
 * reaches them. Cosine schedule: m_k = 1 − (1 − m_0)·(cos(πk/K) + 1)/2.
 */
export class MomentumEncoder {
  readonly online: readonly tfl.LayersModel[];
  /** The EMA copies, in the order of `online`. */
  readonly targets: readonly tfl.LayersModel[];
  readonly baseMomentum: number;
  readonly schedule: 'constant' | 'cosine';
  readonly totalSteps: number | undefined;
  readonly nonTrainable: 'ema' | 'copy';
  private steps = 0;
  private disposed = false;
  /** (online, target) weight pairs matched by name: a frozen model lists its weights in another order. */
  private readonly pairs: [tfl.LayerVariable, tfl.LayerVariable][];
  /** The targets' counterparts of the online non-trainable weights (BatchNorm moving statistics). */
  private readonly statistics: tfl.LayerVariable[];

  constructor(online: OnlineInput, options: MomentumEncoderOptions = {}) {
    const where = 'MomentumEncoder';
    const o = resolveOptions(where, options, {
      momentum: 0.99,
      schedule: 'constant',
      totalSteps: undefined,
      nonTrainable: 'ema',
    });
    const list = (Array.isArray(online) ? online : [online]) as (tfl.LayersModel | Encoder)[];
    if (list.length === 0)
      throw new EbmError('INVALID_ARGUMENT', `${where}: online must hold at least one model.`);
    this.online = list.map((m, i) => toModel(m, `${where}: online[${i}]`));
    this.baseMomentum = unitInterval(o.momentum, `${where}: momentum`);
    this.schedule = o.schedule;
    if (this.schedule !== 'constant' && this.schedule !== 'cosine') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: schedule must be 'constant' or 'cosine', received ${String(this.schedule)}.`,
      );
    }
    this.totalSteps =
      this.schedule === 'cosine'
        ? positiveInt(o.totalSteps, `${where}: totalSteps (required by the cosine schedule)`)
        : undefined;
    this.nonTrainable = o.nonTrainable;
    if (this.nonTrainable !== 'ema' && this.nonTrainable !== 'copy') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: nonTrainable must be 'ema' or 'copy', received ${String(this.nonTrainable)}.`,
      );
    }
    this.targets = this.online.map(cloneModel);
    this.pairs = this.online.flatMap((m, k) => pairWeights(m, this.targets[k]!, where));
    this.statistics = this.pairs.filter(([w]) => !w.trainable).map(([, t]) => t);
    tf.tidy(() => {
      for (const [w, t] of this.pairs) t.write(w.read());
    });
  }

  /** The first target (the key encoder when `online` is one model). */
  get target(): tfl.LayersModel {
    return this.targets[0]!;
  }

  /** Number of `update()` calls so far. */
  get step(): number {
    return this.steps;
  }

  /** The momentum that `update()` uses at `step` (default: the current step). */
  momentumAt(step = this.steps): number {
    validate.assertNumber(step, 'MomentumEncoder.momentumAt: step', { min: 0 });
    if (this.schedule === 'constant') return this.baseMomentum;
    const progress = Math.min(step / this.totalSteps!, 1);
    return 1 - ((1 - this.baseMomentum) * (Math.cos(Math.PI * progress) + 1)) / 2;
  }

  /**
   * θ_k ← m·θ_k + (1 − m)·θ_q for every weight; returns the m used. Call after the optimizer step.
   * `momentum` overrides the schedule for this update (a caller whose plan can change, such as
   * trainBYOL's time-budget fit, computes m from its own step and plan).
   */
  update(momentum?: number): number {
    this.assertLive();
    const m =
      momentum === undefined
        ? this.momentumAt()
        : unitInterval(momentum, 'MomentumEncoder.update: momentum');
    tf.tidy(() => {
      for (const [w, t] of this.pairs) {
        if (!w.trainable && this.nonTrainable === 'copy') t.write(w.read());
        else t.write(tf.add(tf.mul(t.read(), m), tf.mul(w.read(), 1 - m)));
      }
    });
    this.steps++;
    return m;
  }

  /**
   * Counts one update that was applied elsewhere — a compiled training step (engine
   * 'onnxruntime') computes θ_k ← m·θ_k + (1 − m)·θ_q inside its graph and writes the targets
   * back later — so the step, and with it the momentum schedule, advance as `update()` would.
   * Returns the m of that update.
   */
  recordUpdate(): number {
    this.assertLive();
    const m = this.momentumAt();
    this.steps++;
    return m;
  }

  /**
   * Runs x through the targets in order (keys / BYOL targets); the caller disposes the result.
   * With `training`, BatchNorm uses batch statistics *and writes the targets' moving statistics*
   * (tfjs-layers updates them in every training-mode call); `applyTraining` does not.
   */
  apply(x: tf.Tensor, training = false): tf.Tensor {
    this.assertLive();
    validate.assertFloatTensor(x, [2, 3, 4, 5], 'MomentumEncoder.apply: x');
    return tf.tidy(() =>
      this.targets.reduce<tf.Tensor>((h, t) => t.apply(h, { training }) as tf.Tensor, x),
    );
  }

  /**
   * MoCo's keys: the targets in training mode (BatchNorm normalises with batch statistics, as the
   * key encoder of the MoCo reference does), optionally with Shuffle BN, and **without writing
   * the targets' moving statistics**. Those follow the online models' through `update()` only
   * (EMA, or a copy with `nonTrainable: 'copy'`), so they are written once per step and by one
   * rule: θ_k ← m·θ_k + (1 − m)·θ_q for parameters and moving statistics alike. (Letting this
   * forward write them too, as tfjs-layers does in every training-mode call, wrote them twice a
   * step — once from the keys' batch, once by the EMA — and, with G groups, G + 1 times.)
   *
   * Shuffle BN (He et al. 2020 §3.3) with `shuffle.groups` > 1: the batch is permuted with
   * `shuffle.rng`, cut into that many groups ("simulated devices") whose BatchNorm statistics are
   * each computed over the group's rows alone, and the keys are permuted back to the input order,
   * so that a query and its key are not normalised with the statistics of the same rows and BN
   * cannot leak which sub-batch a positive came from. `groups: 1` (or no `shuffle`) normalises
   * the whole batch together and draws nothing from the rng. The caller disposes the result.
   */
  applyTraining(x: tf.Tensor, shuffle?: { groups: number; rng: Rng }): tf.Tensor {
    this.assertLive();
    validate.assertFloatTensor(x, [2, 3, 4, 5], 'MomentumEncoder.applyTraining: x');
    const forward = (h: tf.Tensor) =>
      this.targets.reduce<tf.Tensor>((a, t) => t.apply(a, { training: true }) as tf.Tensor, h);
    const groups = shuffle?.groups ?? 1;
    const plan = groups > 1 ? shufflePlan(x.shape[0], groups, shuffle!.rng) : undefined;
    return this.withoutStatisticWrites(() =>
      tf.tidy(() => (plan ? applyShuffled(x, plan, forward) : forward(x))),
    );
  }

  /** Saves the targets, the step and the schedule; the online models are saved separately. */
  async save(target: SaveTarget): Promise<void> {
    this.assertLive();
    const models: Record<string, tfl.LayersModel> = {};
    this.targets.forEach((t, i) => {
      models[`target${i}`] = t;
    });
    await saveBundle(target, 'momentum-encoder', {
      state: {
        momentum: this.baseMomentum,
        schedule: this.schedule,
        totalSteps: this.totalSteps ?? null,
        nonTrainable: this.nonTrainable,
        step: this.steps,
        count: this.targets.length,
      },
      models,
    });
  }

  /** Restores a save for the given online models (which must have the saved architecture). */
  static async load(target: SaveTarget, online: OnlineInput): Promise<MomentumEncoder> {
    const bundle = await loadBundle(target, 'momentum-encoder');
    const saved = Object.values(bundle.models);
    try {
      const s = new StateReader(bundle.state, bundle.where);
      const schedule = s.oneOf('schedule', ['constant', 'cosine'] as const);
      const encoder = new MomentumEncoder(online, {
        momentum: s.number('momentum', { min: 0, max: 1 }),
        schedule,
        ...(schedule === 'cosine' ? { totalSteps: s.int('totalSteps', { min: 1 }) } : {}),
        nonTrainable: s.oneOf('nonTrainable', ['ema', 'copy'] as const),
      });
      const count = s.int('count', { min: 1 });
      if (count !== encoder.targets.length) {
        encoder.dispose();
        throw new EbmError(
          'CORRUPT_FILE',
          `${bundle.where}: the save holds ${count} target models, ${encoder.targets.length} online models were given.`,
        );
      }
      encoder.targets.forEach((t, i) => {
        const source = bundle.models[`target${i}`];
        let pairs: [tfl.LayerVariable, tfl.LayerVariable][] | undefined;
        try {
          pairs = source === undefined ? undefined : pairWeights(source, t, 'MomentumEncoder.load');
        } catch {
          pairs = undefined;
        }
        if (pairs === undefined) {
          encoder.dispose();
          throw new EbmError(
            'CORRUPT_FILE',
            `${bundle.where}: saved target ${i} does not match the architecture of online model ${encoder.online[i]!.name}.`,
          );
        }
        tf.tidy(() => {
          for (const [w, tw] of pairs) tw.write(w.read());
        });
      });
      encoder.steps = s.int('step', { min: 0 });
      return encoder;
    } finally {
      for (const m of saved) m.dispose();
    }
  }

  /** Frees the targets (not the online models). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.targets) t.dispose();
  }

  /**
   * Runs fn while the targets' moving statistics ignore writes. tfjs-layers' BatchNormalization
   * has no switch for "batch statistics without updating the moving ones", so their
   * LayerVariables' `write` is shadowed for the call (and restored, whatever happens).
   */
  private withoutStatisticWrites<T>(fn: () => T): T {
    for (const v of this.statistics) {
      Object.defineProperty(v, 'write', {
        value: () => v,
        configurable: true,
        writable: true,
      });
    }
    try {
      return fn();
    } finally {
      for (const v of this.statistics) delete (v as { write?: unknown }).write;
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new EbmError('DISPOSED', 'MomentumEncoder has been disposed.');
  }
}

/** A structural copy through the model's config, with the online weights copied in. */
function cloneModel(model: tfl.LayersModel): tfl.LayersModel {
  const ctor = model.constructor as unknown as {
    fromConfig(
      cls: unknown,
      config: unknown,
      customObjects: object,
      fastWeightInit: boolean,
    ): tfl.LayersModel;
  };
  // fastWeightInit skips the random initializers: every weight is overwritten right after.
  const clone = ctor.fromConfig(model.constructor, model.getConfig(), {}, true);
  clone.trainable = false;
  return clone;
}

/** Matches each weight of `from` with the same-named, same-shaped weight of `to`. */
function pairWeights(
  from: tfl.LayersModel,
  to: tfl.LayersModel,
  where: string,
): [tfl.LayerVariable, tfl.LayerVariable][] {
  const byName = new Map(to.weights.map((w) => [w.originalName, w]));
  if (byName.size !== from.weights.length || to.weights.length !== from.weights.length) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: ${from.name} and its copy hold different weights.`,
    );
  }
  return from.weights.map((w) => {
    const t = byName.get(w.originalName);
    if (t === undefined || !tf.util.arraysEqual(t.shape as number[], w.shape as number[])) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where}: weight ${w.originalName} of ${from.name} has no counterpart of the same shape.`,
      );
    }
    return [w, t];
  });
}
