/**
 * Opaque access tokens for the HTTP benchmark: the `gatehouse-opaque` servers introspect them (RFC 7662)
 * at the endpoint this process runs (bench/lib/introspection-endpoint.js) and keep the answers in memory.
 * The tokens, the cases every such server must answer right, and the requests that fill its cache before
 * its turn.
 */
import autocannon from 'autocannon'
import { MARKED, OPAQUE_SUB, opaqueToken } from '../lib/introspection-endpoint.js'
import { judgeCases } from './judge.js'
import { tokenCycle } from './load.js'

/** Distinct opaque tokens of the unique mode, cycled: all fit in the answer cache (10,000 entries). */
export const OPAQUE_TOKENS = 2000
/** Requests in flight while a server's cache is filled. */
const FILL_CONNECTIONS = 50
/** How long the servers keep an answer: the cache's default `maxAge`. */
const MAX_AGE_MS = 60_000
/** Slack around an answer's end: the servers' clocks and the time a request takes. */
const MARGIN_MS = 500

export function createOpaqueTokens() {
  return Array.from({ length: OPAQUE_TOKENS }, () => opaqueToken())
}

async function ask(port, token) {
  const response = await fetch(`http://127.0.0.1:${port}/protected`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  })
  return { status: response.status, body: await response.text() }
}

/**
 * The opaque cases, all required: an active token answers 200 with the answer's `sub`, twice (the second
 * from memory); an inactive token, an answer for another audience, from another issuer or expired
 * answer 401. Returns failures `[{ case, got }]`.
 */
export async function checkOpaqueServer(port, tokens) {
  const cases = [
    { name: 'opaque token, active', token: tokens[0], accept: true },
    { name: 'opaque token, active, again (cached answer)', token: tokens[0], accept: true },
    { name: 'opaque token, inactive', token: opaqueToken(MARKED.inactive) },
    { name: 'opaque token, answer for another audience', token: opaqueToken(MARKED.otherAudience) },
    { name: 'opaque token, answer from another issuer', token: opaqueToken(MARKED.otherIssuer) },
    { name: 'opaque token, answer expired', token: opaqueToken(MARKED.expired) },
  ]
  return judgeCases(cases, (c) => ask(port, c.token), OPAQUE_SUB)
}

/**
 * One request per token, in order, FILL_CONNECTIONS at a time (autocannon, a request count rather than a
 * duration): each answer is then in the server's memory for the cache's 60 s. Throws unless every
 * request answered 200.
 */
export function fillCache(port, tokens) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: FILL_CONNECTIONS,
        pipelining: 1,
        amount: tokens.length,
        requests: [{ method: 'GET', path: '/protected', setupRequest: tokenCycle(tokens) }],
      },
      (error, result) => {
        if (error) return reject(error)
        const refused = tokens.length - result['2xx']
        if (refused)
          return reject(
            new Error(`${refused} of ${tokens.length} opaque tokens were refused while filling the cache`),
          )
        resolve()
      },
    )
  })
}

/**
 * The server's cache filled now, and `prepare(seconds)` for the runner, before each slice of `seconds`:
 * when an answer of the last fill could end before the slice does, it waits until every one has ended
 * and fills the cache again, so that no answer expires while timed. (All of them were fetched within a
 * second or two, so all end together: a burst of calls no real traffic makes, and what a warm cache is
 * not.) Counts the fills.
 */
export async function warmCache(port, tokens) {
  let started = Number.NEGATIVE_INFINITY
  let ended = Number.NEGATIVE_INFINITY
  const warm = {
    fills: 0,
    async prepare(seconds = 0) {
      const now = performance.now()
      if (now + seconds * 1000 + MARGIN_MS < started + MAX_AGE_MS) return
      const wait = ended + MAX_AGE_MS + MARGIN_MS - now
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      started = performance.now()
      await fillCache(port, tokens)
      ended = performance.now()
      warm.fills++
    },
  }
  await warm.prepare()
  return warm
}
