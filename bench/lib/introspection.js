/**
 * Opaque access tokens (RFC 7662 token introspection) for `npm run bench`, against JWTs through the same
 * kind of gate. The endpoint is bench/lib/introspection-endpoint.js in a process of its own on 127.0.0.1.
 *
 * - `introspection` workload: the synchronous path on a cached answer. `gate.checkSync` with an opaque
 *   token whose answer is in the introspector's memory, against a JWT in the verifier's cache
 *   (`cache: true`), in interleaved rounds; one repeated token, then a pool of tokens all cached.
 * - `introspection-io` workload: one request at a time through `gate.check`. An opaque token introspected
 *   on every call (`cache: { maxAge: 0 }`) against a JWT verified on every call, and the bare `fetch` of
 *   the same POST; then, with a `redis-server` binary, the shared second level: a memory miss answered
 *   from Redis, against a bare node-redis GET of the same key.
 */
import { createHash } from 'node:crypto'
import { flipSignature, mintTokens, ORIGIN, PATH } from './dpop.js'
import { syncCheck } from './dpop-gate.js'
import { latencies, startBenchRedis } from './dpop-store.js'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MARKED,
  OPAQUE_SUB,
  opaqueToken,
  spawnIntrospectionEndpoint,
} from './introspection-endpoint.js'
import { runCell } from './runner.js'
import { AUDIENCE, ISSUER } from './tokens.js'

/** Distinct tokens of each kind: all fit in both caches (10,000 entries each by default). */
const POOL_MAX = 1000
const HOST = new URL(ORIGIN).host

/** The request an adapter hands the gate (Express: method, path, Node's header record, origin). */
function gateRequest(token) {
  return {
    method: 'GET',
    url: PATH,
    headers: { host: HOST, authorization: `Bearer ${token}` },
    origin: ORIGIN,
  }
}

/**
 * The endpoint (its own process), and `min(pool, 1000)` RS256 JWTs and as many opaque tokens, each with
 * the request that carries it. `close()` stops the endpoint.
 */
export async function createIntrospectionSetup({ keys, jwks, pool }) {
  const endpoint = await spawnIntrospectionEndpoint()
  const count = Math.min(pool, POOL_MAX)
  const jwts = (await mintTokens(keys.get('RS256'), count)).map((entry) => entry.token)
  const opaque = Array.from({ length: count }, () => opaqueToken())
  return {
    endpoint,
    jwks,
    tokens: { jwt: jwts, opaque },
    requests: { jwt: jwts.map(gateRequest), opaque: opaque.map(gateRequest) },
    close: () => endpoint.close(),
  }
}

const base = (setup) => ({ issuer: ISSUER, audience: AUDIENCE, keys: setup.jwks, algorithms: ['RS256'] })

/** A gate as the HTTP benchmark's servers build it, JWTs only; `cache`: the verified-token cache. */
function jwtGate(gatehouse, setup, cache) {
  return gatehouse.createGate({ ...base(setup), cache })
}

/**
 * The same gate with introspection: the issuer's `tokenSource` is `auto` (a compact JWS is verified here,
 * anything else introspected). `cache`: the introspection cache options (default: its defaults, 60 s).
 */
function opaqueGate(gatehouse, setup, cache) {
  return gatehouse.createGate({
    ...base(setup),
    cache: true,
    introspection: {
      url: setup.endpoint.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      ...(cache && { cache }),
    },
  })
}

/** `gate.check` that must resolve with a Bearer auth context. */
function asyncCheck(gate) {
  return async (request) => {
    const auth = await gate.check(request)
    if (auth?.tokenType !== 'bearer') throw new Error('not a Bearer auth context')
    return auth
  }
}

/** A function of no argument that runs `run` on the items of `list` in turn. */
function cycling(list, run) {
  let i = 0
  return () => {
    const item = list[i]
    i = i + 1 === list.length ? 0 : i + 1
    return run(item)
  }
}

