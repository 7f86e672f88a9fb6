// Settings every package's vitest project shares. The "source" export condition makes
// cross-package imports resolve to `src/` so tests need no build step.
export const sharedTestConfig = {
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    environment: 'node' as const,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks' as const,
  },
};
