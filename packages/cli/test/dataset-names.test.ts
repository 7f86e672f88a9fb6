// `--dataset cifar10 | cifar100 | stl10` reach their loaders with the split asked for. The
// loaders are stubbed: their own tests (in @ebmjs/train) decode the real formats, and this
// machine has no network to download the archives.
import { describe, expect, it, vi } from 'vitest';

const calls: [string, unknown][] = [];
vi.mock('@ebmjs/train/node', async (original) => {
  const fake = (name: string) => async (options: { split: string }) => {
    calls.push([name, options]);
    const n = 4;
    return {
      name: `${name}-${options.split}`,
      imageShape: [2, 2, 3] as const,
      pixels: new Uint8Array(n * 12),
      labels: Int32Array.from({ length: n }, (_, i) => i % 2),
      classNames: ['a', 'b'],
    };
  };
  return {
    ...(await original<object>()),
    loadCifar10: fake('cifar10'),
    loadCifar100: fake('cifar100'),
    loadStl10: fake('stl10'),
  };
});

const { checkDatasetFlag } = await import('../src/args.js');
const { resolveDataset } = await import('../src/datasets.js');

describe('--dataset names', () => {
  it('accepts cifar10, cifar100 and stl10 and loads each split from its loader', async () => {
    for (const name of ['cifar10', 'cifar100', 'stl10']) await checkDatasetFlag(name);
    expect((await resolveDataset('cifar10', 'train')).name).toBe('cifar10-train');
    expect((await resolveDataset('cifar100', 'test')).name).toBe('cifar100-test');
    const stl = await resolveDataset('stl10', 'test', 2);
    expect(stl.labels.length).toBe(2);
    expect(calls).toEqual([
      ['cifar10', { split: 'train' }],
      ['cifar100', { split: 'test' }],
      ['stl10', { split: 'test' }],
    ]);
  });

  it('names every choice when the name is none of them', async () => {
    await expect(checkDatasetFlag('cifar11')).rejects.toThrow(
      /--dataset must be mnist, fashion-mnist, cifar10, cifar100, stl10 or a directory of class folders; "cifar11"/,
    );
    await expect(resolveDataset('stl-10', 'train')).rejects.toThrow(/cifar10, cifar100, stl10/);
  });
});
