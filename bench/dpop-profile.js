/**
 * Where the time of a DPoP request goes in the gate's synchronous path: the steps of `gate.checkSync`
 * timed one by one on the same requests (the built package's internal modules, from dist/), and a plain
 * loop to run under the profiler.
 *
 *   node bench/dpop-profile.js [--proof ES256] [--token RS256] [--rounds 7] [--ops 4000]
 *   node bench/dpop-profile.js --loop 5 --cpuprofile /tmp/dpop.cpuprofile [--proof ES256]
 *   node bench/http/profile.js /tmp/dpop.cpuprofile --requests <printed count>
 *
 * The breakdown's rows are medians of interleaved rounds (µs per call); the steps that record a proof
 * (the checker, the gate) each have their own replay store and walk the same proofs. With --loop, only
 * `gate.checkSync` runs, on fresh proofs, and the V8 profiler (node:inspector) records that loop alone,
 * key generation and signing left out. Progress to stderr, markdown to stdout.
 */
import { verify } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { ORIGIN, PATH } from './lib/dpop.js'
import { createDpopGate, createDpopSetup, fillPool } from './lib/dpop-gate.js'
import { median } from './lib/runner.js'
import { createKeys } from './lib/tokens.js'

const { values } = parseArgs({
  options: {
    proof: { type: 'string', default: 'ES256' },
    token: { type: 'string', default: 'RS256' },
    rounds: { type: 'string', default: '7' },
    ops: { type: 'string', default: '4000' },
    loop: { type: 'string' },
    cpuprofile: { type: 'string' },
  },
})
const rounds = Number(values.rounds)
const ops = Number(values.ops)
const alg = values.proof

const gatehouse = await import('../dist/index.js')
const internal = async (path) => import(`../dist/core/${path}`)
const { readProof, parseProof, checkRequest, checkToken, boundThumbprint } = await internal('dpop/proof.js')
const { sha256Sync } = await internal('crypto/digest.js')
const { htuMatches } = await internal('dpop/htu.js')
const { extractToken, readHeader } = await internal('http/bearer.js')
const { createRequestUrl } = await internal('http/request-url.js')
const { jwkThumbprintSync } = await internal('dpop/thumbprint.js')
const { verifySync } = await internal('crypto/signature.js')

process.stderr.write('keys, tokens…\n')
const { keys, jwks } = await createKeys()
const setup = await createDpopSetup({
  keys,
  jwks,
  tokenAlg: values.token,
  proofAlgs: [alg],
  clients: 16,
  pool: 1000,
})
const gate = await createDpopGate(gatehouse, setup, alg)
const pool = setup.byAlg.get(alg)

if (values.loop) {
  // A plain loop for the profiler: gate.checkSync on fresh proofs for --loop seconds.
  const seconds = Number(values.loop)
  await fillPool(setup, alg, seconds)
  process.stderr.write(`loop: ${pool.items.length} proofs, ${seconds} s…\n`)
  const session = values.cpuprofile ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
  }
  const start = performance.now()
  let n = 0
  while (n < pool.items.length && performance.now() - start < seconds * 1000) {
    for (let k = 0; k < 64 && n < pool.items.length; k++) {
      if (gate.checkSync(pool.items[n++].request)?.tokenType !== 'dpop') throw new Error('refused')
    }
  }
  const elapsed = performance.now() - start
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(values.cpuprofile, JSON.stringify(profile))
    session.disconnect()
  }
  process.stdout.write(
    `${n} requests in ${(elapsed / 1000).toFixed(2)} s: ${((elapsed * 1000) / n).toFixed(1)} µs each\n`,
  )
  gate.close()
  process.exit(0)
}

const rules = {
  algorithms: new Set([
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
  ]),
  maxAge: 300,
  clockTolerance: 30,
  maxProofLength: 8192,
}
const url = createRequestUrl({})
const tokenKey = setup.tokenKey
const split = (jws) => {
  const dot = jws.lastIndexOf('.')
  return [Buffer.from(jws.slice(0, dot), 'latin1'), Buffer.from(jws.slice(dot + 1), 'base64url')]
}
const checkerGate = gatehouse.createDpopChecker()
const checkerPair = gatehouse.createDpopChecker()
const store = gatehouse.createMemoryStore()
const HTU = `${ORIGIN}${PATH}`

