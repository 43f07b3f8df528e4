/**
 * DPoP (RFC 9449) for the benchmarks: client keys, DPoP-bound access tokens (`cnf.jkt`) and proofs, all
 * signed with node:crypto ahead of time, since each proof is accepted once and signing is no part of what
 * is measured. Used by `npm run bench` (the gate's synchronous path against raw `crypto.verify` of the
 * token and of the proof) and by `npm run bench:http` (DPoP requests behind real servers).
 */
import { constants, createHash, generateKeyPairSync, KeyObject, randomUUID, sign } from 'node:crypto'
import { AUDIENCE, ISSUER } from './tokens.js'

/**
 * Proof algorithms the benchmark can sign with. `Ed25519` is EdDSA under RFC 9864's fully-specified name,
 * what current clients (panva's `dpop`, oauth4webapi) put in `alg`; the checker reads it as EdDSA.
 */
export const PROOF_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']
export const DEFAULT_PROOF_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519']

/** Where the in-process requests are addressed: `htu` is this origin and path. */
export const ORIGIN = 'https://api.example.com'
export const PATH = '/protected'

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const SIGN_BATCH = 256

/** node:crypto's digest for a JWS `alg` (null for EdDSA, which hashes internally). */
export function hashOf(alg) {
  return alg === 'EdDSA' || alg === 'Ed25519' ? null : 'sha256'
}

/** The KeyObject with the per-algorithm parameters JWS needs (RFC 7518 §3.3–3.5, RFC 8037 §3.1). */
export function jwsKey(alg, keyObject) {
  if (alg === 'PS256') return { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
  if (alg === 'ES256') return { key: keyObject, dsaEncoding: 'ieee-p1363' }
  return keyObject
}

/** base64url(SHA-256(text)): a proof's `ath` for a token, a JWK's thumbprint for its canonical JSON. */
export function sha256(text) {
  return createHash('sha256').update(text).digest('base64url')
}

/** RFC 7638 thumbprint: the required members in lexicographic order, no whitespace. */
function thumbprint(jwk) {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: 'OKP', x: jwk.x }
        : { e: jwk.e, kty: 'RSA', n: jwk.n }
  return sha256(JSON.stringify(members))
}

/**
 * A DPoP client: a key pair of `alg`'s type, its public JWK, the RFC 7638 thumbprint that bound tokens
 * carry in `cnf.jkt`, and the proof header segment (the same for every proof of the client).
 */
export function createClient(alg) {
  const { publicKey, privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA' || alg === 'Ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const { kty, crv, x, y, e, n } = publicKey.export({ format: 'jwk' })
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, e, n }).filter(([, v]) => v !== undefined))
  return {
    alg,
    jwk,
    jkt: thumbprint(jwk),
    header: b64({ typ: 'dpop+jwt', alg, jwk }),
    signKey: jwsKey(alg, privateKey),
    verifyKey: jwsKey(alg, publicKey),
    hash: hashOf(alg),
  }
}

/** Sign `input` on the thread pool (both cores during the untimed set-up). Resolves with base64url. */
function signAsync(hash, input, key) {
  return new Promise((resolve, reject) =>
    sign(hash, Buffer.from(input), key, (error, signature) =>
      error ? reject(error) : resolve(signature.toString('base64url')),
    ),
  )
}

/** Run `make(i)` for i < count, SIGN_BATCH at a time. */
async function batched(count, make) {
  const out = []
  for (let start = 0; start < count; start += SIGN_BATCH) {
    const batch = []
    for (let i = start; i < Math.min(count, start + SIGN_BATCH); i++) batch.push(make(i))
    out.push(...(await Promise.all(batch)))
  }
  return out
}

/**
 * `count` access tokens signed by `key` (an entry of createKeys()), RFC 9068 claims as bench/lib/tokens.js
 * mints them; with `clients`, token i is bound to `clients[i % clients.length]` (`cnf.jkt`). Each entry:
 * `{ token, client, ath }`.
 */
export async function mintTokens(key, count, { clients, overrides = {} } = {}) {
  const privateKey = jwsKey(key.alg, KeyObject.from(key.privateKey))
  const header = b64({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
  const now = Math.floor(Date.now() / 1000)
  return batched(count, async (i) => {
    const client = clients?.[i % clients.length]
    const claims = {
      iss: ISSUER,
      sub: `bench|user-${String(i).padStart(6, '0')}`,
      aud: AUDIENCE,
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
      scope: 'openid profile read:orders write:orders',
      client_id: 'bench-client-4f2a9c',
      ...(client ? { cnf: { jkt: client.jkt } } : {}),
      ...overrides,
    }
    const input = `${header}.${b64(claims)}`
    const token = `${input}.${await signAsync(hashOf(key.alg), input, privateKey)}`
    return { token, client, ath: sha256(token) }
  })
}

/**
 * One proof by `client` for a GET of `htu` with the token whose hash is `ath`; `claims` override members
 * (`undefined` removes one), `header` replaces the client's header segment.
 */
export async function makeProof(client, { htu, ath, claims = {}, header = client.header }) {
  const payload = { jti: randomUUID(), htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath, ...claims }
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
  const input = `${header}.${b64(payload)}`
  return `${input}.${await signAsync(client.hash, input, client.signKey)}`
}

/** `count` fresh proofs, proof i for `tokens[i % tokens.length]` by that token's client. */
export function makeProofs(tokens, count, htu) {
  return batched(count, (i) => {
    const entry = tokens[i % tokens.length]
    return makeProof(entry.client, { htu, ath: entry.ath })
  })
}

/** Flip one bit in the middle of a JWS signature, re-encoded canonically. */
export function flipSignature(jws) {
  const dot = jws.lastIndexOf('.')
  const signature = Buffer.from(jws.slice(dot + 1), 'base64url')
  signature[signature.length >> 1] ^= 0x01
  return `${jws.slice(0, dot + 1)}${signature.toString('base64url')}`
}
