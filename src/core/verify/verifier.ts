/**
 * Verification of JWT access tokens (RFC 7519, RFC 9068) against trusted issuers' keys.
 *
 * Order of checks, each failure a GatehouseError with its own code:
 * 1. shape: length, compact JWS, canonical base64url, JSON objects, header members (see jws.ts);
 * 2. issuer: `iss` picks the trusted issuer (exact string) BEFORE any key lookup, so an untrusted
 *    issuer never causes a network request;
 * 3. `alg` in that issuer's allow-list, `typ` if required;
 * 4. key: only from that issuer's key set (never from `jku`, `x5u`, `jwk`, `x5c`);
 * 5. signature;
 * 6. claims: exp (required), nbf, iat, max age, aud, required claims, then the issuer's `validate` hook
 *    (which a verified-token cache hit runs again: it may check revocation).
 *
 * What it does NOT check: scopes, roles, permissions (policies do), token revocation (needs
 * introspection, RFC 7662), sender constraints (DPoP, mTLS).
 */

import {
  fail,
  type IssuerOptions,
  type NormalizedIssuer,
  normalizeIssuer,
  type VerifierOptions,
} from '../config/options.js'
import { canVerifySync, openOffload, verifySync } from '../crypto/signature.js'
import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import { type DiscoveryOptions, discover, NoMetadataError } from '../keys/discovery.js'
import { createLocalKeySet } from '../keys/local.js'
import {
  createRemoteKeySet,
  REMOTE_KEY_SET_DEFAULTS,
  type RemoteKeySetOptions,
  type RemoteKeyStore,
} from '../keys/remote.js'
import type { JWKS, JWTClaims, KeyStore, VerificationKey, VerifiedToken } from '../types.js'
import { checkClaims, checkTyp, validityWindow } from './claims.js'
import { deepFreeze, type ParsedJWS, parseCompactJWS } from './jws.js'
import { TokenCache } from './token-cache.js'
import type { Trust } from './trust.js'

export type { Trust }

export interface Verifier<C extends JWTClaims = JWTClaims> {
  /**
   * Verify a compact JWS access token. Resolves with its claims and header; rejects with a
   * GatehouseError (401 for the token's faults, 503 when the keys are unavailable).
   */
  verify(token: string): Promise<VerifiedToken<C>>
  /**
   * The same verification, without waiting, when no waiting is needed: a cached token, or a token whose
   * key is already loaded (and `offload` is off). Returns undefined when only `verify` can answer (a key
   * to fetch, a signature for the thread pool); throws a GatehouseError like `verify` rejects. Adapters use
   * it so that a request that needs no I/O is answered in the same tick.
   */
  verifySync(token: string): VerifiedToken<C> | undefined
  /** The trust a verified token was accepted under (its claim mapping, for policies). */
  trustOf(claims: JWTClaims): Trust | undefined
  /** The trusted issuers, in configuration order. */
  readonly trusts: readonly Trust[]
  /** Fetch every remote key set now (start-up warm-up); rejects with the first failure. */
  warmUp(): Promise<void>
  /** Stop the background refreshes of the key stores this verifier built (a `keys` store passed in stays open). Idempotent. */
  close(): void
}

const DEFAULT_MAX_TOKEN_LENGTH = 16_384

/**
 * Create a verifier. Options are validated here, once: a bad option throws a TypeError naming it.
 *
 * @example
 * ```ts
 * import { createVerifier } from 'gatehouse'
 * const verifier = createVerifier({ issuer: 'https://tenant.example.com/', audience: 'https://api.example.com' })
 * const { claims } = await verifier.verify(token) // throws GatehouseError
 * ```
 */
