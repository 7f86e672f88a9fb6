import { EbmError } from '@ebmjs/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../optim/create-optimizer.js';

/** A JSON value as stored in a checkpoint's fingerprint. */
type Json = unknown;

/**
 * The optimizer as the fingerprint records it: its name and every hyper-parameter, defaults
 * filled in, so `sgd` after `adam` (or another momentum) is a mismatch, not slots loaded into
 * the wrong places.
 */
export function optimizerFingerprint(
  optimizer: OptimizerConfig | tf.Optimizer | undefined,
  instance: tf.Optimizer | undefined,
): Record<string, Json> {
  if (instance) {
    const named = instance as unknown as {
      getClassName?: () => string;
      getConfig?: () => Record<string, unknown>;
    };
    let config: Record<string, unknown> = {};
    try {
      config = named.getConfig?.() ?? {};
    } catch {
      // An optimizer without a serialisable config is recorded by its class alone.
    }
    const plain: Record<string, Json> = {};
    for (const [k, v] of Object.entries(config))
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') plain[k] = v;
    return { name: named.getClassName?.() ?? instance.constructor.name, ...plain };
  }
  const given = (optimizer as OptimizerConfig | undefined) ?? {
    name: 'adam' as const,
    learningRate: 1e-3,
  };
  const defaults: Record<string, Json> =
    given.name === 'sgd'
      ? { momentum: 0.9 }
      : given.name === 'adamw'
        ? { weightDecay: 0.01 }
        : given.name === 'lars'
          ? { momentum: 0.9, weightDecay: 1e-6 }
          : {};
  const out: Record<string, Json> = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out;
}

/** Nested objects as `a.b` paths to their leaves (arrays and scalars are leaves). */
function flatten(value: Json, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, Json>))
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** Every setting whose value differs between two fingerprints, with both values. */
export function fingerprintDifferences(
  saved: Json,
  current: Json,
  ignore: readonly string[] = [],
): { setting: string; checkpoint: string; now: string }[] {
  const a = flatten(saved, '', new Map());
  const b = flatten(current, '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const missing = '(not recorded)';
  return keys
    .filter((k) => !ignore.includes(k) && a.get(k) !== b.get(k))
    .map((k) => ({ setting: k, checkpoint: a.get(k) ?? missing, now: b.get(k) ?? missing }));
}

/** The EbmError for a resume with other settings: one line per differing setting. */
export function fingerprintMismatch(
  recipe: string,
  dir: string,
  differences: { setting: string; checkpoint: string; now: string }[],
): EbmError {
  const list = differences
    .map((d) => `${d.setting}: checkpoint ${d.checkpoint}, this run ${d.now}`)
    .join('; ');
  const onlyEpochs = differences.every((d) => d.setting === 'epochs');
  return new EbmError(
    'INVALID_ARGUMENT',
    `${recipe}: the checkpoint in ${dir} was written with other settings (${list}); use the same settings or a new runDir${
      onlyEpochs ? ', or extend: true (CLI --extend) to train a run for more epochs' : ''
    }.`,
    { differences, path: dir },
  );
}
