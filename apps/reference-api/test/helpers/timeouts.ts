/**
 * Bounds of the slow steps of these tests, set from what each step takes on a 2-core machine whose cores
 * are busy with other work, not from an idle laptop.
 *
 * PGlite's first open of a folder (initdb, then the migrations) takes 6–9 s on an idle 2-core machine,
 * 21–29 s with both cores busy, and 45 s at a load average of 10; opening an initialised folder again
 * takes 1 s idle and 6 s at that load. Each bound is at least four times the worst time seen. A test's own
 * timeout is the sum of its steps plus a margin, so a slow step fails with its own message and the
 * test's `finally` still stops what it started.
 */
export const STEP_MS = {
  /** Open a new PGlite database (initdb + migrations), in this process or in a child up to its ready line. */
  pgliteOpen: 180_000,
  /** Open a PGlite folder that is already initialised. */
  pgliteReopen: 90_000,
  /** A child process's exit after SIGTERM, or after a refused configuration. */
  exit: 30_000,
  /** Start or stop a dev issuer, an app without a database, a request or a few. */
  quick: 30_000,
} as const

/** A test's or hook's timeout: the sum of its slow steps, plus a margin for its quick ones. */
export function timeoutFor(...steps: (keyof typeof STEP_MS)[]): number {
  return steps.reduce<number>((sum, step) => sum + STEP_MS[step], STEP_MS.quick)
}
