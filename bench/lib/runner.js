/**
 * Timing. Each (workload, algorithm) cell warms every contender up, then runs R rounds; in each round every
 * contender gets one time slice, in an order rotated by one per round, so that drift in machine load (other
 * processes, thermal state, GC debt) falls on all contenders alike. The reported figure is the median of the
 * rounds' ops/s.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** How many operations run between two clock reads in the serial loop: keeps `performance.now()` cheap. */
const CLOCK_EVERY = 16

/**
 * A full GC between slices so that one contender's garbage is not collected on the next one's time. Uses
 * the exposed `gc` when node runs with --expose-gc, otherwise enables it at run time.
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

/** Serial: each verification awaited before the next starts; cycles through `tokens`. Returns ops/s. */
async function serial(verify, tokens, ms) {
  const n = tokens.length
  let i = 0
  let ops = 0
  const start = performance.now()
  const deadline = start + ms
  let now = start
  while (now < deadline) {
    for (let k = 0; k < CLOCK_EVERY; k++) {
      await verify(tokens[i])
      i = i + 1 === n ? 0 : i + 1
    }
    ops += CLOCK_EVERY
    now = performance.now()
  }
  return ops / ((now - start) / 1000)
}

/**
 * Concurrent: `width` verifications in flight at all times (each finished one is replaced at once), as a
 * server under load would have. A synchronous contender cannot overlap, so it degenerates to serial here;
 * that is the point of the comparison. Returns ops/s, in-flight operations at the deadline included.
 */
async function concurrent(verify, tokens, ms, width) {
  const n = tokens.length
  let i = 0
  let ops = 0
  let stop = false
  const start = performance.now()
  const deadline = start + ms
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
  return ops / ((performance.now() - start) / 1000)
}

/** One timed slice of `ms` milliseconds. */
export function slice(workload, verify, tokens, ms, concurrency) {
  return workload === 'concurrent' ? concurrent(verify, tokens, ms, concurrency) : serial(verify, tokens, ms)
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Run one (workload, algorithm) cell. `entries` is `[{ contender, verify }]`. Returns, per contender id,
 * `{ median, samples }` (ops/s). A verification that throws while timed aborts with the contender's name:
 * every token in the pool is valid, so a failure means a misconfigured contender, not a slow one.
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
  for (const [id, list] of samples) result.set(id, { median: median(list), samples: list })
  return result
}