export function createVerifier<C extends JWTClaims = JWTClaims>(options: VerifierOptions): Verifier<C> {
  if (typeof options !== 'object' || options === null) fail('options', 'an object')
  const {
    issuers: list,
    maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH,
    cache,
    offload = false,
    now = Date.now,
    ...shared
  } = options
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 16)
    fail('maxTokenLength', 'an integer of at least 16 characters', maxTokenLength)
  if (typeof offload !== 'boolean') fail('offload', 'a boolean', offload)
  if (typeof now !== 'function') fail('now', 'a function returning milliseconds', now)

  let entries: { options: IssuerOptions; where: string }[]
  if (list === undefined) {
    entries = [{ options: shared, where: '' }]
  } else {
    if (!Array.isArray(list) || list.length === 0)
      fail('issuers', 'a non-empty array of issuer options', list)
    entries = list.map((entry, i) => ({ options: { ...shared, ...entry }, where: `issuers[${i}]` }))
  }

  const stores = new Map<string, SharedStore>()
  /** The stores this verifier built: the only ones `close()` closes (a store passed in may be shared). */
  const built: KeyStore[] = []
  const trusts: Trust[] = entries.map(({ options: issuerOptions, where }) => {
    const normalized = normalizeIssuer(issuerOptions, where)
    return {
      options: normalized,
      rules: {
        audience: normalized.audience,
        clockTolerance: normalized.clockTolerance,
        maxTokenAge: normalized.maxTokenAge,
        requiredClaims: normalized.requiredClaims,
        typ: normalized.typ,
      },
      keys: keyStoreFor(normalized, issuerOptions, where, { stores, built }, now),
    }
  })

  const exact = new Map<string, Trust>()
  const matchers: Trust[] = []
  for (const trust of trusts) {
    for (const iss of trust.options.issuers) {
      if (exact.has(iss)) fail('issuers', 'each issuer at most once', iss)
      exact.set(iss, trust)
    }
    if (trust.options.matcher) matchers.push(trust)
  }

  // What an untrusted `iss` is compared with, for the log (CheckCause.expected).
  const trustedIssuers = Object.freeze(
    trusts.flatMap(({ options: o }) => (o.matcher ? [...o.issuers, String(o.matcher)] : o.issuers)),
  )

  const tokenCache = cache ? new TokenCache(cache === true ? {} : cache) : undefined
  const useThreadPool = offload || !canVerifySync
  const offloaded = useThreadPool ? openOffload() : undefined

  function trustOf(claims: JWTClaims): Trust | undefined {
    const { iss } = claims
    if (typeof iss !== 'string') return undefined
    const found = exact.get(iss)
    if (found) return found
    for (const trust of matchers) if (trust.options.matcher!.test(iss)) return trust
    return undefined
  }

  /** What the asynchronous part of a verification needs from the synchronous part. */
  interface Pending {
    token: string
    parsed: ParsedJWS
    trust: Trust
    seconds: number
  }

  /**
   * The synchronous part: a cache hit, or the whole verification when the key is already loaded and the
   * signature is checked on this thread. Otherwise the state for `complete`. With `probe`, gives up
   * before parsing when only the asynchronous path can finish (offload), so nothing is parsed twice.
   */
  function begin(token: string, probe: boolean): VerifiedToken<C> | Pending | undefined {
    if (typeof token !== 'string') throw new GatehouseError('ERR_JWT_MALFORMED', 'Token is not a string')
    const seconds = now() / 1000
    if (tokenCache) {
      const hit = tokenCache.get(token, seconds)
      if (hit?.trust.keys.contains(hit.key)) {
        // The `validate` hook may consult state that changes while a token stays valid (a revocation
        // list): it runs on every hit, not only when the token was first verified.
        hit.trust.options.validate?.(hit.verified.claims, hit.verified.header)
        return hit.verified as VerifiedToken<C>
      }
    }
    if (probe && useThreadPool) return undefined

    const parsed = parseCompactJWS(token, maxTokenLength)
    const { header, payload } = parsed
    if (payload.iss === undefined)
      throw new GatehouseError('ERR_JWT_CLAIM_MISSING', '"iss" claim is missing', {
        cause: { claim: 'iss' } satisfies CheckCause,
      })
    const trust = trustOf(payload)
    if (trust === undefined) {
      throw new GatehouseError('ERR_JWT_ISSUER_INVALID', undefined, {
        cause: { claim: 'iss', received: forLog(payload.iss), expected: trustedIssuers } satisfies CheckCause,
      })
    }
    if (!trust.options.algorithms.has(header.alg)) {
      throw new GatehouseError('ERR_JWT_ALG_NOT_ALLOWED', undefined, {
        cause: {
          header: 'alg',
          received: header.alg,
          expected: [...trust.options.algorithms],
        } satisfies CheckCause,
      })
    }
    checkTyp(header, trust.rules.typ)

    if (!useThreadPool) {
      const key = trust.keys.peek(header)
      if (key !== undefined) return finish(token, parsed, trust, key, seconds, false)
    }
    return { token, parsed, trust, seconds }
  }

  /** The asynchronous part: fetch the key if needed, check the signature on the thread pool if asked. */
  async function complete({ token, parsed, trust, seconds }: Pending): Promise<VerifiedToken<C>> {
    let at = seconds
    let key: VerificationKey | undefined = trust.keys.peek(parsed.header)
    if (key === undefined) {
      key = await trust.keys.get(parsed.header)
      at = now() / 1000 // a key fetch may have taken seconds
    }
    if (!useThreadPool) return finish(token, parsed, trust, key, at, false)
    const { header, signingInput, signature } = parsed
    if (!(await offloaded!.verify(header.alg, key.handle, signingInput, signature)))
      throw badSignature(parsed)
    return finish(token, parsed, trust, key, at, true)
  }

  /** The signature (unless the thread pool checked it), then the claims, then the cache. */
  function finish(
    token: string,
    parsed: ParsedJWS,
    trust: Trust,
    key: VerificationKey,
    at: number,
    checked: boolean,
  ): VerifiedToken<C> {
    const { header, payload, signingInput, signature } = parsed
    if (!checked && !verifySync(header.alg, key.handle, signingInput, signature)) throw badSignature(parsed)

    checkClaims(payload, trust.rules, at)
    trust.options.validate?.(payload, header)

    // With the cache on, every request for this token shares the claims object: frozen, so that no handler
    // can change what the next one sees. Without it each call has its own, and freezing would be pure cost.
    const verified = {
      claims: (tokenCache ? deepFreeze(payload) : payload) as C,
      header,
    } satisfies VerifiedToken<C>
    if (tokenCache) tokenCache.set(token, { verified, key, trust, ...validityWindow(payload, trust.rules) })
    return verified
  }

  async function verify(token: string): Promise<VerifiedToken<C>> {
    const started = begin(token, false) as VerifiedToken<C> | Pending
    return 'parsed' in started ? complete(started) : started
  }

  function verifyNow(token: string): VerifiedToken<C> | undefined {
    const started = begin(token, true)
    return started === undefined || 'parsed' in started ? undefined : started
  }

  return {
    verify,
    verifySync: verifyNow,
    trustOf,
    trusts,
    async warmUp() {
      await Promise.all([...stores.values()].map(({ store }) => store.refresh()))
    },
    close() {
      for (const store of built) store.close()
      tokenCache?.clear()
      offloaded?.close()
    },
  }
}

