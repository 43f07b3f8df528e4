/**
 * The `dpop-store` workload of `npm run bench`: the replay check alone, then over the network.
 *
 * 1. The memory store's `setIfAbsentSync` with a new key of a DPoP record's shape (`dpop:<jkt>:<jti>`,
 *    85 characters), the store holding N live entries: its clock advances one millisecond per call and a
 *    record lives N milliseconds, so one entry expires per insertion and the size stays at N (the steady
 *    state of a store sized for its traffic: no evictions).
 * 2. With a `redis-server` binary: a server of its own on 127.0.0.1 (a free port, no persistence), then
 *    the Redis store's `setIfAbsent` latency (one at a time, and throughput with many in flight), and
 *    the asynchronous `gate.check` with the Redis store against the memory store, on the same requests.
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { createDpopGate, DPOP_ROLES, fillPool, NEXT, syncCheck, walking } from './dpop-gate.js'
import { median, runCell } from './runner.js'

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
/** A 36-character `jti`, as a UUID: 26 random characters, then a 10-digit counter. */
const JTI_PREFIX = randomUUID().slice(0, 26)
let counter = 1e9

/** Microseconds per `setIfAbsentSync` with `size` live entries: median and worst of `rounds` rounds. */
function memoryStoreCost(gatehouse, size, rounds, ops) {
  let clock = Date.now()
  const store = gatehouse.createMemoryStore({ maxEntries: size * 2, now: () => clock })
  const ttl = size / 1000
  for (let i = 0; i < size; i++) {
    clock++
    if (!store.setIfAbsentSync(`dpop:${JKT}:${JTI_PREFIX}${counter++}`, ttl)) throw new Error('refused')
  }
  const perOp = []
  for (let round = 0; round < rounds + 1; round++) {
    const start = performance.now()
    for (let i = 0; i < ops; i++) {
      clock++
      // Built per call, as the checker builds it.
      if (!store.setIfAbsentSync(`dpop:${JKT}:${JTI_PREFIX}${counter++}`, ttl))
        throw new Error('a new key was refused')
    }
    const us = ((performance.now() - start) * 1000) / ops
    if (round > 0) perOp.push(us) // the first round warms up
  }
  const result = {
    size,
    median: median(perOp),
    worst: Math.max(...perOp),
    live: store.size,
    evictions: store.evictions,
  }
  store.clear()
  return result
}

export function measureMemoryStore(gatehouse, { sizes = [10_000, 100_000], rounds, ops }) {
  return sizes.map((size) => memoryStoreCost(gatehouse, size, rounds, ops))
}