/**
 * What every gate must answer right before anything is timed: accepted opaque tokens carry the answer's
 * claims; inactive answers, answers for another audience or issuer, or expired ones are refused with
 * the JWT verifier's codes; JWTs are verified here, never sent to the endpoint; a cached answer is
 * reused without a call, and `maxAge: 0` calls every time. Resolves with `{ count, failures }`, the
 * failures as readable lines.
 */
export async function checkIntrospectionSanity(gatehouse, setup) {
  const gate = opaqueGate(gatehouse, setup)
  const cold = opaqueGate(gatehouse, setup, { maxAge: 0, inactiveMaxAge: 0 })
  const [opaque] = setup.requests.opaque
  const [jwt] = setup.requests.jwt
  const jwtSub = JSON.parse(Buffer.from(setup.tokens.jwt[0].split('.')[1], 'base64url').toString()).sub
  const marked = (prefix) => gateRequest(opaqueToken(prefix))
  const inactive = marked(MARKED.inactive)
  const sync = (request) => {
    const auth = gate.checkSync(request)
    if (auth === gatehouse.PENDING) throw new Error('checkSync answered PENDING')
    return auth
  }
  const cases = [
    { name: 'opaque token, active', run: () => gate.check(opaque), sub: OPAQUE_SUB, calls: 1 },
    {
      name: 'the same, answered from memory (checkSync)',
      run: () => sync(opaque),
      sub: OPAQUE_SUB,
      calls: 0,
    },
    { name: 'inactive', run: () => gate.check(inactive), code: 'ERR_TOKEN_INACTIVE', calls: 1 },
    {
      name: 'inactive, from memory (checkSync)',
      run: () => sync(inactive),
      code: 'ERR_TOKEN_INACTIVE',
      calls: 0,
    },
    {
      name: 'answer for another audience',
      run: () => gate.check(marked(MARKED.otherAudience)),
      code: 'ERR_JWT_AUDIENCE_INVALID',
      calls: 1,
    },
    {
      name: 'answer from another issuer',
      run: () => gate.check(marked(MARKED.otherIssuer)),
      code: 'ERR_JWT_ISSUER_INVALID',
      calls: 1,
    },
    {
      name: 'answer with exp an hour ago',
      run: () => gate.check(marked(MARKED.expired)),
      code: 'ERR_JWT_EXPIRED',
      calls: 1,
    },
    { name: 'JWT, verified here', run: () => gate.check(jwt), sub: jwtSub, calls: 0 },
    {
      name: 'JWT, signature changed',
      run: () => gate.check(gateRequest(flipSignature(setup.tokens.jwt[0]))),
      code: 'ERR_JWS_SIGNATURE_INVALID',
      calls: 0,
    },
    { name: 'maxAge 0: first call', run: () => cold.check(opaque), sub: OPAQUE_SUB, calls: 1 },
    { name: 'maxAge 0: the same token again', run: () => cold.check(opaque), sub: OPAQUE_SUB, calls: 1 },
  ]
  const failures = []
  try {
    for (const c of cases) {
      const before = await setup.endpoint.calls()
      let got
      try {
        const auth = await c.run()
        got =
          auth?.claims?.sub === c.sub ? 'accepted' : `accepted with sub ${JSON.stringify(auth?.claims?.sub)}`
      } catch (error) {
        got = error?.code ?? `${error?.name}: ${error?.message}`
      }
      const calls = (await setup.endpoint.calls()) - before
      const want = c.sub === undefined ? c.code : 'accepted'
      if (got !== want) failures.push(`"${c.name}": ${got}, expected ${want}`)
      else if (calls !== c.calls)
        failures.push(`"${c.name}": ${calls} introspection calls, expected ${c.calls}`)
    }
  } finally {
    gate.close()
    cold.close()
  }
  return { count: cases.length, failures }
}