function badSignature({ header }: ParsedJWS): GatehouseError {
  return new GatehouseError('ERR_JWS_SIGNATURE_INVALID', undefined, {
    cause: { header: 'kid', received: forLog(header.kid), alg: header.alg } satisfies CheckCause,
  })
}

/** A remote store, the options it was built with, and the first issuer that uses it. */
interface SharedStore {
  store: RemoteKeyStore
  options: StoreOptions
  issuer: NormalizedIssuer
  where: string
}

type StoreOptions = Pick<
  IssuerOptions,
  | 'timeoutDuration'
  | 'cooldownDuration'
  | 'refreshInterval'
  | 'cacheMaxAge'
  | 'maxResponseSize'
  | 'onEvent'
  | 'fetch'
  | 'allowInsecureRequests'
>

function keyStoreFor(
  issuer: NormalizedIssuer,
  options: IssuerOptions,
  where: string,
  { stores, built }: { stores: Map<string, SharedStore>; built: KeyStore[] },
  now: () => number,
): KeyStore {
  const source = issuer.keys
  if (source.kind === 'local') {
    const value = source.value
    if (typeof (value as KeyStore).get === 'function') return value as KeyStore
    const local = createLocalKeySet(value as JWKS)
    built.push(local)
    return local
  }
  const storeOptions: StoreOptions = {
    timeoutDuration: options.timeoutDuration,
    cooldownDuration: options.cooldownDuration,
    refreshInterval: options.refreshInterval,
    cacheMaxAge: options.cacheMaxAge,
    maxResponseSize: options.maxResponseSize,
    onEvent: options.onEvent,
    fetch: options.fetch,
    allowInsecureRequests: source.allowInsecureRequests,
  }
  // Issuers that share a JWKS (Entra v1 and v2) share one store: one cache, one refresh, hence one set of
  // store options. Issuers that ask for different ones would silently get the first one's: refused.
  const id = source.url ? source.url.href : `discovery:${source.issuer}:${source.discovery}`
  const existing = stores.get(id)
  if (existing) {
    checkSameStoreOptions(
      existing,
      storeOptions,
      issuer,
      where,
      source.url?.href ?? `(discovered for ${source.issuer})`,
    )
    return existing.store
  }
  const defined: RemoteKeySetOptions = {
    ...Object.fromEntries(Object.entries(storeOptions).filter(([, v]) => v !== undefined)),
    now,
  }
  const url = source.url ?? discoveredJwksUri(source.issuer, source.discovery === 'auto', defined)
  const store = createRemoteKeySet(url, defined)
  stores.set(id, { store, options: storeOptions, issuer, where })
  built.push(store)
  return store
}

