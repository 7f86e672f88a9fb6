import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './scripts/vitest-summary-reporter.js';

// `pnpm test` runs every package's tests (each package's vitest.config.ts is a project).
export default defineConfig({
  test: {
    projects: ['packages/*'],
    reporters: ['default', new SummaryReporter()],
  },
});
