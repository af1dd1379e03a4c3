import { defineConfig } from 'vitest/config';

// Integration tests share one broker and one Redis; files run one at a time so that
// timing-sensitive tests do not compete for the machine's two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The service's info lines are for operators; tests only show errors.
    env: { TOKENLINE_LOG_LEVEL: process.env.TOKENLINE_LOG_LEVEL ?? 'error' },
  },
});
