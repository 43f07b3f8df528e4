/**
 * `npm run bench`: Gatehouse's verifier against raw node:crypto (the floor) and the peer libraries, in one
 * process, interleaved, on the same pre-minted tokens; then DPoP, and opaque tokens through token
 * introspection. Method and results: docs/benchmarks.md.
 *
 *   node bench/verify.js [--quick] [--alg RS256,ES256]
 *                        [--workload serial|repeated|concurrent|dpop|dpop-store|introspection|introspection-io]
 *                        [--rounds N] [--time MS] [--warmup MS] [--pool N] [--concurrency N]
 *                        [--clock wall|cpu|main] [--contender floor,gatehouse,...] [--json out.json]
 *                        [--baseline DIR] [--dpop-token ALG] [--dpop-proof LIST] [--dpop-clients N]
 *
 * Markdown goes to stdout, progress to stderr. Exit code 0 whether targets pass or not; 1 when a contender
 * is misconfigured (fails the sanity check) or the arguments are wrong.
 */
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { CONTENDERS } from './lib/contenders.js'
import { DEFAULT_PROOF_ALGORITHMS, PROOF_ALGORITHMS } from './lib/dpop.js'
import {
  checkDpopSanity,
  createDpopSetup,
  dpopSanityCases,
  emptyPool,
  fillPool,
  NEXT,
} from './lib/dpop-gate.js'
import { dpopTables, dpopTargets, storeSection } from './lib/dpop-report.js'
import { measureMemoryStore, measureRedis } from './lib/dpop-store.js'
import {
  checkIntrospectionSanity,
  createIntrospectionSetup,
  measureIntrospection,
  measureIntrospectionCalls,
} from './lib/introspection.js'
import {
  callsSection,
  introspectionJson,
  introspectionTables,
  introspectionTargets,
} from './lib/introspection-report.js'
import { runCell } from './lib/runner.js'
import { checkSanity, describeDeviations } from './lib/sanity.js'
import { costTable, evaluateTargets, offloadLines, targetLines, workloadTable } from './lib/table.js'
import { ALGORITHMS, createKeys, mintPool, sanityCases } from './lib/tokens.js'

const WORKLOADS = [
  'serial',
  'repeated',
  'concurrent',
  'dpop',
  'dpop-store',
  'introspection',
  'introspection-io',
]
/** The workloads whose cells are (workload, token algorithm) and whose table is workloadTable's. */
const TOKEN_WORKLOADS = ['serial', 'repeated', 'concurrent']
/** The workloads whose cells come from the contender list: token algorithms, and DPoP proof algorithms. */
const CELL_WORKLOADS = [...TOKEN_WORKLOADS, 'dpop']
const INTROSPECTION_WORKLOADS = ['introspection', 'introspection-io']

const USAGE = `usage: node bench/verify.js [options]
  --quick               3 rounds of 100 ms, 300 tokens per pool (a smoke run, ~1 min)
  --alg LIST            algorithms, comma-separated (default ${ALGORITHMS.join(',')})
  --workload LIST       ${WORKLOADS.join(', ')} (default all)
  --rounds N            timed rounds per cell (default 7)
  --time MS             time slice per contender per round (default 150)
  --warmup MS           warm-up slice per contender per cell (default 100)
  --pool N              distinct tokens per algorithm (default 2000)
  --concurrency N       verifications in flight, concurrent workload (default 64)
  --clock wall|cpu|main rate per elapsed second (default), per CPU second of this process (all
                        threads), or per CPU second of its main thread (the event loop); cpu and
                        main resist load from other processes, cpu hides multi-core gains
  --contender LIST      only these contenders (ids: ${CONTENDERS.map((c) => c.id).join(', ')})
  --json FILE           also write every sample as JSON
  --baseline DIR        also run another build's verifier (DIR holds its index.js, e.g. a dist/ built
                        from an earlier commit), synchronous and with offload: true, in the same rounds
                        (and its gate in the dpop workload, when that build has DPoP)
  --dpop-token ALG      access-token algorithm of the dpop workloads (default RS256)
  --dpop-proof LIST     proof algorithms of the dpop workload, columns of its table (default
                        ${DEFAULT_PROOF_ALGORITHMS.join(',')}; also ${PROOF_ALGORITHMS.filter((a) => !DEFAULT_PROOF_ALGORITHMS.includes(a)).join(', ')}); dpop-store uses the first
  --dpop-clients N      DPoP client keys per proof algorithm, tokens bound to them in turn (default 16)
  introspection: a cached opaque token against a cached JWT through gate.checkSync (rounds and slices
  as above, min(pool, 1000) tokens); introspection-io: gate.check latency with an introspection call per
  request, and a memory miss answered from Redis (needs a redis-server binary; skipped without one)`

