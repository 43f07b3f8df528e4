/**
 * One runtime's measurement for `npm run bench:runtimes` (bench/runtimes.js): Gatehouse's verifier against
 * that runtime's raw `crypto.subtle.verify`, serial (one verification at a time, awaited), on the same
 * pre-minted tokens. Web APIs only (WebCrypto, TextEncoder, atob, performance), so that the same module
 * runs on Node, Bun, Deno and inside a Worker on workerd.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose'

const ISSUER = 'https://issuer.example.com/'
const AUDIENCE = 'https://api.example.com'

/** WebCrypto parameters of each JWS algorithm (RFC 7518 §3.3, §3.4; RFC 8037 §3.1): verify, import. */
const WEB_PARAMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
}
const IMPORT_PARAMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
}
export const RUNTIME_ALGORITHMS = Object.keys(WEB_PARAMS)

/** base64url to bytes with atob (no Buffer on workerd). */
function decode(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const encoder = new TextEncoder()

/**
 * The raw check: split the token at its last dot, decode the signature, `subtle.verify` with the public
 * JWK imported once (as a verifier gets it). No header, no claims: the floor of any WebCrypto verifier.
 */
function rawVerifier(alg, cryptoKey) {
  const params = WEB_PARAMS[alg]
  return async (token) => {
    const dot = token.lastIndexOf('.')
    const ok = await crypto.subtle.verify(
      params,
      cryptoKey,
      decode(token.slice(dot + 1)),
      encoder.encode(token.slice(0, dot)),
    )
    if (!ok) throw new Error('invalid signature')
  }
}

/** Wall-clock milliseconds. */
const wall = () => performance.now()

/**
 * Verifications per second of `verify` over `tokens`, for about `ms` milliseconds of wall time, per
 * second of `clock` (milliseconds; may be async).
 */
async function rate(verify, tokens, ms, clock) {
  let n = 0
  const from = await clock()
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 16; i++) await verify(tokens[n++ % tokens.length])
  }
  return n / (((await clock()) - from) / 1000)
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Both contenders accept a valid token and refuse one with a changed signature, before any timing. */
async function sanity(name, verify, token) {
  await verify(token)
  const dot = token.lastIndexOf('.')
  const flipped = token[dot + 5] === 'A' ? 'B' : 'A'
  const forged = `${token.slice(0, dot + 5)}${flipped}${token.slice(dot + 6)}`
  const refused = await Promise.resolve()
    .then(() => verify(forged))
    .then(
      () => false,
      () => true,
    )
  if (!refused) throw new Error(`${name} accepted a forged token`)
}

/**
 * Measure each algorithm: `rounds` interleaved slices of `sliceMs` per contender after one warm-up slice,
 * median reported, and the median of the rounds' ratios. `gatehouse` is the built package's root module;
 * `clock` (milliseconds, default wall time) is what a rate is per: the caller may pass CPU time.
 *
 * @returns {Promise<{ rows: { alg: string, subtle: number, gatehouse: number, ratio: number }[], skipped: string[] }>}
 */
export async function measure({
  gatehouse,
  algorithms = RUNTIME_ALGORITHMS,
  rounds = 5,
  sliceMs = 200,
  pool = 300,
  clock = wall,
}) {
  const rows = []
  const skipped = []
  for (const alg of algorithms) {
    let pair
    try {
      pair = await generateKeyPair(alg, { extractable: true })
    } catch (error) {
      skipped.push(`${alg}: ${error instanceof Error ? error.message : error}`) // e.g. no Ed25519 in WebCrypto
      continue
    }
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: `bench-${alg}`, alg, use: 'sig' }
    const tokens = []
    for (let i = 0; i < pool; i++) {
      tokens.push(
        await new SignJWT({ scope: 'read:orders write:orders', client_id: 'bench-client' })
          .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject(`user-${i}`)
          .setIssuedAt()
          .setExpirationTime('1h')
          .setJti(crypto.randomUUID())
          .sign(pair.privateKey),
      )
    }
    const verifier = gatehouse.createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { keys: [jwk] },
      algorithms: [alg],
    })
    const contenders = {
      subtle: rawVerifier(
        alg,
        await crypto.subtle.importKey('jwk', jwk, IMPORT_PARAMS[alg], false, ['verify']),
      ),
      gatehouse: (token) => verifier.verify(token),
    }
    const samples = { subtle: [], gatehouse: [] }
    try {
      for (const [name, verify] of Object.entries(contenders)) {
        await sanity(name, verify, tokens[0])
        await rate(verify, tokens, sliceMs, wall) // warm-up: JIT, key import, header cache
      }
      // The order alternates each round, so a change in load falls on both contenders alike.
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? ['subtle', 'gatehouse'] : ['gatehouse', 'subtle']
        for (const name of order) samples[name].push(await rate(contenders[name], tokens, sliceMs, clock))
      }
    } finally {
      verifier.close()
    }
    // The ratio of each round, then their median: a round shares its moment's load between both contenders.
    const ratios = samples.gatehouse.map((rate, i) => rate / samples.subtle[i])
    rows.push({
      alg,
      subtle: median(samples.subtle),
      gatehouse: median(samples.gatehouse),
      ratio: median(ratios),
    })
  }
  return { rows, skipped }
}