/** Each step: a function of one pool item. Those that record take their own store. */
const steps = {
  'crypto.verify token (floor)': (it) => {
    const [d, s] = split(it.token)
    return verify(setup.tokenHash, d, tokenKey, s)
  },
  'crypto.verify proof (floor)': (it) => {
    const [d, s] = split(it.proof)
    return verify(it.client.hash, d, it.client.verifyKey, s)
  },
  'crypto.verify token + proof (the floor, one call)': (it) => {
    const [d, s] = split(it.token)
    const [pd, ps] = split(it.proof)
    return verify(setup.tokenHash, d, tokenKey, s) && verify(it.client.hash, pd, it.client.verifyKey, ps)
  },
  'signature.js verifySync of the parsed proof': (it) => {
    const parsed = parsedOnce.get(it)
    return verifySync(
      parsed.alg,
      it.client.verifyKey.key ?? it.client.verifyKey,
      parsed.signingInput,
      parsed.signature,
    )
  },
  'gate.checkSync, whole': (it) => gate.checkSync(it.request),
  'verifier.verifySync(token)': (it) => gate.verifier.verifySync(it.token),
  'checker.checkSync, whole (own store)': (it) =>
    checkerGate.checkSync({
      proof: it.proof,
      method: 'GET',
      url: HTU,
      accessToken: it.token,
      cnfJkt: it.client.jkt,
    }),
  'verifySync + checker.checkSync, one call (own store), no gate': (it) => {
    gate.verifier.verifySync(it.token)
    return checkerPair.checkSync({
      proof: it.proof,
      method: 'GET',
      url: HTU,
      accessToken: it.token,
      cnfJkt: it.client.jkt,
    })
  },
  'extractToken (Authorization: DPoP)': (it) =>
    extractToken(it.request, ['header'], { strict: false, dpop: true }),
  'request URL (origin + path)': (it) => url(it.request),
  'readHeader dpop + readProof': (it) => readProof(readHeader(it.request.headers, 'dpop')),
  'parseProof (JWS, header cache, claims)': (it) => parseProof(it.proof, rules),
  'sha256Sync(token) (ath)': (it) => sha256Sync(it.token),
  'jwkThumbprintSync (not on the path when the header is cached)': (it) => jwkThumbprintSync(it.client.jwk),
  htuMatches: () => htuMatches(HTU, HTU),
  'boundThumbprint(claims)': (it) => boundThumbprint({ cnf: { jkt: it.client.jkt } }),
  'memory store setIfAbsentSync (own store)': (it) =>
    store.setIfAbsentSync(`dpop:${it.client.jkt}:${it.proof.slice(-36)}`, 360),
}
// Proofs parsed ahead, for the steps that take a parsed proof.
const parsedOnce = new Map()
steps['checkRequest + checkToken (parsed proof, token hash given)'] = (it) => {
  const parsed = parsedOnce.get(it)
  checkRequest(parsed, true, 'GET', HTU, rules, Date.now() / 1000)
  checkToken(parsed, parsed.ath, it.client.jkt, it.client.jkt)
}

// The checker needs its keys imported: one asynchronous check per client first.
for (const entry of pool.tokens.slice(0, pool.clients.length)) {
  const { makeProof } = await import('./lib/dpop.js')
  await checkerPair.check({
    proof: await makeProof(entry.client, { htu: HTU, ath: entry.ath }),
    method: 'GET',
    url: HTU,
    accessToken: entry.token,
    cnfJkt: entry.client.jkt,
  })
  await checkerGate.check({
    proof: await makeProof(entry.client, { htu: HTU, ath: entry.ath }),
    method: 'GET',
    url: HTU,
    accessToken: entry.token,
    cnfJkt: entry.client.jkt,
  })
}

process.stderr.write('signing proofs…\n')
await fillPool(setup, alg, 0, ops * (rounds + 1))
for (const it of pool.items) parsedOnce.set(it, parseProof(it.proof, rules))
const samples = new Map(Object.keys(steps).map((name) => [name, []]))
let offset = 0
for (let round = 0; round <= rounds; round++) {
  const items = pool.items.slice(offset, offset + ops)
  offset += ops
  const names = Object.keys(steps)
  const order = names.map((_, k) => names[(k + round) % names.length])
  for (const name of order) {
    const step = steps[name]
    const start = performance.now()
    for (let i = 0; i < items.length; i++) step(items[i])
    if (round > 0) samples.get(name).push(((performance.now() - start) * 1000) / items.length)
  }
  process.stderr.write(`round ${round}/${rounds}\n`)
}
gate.close()
const lines = [
  `### gate.checkSync with a ${alg} proof and an ${values.token} token: µs per call (median of ${rounds} rounds of ${ops})`,
  '',
  '| step | µs |',
  '| --- | ---: |',
  ...[...samples].map(([name, list]) => `| ${name} | ${median(list).toFixed(2)} |`),
]
process.stdout.write(`${lines.join('\n')}\n`)