function fail(message) {
  process.stderr.write(`bench: ${message}\n`)
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

function positive(value, fallback, name) {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got "${value}"`)
  return n
}

function parseOptions() {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        alg: { type: 'string', multiple: true, default: [] },
        workload: { type: 'string', multiple: true, default: [] },
        rounds: { type: 'string' },
        time: { type: 'string' },
        warmup: { type: 'string' },
        pool: { type: 'string' },
        concurrency: { type: 'string' },
        clock: { type: 'string', default: 'wall' },
        contender: { type: 'string', multiple: true, default: [] },
        json: { type: 'string' },
        baseline: { type: 'string' },
        'dpop-token': { type: 'string', default: 'RS256' },
        'dpop-proof': { type: 'string', multiple: true, default: [] },
        'dpop-clients': { type: 'string' },
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
  const quick = parsed.quick
  return {
    algs: list(parsed.alg, ALGORITHMS, 'algorithm'),
    workloads: list(parsed.workload, WORKLOADS, 'workload'),
    contenderIds: list(
      parsed.contender,
      CONTENDERS.map((c) => c.id),
      'contender',
    ),
    rounds: positive(parsed.rounds, quick ? 3 : 7, 'rounds'),
    sliceMs: positive(parsed.time, quick ? 100 : 150, 'time'),
    warmupMs: positive(parsed.warmup, quick ? 50 : 100, 'warmup'),
    pool: positive(parsed.pool, quick ? 300 : 2000, 'pool'),
    concurrency: positive(parsed.concurrency, 64, 'concurrency'),
    clock: list([parsed.clock], ['wall', 'cpu', 'main'], 'clock')[0],
    json: parsed.json,
    baseline: parsed.baseline,
    quick,
    dpopToken: list([parsed['dpop-token']], ALGORITHMS, 'token algorithm')[0],
    dpopProofs: parsed['dpop-proof'].length
      ? list(parsed['dpop-proof'], PROOF_ALGORITHMS, 'proof algorithm')
      : DEFAULT_PROOF_ALGORITHMS,
    dpopClients: positive(parsed['dpop-clients'], 16, 'dpop-clients'),
    storeRounds: quick ? 3 : 7,
    storeOps: quick ? 50_000 : 200_000,
  }
}

/** The built package (or the build in `dir`), or an exit with the command that fixes it. */
async function loadGatehouse(dir) {
  const where = dir ? pathToFileURL(path.resolve(dir, 'index.js')).href : '../dist/index.js'
  let mod
  try {
    mod = await import(where)
  } catch (err) {
    fail(`cannot import ${where} (${err.message}). Run \`npm run build\` first.`)
  }
  if (typeof mod.createVerifier !== 'function')
    fail(`${where} exports no createVerifier. Run \`npm run build\`.`)
  return mod
}