/** Path of redis-server, or null. */
export function findRedisServer() {
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server'
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Start `redis-server` on 127.0.0.1 on a free port, without persistence. Resolves with `{ url, version,
 * stop() }` once it accepts connections; it is killed when this process exits, however it exits.
 */
export async function startRedis(bin) {
  const port = await freePort()
  const version = /v=(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown'
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      kill()
      throw new Error(`redis-server did not start on port ${port}${stderr ? `: ${stderr.trim()}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: () =>
      new Promise((resolve) => {
        process.off('exit', kill)
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

export function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return {
    p50: at(0.5),
    p99: at(0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    n: sorted.length,
  }
}

/**
 * Latency of each operation in µs, `runs` (name → async function of no argument) called one at a time,
 * interleaved in blocks of `block`, after `warmup` untimed calls each.
 */
export async function latencies(runs, count, { warmup = 200, block = 100 } = {}) {
  const samples = new Map(Object.keys(runs).map((name) => [name, []]))
  for (const run of Object.values(runs)) for (let i = 0; i < warmup; i++) await run()
  for (let done = 0; done < count; done += block) {
    for (const [name, run] of Object.entries(runs)) {
      const list = samples.get(name)
      for (let i = 0; i < Math.min(block, count - done); i++) {
        const start = performance.now()
        await run()
        list.push((performance.now() - start) * 1000)
      }
    }
  }
  return Object.fromEntries([...samples].map(([name, list]) => [name, percentiles(list)]))
}

/** Operations per second with `width` calls in flight, `count` calls in all. */
async function throughput(run, count, width) {
  let left = count
  const start = performance.now()
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (left-- > 0) await run()
    }),
  )
  return (count * 1000) / (performance.now() - start)
}

const newKey = () => `dpop:${JKT}:${JTI_PREFIX}${counter++}`

/**
 * The Redis store's first call loads node-redis and connects, within the same `timeoutDuration` (500 ms)
 * as any call: on a busy machine it can time out. Untimed, so retried until the store answers.
 */
async function connected(store) {
  for (let attempt = 1; ; attempt++) {
    try {
      return recorded(await store.setIfAbsent(newKey(), 1))
    } catch (error) {
      if (attempt === 10) throw error
    }
  }
}

/** Must record: a refusal of a new key would be a broken store, not a slow one. */
function recorded(first) {
  if (!first) throw new Error('a new key was refused')
}

/** A redis-server of the bench's own, or `{ skipped }` saying why there is none. */
export async function startBenchRedis() {
  const bin = findRedisServer()
  if (bin === null)
    return { skipped: 'no redis-server binary (looked for /usr/bin/redis-server and on PATH)' }
  try {
    return { redis: await startRedis(bin) }
  } catch (error) {
    return { skipped: error.message }
  }
}

/**
 * Everything that needs Redis. `ctx`: `{ gatehouse, dpop (the DPoP setup), alg (proof algorithm),
 * opts, closers }`. Resolves with the figures, or `{ skipped }` saying why there are none.
 */
export async function measureRedis(ctx, onProgress) {
  const started = await startBenchRedis()
  if (started.skipped) return started
  const { redis } = started
  const { gatehouse, dpop, alg, opts } = ctx
  const stores = []
  const gates = []
  let raw
  try {
    onProgress(`redis-server ${redis.version} on ${redis.url}: setIfAbsent latency…`)
    const store = gatehouse.createRedisStore({ url: redis.url, prefix: `bench:${process.pid}:` })
    stores.push(store)
    await connected(store)
    const memory = gatehouse.createMemoryStore({ maxEntries: 1_000_000 })
    // The same command on a bare node-redis client: what the store adds is the difference (hashing the
    // key, the timeout timer).
    const { createClient } = await import('redis')
    raw = createClient({ url: redis.url })
    raw.on('error', () => {})
    await raw.connect()
    const count = opts.quick ? 1000 : 5000
    // With --baseline, the other build's Redis store and gate on the same server, in the same blocks.
    const other = typeof ctx.baseline?.createRedisStore === 'function' ? ctx.baseline : undefined
    const otherStore = other?.createRedisStore({ url: redis.url, prefix: `bench:${process.pid}:b:` })
    if (otherStore) {
      stores.push(otherStore)
      await connected(otherStore)
    }
    const storeLatency = await latencies(
      {
        redis: () => store.setIfAbsent(newKey(), 360).then(recorded),
        ...(otherStore && { baseline: () => otherStore.setIfAbsent(newKey(), 360).then(recorded) }),
        raw: () =>
          raw
            .set(newKey(), '1', { expiration: { type: 'PX', value: 360_000 }, condition: 'NX' })
            .then((reply) => recorded(reply === 'OK')),
        memory: () => memory.setIfAbsent(newKey(), 360).then(recorded),
      },
      count,
    )
    const inFlight = opts.concurrency
    const storeThroughput = await throughput(
      () => store.setIfAbsent(newKey(), 360).then(recorded),
      count * 2,
      inFlight,
    )

    // The asynchronous gate, replay store in memory or on Redis, on the same requests.
    const memoryGate = await createDpopGate(gatehouse, dpop, alg)
    const redisStore = gatehouse.createRedisStore({ url: redis.url, prefix: `bench:${process.pid}:gate:` })
    stores.push(redisStore)
    await connected(redisStore)
    const redisGate = await createDpopGate(gatehouse, dpop, alg, { dpopProof: { store: redisStore } })
    gates.push(memoryGate, redisGate)
    const pool = () => dpop.byAlg.get(alg).items
    const asyncCheck = (gate) =>
      walking(
        pool,
        async (it) => {
          const auth = await gate.check(it.request)
          if (auth?.tokenType !== 'dpop') throw new Error('not a DPoP request')
        },
        false,
      )

    onProgress('gate.check latency, memory and Redis stores…')
    const gateCount = opts.quick ? 500 : 2000
    await fillPool(dpop, alg, 0, (gateCount + 200) * 1.1)
    const [memoryWalk, redisWalk] = [asyncCheck(memoryGate), asyncCheck(redisGate)]
    let otherGate
    if (other && typeof other.createDpopChecker === 'function') {
      const otherGateStore = other.createRedisStore({ url: redis.url, prefix: `bench:${process.pid}:bg:` })
      stores.push(otherGateStore)
      await connected(otherGateStore)
      otherGate = await createDpopGate(other, dpop, alg, { dpopProof: { store: otherGateStore } })
      gates.push(otherGate)
    }
    const otherWalk = otherGate && asyncCheck(otherGate)
    const gateLatency = await latencies(
      {
        memory: () => memoryWalk(NEXT),
        redis: () => redisWalk(NEXT),
        ...(otherWalk && { baseline: () => otherWalk(NEXT) }),
      },
      gateCount,
    )

    // Throughput: one at a time, then many in flight, against the floor and the synchronous path.
    // Its own gate, so its own replay store: the same proofs are sent to every contender.
    const syncGate = await createDpopGate(gatehouse, dpop, alg)
    gates.push(syncGate)
    const syncMemory = syncCheck(gatehouse, syncGate, 'dpop')
    const entries = () => [
      { contender: { id: 'dpop-floor' }, verify: DPOP_ROLES.floor(alg, ctx) },
      {
        contender: { id: 'sync-memory' },
        verify: walking(pool, (it) => syncMemory(it.request), false),
      },
      { contender: { id: 'async-memory' }, verify: asyncCheck(memoryGate) },
      { contender: { id: 'async-redis' }, verify: asyncCheck(redisGate) },
      ...(otherGate ? [{ contender: { id: 'baseline-async-redis' }, verify: asyncCheck(otherGate) }] : []),
    ]
    const cells = {}
    for (const workload of ['serial', 'concurrent']) {
      await fillPool(dpop, alg, (opts.warmupMs + opts.rounds * opts.sliceMs) / 1000)
      cells[workload] = await runCell({
        workload,
        entries: entries(),
        tokens: [NEXT],
        rounds: opts.rounds,
        sliceMs: opts.sliceMs,
        warmupMs: opts.warmupMs,
        concurrency: opts.concurrency,
        onRound: (r) => onProgress(`gate.check with Redis, ${workload}: round ${r}/${opts.rounds}`),
      })
    }
    return {
      alg,
      tokenAlg: dpop.tokenAlg,
      version: redis.version,
      storeLatency,
      storeThroughput,
      inFlight,
      gateLatency,
      cells,
      count,
      gateCount,
    }
  } finally {
    for (const gate of gates) gate.close()
    for (const store of stores) await store.close()
    raw?.destroy()
    await redis.stop()
  }
}
