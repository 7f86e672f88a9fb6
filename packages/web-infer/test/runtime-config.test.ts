import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceSupport, SessionSettings } from '../src/devices.js';
import {
  BaseFeatureExtractor,
  type ExtractorPlatform,
  type FeatureExtractorOptions,
} from '../src/feature-extractor.js';
import { OrtRuntime } from '../src/runtime-config.js';
import { modelPath } from './helpers.js';

const mlp = readFileSync(modelPath('mlp'));

/** The injected platform object, with a fake runtime that records the settings each session got. */
function fakePlatform(): { platform: ExtractorPlatform<never>; opened: SessionSettings[] } {
  const opened: SessionSettings[] = [];
  const devices: DeviceSupport = {
    platform: 'node',
    devices: ['cpu', 'wasm'],
    auto: ['cpu', 'wasm'],
    open: async (_bytes, device, settings) => {
      opened.push(settings);
      return {
        session: {
          inputNames: ['input'],
          outputNames: ['embedding'],
          run: async () => ({
            embedding: { dims: [1, 4], type: 'float32', data: new Float32Array(4) },
          }),
          release: async () => {},
        },
        Tensor: class {} as never,
        device,
        runtime: 'onnxruntime-node',
      };
    },
  };
  const platform: ExtractorPlatform<never> = {
    devices,
    runtime: new OrtRuntime(),
    readModel: async () => ({ bytes: mlp, name: 'mlp.onnx' }),
    decode: () => undefined,
  };
  return { platform, opened };
}

class TestExtractor extends BaseFeatureExtractor<never> {
  static async make(
    platform: ExtractorPlatform<never>,
    options?: FeatureExtractorOptions,
  ): Promise<TestExtractor> {
    return new TestExtractor(await BaseFeatureExtractor.open(platform, 'mlp.onnx', options));
  }
}

describe('configureRuntime: one explicit call for the process-wide ONNX Runtime settings', () => {
  it('settings configured before the first session reach every session; a later call replaces them only until then', async () => {
    const { platform, opened } = fakePlatform();
    platform.runtime.configure({ threads: 8 });
    platform.runtime.configure({ threads: 2, wasmPaths: '/ort/' }); // no session yet: replaces
    await TestExtractor.make(platform, { device: 'cpu' });
    await TestExtractor.make(platform, { device: 'wasm' });
    expect(opened).toEqual([
      { threads: 2, wasmPaths: '/ort/' },
      { threads: 2, wasmPaths: '/ort/' },
    ]);
    // After a session: the same values are accepted, different ones name both.
    expect(() => platform.runtime.configure({ threads: 2, wasmPaths: '/ort/' })).not.toThrow();
    expect(() => platform.runtime.configure({ threads: 4, wasmPaths: '/ort/' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(
          /already started with threads 2, wasmPaths "\/ort\/" \(set by configureRuntime\); received threads 4/,
        ),
      }),
    );
  });

  it('after a session started on the defaults, configureRuntime with other values throws', async () => {
    const { platform, opened } = fakePlatform();
    await TestExtractor.make(platform);
    expect(opened).toEqual([{ threads: undefined, wasmPaths: undefined }]);
    expect(() => platform.runtime.configure({})).not.toThrow();
    expect(() => platform.runtime.configure({ wasmPaths: '/ort/' })).toThrow(
      /threads \(runtime default\), wasmPaths \(runtime default\) \(the defaults the first session used\); received threads \(runtime default\), wasmPaths "\/ort\/"/,
    );
  });

  it('rejects unknown keys and bad values', () => {
    const runtime = new OrtRuntime();
    expect(() => runtime.configure({ thread: 2 } as object)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/unknown option "thread". Did you mean "threads"\?/),
      }),
    );
    expect(() => runtime.configure({ threads: 0 })).toThrow(
      /configureRuntime: option "threads" must be a positive integer, received 0/,
    );
    expect(() => runtime.configure({ wasmPaths: 42 as unknown as string })).toThrow(
      /option "wasmPaths" must be a URL prefix string or an object of file URLs, received 42/,
    );
    expect(() =>
      runtime.configure({ wasmPaths: { wasm: '/a.wasm', mjs: 3 } as unknown as string }),
    ).toThrow(/option "wasmPaths"/);
  });
});

describe('the deprecated per-extractor threads/wasmPaths', () => {
  it('configure the runtime when nothing did; an equal value later is fine, a different one throws naming both', async () => {
    const { platform, opened } = fakePlatform();
    await TestExtractor.make(platform, { device: 'cpu', threads: 1, wasmPaths: '/ort/' });
    await TestExtractor.make(platform, { device: 'wasm', threads: 1 });
    await TestExtractor.make(platform, { wasmPaths: '/ort/' });
    await TestExtractor.make(platform);
    expect(opened).toEqual(Array(4).fill({ threads: 1, wasmPaths: '/ort/' }));
    await expect(
      TestExtractor.make(platform, { device: 'wasm', threads: 4 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(
        /FeatureExtractor.create: "threads" is process-wide and already configured: threads 1 \(set by the options of an earlier FeatureExtractor.create\); received threads 4\. Call configureRuntime\(\{ threads \}\)/,
      ),
      details: { configured: { threads: 1, wasmPaths: '/ort/' }, requested: { threads: 4 } },
    });
    await expect(
      TestExtractor.make(platform, { threads: 2, wasmPaths: { wasm: '/x.wasm' } }),
    ).rejects.toThrow(/"threads" and "wasmPaths" are process-wide/);
    expect(opened).toHaveLength(4); // the refused extractors opened no session
  });

  it('must agree with configureRuntime, and with the defaults a first session used', async () => {
    const configured = fakePlatform();
    configured.platform.runtime.configure({ threads: 2 });
    await TestExtractor.make(configured.platform, { threads: 2 });
    await expect(TestExtractor.make(configured.platform, { wasmPaths: '/ort/' })).rejects.toThrow(
      /wasmPaths \(runtime default\) \(set by configureRuntime\); received wasmPaths "\/ort\/"/,
    );

    const defaults = fakePlatform();
    await TestExtractor.make(defaults.platform);
    await expect(TestExtractor.make(defaults.platform, { threads: 3 })).rejects.toThrow(
      /threads \(runtime default\) \(the defaults the first session used\); received threads 3/,
    );
    await expect(TestExtractor.make(defaults.platform, { threads: 0 })).rejects.toThrow(
      /option "threads" must be a positive integer, received 0/,
    );
  });
});
