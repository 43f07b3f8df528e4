/**
 * Token minting for tests: one generated key pair per algorithm, `mint` for well-formed tokens (jose's
 * SignJWT, an independent producer), and `sign` that builds a token byte by byte so a test can create
 * what no library would produce (bad JSON, padding, odd headers) and still carry a valid signature.
 *
 * @example
 * ```ts
 * const key = await testKey('ES256')
 * const token = await mint({ scope: 'read' }, {}, key)
 * const verifier = verifierFor([key])
 * const bad = await sign({ alg: 'ES256', kid: key.kid, crit: ['x'] }, claims(), key)
 * ```
 */
import { constants, createPrivateKey, type KeyObject, sign as nodeSign } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { VerifierOptions } from '../../src/core/config/options.js'
import { GatehouseError } from '../../src/core/errors.js'
import { createLocalKeySet } from '../../src/core/keys/local.js'
import type {
  Algorithm,
  JWK,
  JWTClaims,
  KeyStore,
  KeyStoreState,
  ProtectedHeader,
  VerificationKey,
} from '../../src/core/types.js'
import { createVerifier, type Verifier } from '../../src/core/verify/verifier.js'

export const ISSUER = 'https://issuer.example.com/'
export const AUDIENCE = 'https://api.example.com'
/** The fixed "current time" of tests, in seconds. */
export const NOW = 1_700_000_000

export interface TestKey {
  alg: Algorithm
  kid: string
  /** For node:crypto signing (`sign`). */
  privateKey: KeyObject
  /** For jose's SignJWT (`mint`). */
  joseKey: CryptoKey
  /** Public JWK with `kid`, `alg` and `use: 'sig'`. */
  jwk: JWK
}

const keys = new Map<string, Promise<TestKey>>()

/** A key pair for `alg`, generated once per (alg, kid) and per test file. */
export function testKey(alg: Algorithm, kid = `${alg.toLowerCase()}-key`): Promise<TestKey> {
  const id = `${alg}/${kid}`
  let pending = keys.get(id)
  if (pending === undefined) {
    pending = (async () => {
      const pair = await generateKeyPair(alg, { extractable: true })
      const privateJwk = await exportJWK(pair.privateKey)
      const publicJwk = await exportJWK(pair.publicKey)
      return {
        alg,
        kid,
        privateKey: createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
        joseKey: pair.privateKey,
        jwk: { ...(publicJwk as JWK), kid, alg, use: 'sig' },
      }
    })()
    keys.set(id, pending)
  }
  return pending
}

/** Claims of a valid token at {@link NOW}, with `overrides` applied (an `undefined` value removes a claim). */
export function claims(overrides: Record<string, unknown> = {}): JWTClaims {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    iat: NOW - 60,
    exp: NOW + 3600,
    ...overrides,
  }
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name]
  return base as JWTClaims
}

/**
 * A token minted by jose's SignJWT: claims are {@link claims} with `overrides`; the header is
 * `{ alg, kid }` of the key plus `header` (an `undefined` member removes it, e.g. `{ kid: undefined }`).
 * Default key: RS256.
 */
export async function mint(
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key?: TestKey,
): Promise<string> {
  const k = key ?? (await testKey('RS256'))
  const protectedHeader: Record<string, unknown> = { alg: k.alg, kid: k.kid, ...header }
  for (const [name, value] of Object.entries(protectedHeader))
    if (value === undefined) delete protectedHeader[name]
  return new SignJWT(claims(overrides)).setProtectedHeader(protectedHeader as { alg: string }).sign(k.joseKey)
}

/** Raw segment content: an object (JSON-encoded), a string (its UTF-8 bytes, as is), or bytes. */
export type Segment = Record<string, unknown> | unknown[] | string | Uint8Array

export function segmentBytes(value: Segment): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return new TextEncoder().encode(value)
  return new TextEncoder().encode(JSON.stringify(value))
}

export function b64url(value: Segment): string {
  return Buffer.from(segmentBytes(value)).toString('base64url')
}

