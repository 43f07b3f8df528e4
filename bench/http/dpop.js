/**
 * DPoP requests for the HTTP benchmark: `Authorization: DPoP <token>` and a `DPoP` proof signed ahead for
 * one server (its `htu` names the server's port, as the adapters compare it with the Host header), each
 * proof sent once. Also the DPoP sanity cases every `gatehouse-dpop` server must answer right.
 */
import { createClient, flipSignature, makeProof, makeProofs, mintTokens } from '../lib/dpop.js'
import { judgeCases } from './judge.js'
import { subOf } from './tokens.js'

/** Client keys (ES256, what DPoP clients use most) the tokens are bound to in turn. */
const CLIENTS = 16
/** Distinct DPoP-bound tokens of the unique mode, cycled: a client reuses its token, never its proof. */
export const DPOP_TOKENS = 2000
/** Proofs signed per server for its warm-up, per second of it: above what one core can check. */
const WARMUP_PROOFS_PER_SECOND = 8000

/** The clients and their bound RS256 tokens (`key`: createKeys()'s RS256 entry). */
export async function createDpopTokens(key) {
  const clients = Array.from({ length: CLIENTS }, () => createClient('ES256'))
  return { clients, tokens: await mintTokens(key, DPOP_TOKENS, { clients }) }
}

export const htuFor = (port) => `http://127.0.0.1:${port}/protected`

/**
 * One server's proofs for one token mode: `tokens` (one for the repeated mode) in turn, each with a new
 * proof. `next()` hands them out once each; past the end it starts again (the server then answers 401,
 * counted as non-2xx) and counts it in `wraps`. `add(n)` signs n more, between slices.
 */
export function createProofSupply(tokens, htu) {
  let items = []
  let next = 0
  let made = 0
  const supply = {
    wraps: 0,
    async add(count) {
      const start = made
      const proofs = await makeProofs(
        Array.from({ length: tokens.length }, (_, i) => tokens[(start + i) % tokens.length]),
        count,
        htu,
      )
      const fresh = proofs.map((proof, i) => ({
        authorization: `DPoP ${tokens[(start + i) % tokens.length].token}`,
        proof,
      }))
      made += count
      items = items.slice(next).concat(fresh)
      next = 0
    },
    get left() {
      return items.length - next
    },
    next() {
      if (next === items.length) {
        next = 0
        supply.wraps++
      }
      return items[next++]
    },
  }
  return supply
}

/** autocannon's `setupRequest`: the next token and proof of `supply`. */
export function dpopCycle(supply) {
  return (request) => {
    const { authorization, proof } = supply.next()
    request.headers.authorization = authorization
    request.headers.dpop = proof
    return request
  }
}

/** Both modes' supplies for a DPoP server, the first mode's filled for its warm-up. */
export async function createSupplies({ tokens }, port, modes, warmupSeconds) {
  const htu = htuFor(port)
  const supplies = { unique: createProofSupply(tokens, htu), repeated: createProofSupply([tokens[0]], htu) }
  await supplies[modes[0]].add(Math.max(1, warmupSeconds) * WARMUP_PROOFS_PER_SECOND)
  return supplies
}

/**
 * Top a supply up before a timed slice of `seconds`: three times the best rate the server has reached
 * (a warm-up runs slower than the server will), at least 3000 requests per second, and a margin.
 */
export async function topUp(supply, seconds, seenRps) {
  const want = Math.ceil(Math.max(3 * seenRps, 3000) * seconds) + 1000
  if (supply.left < want) await supply.add(want - supply.left)
}

async function ask(port, headers) {
  const response = await fetch(`http://127.0.0.1:${port}/protected`, {
    headers,
    signal: AbortSignal.timeout(5000),
  })
  return { status: response.status, body: await response.text() }
}

/**
 * The DPoP cases, all required: a valid request answers 200 with the token's `sub`; a changed proof
 * signature, a replayed proof, a proof for another URL, a token bound to another key, and a bound token
 * sent as Bearer answer 401. Returns failures `[{ case, got }]`.
 */
export async function checkDpopServer(port, { clients, tokens }, key) {
  const htu = htuFor(port)
  const [entry] = tokens
  const proof = (claims, target = entry) => makeProof(target.client, { htu, ath: target.ath, claims })
  const [boundElsewhere] = await mintTokens(key, 1, {
    clients: [entry.client],
    overrides: { cnf: { jkt: clients[1].jkt } },
  })
  const dpop = (token, value) => ({ authorization: `DPoP ${token}`, dpop: value })
  const valid = dpop(entry.token, await proof())
  const cases = [
    { name: 'valid DPoP request', headers: valid, accept: true },
    { name: 'DPoP proof signature changed', headers: dpop(entry.token, flipSignature(await proof())) },
    { name: 'DPoP proof replayed', headers: valid },
    { name: 'DPoP proof for another URL', headers: dpop(entry.token, await proof({ htu: `${htu}/other` })) },
    {
      name: 'DPoP token bound to another key',
      headers: dpop(boundElsewhere.token, await proof({}, boundElsewhere)),
    },
    { name: 'DPoP-bound token sent as Bearer', headers: { authorization: `Bearer ${entry.token}` } },
  ]
  return judgeCases(cases, (c) => ask(port, c.headers), subOf(entry.token))
}
