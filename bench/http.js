/**
 * `npm run bench:http`: requests per second behind real servers. `GET /protected` on Express 5, Fastify 5
 * and Hono 4 (@hono/node-server), each with no auth, with Gatehouse (token cache off and on), with the
 * peers' middlewares, with Gatehouse sent DPoP requests (a fresh proof each), and with Gatehouse sent
 * opaque tokens it introspects (answers cached), under unique tokens and under one repeated token.
 * Method and results: docs/benchmarks-http.md.
 *
 *   node bench/http.js [--quick] [--framework express,fastify,hono] [--setup ID,...] [--mode unique,repeated]
 *                      [--duration S] [--rounds N] [--warmup S] [--connections N] [--pool N] [--json out.json]
 *                      [--server-cpus 0|0,1] [--profile DIR]
 *
 * Each server is its own process pinned to core 0 (`taskset`; `--server-cpus 0,1` gives it both cores, the
 * second shared with this process); this process (autocannon, the local JWKS server and introspection
 * endpoint) is pinned to core 1. Markdown goes to stdout, progress to stderr. Exit code 0 whether the
 * targets pass or not; 1 when a server answers the sanity check wrongly or the arguments are wrong.
 */
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { killAll, killOnExit, pinSelf, startServer, TASKSET } from './http/children.js'
import { checkDpopServer, createDpopTokens, createSupplies, DPOP_TOKENS } from './http/dpop.js'
import { startJwksServer } from './http/jwks-server.js'
import { checkOpaqueServer, createOpaqueTokens, OPAQUE_TOKENS, warmCache } from './http/opaque.js'
import {
  deviationLines,
  dpopLines,
  evaluateTargets,
  MODES,
  offloadLines,
  opaqueLines,
  resultTable,
  targetLines,
} from './http/report.js'
import { measureFramework } from './http/runner.js'
import { checkServer } from './http/sanity.js'
import { FRAMEWORKS, SETUPS } from './http/setups.js'
import { mintUniquePool } from './http/tokens.js'
import { startIntrospectionEndpoint } from './lib/introspection-endpoint.js'
import { AUDIENCE, createKeys, ISSUER, sanityCases } from './lib/tokens.js'

/** Default cores of each server (`--server-cpus`) and the core of this process (load generator, JWKS). */
const SERVER_CPUS = '0'
const LOAD_CPU = 1
/**
 * Gatehouse's token cache holds 10000 tokens (first in, first out): a larger pool makes every unique
 * request a miss. The margin covers requests that 50 connections answer out of send order; with a pool
 * of exactly 10001 a token can come back before its entry is evicted.
 */
const MIN_POOL = 11_000

const USAGE = `usage: node bench/http.js [options]
  --quick               2 s in 2 rounds per server and mode, 1 s warm-up, 12000 tokens (about 2¼ min)
  --framework LIST      ${FRAMEWORKS.join(', ')} (default all)
  --setup LIST          only these setups (ids: ${[...new Set(SETUPS.map((s) => s.id))].join(', ')})
  --mode LIST           unique, repeated (default both)
  --duration S          whole seconds timed per server and token mode (default 5)
  --rounds N            interleaved rounds the duration is split into, N divides S; the median is
                        reported (default 5)
  --warmup S            whole seconds of load per server before its first round, not counted (default 1)
  --connections N       concurrent keep-alive connections (default 50)
  --pool N              distinct tokens for the unique mode (default 20000, at least ${MIN_POOL})
  --json FILE           also write every measurement as JSON
  --server-cpus LIST    cores each server may run on, for taskset (default ${SERVER_CPUS}; 0,1 gives the
                        servers both cores, the second shared with the load generator)
  --profile DIR         servers run with --cpu-prof and write DIR/<framework>-<setup>.cpuprofile (slower;
                        summarize one with node bench/http/profile.js FILE)`

