/**
 * Timing. The servers of one framework are measured in interleaved rounds: each round gives every server
 * one slice with unique tokens and one with the repeated token, in an order rotated from round to round,
 * so that a burst of other load on the machine lands on several setups rather than on one. A setup's rate
 * is the median of its slices; its CPU cost is its total server CPU time over all requests answered.
 */
import { cpuSeconds, mainThreadSeconds } from './children.js'
import { dpopCycle, topUp } from './dpop.js'
import { load, tokenCycle } from './load.js'

/** Pause after each slice: requests the server already read (hono/jwk's key fetches) finish untimed. */
const SETTLE_MS = 50
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * One slice, with the server's CPU time, this process's CPU time, and the JWKS fetches and introspection
 * calls (when this process runs an introspection endpoint) over its window.
 */
async function slice(server, { jwks, introspection }, seconds, connections, source) {
  const cpuBefore = cpuSeconds(server.pid)
  const mainBefore = mainThreadSeconds(server.pid)
  const ownBefore = process.cpuUsage()
  const fetchesBefore = jwks.fetches()
  const callsBefore = introspection?.calls() ?? 0
  const result = await load({ port: server.port, seconds, connections, ...source })
  const cpuAfter = cpuSeconds(server.pid)
  const mainAfter = mainThreadSeconds(server.pid)
  const own = process.cpuUsage(ownBefore)
  const fetches = jwks.fetches() - fetchesBefore
  const calls = (introspection?.calls() ?? 0) - callsBefore
  await sleep(SETTLE_MS)
  return {
    ...result,
    serverCpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    serverMainCpu: mainBefore === null || mainAfter === null ? null : mainAfter - mainBefore,
    loadCpu: (own.user + own.system) / 1e6,
    jwksFetches: fetches,
    introspectionCalls: calls,
  }
}

/** Sum the slices of one setup and mode into the row's figures. */
function summarize(slices) {
  const sum = (key) => slices.reduce((n, s) => n + (s[key] ?? 0), 0)
  const seconds = sum('seconds')
  const answered = sum('ok') + sum('non2xx')
  const serverCpu = slices.some((s) => s.serverCpu === null) ? null : sum('serverCpu')
  const serverMainCpu = slices.some((s) => s.serverMainCpu === null) ? null : sum('serverMainCpu')
  return {
    rps: median(slices.map((s) => s.rps)),
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    seconds,
    cpuUsPerRequest: serverCpu === null || answered === 0 ? null : (serverCpu * 1e6) / answered,
    // The server's event loop alone: what bounds its rate when its other threads have cores of their own.
    mainCpuUsPerRequest: serverMainCpu === null || answered === 0 ? null : (serverMainCpu * 1e6) / answered,
    // Share of the timed wall-clock time the server was on a CPU: well below 1, its rate was limited by
    // something else (other processes on its core, or the load generator).
    serverBusy: serverCpu === null ? null : serverCpu / seconds,
    loadBusy: sum('loadCpu') / seconds,
    jwksFetches: sum('jwksFetches'),
    introspectionCalls: sum('introspectionCalls'),
    samples: slices.map((s) => s.rps),
    best: Math.max(...slices.map((s) => s.rps)),
    latencyP99: median(slices.map((s) => s.latency.p99)),
  }
}

/**
 * Measure one framework's servers. `entries`: `[{ setup, server, supplies?, tokens?, prepare? }]`
 * (`supplies`: a DPoP server's proofs per mode, bench/http/dpop.js; its first mode's filled for the
 * warm-up, both topped up after it; `tokens`: `{ pool, token }` of its own, an opaque-token server's;
 * `prepare(seconds)`: untimed work before each of its slices, such as refilling a cache). `opts`: `{ modes,
 * duration, rounds, warmup, connections }` (whole seconds; `rounds` divides `duration`). `introspection`:
 * the endpoint this process runs, if any, whose calls each slice counts. Returns one row per entry:
 * `{ framework, setup, label, kind, unique?, repeated? }` (a mode left out of `opts.modes` is absent).
 */
export async function measureFramework(entries, { pool, token, jwks, introspection, opts, onProgress }) {
  const sliceSeconds = opts.duration / opts.rounds
  const counters = { jwks, introspection }
  const state = entries.map(({ setup, server, supplies, tokens, prepare }) => ({
    setup,
    server,
    supplies,
    prepare,
    // Each server walks the pool from the start, across its warm-up and all its unique slices. A DPoP
    // server gets a new proof on every request, with the pool's bound tokens or with one of them.
    sources: supplies
      ? { unique: { cycle: dpopCycle(supplies.unique) }, repeated: { cycle: dpopCycle(supplies.repeated) } }
      : {
          unique: { cycle: tokenCycle(tokens?.pool ?? pool) },
          repeated: { token: tokens?.token ?? token },
        },
    slices: { unique: [], repeated: [] },
  }))
  // Warm-up with the first mode only: the repeated-token path is a part of the unique one, and autocannon
  // runs for whole seconds, so a warm-up per mode would double this phase.
  for (const s of state) {
    if (opts.warmup <= 0) break
    onProgress(`${s.setup.framework} / ${s.setup.id}: warm-up`)
    await sleep(SETTLE_MS)
    s.warmupRps = (
      await load({
        port: s.server.port,
        seconds: opts.warmup,
        connections: opts.connections,
        ...s.sources[opts.modes[0]],
      })
    ).rps
  }

  for (let round = 0; round < opts.rounds; round++) {
    const order = state.map((_, k) => state[(k + round) % state.length])
    for (const s of order) {
      onProgress(`${s.setup.framework}: round ${round + 1}/${opts.rounds}, ${s.setup.id}`)
      for (const mode of opts.modes) {
        // A DPoP server's proofs for this slice, signed now (untimed), so that their iat is fresh.
        if (s.supplies) {
          const seen = Math.max(s.warmupRps ?? 0, ...s.slices[mode].map((x) => x.rps))
          await topUp(s.supplies[mode], sliceSeconds, seen)
        }
        await s.prepare?.(sliceSeconds)
        s.slices[mode].push(await slice(s.server, counters, sliceSeconds, opts.connections, s.sources[mode]))
      }
    }
  }
  return state.map(({ setup, slices, supplies }) => {
    const row = { framework: setup.framework, setup: setup.id, label: setup.label, kind: setup.kind }
    for (const mode of opts.modes) {
      row[mode] = summarize(slices[mode])
      // Proofs sent twice because the supply ran out: the server refused them (non-2xx).
      if (supplies) row[mode].proofWraps = supplies[mode].wraps
    }
    return row
  })
}