function checkSameStoreOptions(
  first: SharedStore,
  options: StoreOptions,
  issuer: NormalizedIssuer,
  where: string,
  keySet: string,
): void {
  const defaults: Partial<Record<keyof StoreOptions, unknown>> = {
    ...REMOTE_KEY_SET_DEFAULTS,
    allowInsecureRequests: false,
  }
  for (const name of Object.keys(options) as (keyof StoreOptions)[]) {
    const mine = options[name] ?? defaults[name]
    const theirs = first.options[name] ?? defaults[name]
    if (mine === theirs) continue
    const show = (value: unknown) =>
      typeof value === 'function' ? 'a function' : value === undefined ? 'nothing' : String(value)
    const values =
      typeof mine === 'function' && typeof theirs === 'function'
        ? 'two different functions'
        : `${show(theirs)} and ${show(mine)}`
    throw new TypeError(
      `${where ? `${where}.` : ''}${name}: issuers ${label(first.issuer)} and ${label(issuer)} share the key ` +
        `set ${keySet}, so they share one key store with one ${name}; they ask for ${values}. Give both ` +
        'the same value (a top-level option applies to every issuer)',
    )
  }
}

function label(issuer: NormalizedIssuer): string {
  return JSON.stringify(issuer.issuers[0] ?? String(issuer.matcher))
}

function discoveredJwksUri(issuer: string, fallback: boolean, options: DiscoveryOptions) {
  const defaultUrl = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`)
  return async (): Promise<URL> => {
    try {
      const metadata = await discover(issuer, options)
      return new URL(metadata.jwks_uri)
    } catch (error) {
      // 'auto': a provider without a metadata document (AuthAction, plain JWKS hosts) still works, but an
      // issuer mismatch in a document that exists is a configuration error and is never papered over.
      if (fallback && error instanceof GatehouseError && error.cause instanceof NoMetadataError)
        return defaultUrl
      throw error
    }
  }
}
