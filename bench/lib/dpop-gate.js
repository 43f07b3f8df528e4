/**
 * The `dpop` workload of `npm run bench`: one request with `Authorization: DPoP <token>` and a fresh proof,
 * through the gate's synchronous path (`gate.checkSync`), against the floor: raw `crypto.verify` of the
 * token plus raw `crypto.verify` of the proof, in one call. Columns are proof algorithms; the token
 * algorithm is one for the whole table (`--dpop-token`).
 *
 * A proof is accepted once (its `jti` is recorded), so every contender walks a pool of pre-signed
 * requests with its own cursor, from the first: all see the same requests in the same order. The runner
 * hands them the marker NEXT instead of an item; the sanity check hands them real items.
 */
import { verify } from 'node:crypto'
import {
  createClient,
  flipSignature,
  hashOf,
  jwsKey,
  makeProof,
  makeProofs,
  mintTokens,
  ORIGIN,
  PATH,
  sha256,
} from './dpop.js'
import { AUDIENCE, ISSUER } from './tokens.js'

/** What the runner passes a DPoP contender: "take your next request". */
export const NEXT = Symbol('next request')

const HTU = `${ORIGIN}${PATH}`
const HOST = new URL(ORIGIN).host
/** Distinct tokens per proof algorithm, cycled (a client reuses its token; every request has a new proof). */
const TOKENS_MAX = 1000

/** The request an adapter hands the gate (Express: method, originalUrl, Node's header record, origin). */
function gateRequest(authorization, proof) {
  const headers = { host: HOST, authorization }
  if (proof !== undefined) headers.dpop = proof
  return { method: 'GET', url: PATH, headers, origin: ORIGIN }
}

/** One request of the pool: what the floors read (token, proof, client) and what the gate reads. */
function item(entry, proof) {
  return {
    token: entry.token,
    client: entry.client,
    proof,
    request: gateRequest(`DPoP ${entry.token}`, proof),
  }
}

/**
 * Clients, tokens and (empty) pools for each proof algorithm. `clients` keys per algorithm: token i is
 * bound to client i mod `clients`, and its proofs are signed by that client's key.
 */
export async function createDpopSetup({ keys, jwks, tokenAlg, proofAlgs, clients, pool }) {
  const key = keys.get(tokenAlg)
  const count = Math.min(pool, TOKENS_MAX)
  const bearer = (await mintTokens(key, count)).map((entry) => ({
    ...entry,
    request: gateRequest(`Bearer ${entry.token}`),
  }))
  const byAlg = new Map()
  for (const alg of proofAlgs) {
    const clientKeys = Array.from({ length: clients }, () => createClient(alg))
    const tokens = await mintTokens(key, count, { clients: clientKeys })
    byAlg.set(alg, { clients: clientKeys, tokens, items: [] })
  }
  return {
    tokenAlg,
    tokenKey: jwsKey(tokenAlg, key.keyObject),
    tokenHash: hashOf(tokenAlg),
    key,
    jwks,
    bearer,
    byAlg,
  }
}

/** Split a JWS at its last dot: the signing input as bytes, the signature decoded (as bench/lib/floor.js). */
function split(jws) {
  const dot = jws.lastIndexOf('.')
  return [Buffer.from(jws.slice(0, dot), 'latin1'), Buffer.from(jws.slice(dot + 1), 'base64url')]
}

function invalid() {
  throw new Error('invalid signature')
}

/** `run(item)` for a sanity item; for NEXT, on the contender's next pool item (`wrap`: cycle, else stop). */
export function walking(list, run, wrap) {
  let i = 0
  return (given) => {
    if (given !== NEXT) return run(given)
    const items = list()
    if (i === items.length) {
      if (!wrap || items.length === 0)
        throw new Error(`the pool of ${items.length} proofs ran out (each is accepted once)`)
      i = 0
    }
    return run(items[i++])
  }
}

/**
 * A gate as the HTTP benchmark's servers build it, DPoP allowed: `createGate({ issuer, audience, keys,
 * algorithms: [tokenAlg], dpop: 'allowed' })`, the replay store in memory (the default), token cache off.
 * One asynchronous check per client first imports the token key and the proof keys, so that `checkSync`
 * answers.
 */
