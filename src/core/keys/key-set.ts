/**
 * A parsed JWK Set and the rules that pick a key for a token. Both the local and the remote key store
 * are built on it, so the selection rules live here only.
 *
 * A key fits a token when (RFC 7517 §4, RFC 7515 §4.1.4):
 * - `use`, if present, is `sig`; `key_ops`, if present, contains `verify`;
 * - `kty` (and `crv`) match what the token's `alg` needs; `alg`, if present, equals the token's `alg`
 *   (a key without `alg` — Entra publishes these — fits any algorithm of its type);
 * - `kid` equals the token's `kid`; a token without `kid` is accepted only when exactly one key fits.
 * Keys are imported once per algorithm and reused. A key that cannot be imported (a private key, an RSA
 * modulus outside 2048–8192 bits or a large public exponent, a malformed member) never fits; the reason is
 * kept for logs.
 */
import { importVerificationKey, keyTypeFor } from '../crypto/signature.js'
import { GatehouseError } from '../errors.js'
import type { Algorithm, JWK, ProtectedHeader, VerificationKey } from '../types.js'

export class KeyEntry {
  readonly jwk: JWK
  readonly kid: string | undefined
  /**
   * Every member of the JWK (top-level names sorted): a refresh reuses an entry, and its imported keys,
   * only when the republished JWK is identical in every member, so that nothing a refresh changes
   * (`d`, `key_ops`, `use`, `alg`, …) escapes the judgement a first fetch would make.
   */
  readonly fingerprint: string
  readonly #imported = new Map<Algorithm, VerificationKey>()
  readonly #failed = new Map<Algorithm, Error>()

  constructor(jwk: JWK) {
    this.jwk = jwk
    this.kid = typeof jwk.kid === 'string' ? jwk.kid : undefined
    this.fingerprint = JSON.stringify(
      Object.keys(jwk)
        .sort()
        .map((name) => [name, jwk[name]]),
    )
  }

  fits(alg: Algorithm): boolean {
    const { jwk } = this
    if (jwk.use !== undefined && jwk.use !== 'sig') return false
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
      return false
    if (jwk.alg !== undefined && jwk.alg !== alg) return false
    const need = keyTypeFor(alg)
    if (jwk.kty !== need.kty) return false
    if (need.crv !== undefined && jwk.crv !== need.crv) return false
    return !this.#failed.has(alg)
  }

  /** The imported key if already there: the synchronous fast path. */
  imported(alg: Algorithm): VerificationKey | undefined {
    return this.#imported.get(alg)
  }

  async import(alg: Algorithm): Promise<VerificationKey> {
    const done = this.#imported.get(alg)
    if (done) return done
    const failed = this.#failed.get(alg)
    if (failed) throw failed
    try {
      const handle = await importVerificationKey(this.jwk, alg)
      const key: VerificationKey = Object.freeze({ kid: this.kid, handle, alg })
      this.#imported.set(alg, key)
      return key
    } catch (cause) {
      const error = new Error(
        `key ${this.kid ?? '(no kid)'} is unusable for ${alg}: ${(cause as Error).message}`,
      )
      this.#failed.set(alg, error)
      throw error
    }
  }

  owns(key: VerificationKey): boolean {
    return this.#imported.get(key.alg) === key
  }
}

export class KeySet {
  readonly entries: readonly KeyEntry[]

  private constructor(entries: KeyEntry[]) {
    this.entries = entries
  }

  /**
   * Parse a JWK Set document. The document must be an object with a `keys` array; members of `keys` that
   * are not objects with a string `kty` are skipped (a provider may publish keys of types we do not use).
   * Entries identical to one in `previous` (every member, see {@link KeyEntry.fingerprint}) are reused,
   * so unchanged keys stay imported across refreshes; any other entry is judged afresh.
   */
  static parse(document: unknown, previous?: KeySet): KeySet {
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new TypeError('a JWK Set must be a JSON object')
    }
    const keys = (document as { keys?: unknown }).keys
    if (!Array.isArray(keys)) throw new TypeError('a JWK Set must have a "keys" array')
    const reuse = new Map(previous?.entries.map((entry) => [entry.fingerprint, entry]))
    const entries: KeyEntry[] = []
    for (const jwk of keys) {
      if (typeof jwk !== 'object' || jwk === null || typeof (jwk as JWK).kty !== 'string') continue
      const fresh = new KeyEntry(jwk as JWK)
      entries.push(reuse.get(fresh.fingerprint) ?? fresh)
    }
    return new KeySet(entries)
  }

  /** Keys that fit the header, in document order. */
  candidates(header: ProtectedHeader): KeyEntry[] {
    const out: KeyEntry[] = []
    for (const entry of this.entries) {
      if (header.kid !== undefined && entry.kid !== header.kid) continue
      if (entry.fits(header.alg)) out.push(entry)
    }
    return out
  }

  /**
   * The one fitting key if it is already imported; undefined when an import is needed; throws when the
   * set is conclusive (nothing fits, or a token without `kid` fits several keys).
   */
  resolveSync(header: ProtectedHeader): VerificationKey | undefined {
    const found = this.candidates(header)
    const [only] = found
    if (only === undefined) throw noMatch(header)
    if (found.length > 1) throw ambiguous(header)
    return only.imported(header.alg)
  }

  async resolve(header: ProtectedHeader): Promise<VerificationKey> {
    const found = this.candidates(header)
    const [only] = found
    if (only === undefined) throw noMatch(header)
    if (found.length > 1) throw ambiguous(header)
    try {
      return await only.import(header.alg)
    } catch (cause) {
      throw noMatch(header, cause)
    }
  }

  /** Whether a key for this header could be found here (used to decide whether a refetch may help). */
  has(header: ProtectedHeader): boolean {
    return this.candidates(header).length > 0
  }

  contains(key: VerificationKey): boolean {
    return this.entries.some((entry) => entry.owns(key))
  }

  kids(): string[] {
    return this.entries.map((entry) => entry.kid ?? '(no kid)')
  }
}

function noMatch(header: ProtectedHeader, cause?: unknown): GatehouseError {
  return new GatehouseError('ERR_JWKS_NO_MATCHING_KEY', undefined, {
    cause: cause ?? new Error(`no key fits kid=${JSON.stringify(header.kid ?? null)} alg=${header.alg}`),
  })
}

function ambiguous(header: ProtectedHeader): GatehouseError {
  const which = header.kid === undefined ? 'a token without "kid"' : `kid ${JSON.stringify(header.kid)}`
  return new GatehouseError(
    'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
    header.kid === undefined ? undefined : 'Several keys in the key set match the token',
    { cause: new Error(`several keys fit ${which} with alg ${header.alg}`) },
  )
}
