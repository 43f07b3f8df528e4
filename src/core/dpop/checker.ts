/**
 * The DPoP checker (RFC 9449): one proof, checked against the request and the access token it comes
 * with, then recorded so that it is accepted once.
 *
 * Order of checks, each failure a GatehouseError with its own code (proof.ts has the rules):
 * 1. one proof in the `DPoP` header;
 * 2. syntax: compact JWS, `typ` `dpop+jwt`, `alg` allowed, a public `jwk`, the claims of §4.2;
 * 3. the signature under that `jwk`;
 * 4. `htm`, `htu`, `iat` against the request and the clock;
 * 5. the nonce, when nonces are on (`use_dpop_nonce`, with a fresh one);
 * 6. with an access token: `ath`, then the token's `cnf.jkt` against the key's thumbprint;
 * 7. last, the replay check: the proof's `jti` is recorded in the store (per key thumbprint) until the
 *    proof would be too old, so only proofs that passed everything else take room in it.
 *
 * Like the verifier, the work is split where waiting may start: `checkSync` answers when nothing needs
 * waiting (node:crypto, the proof's key seen before, a store in memory), else returns PENDING having
 * recorded nothing; `check` answers always.
 *
 * What it does NOT check: the access token itself (verify it first and pass its `cnf.jkt`), that the
 * token is presented with the `DPoP` scheme (RFC 9449 §7.1, the gate's part), anything about the request
 * beyond method and URL (RFC 9449 §4.1 signs nothing else).
 */

import { canDigestSync, sha256, sha256Sync } from '../crypto/digest.js'
import { canVerifySync, importVerificationKey, verifyAsync, verifySync } from '../crypto/signature.js'
import { type CheckCause, GatehouseError } from '../errors.js'
import type { Algorithm, ProtectedHeader } from '../types.js'
import { PENDING, type Pending } from '../verify/verifier.js'
import { type DpopOptions, readDpopOptions } from './options.js'
import { checkRequest, checkToken, type ParsedProof, parseProof, readProof } from './proof.js'
import { jwkThumbprint, jwkThumbprintSync } from './thumbprint.js'

export type { DpopOptions }

/** One request, as the checker needs it. */
export interface DpopRequest {
  /**
   * The `DPoP` header as received: a string (Node and Fetch's `Headers` join repeated fields with `, `,
   * which the checker refuses as two proofs), an array of field values, or null/undefined when absent.
   */
  proof: string | readonly string[] | null | undefined
  /** The request method, as received (compared case-sensitively with `htm`, RFC 9110 §9.1). */
  method: string
  /** The request's absolute URL, as the client addressed it (scheme and host included); query and fragment are ignored. */
  url: string | URL
  /**
   * The access token presented with `Authorization: DPoP`; the proof's `ath` must be its hash and
   * `cnfJkt` its key's thumbprint. Leave it out only where no token is presented (a token endpoint).
   */
  accessToken?: string
  /** The verified token's `cnf.jkt` (see `boundThumbprint`); undefined when the token has none. */
  cnfJkt?: string
}

/** What an accepted proof establishes, for the request's auth context. */
export interface DpopResult {
  /** The RFC 7638 thumbprint of the proof's key: the key the token is bound to. */
  jkt: string
  /** How the token was presented: `dpop` (RFC 9449 §7.1). */
  tokenType: 'dpop'
  /**
   * With nonces on, when the proof's nonce is not the current one: the nonce to send in `DPoP-Nonce` with
   * this response, so that the client moves on before its nonce expires (RFC 9449 §8.2).
   */
  nonce?: string
}