export async function createDpopGate(gatehouse, setup, alg, extra = {}) {
  const gate = gatehouse.createGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: setup.jwks,
    algorithms: [setup.tokenAlg],
    dpop: 'allowed',
    ...extra,
  })
  const { tokens, clients } = setup.byAlg.get(alg)
  // Tokens are bound to the clients in turn: the first of each imports that client's key.
  for (const entry of tokens.slice(0, clients.length))
    await gate.check(item(entry, await makeProof(entry.client, { htu: HTU, ath: entry.ath })).request)
  await gate.check(setup.bearer[0].request)
  return gate
}

/** `gate.checkSync`, which must answer (a PENDING means the synchronous path was not taken). */
export function syncCheck(gatehouse, gate, scheme) {
  return (request) => {
    const auth = gate.checkSync(request)
    if (auth === gatehouse.PENDING) throw new Error('checkSync answered PENDING')
    if (auth?.tokenType !== scheme) throw new Error(`not a ${scheme} request`)
    return auth
  }
}

/**
 * The DPoP contenders by role. Each is `(alg, ctx) => verify | null`, `ctx.dpop` the setup above; the
 * role also decides which sanity cases apply (see `dpopSanityCases`).
 */
export const DPOP_ROLES = {
  /** The floor: `crypto.verify` of the token, then of the proof, keys imported once, nothing else. */
  floor: (alg, { dpop }) => {
    const pool = dpop.byAlg.get(alg)
    return walking(
      () => pool.items,
      (it) => {
        const [data, signature] = split(it.token)
        const [proofData, proofSignature] = split(it.proof)
        return (
          (verify(dpop.tokenHash, data, dpop.tokenKey, signature) &&
            verify(it.client.hash, proofData, it.client.verifyKey, proofSignature)) ||
          invalid()
        )
      },
      true,
    )
  },
  'floor-token': (alg, { dpop }) => {
    const pool = dpop.byAlg.get(alg)
    return walking(
      () => pool.items,
      (it) => {
        const [data, signature] = split(it.token)
        return verify(dpop.tokenHash, data, dpop.tokenKey, signature) || invalid()
      },
      true,
    )
  },
  'floor-proof': (alg, { dpop }) => {
    const pool = dpop.byAlg.get(alg)
    return walking(
      () => pool.items,
      (it) => {
        const [data, signature] = split(it.proof)
        return verify(it.client.hash, data, it.client.verifyKey, signature) || invalid()
      },
      true,
    )
  },
  gate: async (alg, { dpop, gatehouse, closers }) => {
    const gate = await createDpopGate(gatehouse, dpop, alg)
    closers.push(() => gate.close())
    const check = syncCheck(gatehouse, gate, 'dpop')
    const pool = dpop.byAlg.get(alg)
    return walking(
      () => pool.items,
      (it) => check(it.request),
      false,
    )
  },
  /** Bearer tokens through the same gate: what the proof adds is the difference. */
  bearer: async (alg, { dpop, gatehouse, closers }) => {
    const gate = await createDpopGate(gatehouse, dpop, alg)
    closers.push(() => gate.close())
    const check = syncCheck(gatehouse, gate, 'bearer')
    return walking(
      () => dpop.bearer,
      (it) => check(it.request),
      true,
    )
  },
  /** The gate of the `--baseline` build, when it has DPoP; n/a otherwise. */
  baseline: async (alg, ctx) => {
    if (typeof ctx.baseline?.createDpopChecker !== 'function') return null
    return DPOP_ROLES.gate(alg, { ...ctx, gatehouse: ctx.baseline })
  },
}

/** Roles each sanity case applies to. */
const FLOORS = ['floor', 'floor-token', 'floor-proof']
const GATES = ['gate', 'baseline']

/**
 * Requests every DPoP contender must answer right before anything is timed (all cases are required):
 * the floors must refuse a changed signature, the gate every request RFC 9449 §4.3 refuses, in this order
 * (the replay case repeats the valid one). Returns `[{ name, roles, item, accept }]`.
 */
