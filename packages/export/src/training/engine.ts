import { exportError } from '../errors.js';
import { permuteData } from '../tensor-utils.js';
import type { StepGraph, StepTensor } from './step-graph.js';

/** The part of onnxruntime's JS API the engine uses (onnxruntime-node or -web, passed in). */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}
export interface OrtSessionLike {
  run(
    feeds: Record<string, OrtTensorLike>,
    fetches?: Record<string, OrtTensorLike | null> | string[],
  ): Promise<Record<string, OrtTensorLike>>;
  endProfiling?(): void;
  release?(): Promise<void>;
}
export interface OrtLike {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
}

/** @experimental Options of {@link OrtTrainingEngine.create}. */
export interface OrtTrainingEngineOptions {
  /** ORT's intraOpNumThreads. Default 1. */
  threads?: number;
  /**
   * ORT's graph optimisation level. Default 'extended': 'all' adds the NCHWc layout transformer,
   * which reblocks convs and pools and inserts Reorder nodes between them and the training
   * graph's plain-layout ops; that profiled ~35% slower per step on the SimCLR step.
   */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's profiler (a JSON trace written at `endProfiling()`), file prefix. Default off. */
  profileFilePrefix?: string;
  /**
   * Optimizer steps already taken by the state in `graph.state[].initial` (a resumed run), so
   * the next step's bias corrections continue from there. Default 0.
   */
  startStep?: number;
}

/**
 * @experimental Runs a compiled training step ({@link buildSimclrStep}, {@link buildMocoStep},
 * {@link buildPirlStep}) as one `session.run` per step. Weights, moving statistics and optimizer
 * state live in two preallocated sets of buffers that swap roles each step (fed from one, written
 * into the other as preallocated outputs), so a step moves only the batch in and the loss (and
 * the graph's per-step outputs) out.
 */
export class OrtTrainingEngine {
  readonly graph: StepGraph;
  /** True when ORT wrote the new state into the preallocated buffers (checked on the first step). */
  preallocatedOutputs = false;
  private readonly ort: OrtLike;
  private readonly session: OrtSessionLike;
  private current: Map<string, OrtTensorLike>;
  private spare: Map<string, OrtTensorLike>;
  private steps: number;
  private checkedOutputs = false;

  private constructor(ort: OrtLike, session: OrtSessionLike, graph: StepGraph, startStep: number) {
    this.ort = ort;
    this.steps = startStep;
    this.session = session;
    this.graph = graph;
    // The first step's output buffers hold NaN, so that step can tell whether ORT wrote them.
    const make = (s: StepTensor, copy: boolean) =>
      new ort.Tensor(
        'float32',
        copy ? Float32Array.from(s.initial) : new Float32Array(s.initial.length).fill(Number.NaN),
        s.dims,
      );
    this.current = new Map(graph.state.map((s) => [s.input, make(s, true)]));
    this.spare = new Map(graph.state.map((s) => [s.input, make(s, false)]));
  }