function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`)
  else process.stderr.write(`${text}\n`)
}

async function main() {
  const opts = parseOptions()
  // Baseline contenders run only with --baseline, and then unless --contender leaves them out.
  const contenders = CONTENDERS.filter(
    (c) => opts.contenderIds.includes(c.id) && (opts.baseline !== undefined || c.kind !== 'baseline'),
  )
  const introspectionWorkloads = opts.workloads.filter((w) => INTROSPECTION_WORKLOADS.includes(w))
  const needsGatehouse =
    contenders.some((c) => c.kind === 'gatehouse') ||
    opts.workloads.includes('dpop-store') ||
    introspectionWorkloads.length > 0
  const ctx = {
    gatehouse: needsGatehouse ? await loadGatehouse() : null,
    baseline: opts.baseline === undefined ? null : await loadGatehouse(opts.baseline),
    closers: [],
  }
  const loadBefore = os.loadavg()

  progress('generating keys and minting tokens…')
  const { keys, jwks } = await createKeys()
  Object.assign(ctx, { keys, jwks })
  const pools = new Map()
  const casesByAlg = new Map()
  const tokenWorkloads = opts.workloads.filter((w) => TOKEN_WORKLOADS.includes(w))
  for (const alg of tokenWorkloads.length ? opts.algs : []) {
    pools.set(alg, await mintPool(keys.get(alg), opts.pool))
    casesByAlg.set(alg, await sanityCases(keys, alg, pools.get(alg)[0]))
  }
  const dpopWorkloads = opts.workloads.filter((w) => w.startsWith('dpop'))
  if (dpopWorkloads.length) {
    progress('DPoP: client keys and bound tokens…')
    ctx.dpop = await createDpopSetup({
      keys,
      jwks,
      tokenAlg: opts.dpopToken,
      // dpop-store alone needs the first proof algorithm only.
      proofAlgs: opts.workloads.includes('dpop') ? opts.dpopProofs : opts.dpopProofs.slice(0, 1),
      clients: opts.dpopClients,
      pool: opts.pool,
    })
  }
  if (introspectionWorkloads.length) {
    progress('introspection: endpoint, JWTs and opaque tokens…')
    ctx.introspection = await createIntrospectionSetup({ keys, jwks, pool: opts.pool })
  }

  // One fresh instance per cell, so that caches and lazily imported keys never carry across cells.
  const cells = []
  for (const workload of opts.workloads.filter((w) => CELL_WORKLOADS.includes(w))) {
    const dpop = workload === 'dpop'
    for (const alg of dpop ? opts.dpopProofs : opts.algs) {
      const entries = []
      const unsupported = []
      for (const contender of contenders.filter((c) => c.workloads.includes(workload))) {
        const verify = await contender.create(alg, ctx)
        if (verify) entries.push({ contender, verify })
        else unsupported.push(contender.id)
      }
      // DPoP contenders walk their own pools (each proof is accepted once): the runner hands them NEXT.
      const tokens = dpop ? [NEXT] : workload === 'repeated' ? [pools.get(alg)[0]] : pools.get(alg)
      if (entries.length) cells.push({ workload, alg, entries, unsupported, tokens, dpop })
    }
  }

  progress('sanity check…')
  const instances = cells
    .filter((cell) => !cell.dpop)
    .flatMap((cell) => cell.entries.map((e) => ({ ...e, alg: cell.alg })))
  const { failures, deviations } = await checkSanity(instances, casesByAlg)
  if (failures.length) {
    const lines = failures.map((f) => `  ${f.contender} ${f.alg}: "${f.case}" was ${f.got}`)
    fail(`sanity check failed, a contender is misconfigured; nothing was timed:\n${lines.join('\n')}`)
  }
  const dpopCells = cells.filter((cell) => cell.dpop)
  const dpopCases = new Map()
  for (const cell of dpopCells) dpopCases.set(cell.alg, await dpopSanityCases(ctx.dpop, cell.alg))
  const dpopFailures = await checkDpopSanity(
    dpopCells.flatMap((cell) => cell.entries.map((e) => ({ ...e, alg: cell.alg }))),
    dpopCases,
  )
  if (dpopFailures.length)
    fail(`DPoP sanity check failed; nothing was timed:\n${dpopFailures.map((l) => `  ${l}`).join('\n')}`)
  if (ctx.introspection) {
    const { count, failures: lines } = await checkIntrospectionSanity(ctx.gatehouse, ctx.introspection)
    if (lines.length)
      fail(`introspection sanity check failed; nothing was timed:\n${lines.map((l) => `  ${l}`).join('\n')}`)
    ctx.introspection.cases = count
  }

  const slices = cells.reduce((n, c) => n + c.entries.length, 0)
  const estimate = (slices * (opts.rounds * opts.sliceMs + opts.warmupMs)) / 1000
  progress(`timing ${slices} contender×cell pairs, about ${Math.round(estimate)} s…`)

  const results = new Map(opts.workloads.map((w) => [w, new Map()]))
  const measuredAll = new Map(opts.workloads.map((w) => [w, new Map()]))
  const samples = []
  for (const cell of cells) {
    // Proofs are signed just before their cell, so their iat is fresh (maxAge 300 s) when timed.
    if (cell.dpop) {
      progress(`dpop ${cell.alg}: signing proofs…`)
      await fillPool(ctx.dpop, cell.alg, (opts.warmupMs + opts.rounds * opts.sliceMs) / 1000)
    }
    const measured = await runCell({
      workload: cell.workload,
      entries: cell.entries,
      tokens: cell.tokens,
      rounds: opts.rounds,
      sliceMs: opts.sliceMs,
      warmupMs: opts.warmupMs,
      concurrency: opts.concurrency,
      onRound: (r) => progress(`${cell.workload} ${cell.alg}: round ${r}/${opts.rounds}`),
    })
    const chosen = new Map([...measured].map(([id, rates]) => [id, rates[opts.clock]]))
    measuredAll.get(cell.workload).set(cell.alg, measured)
    for (const id of cell.unsupported) chosen.set(id, null)
    results.get(cell.workload).set(cell.alg, chosen)
    samples.push({ workload: cell.workload, alg: cell.alg, measured, unsupported: cell.unsupported })
    if (cell.dpop) emptyPool(ctx.dpop, cell.alg)
  }
  for (const close of ctx.closers) await close()
  let cached
  let calls
  if (opts.workloads.includes('introspection')) cached = await measureIntrospection(ctx, opts, progress)
  if (opts.workloads.includes('introspection-io'))
    calls = await measureIntrospectionCalls(ctx, opts, progress)
  await ctx.introspection?.close()

  let store
  if (opts.workloads.includes('dpop-store')) {
    progress('dpop-store: memory store…')
    store = { memory: measureMemoryStore(ctx.gatehouse, { rounds: opts.storeRounds, ops: opts.storeOps }) }
    const alg = opts.dpopProofs[0]
    store.redis = await measureRedis({ ...ctx, alg, opts, closers: [] }, progress)
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')

  const loadAfter = os.loadavg()
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadavg: { before: loadBefore[0], after: loadAfter[0] },
  }
  const targets = [
    ...evaluateTargets(results, contenders, opts.clock),
    ...dpopTargets(results.get('dpop'), store),
    ...introspectionTargets(cached, opts.clock),
  ]
  const out = [
    '## Verification benchmark',
    '',
    `- ${meta.date}, Node ${meta.node}, ${meta.cpu}, ${meta.cores} cores, libuv thread pool ${meta.threadPool}`,
    `- 1-minute load average ${meta.loadavg.before.toFixed(2)} before, ${meta.loadavg.after.toFixed(2)} after`,
    `- ${opts.rounds} interleaved rounds × ${opts.sliceMs} ms per contender (median reported), ` +
      `${opts.warmupMs} ms warm-up, ${opts.pool} tokens per algorithm, ${opts.concurrency} in flight (concurrent)`,
    '- ratio: to `floor` (node:crypto verify, one thread) of the same algorithm and workload',
    {
      wall: '- clock: elapsed (wall) time',
      cpu:
        '- clock: **CPU time** of this process (ops per CPU second), not elapsed time: robust to other ' +
        'load, but thread-pool work counts as CPU time, so it shows no multi-core gain',
      main:
        '- clock: **CPU time of the main thread** (ops per event-loop CPU second): what each contender ' +
        'leaves of the event loop; work on other threads is not counted',
    }[opts.clock],
    '',
  ]
  for (const workload of tokenWorkloads) {
    const rows = contenders.filter((c) => c.workloads.includes(workload))
    out.push(workloadTable(workload, rows, opts.algs, results.get(workload)), '')
    const cost = workload === 'concurrent' && costTable(workload, rows, opts.algs, measuredAll.get(workload))
    if (cost) out.push(cost, '')
  }
  if (dpopCells.length) {
    const rows = contenders.filter((c) => c.workloads.includes('dpop'))
    const algs = dpopCells.map((cell) => cell.alg)
    out.push(dpopTables(rows, algs, results.get('dpop'), opts.dpopToken), '')
    out.push(
      `- ${opts.dpopClients} client keys per proof algorithm; ${Math.min(opts.pool, 1000)} distinct ` +
        `${opts.dpopToken} tokens bound to them in turn (cnf.jkt), each request a new proof (typ dpop+jwt, jwk, ` +
        'jti, htm, htu, iat, ath); gate: dpop allowed, replay store in memory, token cache off',
      `- sanity check passed before timing: ${[...dpopCases.values()][0]?.length ?? 0} cases per proof ` +
        'algorithm (the floors refuse a changed token or proof signature; the gates also a replayed proof, ' +
        'another htu or htm, another token’s ath, no ath, an old iat, a token bound to another key, no DPoP ' +
        'header; the Bearer row a DPoP-bound token sent as Bearer)',
      '',
    )
  }
  if (store) out.push(storeSection(store, opts), '')
  if (cached) {
    out.push(introspectionTables(cached, opts.clock), '')
    out.push(
      `- gates: \`createGate({ issuer, audience, keys: jwks, algorithms: ['RS256'] })\`; with introspection ` +
        '`cache: true` and `introspection: { url, clientId, clientSecret }` (tokenSource `auto`, answers kept ' +
        '60 s); every cache filled by one `gate.check` per token before timing; opaque tokens 43 characters, ' +
        'RS256 JWTs 755',
      `- sanity check passed before timing: ${ctx.introspection.cases} cases (active, inactive, another aud, another iss, expired ` +
        'answers; a cached answer reused without a call, maxAge 0 calling every time; JWTs verified here, a ' +
        'changed signature refused, neither sent to the endpoint)',
      '',
    )
  }
  if (calls) out.push(callsSection(calls), '')
  const offload = offloadLines(results, measuredAll, meta.cores, opts.clock)
  if (offload.length) {
    out.push('### `offload: true` against the synchronous path (same run)', '')
    out.push(
      ...offload.map((o) => `- ${o.pass === null ? '' : `${o.pass ? 'AHEAD' : 'BEHIND'}  `}${o.line}`),
      '',
    )
  }
  out.push('### Targets (verification cache and speed)', '')
  out.push(
    ...(targets.length ? targetLines(targets) : ['- (not evaluated: gatehouse or floor left out)']),
    '',
  )
  const noted = describeDeviations(deviations)
  out.push('### Where a contender checks less (sanity check)', '')
  out.push(
    ...(noted.length
      ? noted.map((line) => `- ${line}`)
      : ['- none: every contender rejected every bad token']),
  )
  process.stdout.write(`${out.join('\n')}\n`)

  if (opts.json) {
    const rows = []
    for (const { workload, alg, measured, unsupported } of samples) {
      const floor = measured.get(workload === 'dpop' ? 'dpop-floor' : 'floor')
      for (const [id, rates] of measured) {
        const ratio = (metric) =>
          floor?.[metric] && rates[metric] ? rates[metric].median / floor[metric].median : null
        rows.push({
          workload,
          alg,
          contender: id,
          ...rates,
          ratioToFloor: { wall: ratio('wall'), cpu: ratio('cpu'), main: ratio('main') },
        })
      }
      for (const id of unsupported) rows.push({ workload, alg, contender: id, unsupported: true })
    }
    const { json: _json, ...options } = opts
    const redisCells = store?.redis?.cells
    const dpopStore = store && {
      ...store,
      redis: redisCells
        ? {
            ...store.redis,
            cells: Object.fromEntries(
              Object.entries(redisCells).map(([workload, cell]) => [workload, Object.fromEntries(cell)]),
            ),
          }
        : store.redis,
    }
    const introspection = (cached || calls) && introspectionJson(cached, calls)
    const report = { meta, options, results: rows, targets, deviations, dpopStore, introspection }
    await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`)
    progress(`wrote ${opts.json}`)
  }
}

main().catch((err) => fail(err?.stack ?? String(err)))