function fail(message) {
  process.stderr.write(`bench:http: ${message}\n`)
  killAll()
  process.exit(1)
}

function list(values, allowed, what) {
  const items = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
  for (const item of items)
    if (!allowed.includes(item)) fail(`unknown ${what} "${item}" (one of ${allowed.join(', ')})`)
  return items.length ? allowed.filter((a) => items.includes(a)) : allowed
}

function number(value, fallback, name, { integer = false, zero = false } = {}) {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero) || (integer && !Number.isInteger(n)))
    fail(
      `--${name} must be a ${zero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got "${value}"`,
    )
  return n
}

function parseOptions() {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        framework: { type: 'string', multiple: true, default: [] },
        setup: { type: 'string', multiple: true, default: [] },
        mode: { type: 'string', multiple: true, default: [] },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        pool: { type: 'string' },
        json: { type: 'string' },
        profile: { type: 'string' },
        'server-cpus': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values
  } catch (err) {
    fail(`${err.message}\n${USAGE}`)
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const { quick } = parsed
  const pool = number(parsed.pool, quick ? 12_000 : 20_000, 'pool', { integer: true })
  if (pool < MIN_POOL)
    fail(`--pool must be at least ${MIN_POOL} (Gatehouse's cache would turn unique tokens into hits)`)
  const options = {
    frameworks: list(parsed.framework, FRAMEWORKS, 'framework'),
    setupIds: list(parsed.setup, [...new Set(SETUPS.map((s) => s.id))], 'setup'),
    modes: list(parsed.mode, MODES, 'mode'),
    // autocannon runs for whole seconds (a shorter run still takes one), so every period is whole seconds.
    duration: number(parsed.duration, quick ? 2 : 5, 'duration', { integer: true }),
    rounds: number(parsed.rounds, quick ? 2 : 5, 'rounds', { integer: true }),
    warmup: number(parsed.warmup, 1, 'warmup', { integer: true, zero: true }),
    connections: number(parsed.connections, 50, 'connections', { integer: true }),
    pool,
    json: parsed.json,
    profile: parsed.profile && path.resolve(parsed.profile),
    serverCpus: parsed['server-cpus'] ?? SERVER_CPUS,
    quick,
  }
  if (!/^\d+(,\d+)*$/.test(options.serverCpus))
    fail(`--server-cpus must be a comma-separated list of core numbers, got "${options.serverCpus}"`)
  if (options.duration % options.rounds !== 0)
    fail(
      `--rounds (${options.rounds}) must divide --duration (${options.duration}): slices are whole seconds`,
    )
  return options
}

/** "31–48%": the range of the load generator's CPU share over all timed runs. */
function loadBusyRange(rows) {
  const shares = rows.flatMap((r) => MODES.filter((m) => r[m]).map((m) => Math.round(r[m].loadBusy * 100)))
  return `${Math.min(...shares)}–${Math.max(...shares)}%`
}