  static async create(
    ort: OrtLike,
    graph: StepGraph,
    options: OrtTrainingEngineOptions = {},
  ): Promise<OrtTrainingEngine> {
    const threads = options.threads ?? 1;
    const session = await ort.InferenceSession.create(graph.model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'extended',
      ...(options.profileFilePrefix
        ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix }
        : {}),
    });
    return new OrtTrainingEngine(ort, session, graph, options.startStep ?? 0);
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * One training step of a two-view graph (SimCLR's; each view of the graph's data dims, in its
   * layout). Returns the loss; with `gradients`, also every weight's gradient (if the graph
   * outputs them).
   */
  async step(
    view1: Float32Array,
    view2: Float32Array,
    lr: number,
  ): Promise<{ loss: number; gradients: Map<string, Float32Array> }> {
    const [a, b] = this.graph.data;
    if (a === undefined || b === undefined || this.graph.data.length !== 2) {
      throw exportError(
        'INVALID_ARGUMENT',
        `OrtTrainingEngine.step: the graph takes ${this.graph.data.length} data inputs (${this.graph.data.map((d) => d.name).join(', ')}), not two views; use run().`,
      );
    }
    const { loss, gradients } = await this.run({ [a.name]: view1, [b.name]: view2 }, { lr });
    return { loss, gradients };
  }

  /**
   * One training step: `data` holds every data input of the graph by name (Float32Arrays of
   * their dims), `lr` the learning rate and, for a graph with momentum targets, `momentum` the
   * EMA's m. Returns the loss, the graph's per-step outputs by name, and the gradients it outputs.
   */
  async run(
    data: Record<string, Float32Array>,
    scalars: { lr: number; momentum?: number },
  ): Promise<{
    loss: number;
    outputs: Map<string, Float32Array>;
    gradients: Map<string, Float32Array>;
  }> {
    const T = this.ort.Tensor;
    const feeds: Record<string, OrtTensorLike> = {};
    for (const { name, dims } of this.graph.data) {
      const v = data[name];
      const size = dims.reduce((x, d) => x * d, 1);
      if (!(v instanceof Float32Array) || v.length !== size) {
        throw exportError(
          'INVALID_ARGUMENT',
          `OrtTrainingEngine: ${name} must be a Float32Array of ${size} values ([${dims.join(', ')}]), received ${v instanceof Float32Array ? v.length : typeof v}.`,
        );
      }
      feeds[name] = new T('float32', v, dims);
    }
    const { lr, step, momentum } = this.graph.scalars;
    feeds[lr] = new T('float32', Float32Array.of(scalars.lr), []);
    feeds[step] = new T('float32', Float32Array.of(this.steps + 1), []);
    if (momentum !== undefined) {
      const m = scalars.momentum;
      if (typeof m !== 'number' || !(m >= 0 && m <= 1)) {
        throw exportError(
          'INVALID_ARGUMENT',
          `OrtTrainingEngine: the graph has momentum targets and needs a momentum in [0, 1], received ${String(m)}.`,
        );
      }
      feeds[momentum] = new T('float32', Float32Array.of(m), []);
    }
    const fetches: Record<string, OrtTensorLike | null> = { [this.graph.loss]: null };
    const preallocate = !this.checkedOutputs || this.preallocatedOutputs;
    for (const s of this.graph.state) {
      feeds[s.input] = this.current.get(s.input)!;
      fetches[s.next] = preallocate ? this.spare.get(s.input)! : null;
    }
    for (const o of this.graph.outputs) fetches[o.name] = null;
    for (const g of this.graph.gradients.values()) fetches[g] = null;
    let out = await this.session.run(feeds, fetches);
    if (!this.checkedOutputs && this.graph.state.some((s) => this.lostOutput(out[s.next]!, s))) {
      // onnxruntime-web (1.30) copies a preallocated CPU output into wasm memory and hands the
      // same, unwritten Tensor back: rerun the first step (same feeds) with fetches it allocates.
      for (const s of this.graph.state) fetches[s.next] = null;
      out = await this.session.run(feeds, fetches);
    }
    const next = new Map<string, OrtTensorLike>();
    let reused = true;
    for (const s of this.graph.state) {
      const t = out[s.next]!;
      const spare = this.spare.get(s.input)!;
      // onnxruntime-node writes into the preallocated buffer and hands back another Tensor
      // (checked in full on the first step; later steps trust that result).
      const same = this.checkedOutputs ? this.preallocatedOutputs : sameValues(t.data, spare.data);
      if (!same) reused = false;
      next.set(s.input, same ? spare : t);
    }
    if (!this.checkedOutputs) this.preallocatedOutputs = reused;
    this.checkedOutputs = true;
    this.spare = this.current;
    this.current = next;
    this.steps++;
    const gradients = new Map<string, Float32Array>();
    for (const [w, g] of this.graph.gradients) gradients.set(w, out[g]!.data as Float32Array);
    const outputs = new Map<string, Float32Array>();
    for (const o of this.graph.outputs) outputs.set(o.name, out[o.name]!.data as Float32Array);
    return { loss: (out[this.graph.loss]!.data as Float32Array)[0]!, outputs, gradients };
  }

  /** The runtime returned this state's own spare buffer, still holding the NaN it was given. */
  private lostOutput(t: OrtTensorLike, s: StepTensor): boolean {
    const spare = this.spare.get(s.input)!.data as Float32Array;
    return t.data === spare && spare.length > 0 && Number.isNaN(spare[0]);
  }

  /** The current value of a state tensor (by graph input name), in ONNX layout. */
  value(input: string): Float32Array {
    const t = this.current.get(input);
    if (t === undefined) {
      throw exportError('INVALID_ARGUMENT', `OrtTrainingEngine.value: no state tensor "${input}".`);
    }
    return t.data as Float32Array;
  }

  /**
   * The trained weights and moving statistics in the tfjs variables' own layout, to assign with
   * `variable.write(tf.tensor(data, shape))` (the engine itself never loads tfjs).
   */
  tfjsValues(): {
    variable: NonNullable<StepTensor['source']>['variable'];
    data: Float32Array;
    shape: number[];
  }[] {
    return this.graph.state
      .filter((s) => s.source !== undefined)
      .map((s) => {
        const perm = s.source!.perm;
        const data = this.value(s.input);
        if (perm === undefined)
          return {
            variable: s.source!.variable,
            data: Float32Array.from(data),
            shape: [...s.dims],
          };
        const inverse = new Array<number>(perm.length);
        perm.forEach((p, i) => {
          inverse[p] = i;
        });
        const back = permuteData(data, s.dims, inverse);
        return { variable: s.source!.variable, data: back.data, shape: back.dims };
      });
  }

  /** Stops ORT's profiler and writes its trace (when created with `profileFilePrefix`). */
  endProfiling(): void {
    this.session.endProfiling?.();
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}

function sameValues(a: unknown, b: unknown): boolean {
  const x = a as Float32Array;
  const y = b as Float32Array;
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}
