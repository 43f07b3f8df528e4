import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'
import { NODE_FLAGS } from './apps/reference-api/test/helpers/node-flags.js'
import SlowestFilesReporter from './test/helpers/slowest-reporter.js'

/** Reporters that write for a person on the terminal; the slowest-files list goes after theirs. */
const CONSOLE_REPORTERS = new Set(['default', 'verbose', 'tree', 'dot', 'basic', 'agent', 'minimal'])

export default defineConfig({
  plugins: [
    {
      name: 'gatehouse:slowest-files',
      // Runs after the reporters are resolved, before they are created: `--reporter` on the command line
      // (as .ci/run gives) replaces the configured list, so the list is added here instead, unless no
      // reporter writes for a person (`--reporter=json` to standard output must stay JSON).
      configureVitest({ vitest }) {
        const names = vitest.config.reporters.map((reporter) => (Array.isArray(reporter) ? reporter[0] : ''))
        if (names.some((name) => CONSOLE_REPORTERS.has(name)))
          vitest.config.reporters.push(new SlowestFilesReporter())
      },
    },
  ],
  test: {
    // examples/*/*.test.ts: tests shown in the README as what a user writes (examples/testing/).
    include: ['test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'examples/*/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Processes, not worker threads: threads refuse the V8 flag of execArgv.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core machine, one core
    // idle while the slow files wait for their child processes and embedded databases. Two at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // For the files that open PGlite in the worker (why: apps/reference-api/test/helpers/node-flags.ts).
    execArgv: [...NODE_FLAGS],
  },
})
