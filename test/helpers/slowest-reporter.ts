/**
 * A Vitest reporter that prints, after the summary, the ten test files that took longest: each file's
 * own time (importing it, then its tests and hooks) and, of that, its tests and hooks. A file that grows
 * slow is then seen in every run, locally and in CI, before the whole `npm test` is.
 *
 * vitest.config.ts adds it after the reporters that write to the terminal, including those given with
 * `--reporter` on the command line.
 */
import type { Reporter, TestModule, Vitest } from 'vitest/node'

/** How many files the list shows. */
const SHOWN = 10

export default class SlowestFilesReporter implements Reporter {
  private vitest: Vitest | undefined

  onInit(vitest: Vitest): void {
    this.vitest = vitest
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const files = testModules.map((module) => {
      const { collectDuration, setupDuration, duration } = module.diagnostic()
      return {
        path: module.relativeModuleId,
        total: collectDuration + setupDuration + duration,
        tests: duration,
      }
    })
    const slowest = files.sort((a, b) => b.total - a.total).slice(0, SHOWN)
    if (slowest.length === 0) return
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const lines = slowest.map(
      (file) => `   ${seconds(file.total).padStart(8)}  (tests ${seconds(file.tests)})  ${file.path}`,
    )
    const logger = this.vitest?.logger ?? console
    logger.log(`\n Slowest test files (${slowest.length} of ${files.length}):\n${lines.join('\n')}\n`)
  }
}
