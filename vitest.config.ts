import { defineConfig } from 'vitest/config';

// `pnpm vitest` at the root runs every package's tests in one process tree.
export default defineConfig({
  test: { projects: ['packages/*'] },
});
