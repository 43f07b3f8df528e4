/**
 * Timing. Each (workload, algorithm) cell warms every contender up, then runs R rounds; in each round every
 * contender gets one time slice, in an order rotated by one per round, so that drift in machine load (other
 * processes, thermal state, GC debt) falls on all contenders alike. The reported figure is the median of the
 * rounds' rates.
 */
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** How many operations run between two clock reads: keeps `performance.now()` out of the measurement. */
const CLOCK_EVERY = 16

/**
 * A full GC before each slice so that one contender's garbage is not collected on the next one's time.
 * Uses the exposed `gc` when node runs with --expose-gc, otherwise enables it at run time.
 */
const collectGarbage = (() => {
  if (typeof globalThis.gc === 'function') return globalThis.gc
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc')
  } catch {
    return () => {}
  }
})()

/**
 * CPU time of the main thread (the event loop) in microseconds, from Linux's per-thread schedstat; null
 * elsewhere. `process.cpuUsage()` counts every thread, so the two together say how much of a contender's
 * work left the event loop (thread pool, workers) and what that cost in all.
 */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`
function mainThreadMicros() {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1000
  } catch {
    return null
  }
}

/** Serial: each verification awaited before the next starts; cycles through `tokens`. Returns the count. */
async function serial(verify, tokens, ms) {
  const n = tokens.length
  const deadline = performance.now() + ms
  let i = 0
  let ops = 0
  while (performance.now() < deadline) {
    for (let k = 0; k < CLOCK_EVERY; k++) {
      await verify(tokens[i])
      i = i + 1 === n ? 0 : i + 1
    }
    ops += CLOCK_EVERY
  }
  return ops
}

/**
 * Concurrent: `width` verifications in flight at all times (each finished one is replaced at once), as a
 * server under load would have. A synchronous contender cannot overlap, so it degenerates to serial here;
 * that is the point of the comparison. Returns the count, in-flight operations at the deadline included.
 */
async function concurrent(verify, tokens, ms, width) {
  const n = tokens.length
  const deadline = performance.now() + ms
  let i = 0
  let ops = 0
  let stop = false
  async function worker() {
    while (!stop) {
      const token = tokens[i]
      i = i + 1 === n ? 0 : i + 1
      await verify(token)
      ops++
      // The clock is read inside the loop: with synchronous contenders no timer callback would ever run.
      if ((ops & (CLOCK_EVERY - 1)) === 0 && performance.now() >= deadline) stop = true
    }
  }
  await Promise.all(Array.from({ length: width }, worker))
  return ops
}

/**
 * One timed slice of about `ms` milliseconds. Returns three rates: `wall`, operations per second of elapsed
 * time (throughput, what the tables report by default); `cpu`, operations per second of CPU time used by
 * this process on all its threads (user + system); `main`, operations per second of CPU time of the main
 * thread alone (null where unavailable). The last two barely move when other processes compete for the
 * cores, so they are the better estimates of per-operation cost on a busy machine; `cpu` says nothing
 * about throughput across cores (thread-pool work is CPU time too), `main` says how much event loop each
 * operation takes, which bounds a server's throughput when its other threads have cores of their own.
 */
export async function slice(workload, verify, tokens, ms, concurrency) {
  const cpuStart = process.cpuUsage()
  const mainStart = mainThreadMicros()
  const start = performance.now()
  const ops =
    workload === 'concurrent'
      ? await concurrent(verify, tokens, ms, concurrency)
      : await serial(verify, tokens, ms)
  const wallSeconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  const mainEnd = mainThreadMicros()
  return {
    wall: ops / wallSeconds,
    cpu: ops / ((cpu.user + cpu.system) / 1e6),
    main: mainStart === null || mainEnd === null ? null : ops / ((mainEnd - mainStart) / 1e6),
  }
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Run one (workload, algorithm) cell. `entries` is `[{ contender, verify }]`. Returns, per contender id,
 * `{ wall, cpu, main }`, each `{ median, samples }` (ops/s, see `slice`; `main` is null without schedstat). A verification that
 * throws while timed aborts with the contender's name: every token in the pool is valid, so a failure means
 * a misconfigured contender, not a slow one.
 */
export async function runCell({
  workload,
  entries,
  tokens,
  rounds,
  sliceMs,
  warmupMs,
  concurrency,
  onRound,
}) {
  const samples = new Map(entries.map((e) => [e.contender.id, []]))
  const timed = async (entry, ms) => {
    collectGarbage()
    try {
      return await slice(workload, entry.verify, tokens, ms, concurrency)
    } catch (err) {
      throw new Error(`${entry.contender.id} failed on a valid token during timing: ${err?.message ?? err}`)
    }
  }
  for (const entry of entries) await timed(entry, warmupMs)
  for (let round = 0; round < rounds; round++) {
    const order = entries.map((_, k) => entries[(k + round) % entries.length])
    for (const entry of order) samples.get(entry.contender.id).push(await timed(entry, sliceMs))
    onRound?.(round + 1)
  }
  const result = new Map()
  for (const [id, list] of samples) {
    const summary = (metric) => {
      const values = list.map((sample) => sample[metric])
      return values.includes(null) ? null : { median: median(values), samples: values }
    }
    result.set(id, { wall: summary('wall'), cpu: summary('cpu'), main: summary('main') })
  }
  return result
}