export async function dpopSanityCases(setup, alg) {
  const { tokens, clients } = setup.byAlg.get(alg)
  const [entry, other] = tokens
  const { client } = entry
  const proof = (claims, target = entry) => makeProof(target.client, { htu: HTU, ath: target.ath, claims })
  const valid = item(entry, await proof())
  const flippedToken = { ...entry, token: flipSignature(entry.token) }
  flippedToken.ath = sha256(flippedToken.token)
  const [boundElsewhere] = await mintTokens(setup.key, 1, {
    clients: [client],
    overrides: { cnf: { jkt: clients[1]?.jkt ?? 'another-key-thumbprint' } },
  })
  const bearer = setup.bearer[0]
  const now = Math.floor(Date.now() / 1000)
  const cases = [
    { name: 'valid', roles: [...FLOORS, ...GATES], item: valid, accept: true },
    {
      name: 'token signature changed',
      roles: ['floor', 'floor-token', ...GATES],
      item: item(flippedToken, await proof({}, flippedToken)),
    },
    {
      name: 'proof signature changed',
      roles: ['floor', 'floor-proof', ...GATES],
      item: item(entry, flipSignature(await proof())),
    },
    { name: 'replayed proof', roles: GATES, item: valid },
    { name: 'htu of another path', roles: GATES, item: item(entry, await proof({ htu: `${ORIGIN}/other` })) },
    { name: 'htm POST', roles: GATES, item: item(entry, await proof({ htm: 'POST' })) },
    { name: 'ath of another token', roles: GATES, item: item(entry, await proof({ ath: other.ath })) },
    { name: 'no ath', roles: GATES, item: item(entry, await proof({ ath: undefined })) },
    { name: 'iat 10 minutes ago', roles: GATES, item: item(entry, await proof({ iat: now - 600 })) },
    {
      name: 'token bound to another key',
      roles: GATES,
      item: item(boundElsewhere, await proof({}, boundElsewhere)),
    },
    { name: 'no DPoP header', roles: GATES, item: item(entry, undefined) },
    { name: 'valid Bearer token', roles: ['bearer'], item: bearer, accept: true },
    {
      name: 'Bearer token, signature changed',
      roles: ['bearer'],
      item: { request: gateRequest(`Bearer ${flipSignature(bearer.token)}`) },
    },
    {
      name: 'DPoP-bound token sent as Bearer',
      roles: ['bearer'],
      item: { request: gateRequest(`Bearer ${entry.token}`) },
    },
  ]
  return cases.map((c) => ({ accept: false, ...c }))
}

/**
 * Run every applicable case against every DPoP instance (`[{ contender, alg, verify }]`, the contender's
 * `role` naming its cases). Returns the failures as readable lines.
 */
export async function checkDpopSanity(instances, casesByAlg) {
  const failures = []
  for (const { contender, alg, verify: run } of instances) {
    for (const c of casesByAlg.get(alg)) {
      if (!c.roles.includes(contender.role)) continue
      let got
      try {
        await run(c.item)
        got = 'accepted'
      } catch {
        got = 'rejected'
      }
      if (got !== (c.accept ? 'accepted' : 'rejected'))
        failures.push(`${contender.id} (${alg} proof): "${c.name}" was ${got}`)
    }
  }
  return failures
}

/**
 * Fill the pool of `alg` with fresh proofs for one cell: enough for `seconds` at three times the rate the
 * floor reaches now, so that a quieter moment later in the cell cannot run the gate out of proofs.
 * Proofs are signed now, so their `iat` is fresh when timed.
 */
export async function fillPool(setup, alg, seconds, atLeast = 0) {
  const pool = setup.byAlg.get(alg)
  const probe = item(
    pool.tokens[0],
    await makeProof(pool.tokens[0].client, { htu: HTU, ath: pool.tokens[0].ath }),
  )
  const floor = DPOP_ROLES.floor(alg, { dpop: setup })
  const start = performance.now()
  let n = 0
  while (performance.now() - start < 50) {
    floor(probe)
    n++
  }
  const rate = (n * 1000) / (performance.now() - start)
  const count = Math.max(atLeast, Math.ceil(rate * seconds * 3) + 1000)
  const proofs = await makeProofs(pool.tokens, count, HTU)
  pool.items = proofs.map((proof, i) => item(pool.tokens[i % pool.tokens.length], proof))
  return count
}

/** Drop a cell's pool once it is timed. */
export function emptyPool(setup, alg) {
  setup.byAlg.get(alg).items = []
}
