import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Assistants built by the tests classify on their own thread (fast start); the pool's tests ask for workers.
    env: { NLU_WORKERS: '0' },
  },
});