/** Sign `data` for `alg` exactly as RFC 7518 §3 says (raw r||s for ECDSA, PSS salt = hash length). */
export function signBytes(alg: Algorithm, privateKey: KeyObject, data: Uint8Array): Uint8Array {
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(-3)}`
  if (alg.startsWith('PS')) {
    return nodeSign(hash, data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(-3)) / 8,
    })
  }
  if (alg.startsWith('ES')) return nodeSign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return nodeSign(hash, data, privateKey)
}

/**
 * Build a compact JWS byte by byte: `header` and `payload` encoded as given (see {@link Segment}), signed
 * with `key` (default RS256) over exactly the segments produced. Use it for inputs no library would mint.
 * `signAlg` overrides the algorithm used to sign (for headers whose `alg` lies).
 */
export async function sign(
  header: Segment,
  payload: Segment,
  key?: TestKey,
  signAlg?: Algorithm,
): Promise<string> {
  const k = key ?? (await testKey('RS256'))
  return signSegments(b64url(header), b64url(payload), k, signAlg)
}

/** Sign already-encoded segments (which may be deliberately non-canonical). */
export function signSegments(header: string, payload: string, key: TestKey, signAlg?: Algorithm): string {
  const input = `${header}.${payload}`
  const signature = signBytes(signAlg ?? key.alg, key.privateKey, Buffer.from(input, 'latin1'))
  return `${input}.${Buffer.from(signature).toString('base64url')}`
}

/** A JWK Set of the keys' public JWKs. */
export function jwksOf(...list: TestKey[]): { keys: JWK[] } {
  return { keys: list.map((key) => ({ ...key.jwk })) }
}

/** A verifier over local keys, with the test issuer, audience and the clock frozen at {@link NOW}. */
export function verifierFor(list: TestKey[], options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: jwksOf(...list),
    now: () => NOW * 1000,
    ...options,
  })
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** 'OK' when the promise resolves, else the GatehouseError's code (any other error fails the test). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error
    return error.code
  }
}

/** Split a compact token into its three segments. */
export function parts(token: string): [string, string, string] {
  const [h, p, s] = token.split('.')
  return [h ?? '', p ?? '', s ?? '']
}

/**
 * Change the last character of a base64url segment so that only its unused trailing bits differ: the
 * decoded bytes stay the same, the spelling does not. Needs a segment whose length % 4 is 2 or 3.
 */
export function nonCanonicalTail(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const rest = segment.length % 4
  if (rest !== 2 && rest !== 3) throw new Error('segment has no unused bits')
  const last = alphabet.indexOf(segment[segment.length - 1] as string)
  // The lowest bit of the last character is always an unused one (4 unused bits for rest 2, 2 for rest 3).
  const changed = alphabet[last | 0x01] as string
  if (changed === segment[segment.length - 1]) throw new Error('segment is already non-canonical')
  return segment.slice(0, -1) + changed
}

/** ASN.1 DER encoding of a raw r||s ECDSA signature (what JWS forbids, RFC 7518 §3.4). */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2
  const integer = (bytes: Uint8Array): number[] => {
    let i = 0
    while (i < bytes.length - 1 && bytes[i] === 0) i++
    const body = [...bytes.subarray(i)]
    if ((body[0] as number) & 0x80) body.unshift(0)
    return [0x02, ...length(body.length), ...body]
  }
  const length = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff])
  const content = [...integer(raw.subarray(0, half)), ...integer(raw.subarray(half))]
  return Uint8Array.from([0x30, ...length(content.length), ...content])
}

/**
 * A KeyStore over a local set whose contents a test can replace, counting every call: proves what the
 * verifier asked (or did not ask) of its key store, and lets a key leave the set.
 */
export class TestKeyStore implements KeyStore {
  #store: KeyStore
  calls = { peek: 0, get: 0, contains: 0 }
  constructor(jwks: { keys: JWK[] }) {
    this.#store = createLocalKeySet(jwks)
  }
  /** Replace the keys (a rotation). Keys already imported from the old set are no longer `contains`ed. */
  replace(jwks: { keys: JWK[] }): void {
    this.#store = createLocalKeySet(jwks)
  }
  get state(): KeyStoreState {
    return this.#store.state
  }
  peek(header: ProtectedHeader): VerificationKey | undefined {
    this.calls.peek++
    return this.#store.peek(header)
  }
  get(header: ProtectedHeader): Promise<VerificationKey> {
    this.calls.get++
    return this.#store.get(header)
  }
  contains(key: VerificationKey): boolean {
    this.calls.contains++
    return this.#store.contains(key)
  }
  get lookups(): number {
    return this.calls.peek + this.calls.get
  }
  close(): void {}
}