/**
 * The `introspection` workload: per column (one token, then the whole pool), fresh gates whose caches
 * hold every token of the column (one `gate.check` each first), then `gate.checkSync` timed in
 * interleaved rounds. Each timed call must answer from memory: a PENDING aborts, and the endpoint's
 * calls while timed are counted (0 expected). Resolves with `[{ label, size, measured, calls }]`.
 */
export async function measureIntrospection({ gatehouse, introspection: setup }, opts, onProgress) {
  const size = setup.requests.opaque.length
  const columns = [
    { label: 'one token', size: 1 },
    { label: `${size} tokens`, size },
  ]
  const out = []
  for (const column of columns) {
    const contenders = [
      { id: 'jwt-cache', gate: jwtGate(gatehouse, setup, true), requests: setup.requests.jwt },
      { id: 'opaque', gate: opaqueGate(gatehouse, setup), requests: setup.requests.opaque },
      { id: 'jwt-cache-auto', gate: opaqueGate(gatehouse, setup), requests: setup.requests.jwt },
      { id: 'jwt', gate: jwtGate(gatehouse, setup, false), requests: setup.requests.jwt },
    ]
    try {
      onProgress(`introspection, ${column.label}: filling the caches…`)
      for (const { gate, requests } of contenders)
        for (const request of requests.slice(0, column.size)) await gate.check(request)
      const entries = contenders.map(({ id, gate, requests }) => {
        const check = syncCheck(gatehouse, gate, 'bearer')
        return { contender: { id }, verify: (i) => check(requests[i]) }
      })
      const before = await setup.endpoint.calls()
      const measured = await runCell({
        workload: 'serial',
        entries,
        tokens: Array.from({ length: column.size }, (_, i) => i),
        rounds: opts.rounds,
        sliceMs: opts.sliceMs,
        warmupMs: opts.warmupMs,
        concurrency: opts.concurrency,
        onRound: (r) => onProgress(`introspection, ${column.label}: round ${r}/${opts.rounds}`),
      })
      out.push({ ...column, measured, calls: (await setup.endpoint.calls()) - before })
    } finally {
      for (const { gate } of contenders) gate.close()
    }
  }
  return out
}

const sha256 = (text) => createHash('sha256').update(text).digest('base64url')

/**
 * CPU time of this process (all threads) per call, `count` calls one at a time after a few untimed: what
 * a call costs the API's process, the endpoint's work being in its own.
 */
async function cpuPerCall(run, count) {
  for (let i = 0; i < 50; i++) await run()
  const before = process.cpuUsage()
  for (let i = 0; i < count; i++) await run()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / count
}

/**
 * The `introspection-io` workload: latencies of one call at a time, in interleaved blocks. Resolves with
 * `{ count, latency, calls, expectedCalls, redis }`; `redis` is `{ skipped }` without a redis-server.
 */