export interface DpopChecker {
  /**
   * Check the request's proof. Resolves with the key thumbprint; rejects with a GatehouseError: 401
   * `invalid_dpop_proof` for the proof's faults, 401 `use_dpop_nonce` with `dpopNonce` for a missing or
   * stale nonce, 401 `invalid_token` for a token not bound to the proof's key, 503 `ERR_STORE_UNAVAILABLE`
   * when the replay check could not be made.
   */
  check(request: DpopRequest): Promise<DpopResult>
  /**
   * The same check without waiting, or {@link PENDING} when only `check` can answer (a key not seen
   * before, a store that must be asked over the network, a runtime without node:crypto), having
   * recorded nothing. Throws as `check` rejects.
   */
  checkSync(request: DpopRequest): DpopResult | Pending
  /** Whether `checkSync` can ever answer (false with a store that has no synchronous form). */
  readonly canCheckSync: boolean
  /**
   * The accepted `alg` values, for the `algs` of a DPoP challenge (RFC 9449 §7.1): the `algorithms`
   * option, and RFC 9864's `Ed25519` beside `EdDSA`.
   */
  readonly algorithms: readonly string[]
  /**
   * The nonce to hand out now (`DPoP-Nonce`), or undefined when nonces are off (and, without
   * node:crypto, until a first `check`).
   */
  currentNonce(): string | undefined
  /** Close the store the checker made itself (a `store` passed in stays open). Idempotent. */
  close(): Promise<void>
}

/** A proof key: imported once, found again by its header (same segment) or its thumbprint. */
interface KnownKey {
  jkt: string
  alg: Algorithm
  handle: unknown
}

/** Proof keys kept imported; a client uses one key for many requests. Cleared when full. */
const KEY_CACHE_MAX = 1024

/**
 * Create a DPoP checker. Options are validated here, once: a bad option throws a TypeError naming it.
 *
 * @example
 * ```ts
 * const dpop = createDpopChecker({ store: createRedisStore({ url: process.env.REDIS_URL }) })
 * const { claims } = await verifier.verify(token)
 * const { jkt } = await dpop.check({
 *   proof: request.headers.get('dpop'), method: request.method, url: request.url,
 *   accessToken: token, cnfJkt: boundThumbprint(claims),
 * })
 * ```
 */