function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`)
  else process.stderr.write(`${text}\n`)
}

async function main() {
  const opts = parseOptions()
  killOnExit()
  const setups = SETUPS.filter((s) => opts.frameworks.includes(s.framework) && opts.setupIds.includes(s.id))
  if (setups.length === 0) fail('no setup left after --framework and --setup')
  try {
    await import('gatehouse')
  } catch (err) {
    fail(`cannot import the built package (${err.message}). Run \`npm run build\` first.`)
  }
  const loadBefore = os.loadavg()
  const cores = os.availableParallelism() // read before this process pins itself to one core
  const started = performance.now()

  progress('generating keys…')
  const { keys, jwks: keySet } = await createKeys()
  const jwks = await startJwksServer(keySet)
  const env = { BENCH_ISSUER: ISSUER, BENCH_AUDIENCE: AUDIENCE, BENCH_JWKS_URL: jwks.url }
  const introspection = setups.some((s) => s.kind === 'opaque')
    ? await startIntrospectionEndpoint()
    : undefined
  if (introspection) env.BENCH_INTROSPECTION_URL = introspection.url
  const opaque = introspection && createOpaqueTokens()

  // Servers start while the pool is minted: both happen before anything is timed.
  progress(`starting ${setups.length} servers on cores ${opts.serverCpus}, minting ${opts.pool} tokens…`)
  const servers = Promise.all(
    setups.map((s) => startServer(s.framework, s.id, env, opts.serverCpus, opts.profile)),
  )
  servers.catch(() => {}) // reported when awaited below
  const rs256 = keys.get('RS256')
  const pool = await mintUniquePool(rs256, opts.pool, (done) =>
    progress(`minting tokens: ${done}/${opts.pool}`),
  )
  const dpop = setups.some((s) => s.kind === 'dpop') ? await createDpopTokens(rs256) : undefined
  const running = await servers.catch((err) => fail(err.message))
  const cases = await sanityCases(keys, 'RS256', pool[0])

  progress('sanity check…')
  const failures = []
  const deviations = []
  for (const [i, setup] of setups.entries()) {
    const checked = await checkServer(running[i].port, setup.kind, cases)
    const where = { framework: setup.framework, setup: setup.id }
    failures.push(...checked.failures.map((f) => ({ ...where, ...f })))
    deviations.push(...checked.deviations.map((d) => ({ ...where, ...d })))
    if (setup.kind === 'dpop') {
      const dpopFailures = await checkDpopServer(running[i].port, dpop, rs256)
      failures.push(...dpopFailures.map((f) => ({ ...where, ...f })))
    }
    if (setup.kind === 'opaque') {
      const opaqueFailures = await checkOpaqueServer(running[i].port, opaque)
      failures.push(...opaqueFailures.map((f) => ({ ...where, ...f })))
    }
  }
  if (failures.length) {
    const lines = failures.map((f) => `  ${f.framework} / ${f.setup}: "${f.case}" got ${f.got}`)
    fail(`sanity check failed, a server is misconfigured; nothing was timed:\n${lines.join('\n')}`)
  }

  const pinned = pinSelf(LOAD_CPU)
  const rows = []
  for (const framework of opts.frameworks) {
    const entries = setups.flatMap((setup, i) =>
      setup.framework === framework ? [{ setup, server: running[i] }] : [],
    )
    if (entries.length === 0) continue
    for (const entry of entries.filter((e) => e.setup.kind === 'dpop')) {
      progress(`${framework} / ${entry.setup.id}: signing proofs for the warm-up`)
      entry.supplies = await createSupplies(dpop, entry.server.port, opts.modes, opts.warmup)
    }
    // Every opaque token's answer in the server's memory before its turn, and again before a slice
    // when it could end while timed: the cache is warm whenever timed.
    for (const entry of entries.filter((e) => e.setup.kind === 'opaque')) {
      progress(`${framework} / ${entry.setup.id}: introspecting ${opaque.length} opaque tokens`)
      const where = `${framework} / ${entry.setup.id}`
      const warm = await warmCache(entry.server.port, opaque).catch((err) => fail(`${where}: ${err.message}`))
      entry.tokens = { pool: opaque, token: opaque[0] }
      entry.prepare = (seconds) => warm.prepare(seconds).catch((err) => fail(`${where}: ${err.message}`))
    }
    rows.push(
      ...(await measureFramework(entries, {
        pool,
        token: pool[0],
        jwks,
        introspection,
        opts,
        onProgress: progress,
      })),
    )
    await Promise.all(entries.map((e) => e.server.stop())) // memory and timers go before the next framework
  }
  await jwks.close()
  await introspection?.close()
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')

  const loadAfter = os.loadavg()
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores,
    pinned: pinned
      ? `servers on core${opts.serverCpus.includes(',') ? 's' : ''} ${opts.serverCpus}, load generator, ` +
        `JWKS server${introspection ? ' and introspection endpoint' : ''} on core ${LOAD_CPU}`
      : 'no taskset: nothing pinned',
    loadavg: { before: loadBefore[0], after: loadAfter[0] },
    seconds: Math.round((performance.now() - started) / 1000),
  }
  const { table, notes } = resultTable(rows)
  const targets = evaluateTargets(rows)
  const offloaded = offloadLines(rows)
  const out = [
    '## HTTP benchmark',
    '',
    `- ${meta.date}, Node ${meta.node}, ${meta.cpu}, ${meta.cores} cores; ${meta.pinned}`,
    `- 1-minute load average ${meta.loadavg.before.toFixed(2)} before, ${meta.loadavg.after.toFixed(2)} after ` +
      '(other processes on the machine lower every rate; CPU µs per request is less affected)',
    `- autocannon, ${opts.connections} connections, no pipelining; per server and token mode ${opts.duration} s ` +
      `timed in ${opts.rounds} interleaved rounds (median rps reported) after ${opts.warmup} s warm-up per server; ` +
      `unique: ${opts.pool} RS256 tokens in turn; repeated: one token; only 2xx answers count; run took ${meta.seconds} s`,
    ...(dpop
      ? [
          `- DPoP rows: Gatehouse with \`dpop: 'allowed'\` (otherwise the \`gatehouse\` row's options), sent ` +
            '`Authorization: DPoP` and a new ES256 proof on every request (signed ahead, each sent once); ' +
            `unique: ${DPOP_TOKENS} DPoP-bound RS256 tokens in turn (bound to ${dpop.clients.length} client keys); ` +
            'repeated: one bound token',
        ]
      : []),
    ...(introspection
      ? [
          '- opaque rows: Gatehouse with `introspection: { url, clientId, clientSecret }` (otherwise the ' +
            "`gatehouse` row's options; answers kept 60 s, the default), the endpoint node:http in this " +
            `process; unique: ${OPAQUE_TOKENS} opaque tokens in turn, each introspected before the server's ` +
            'turn, and again before a slice one of their answers could end in; repeated: one of them',
        ]
      : []),
    `- load generator busy ${loadBusyRange(rows)} of its timed wall-clock time ` +
      '(near 100%: the generator, not the server, limited the rate)',
    '',
    table,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(notes.length ? [''] : []),
    ...(() => {
      const lines = dpopLines(rows)
      return lines.length ? ['### DPoP against Bearer (same run)', '', ...lines.map((l) => `- ${l}`), ''] : []
    })(),
    ...(() => {
      const lines = opaqueLines(rows, OPAQUE_TOKENS)
      return lines.length
        ? ['### Opaque tokens, answers cached (same run)', '', ...lines.map((l) => `- ${l}`), '']
        : []
    })(),
    ...(offloaded.length
      ? [
          '### `offload: true` against the synchronous path (same run)',
          '',
          ...offloaded.map((o) => `- ${o.pass ? 'AHEAD' : 'BEHIND'}  ${o.line}`),
          '',
        ]
      : []),
    '### Targets (speed behind a real server)',
    '',
    ...(targets.length ? targetLines(targets) : ['- (not evaluated: baseline, gatehouse or peers left out)']),
    '',
    '### Where a setup checks less (sanity check, each must answer 401)',
    '',
    ...(deviations.length
      ? deviationLines(deviations).map((l) => `- ${l}`)
      : ['- none: every setup answered 401']),
  ]
  process.stdout.write(`${out.join('\n')}\n`)

  if (opts.json) {
    const { json: _json, ...options } = opts
    await writeFile(
      opts.json,
      `${JSON.stringify({ meta, options, results: rows, targets, deviations }, null, 2)}\n`,
    )
    progress(`wrote ${opts.json}\n`)
  }
  if (!TASKSET)
    process.stderr.write('bench:http: taskset not found, servers and load generator were not pinned\n')
}

main().catch((err) => fail(err?.stack ?? String(err)))
