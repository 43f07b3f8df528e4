/**
 * Where the time of a request with a cached opaque token goes: the steps of `gate.checkSync` timed one by
 * one on the same requests (the built package's internal modules, from dist/), beside the same gate's
 * path for a cached JWT, and what the Fastify plugin reads per request around it.
 *
 *   node bench/introspection-profile.js [--rounds 9] [--ops 20000]
 *
 * Rows are medians of interleaved rounds, µs per call, each round walking a pool of 1000 requests. Progress
 * to stderr, markdown to stdout.
 */
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { mintTokens, ORIGIN, PATH } from './lib/dpop.js'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  opaqueToken,
  startIntrospectionEndpoint,
} from './lib/introspection-endpoint.js'
import { median } from './lib/runner.js'
import { AUDIENCE, createKeys, ISSUER } from './lib/tokens.js'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '9' }, ops: { type: 'string', default: '20000' } },
})
const rounds = Number(values.rounds)
const ops = Number(values.ops)
const POOL = 1000

const gatehouse = await import('../dist/index.js')
const internal = async (path) => import(`../dist/${path}`)
const { sha256Sync } = await internal('core/crypto/digest.js')
const { AnswerCache } = await internal('core/introspection/cache.js')
const { checkActiveClaims } = await internal('core/introspection/claims.js')
const { readAnswer } = await internal('core/introspection/response.js')
const { extractToken } = await internal('core/http/bearer.js')
const { headersOf, originOf } = await internal('node/headers.js')

process.stderr.write('keys, tokens, endpoint…\n')
const { keys, jwks } = await createKeys()
const endpoint = await startIntrospectionEndpoint()
const jwts = (await mintTokens(keys.get('RS256'), POOL)).map((entry) => entry.token)
const opaque = Array.from({ length: POOL }, () => opaqueToken())
const host = new URL(ORIGIN).host
const request = (token) => ({
  method: 'GET',
  url: PATH,
  headers: { host, authorization: `Bearer ${token}` },
  origin: ORIGIN,
})
const requests = { opaque: opaque.map(request), jwt: jwts.map(request) }
const introspection = { url: endpoint.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }
const base = { issuer: ISSUER, audience: AUDIENCE, keys: jwks, algorithms: ['RS256'] }
const gate = gatehouse.createGate({ ...base, cache: true, introspection })
const jwtGate = gatehouse.createGate({ ...base, cache: true })
// The introspector the gate builds, built alone with the same options (the gate keeps its own private).
const introspector = gatehouse.createIntrospector({
  ...introspection,
  issuer: ISSUER,
  audience: AUDIENCE,
})
for (let i = 0; i < POOL; i++) {
  await gate.check(requests.opaque[i])
  await gate.check(requests.jwt[i])
  await jwtGate.check(requests.jwt[i])
  await introspector.introspect(opaque[i])
}
// The cache and claim checks alone, on answers of the same shape.
const answer = readAnswer(
  JSON.parse(
    await (
      await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `token=${opaque[0]}`,
      })
    ).text(),
  ),
)
const memory = new AnswerCache(10_000, 16 * 1024 * 1024)
const keysOf = opaque.map((token) => sha256Sync(token))
for (const key of keysOf) memory.set(key, answer, Date.now() + 3_600_000, 400)
const rules = { issuers: new Set([ISSUER]), audience: new Set([AUDIENCE]), clockTolerance: 5 }

// A request as Fastify hands it to the plugin's onRequest hook, kept after one injected request.
const app = Fastify()
let captured
app.addHook('onRequest', (req, _reply, done) => {
  captured = req
  done()
})
app.get(PATH, async () => ({}))
await app.inject({ method: 'GET', url: PATH, headers: { authorization: `Bearer ${opaque[0]}` } })

const sync = (g) => (r) => {
  const auth = g.checkSync(r)
  if (auth === gatehouse.PENDING || auth?.tokenType !== 'bearer') throw new Error('not answered from memory')
  return auth
}
/** Each step: a function of the pool index. */
const steps = {
  'gate.checkSync, opaque token (answer in memory)': (i) => sync(gate)(requests.opaque[i]),
  'gate.checkSync, JWT (cache: true), gate without introspection': (i) => sync(jwtGate)(requests.jwt[i]),
  'gate.checkSync, JWT (cache: true), gate with introspection': (i) => sync(gate)(requests.jwt[i]),
  'http/bearer.ts extractToken (Bearer, 43 characters)': (i) =>
    extractToken(requests.opaque[i], ['header'], { strict: false, dpop: false }),
  'introspection/introspector.ts introspectSync, whole': (i) => introspector.introspectSync(opaque[i]),
  'crypto/digest.ts sha256Sync(token) (the cache key)': (i) => sha256Sync(opaque[i]),
  'introspection/cache.ts AnswerCache.get (1,000 entries)': (i) => memory.get(keysOf[i], Date.now()),
  'introspection/claims.ts checkActiveClaims': () =>
    checkActiveClaims(answer.claims, rules, Date.now() / 1000),
  'verifier.verifySync(JWT), cache hit': (i) => jwtGate.verifier.verifySync(jwts[i]),
  'Fastify: request.is404 + request.routeOptions.config (the plugin’s rule lookup)': () =>
    captured.is404 ? undefined : captured.routeOptions.config,
  'node/headers.ts headersOf + originOf (the plugin’s request)': () => [
    headersOf(captured.raw),
    originOf(captured.raw),
  ],
}

const samples = new Map(Object.keys(steps).map((name) => [name, []]))
for (let round = 0; round <= rounds; round++) {
  const names = Object.keys(steps)
  const order = names.map((_, k) => names[(k + round) % names.length])
  for (const name of order) {
    const step = steps[name]
    const start = performance.now()
    for (let n = 0; n < ops; n++) step(n % POOL)
    if (round > 0) samples.get(name).push(((performance.now() - start) * 1000) / ops)
  }
  process.stderr.write(`round ${round}/${rounds}\n`)
}
gate.close()
jwtGate.close()
introspector.close()
await app.close()
await endpoint.close()
const lines = [
  `### gate.checkSync with a cached opaque token: µs per call (median of ${rounds} rounds of ${ops})`,
  '',
  '| step | µs |',
  '| --- | ---: |',
  ...[...samples].map(([name, list]) => `| ${name} | ${median(list).toFixed(2)} |`),
]
process.stdout.write(`${lines.join('\n')}\n`)
