/**
 * A key store over keys given in code: for tests, air-gapped deployments, and keys distributed out of
 * band. Same interface as the remote store, so the verifier cannot tell them apart.
 */
import type { JWKS, KeyStore, KeyStoreState, ProtectedHeader, VerificationKey } from '../types.js'
import { KeySet } from './key-set.js'

/**
 * @example
 * ```ts
 * const keys = createLocalKeySet({ keys: [publicJwk] })
 * const verifier = createVerifier({ issuer, audience, keys })
 * ```
 * @throws TypeError when `jwks` is not a JWK Set document.
 */
export function createLocalKeySet(jwks: JWKS): KeyStore {
  let set: KeySet
  try {
    set = KeySet.parse(jwks)
  } catch (cause) {
    throw new TypeError(`keys: expected a JWK Set ({ "keys": [...] }): ${(cause as Error).message}`)
  }
  return new LocalKeyStore(set)
}

class LocalKeyStore implements KeyStore {
  readonly #set: KeySet
  constructor(set: KeySet) {
    this.#set = set
  }
  get state(): KeyStoreState {
    return 'fresh'
  }
  peek(header: ProtectedHeader): VerificationKey | undefined {
    return this.#set.resolveSync(header)
  }
  get(header: ProtectedHeader): Promise<VerificationKey> {
    return this.#set.resolve(header)
  }
  contains(key: VerificationKey): boolean {
    return this.#set.contains(key)
  }
  close(): void {}
}
