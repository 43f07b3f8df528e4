import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // examples/*/*.test.ts: tests shown in the README as what a user writes (examples/testing/).
    include: ['test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'examples/*/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