export async function measureIntrospectionCalls({ gatehouse, introspection: setup }, opts, onProgress) {
  const count = opts.quick ? 500 : 2000
  const warmup = 200
  const { url } = setup.endpoint
  const cold = opaqueGate(gatehouse, setup, { maxAge: 0, inactiveMaxAge: 0 })
  const memory = opaqueGate(gatehouse, setup)
  const jwt = jwtGate(gatehouse, setup, false)
  const gates = [cold, memory, jwt]
  try {
    await memory.check(setup.requests.opaque[0])
    await jwt.check(setup.requests.jwt[0]) // imports the key
    const authorization = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`
    // The same POST as the introspector's (RFC 7662 §2.1), its answer parsed: the round trip alone.
    const bareFetch = async (token) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      })
      if (JSON.parse(await response.text()).active !== true) throw new Error('not active')
    }
    onProgress(`introspection-io: ${count} calls each, one at a time…`)
    const before = await setup.endpoint.calls()
    const latency = await latencies(
      {
        fetch: cycling(setup.tokens.opaque, bareFetch),
        cold: cycling(setup.requests.opaque, asyncCheck(cold)),
        jwt: cycling(setup.requests.jwt, asyncCheck(jwt)),
        memory: cycling([setup.requests.opaque[0]], asyncCheck(memory)),
      },
      count,
      { warmup },
    )
    const calls = (await setup.endpoint.calls()) - before
    onProgress('introspection-io: CPU time per call…')
    const cpuCount = Math.ceil(count / 2)
    const cpu = {}
    for (const [name, run] of [
      ['fetch', cycling(setup.tokens.opaque, bareFetch)],
      ['cold', cycling(setup.requests.opaque, asyncCheck(cold))],
      ['jwt', cycling(setup.requests.jwt, asyncCheck(jwt))],
    ])
      cpu[name] = await cpuPerCall(run, cpuCount)
    const redis = await measureSharedLevel({ gatehouse, setup, count, warmup }, onProgress)
    // One call per bare fetch and per cold check, warm-ups included; none from the memory hits.
    return { count, latency, calls, expectedCalls: 2 * (count + warmup), cpu, cpuCount, redis }
  } finally {
    for (const gate of gates) gate.close()
  }
}

/**
 * Memory miss + Redis hit. One gate (the writer) introspects every token of the pool, which puts each
 * answer in Redis; another (the reader: another instance's, its memory holding one entry, so that every
 * token of the cycle is a miss there) answers them from Redis. The reader must make no call.
 */
async function measureSharedLevel({ gatehouse, setup, count, warmup }, onProgress) {
  const started = await startBenchRedis()
  if (started.skipped) return started
  const { redis } = started
  const prefix = `bench:${process.pid}:`
  const stores = []
  const gates = []
  let raw
  try {
    onProgress(`redis-server ${redis.version} on ${redis.url}: filling the shared level…`)
    for (let i = 0; i < 2; i++) {
      const store = gatehouse.createRedisStore({ url: redis.url, prefix })
      stores.push(store)
      await store.open()
    }
    const writer = opaqueGate(gatehouse, setup, { store: stores[0] })
    const reader = opaqueGate(gatehouse, setup, { maxEntries: 1, store: stores[1] })
    // Memory hits in the same blocks, from a gate of its own: fetched now, well within its 60 s.
    const memory = opaqueGate(gatehouse, setup)
    gates.push(writer, reader, memory)
    await memory.check(setup.requests.opaque[0])
    const { createClient } = await import('redis')
    raw = createClient({ url: redis.url })
    raw.on('error', () => {})
    await raw.connect()
    const pool = setup.requests.opaque
    for (const request of pool) await writer.check(request)
    // The writer puts answers in the store without waiting: wait until every one is there.
    const deadline = Date.now() + 10_000
    while ((await raw.dbSize()) < pool.length) {
      if (Date.now() > deadline) throw new Error('the shared level did not receive every answer')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // Where the introspector keeps an answer (src/core/introspection/cache.ts, store/redis.ts): the
    // bare client reads the same key.
    const scope = sha256(`${new URL(setup.endpoint.url).href} ${CLIENT_ID}`).slice(0, 16)
    const rawKey = (token) => prefix + sha256(`introspection:${scope}:${sha256(token)}`)
    const rawGet = async (token) => {
      if ((await raw.get(rawKey(token))) === null) throw new Error('no answer under the expected key')
    }
    await rawGet(setup.tokens.opaque[0])
    onProgress('introspection-io: memory miss + Redis hit…')
    const before = await setup.endpoint.calls()
    const latency = await latencies(
      {
        store: cycling(pool, asyncCheck(reader)),
        raw: cycling(setup.tokens.opaque, rawGet),
        memory: cycling([pool[0]], asyncCheck(memory)),
      },
      count,
      { warmup },
    )
    return { version: redis.version, latency, calls: (await setup.endpoint.calls()) - before }
  } finally {
    for (const gate of gates) gate.close()
    for (const store of stores) await store.close()
    raw?.destroy()
    await redis.stop()
  }
}