export function createDpopChecker(options: DpopOptions = {}): DpopChecker {
  const { rules, store, ownStore, nonces, now } = readDpopOptions(options)
  const byHeader = new WeakMap<ProtectedHeader, KnownKey>()
  const byThumbprint = new Map<string, KnownKey>()
  const cryptoSync = canVerifySync && canDigestSync
  const canCheckSync = cryptoSync && typeof store.setIfAbsentSync === 'function'

  /**
   * The whole check. With `probe` (checkSync), PENDING where waiting would start; otherwise the
   * asynchronous part is chained on.
   */
  function run(request: DpopRequest, probe: boolean): DpopResult | Promise<DpopResult> | Pending {
    // Before any work: a store that must be asked over the network means `check` does it all.
    if (probe && !canCheckSync) return PENDING
    const at = now()
    const proof = parseProof(readProof(request.proof), rules)
    if (!cryptoSync) return finishLater(proof, request, at, undefined)
    let key = byHeader.get(proof.header)
    if (key === undefined) {
      const jkt = thumbprintOf(jwkThumbprintSync(proof.jwk))
      key = byThumbprint.get(jkt)
      if (key === undefined || key.alg !== proof.alg)
        return probe ? PENDING : finishLater(proof, request, at, jkt)
      byHeader.set(proof.header, key)
    }
    const valid = verifySync(proof.alg, key.handle, proof.signingInput, proof.signature)
    const tokenHash = request.accessToken === undefined ? undefined : sha256Sync(request.accessToken)
    return decide(proof, key.jkt, valid, tokenHash, request, at)
  }

  /** The part that waits: thumbprint and hashes on WebCrypto, the key import, nonces on WebCrypto. */
  async function finishLater(
    proof: ParsedProof,
    request: DpopRequest,
    at: number,
    known: string | undefined,
  ): Promise<DpopResult> {
    const jkt = known ?? thumbprintOf(await jwkThumbprint(proof.jwk))
    let key = byThumbprint.get(jkt)
    if (key === undefined || key.alg !== proof.alg) key = await importKey(proof, jkt)
    byHeader.set(proof.header, key)
    const { alg, signingInput, signature } = proof
    const valid = cryptoSync
      ? verifySync(alg, key.handle, signingInput, signature)
      : await verifyAsync(alg, key.handle, signingInput, signature)
    const tokenHash = request.accessToken === undefined ? undefined : await sha256(request.accessToken)
    await nonces?.prepare(at)
    return decide(proof, jkt, valid, tokenHash, request, at)
  }

  async function importKey(proof: ParsedProof, jkt: string): Promise<KnownKey> {
    let handle: unknown
    try {
      handle = await importVerificationKey(proof.jwk, proof.alg)
    } catch (error) {
      throw new GatehouseError('ERR_DPOP_PROOF_KEY_INVALID', undefined, {
        cause: { header: 'jwk', alg: proof.alg, reason: (error as Error).message } satisfies CheckCause,
      })
    }
    const key: KnownKey = { jkt, alg: proof.alg, handle }
    if (byThumbprint.size >= KEY_CACHE_MAX) byThumbprint.clear()
    byThumbprint.set(jkt, key)
    return key
  }

  /** Checks 3 to 7 (see the top of this file), every value they need at hand. */
  function decide(
    proof: ParsedProof,
    jkt: string,
    signatureValid: boolean,
    tokenHash: string | undefined,
    request: DpopRequest,
    at: number,
  ): DpopResult | Promise<DpopResult> {
    const url = typeof request.url === 'string' ? request.url : request.url.href
    checkRequest(proof, signatureValid, request.method, url, rules, at / 1000)
    const fresh = nonces?.current(at)
    if (nonces !== undefined) {
      if (proof.nonce === undefined)
        throw new GatehouseError('ERR_DPOP_NONCE_MISSING', undefined, {
          cause: { claim: 'nonce', reason: 'is missing' } satisfies CheckCause,
          dpopNonce: fresh,
        })
      if (nonces.accepts(proof.nonce, at) !== true)
        throw new GatehouseError('ERR_DPOP_NONCE_INVALID', undefined, {
          cause: {
            claim: 'nonce',
            reason: 'is not a nonce of this or the previous period',
          } satisfies CheckCause,
          dpopNonce: fresh,
        })
    }
    if (request.accessToken !== undefined) checkToken(proof, tokenHash as string, request.cnfJkt, jkt)

    const result: DpopResult =
      fresh === undefined || proof.nonce === fresh
        ? { jkt, tokenType: 'dpop' }
        : { jkt, tokenType: 'dpop', nonce: fresh }
    // Recorded until the proof is too old for every instance: its window end, plus one more tolerance for
    // an instance whose clock lags this one's. Keyed by the key's thumbprint too, so that one client's
    // `jti` can never block another's.
    const { maxAge, clockTolerance } = rules
    const ttl = Math.max(1, proof.iat - at / 1000 + maxAge + 2 * clockTolerance)
    const replayKey = `dpop:${jkt}:${proof.jti}`
    if (store.setIfAbsentSync !== undefined) {
      if (!store.setIfAbsentSync(replayKey, ttl)) throw replayed(proof)
      return result
    }
    return store.setIfAbsent(replayKey, ttl).then((first) => {
      if (!first) throw replayed(proof)
      return result
    })
  }

  return {
    check: async (request) => run(request, false) as DpopResult | Promise<DpopResult>,
    checkSync: (request) => run(request, true) as DpopResult | Pending,
    canCheckSync,
    algorithms: Object.freeze(
      [...rules.algorithms].flatMap((alg) => (alg === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [alg])),
    ),
    currentNonce: () => nonces?.current(now()),
    async close() {
      byThumbprint.clear()
      if (ownStore) await store.close()
    },
  }
}

function thumbprintOf(jkt: string | undefined): string {
  if (jkt === undefined)
    throw new GatehouseError('ERR_DPOP_PROOF_KEY_INVALID', undefined, {
      cause: {
        header: 'jwk',
        reason: 'is not an EC, RSA or OKP key with its required members',
      } satisfies CheckCause,
    })
  return jkt
}

function replayed(proof: ParsedProof): GatehouseError {
  return new GatehouseError('ERR_DPOP_PROOF_REPLAYED', undefined, {
    cause: {
      claim: 'jti',
      received: proof.jti.length > 64 ? `${proof.jti.slice(0, 64)}…` : proof.jti,
    } satisfies CheckCause,
  })
}
