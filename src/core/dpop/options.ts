/**
 * Options of a DPoP checker: their types, defaults and validation, once, at construction. Every failure
 * is a TypeError naming the option. Nothing here switches a check off: the replay check always runs (in
 * memory unless a `store` is given), and nonces are an addition, not a replacement for `iat`.
 */
import { describe, isPlainObject } from '../lib/values.js'
import { createMemoryStore } from '../store/memory.js'
import type { Store } from '../store/store.js'
import { ALL_ALGORITHMS, type Algorithm } from '../types.js'
import { createNonceSource, type DpopNonceOptions, type NonceSource } from './nonce.js'
import type { ProofRules } from './proof.js'

export type { DpopNonceOptions }

export interface DpopOptions {
  /**
   * Accepted proof `alg` values: asymmetric algorithms only (RFC 9449 §4.3 check 5; `none` and HS* are a
   * TypeError). Default: all of them (ES256, ES384, ES512, EdDSA, RS256, RS384, RS512, PS256, PS384,
   * PS512); the `algs` of a DPoP challenge (§7.1) lists these.
   */
  algorithms?: readonly Algorithm[]
  /** Seconds after its `iat` that a proof is still accepted (RFC 9449 §11.1). Default 300. */
  maxAge?: number
  /**
   * Seconds of clock skew allowed on `iat`, both ways: proofs are made by clients' clocks, which are
   * often less exact than servers'. Default 30.
   */
  clockTolerance?: number
  /**
   * Where the `jti` of every accepted proof is recorded until the proof would be too old (RFC 9449
   * §11.1). Default: a memory store of this checker (`createMemoryStore()`), which one process only
   * sees; a service on several instances needs a shared one (`createRedisStore`).
   */
  store?: Store
  /**
   * Server nonces (RFC 9449 §9): when given, every proof must carry a nonce from `secret` (see
   * `createNonceSource`); a missing or stale one is refused with `use_dpop_nonce` and a fresh nonce.
   * Default: no nonce is asked for (one a client sends anyway is not checked).
   */
  nonce?: DpopNonceOptions
  /** Longest proof accepted, in characters. Default 8192 (a proof with a 4096-bit RSA key is under 3000). */
  maxProofLength?: number
  /** The clock, in ms since the epoch, for tests. Default `Date.now`. */
  now?: () => number
}

/** The options after validation. */
export interface DpopSettings {
  rules: ProofRules
  store: Store
  /** Whether `store` was made here (closed by the checker's `close`). */
  ownStore: boolean
  nonces: NonceSource | undefined
  now: () => number
}

/** A wrong value as a message shows it: numbers as they are, anything else as `describe` does. */
const shown = (value: unknown) => (typeof value === 'number' ? String(value) : describe(value))

const KNOWN = ['algorithms', 'maxAge', 'clockTolerance', 'store', 'nonce', 'maxProofLength', 'now']
const ASYMMETRIC: ReadonlySet<string> = new Set(ALL_ALGORITHMS)

/**
 * Validate and complete the options of `createDpopChecker`.
 *
 * @throws TypeError `dpop.{option}: …` for an unknown option or a value of the wrong form.
 */
export function readDpopOptions(options: DpopOptions, prefix = 'dpop'): DpopSettings {
  if (!isPlainObject(options as unknown))
    throw new TypeError(`${prefix}: expected an options object, got ${describe(options)}`)
  for (const name of Object.keys(options))
    if (!KNOWN.includes(name))
      throw new TypeError(`${prefix}.${name}: unknown option (expected ${KNOWN.join(', ')})`)
  const {
    algorithms = ALL_ALGORITHMS,
    maxAge = 300,
    clockTolerance = 30,
    store,
    nonce,
    maxProofLength = 8192,
    now = Date.now,
  } = options

  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((alg) => typeof alg === 'string' && ASYMMETRIC.has(alg))
  )
    throw new TypeError(
      `${prefix}.algorithms: expected a non-empty array of asymmetric JWS algorithms (${ALL_ALGORITHMS.join(', ')}), got ${describe(algorithms)}`,
    )
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0)
    throw new TypeError(`${prefix}.maxAge: expected a positive number of seconds, got ${shown(maxAge)}`)
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0)
    throw new TypeError(
      `${prefix}.clockTolerance: expected a number of seconds, 0 or more, got ${shown(clockTolerance)}`,
    )
  if (store !== undefined && typeof (store as Partial<Store> | null)?.setIfAbsent !== 'function')
    throw new TypeError(
      `${prefix}.store: expected a store (createMemoryStore, createRedisStore), got ${describe(store)}`,
    )
  if (nonce !== undefined && !isPlainObject(nonce as unknown))
    throw new TypeError(`${prefix}.nonce: expected { secret, period? }, got ${describe(nonce)}`)
  if (!Number.isInteger(maxProofLength) || maxProofLength < 256)
    throw new TypeError(
      `${prefix}.maxProofLength: expected an integer of at least 256, got ${shown(maxProofLength)}`,
    )
  if (typeof now !== 'function')
    throw new TypeError(`${prefix}.now: expected a function returning milliseconds`)

  return {
    rules: { algorithms: new Set(algorithms), maxAge, clockTolerance, maxProofLength },
    store: store ?? createMemoryStore({ now }),
    ownStore: store === undefined,
    nonces: nonce === undefined ? undefined : createNonceSource(nonce, `${prefix}.nonce`),
    now,
  }
}
