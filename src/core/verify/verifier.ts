/**
 * Verification of JWT access tokens (RFC 7519, RFC 9068) against trusted issuers' keys.
 *
 * Order of checks, each failure a GatehouseError with its own code:
 * 1. shape: length, compact JWS, canonical base64url, JSON objects, header members (see jws.ts);
 * 2. issuer: `iss` picks the trusted issuer (exact string) BEFORE any key lookup, so an untrusted
 *    issuer never causes a network request (trust.ts);
 * 3. `alg` in that issuer's allow-list, `typ` if required;
 * 4. key: only from that issuer's key set (never from `jku`, `x5u`, `jwk`, `x5c`);
 * 5. signature;
 * 6. claims: exp (required), nbf, iat, max age, aud, required claims, then the issuer's `validate` hook
 *    (which a verified-token cache hit runs again: it may check revocation).
 *
 * The work per token is split where waiting may start: {@link syncHalf} does everything that needs no
 * waiting (all of it for a cached token, or when the key is loaded and signatures are checked on this
 * thread); {@link asyncHalf} fetches the key or waits for the thread pool, then finishes the same way.
 *
 * What it does NOT check: scopes, roles, permissions (policies do), token revocation (needs
 * introspection, RFC 7662), sender constraints (DPoP, mTLS).
 */

import { readVerifierOptions, type VerifierOptions } from '../config/options.js'
import { canVerifySync, type OffloadedVerifier, openOffload, verifySync } from '../crypto/signature.js'
import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import type { JWTClaims, VerificationKey, VerifiedToken } from '../types.js'
import { checkClaims, checkTyp, validityWindow } from './claims.js'
import { deepFreeze, type ParsedJWS, parseCompactJWS } from './jws.js'
import { VerifierKeyStores } from './key-stores.js'
import { TokenCache } from './token-cache.js'
import { createTrustTable, type Trust } from './trust.js'

export type { Trust }

/**
 * What `verifier.verifySync` and `gate.checkSync` return when only the asynchronous form (`verify`,
 * `check`) can answer: a key to fetch, a signature for the thread pool, a principal hook to await.
 * Nothing was started: call the asynchronous form. One shared value, compared with `===`.
 */
export const PENDING: unique symbol = Symbol('gatehouse.pending')
/** The type of {@link PENDING}. */
export type Pending = typeof PENDING

export interface Verifier<C extends JWTClaims = JWTClaims> {
  /**
   * Verify a compact JWS access token. Resolves with its claims and header; rejects with a
   * GatehouseError (401 for the token's faults, 503 when the keys are unavailable).
   */
  verify(token: string): Promise<VerifiedToken<C>>
  /**
   * The same verification, without waiting, when no waiting is needed: a cached token, or a token whose
   * key is already loaded (and `offload` is off). Returns {@link PENDING} when only `verify` can answer (a
   * key to fetch, a signature for the thread pool), having fetched nothing; throws a GatehouseError like
   * `verify` rejects. Adapters use it so that a request that needs no I/O is answered in the same tick.
   */
  verifySync(token: string): VerifiedToken<C> | Pending
  /** The trust a verified token was accepted under (its claim mapping, for policies). */
  trustOf(claims: JWTClaims): Trust | undefined
  /** The trusted issuers, in configuration order. */
  readonly trusts: readonly Trust[]
  /** Fetch every remote key set now (start-up warm-up), `keys` stores passed in included; rejects with the first failure. */
  warmUp(): Promise<void>
  /** Stop the background refreshes of the key stores this verifier built (a `keys` store passed in stays open). Idempotent. */
  close(): void
}

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
  const settings = readVerifierOptions(options)
  const stores = new VerifierKeyStores(settings.now)
  const table = createTrustTable(settings.issuers, stores)
  const useThreadPool = settings.offload || !canVerifySync
  const context: Context = {
    trustOf: table.trustOf,
    trustedIssuers: table.expected,
    maxTokenLength: settings.maxTokenLength,
    now: settings.now,
    tokenCache: settings.cache ? new TokenCache(settings.cache === true ? {} : settings.cache) : undefined,
    useThreadPool,
    offloaded: useThreadPool ? openOffload() : undefined,
  }

  return {
    async verify(token) {
      const started = syncHalf(context, token, false)
      return ('parsed' in started ? asyncHalf(context, started) : started) as
        | VerifiedToken<C>
        | Promise<VerifiedToken<C>>
    },
    verifySync: (token) => syncHalf(context, token, true) as VerifiedToken<C> | Pending,
    trustOf: table.trustOf,
    trusts: table.trusts,
    warmUp: () => stores.warmUp(),
    close() {
      stores.close()
      context.tokenCache?.clear()
      context.offloaded?.close()
    },
  }
}

