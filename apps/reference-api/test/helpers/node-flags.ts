/**
 * Node options for the test processes that open PGlite: Vitest's workers (vitest.config.ts) and the
 * servers and CLIs the tests start (process.ts, built-app.ts, test/cli/run-cli.ts).
 *
 * `--liftoff-only`: V8 compiles WebAssembly with its baseline compiler only. By default it also compiles
 * PGlite's busy functions again with its optimising compiler, on background threads; in a process that
 * lives for seconds that costs more than it saves: a first PGlite open then takes about a third less CPU
 * (measured on Node 20 and 24). It changes how fast the code runs, not what it does.
 */
export const NODE_FLAGS: readonly string[] = ['--liftoff-only']