/** What the work per token reads: built once per verifier, always this one shape. */
interface Context {
  readonly trustOf: (claims: JWTClaims) => Trust | undefined
  /** For the log of an untrusted `iss` (CheckCause.expected). */
  readonly trustedIssuers: readonly string[]
  readonly maxTokenLength: number
  /** Milliseconds. */
  readonly now: () => number
  readonly tokenCache: TokenCache | undefined
  /** Signatures are checked by `offloaded` (offload, or a runtime without synchronous crypto). */
  readonly useThreadPool: boolean
  readonly offloaded: OffloadedVerifier | undefined
}

/** What the asynchronous half takes over from the synchronous half. */
interface Started {
  token: string
  parsed: ParsedJWS
  trust: Trust
  /** The clock when the token arrived, in seconds. */
  seconds: number
}

/**
 * The synchronous half: cache → parse → trust → alg, typ → key if loaded → {@link finish}. With `probe`
 * (verifySync), gives up with PENDING where only the asynchronous half can go on, before parsing when
 * the thread pool checks signatures, so that nothing is parsed twice; without it, hands over a Started.
 */
function syncHalf(context: Context, token: string, probe: true): VerifiedToken | Pending
function syncHalf(context: Context, token: string, probe: false): VerifiedToken | Started
function syncHalf(context: Context, token: string, probe: boolean): VerifiedToken | Started | Pending {
  if (typeof token !== 'string') throw new GatehouseError('ERR_JWT_MALFORMED', 'Token is not a string')
  const { tokenCache, useThreadPool } = context
  const seconds = context.now() / 1000
  if (tokenCache) {
    const hit = tokenCache.get(token, seconds)
    if (hit?.trust.keys.contains(hit.key)) {
      // The `validate` hook may consult state that changes while a token stays valid (a revocation
      // list): it runs on every hit, not only when the token was first verified.
      hit.trust.options.validate?.(hit.verified.claims, hit.verified.header)
      return hit.verified
    }
  }
  if (probe && useThreadPool) return PENDING

  const parsed = parseCompactJWS(token, context.maxTokenLength)
  const { header, payload } = parsed
  if (payload.iss === undefined)
    throw new GatehouseError('ERR_JWT_CLAIM_MISSING', '"iss" claim is missing', {
      cause: { claim: 'iss' } satisfies CheckCause,
    })
  const trust = context.trustOf(payload)
  if (trust === undefined) {
    throw new GatehouseError('ERR_JWT_ISSUER_INVALID', undefined, {
      cause: {
        claim: 'iss',
        received: forLog(payload.iss),
        expected: context.trustedIssuers,
      } satisfies CheckCause,
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
    if (key !== undefined) return finish(context, token, parsed, trust, key, seconds, false)
  }
  return probe ? PENDING : { token, parsed, trust, seconds }
}

/** The asynchronous half: fetch the key if needed, check the signature on the thread pool if asked. */
async function asyncHalf(
  context: Context,
  { token, parsed, trust, seconds }: Started,
): Promise<VerifiedToken> {
  let at = seconds
  let key: VerificationKey | undefined = trust.keys.peek(parsed.header)
  if (key === undefined) {
    key = await trust.keys.get(parsed.header)
    at = context.now() / 1000 // a key fetch may have taken seconds
  }
  if (!context.useThreadPool) return finish(context, token, parsed, trust, key, at, false)
  const { header, signingInput, signature } = parsed
  if (!(await context.offloaded!.verify(header.alg, key.handle, signingInput, signature)))
    throw badSignature(parsed)
  return finish(context, token, parsed, trust, key, at, true)
}

/** The signature (unless the thread pool checked it), then the claims, then the cache. */
function finish(
  context: Context,
  token: string,
  parsed: ParsedJWS,
  trust: Trust,
  key: VerificationKey,
  at: number,
  checked: boolean,
): VerifiedToken {
  const { header, payload, signingInput, signature } = parsed
  if (!checked && !verifySync(header.alg, key.handle, signingInput, signature)) throw badSignature(parsed)

  checkClaims(payload, trust.rules, at)
  trust.options.validate?.(payload, header)

  // With the cache on, every request for this token shares the claims object: frozen, so that no handler
  // can change what the next one sees. Without it each call has its own, and freezing would be pure cost.
  const { tokenCache } = context
  const verified = { claims: tokenCache ? deepFreeze(payload) : payload, header } satisfies VerifiedToken
  if (tokenCache) tokenCache.set(token, { verified, key, trust, ...validityWindow(payload, trust.rules) })
  return verified
}

function badSignature({ header }: ParsedJWS): GatehouseError {
  return new GatehouseError('ERR_JWS_SIGNATURE_INVALID', undefined, {
    cause: { header: 'kid', received: forLog(header.kid), alg: header.alg } satisfies CheckCause,
  })
}
