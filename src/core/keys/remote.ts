/**
 * A key store over a remote JWK Set (RFC 7517 §5), built on the same KeySet as the local store. It keeps
 * verification working while the provider misbehaves, and never lets a client's token make it hammer the
 * provider. The rules (docs/key-store.md has the table and the reasons):
 *
 * - Known kid: answered from the current set, never waiting for the network.
 * - Unknown kid: one refetch, shared by every concurrent request (single-flight), at most one per
 *   `cooldownDuration`; a request refused during the cooldown schedules ONE fetch at its end, so a
 *   legitimately rotated key is accepted within `cooldownDuration` of its first token.
 * - Background refresh every `refreshInterval` (±10% jitter); after a failure, retries back off from
 *   `cooldownDuration`, doubling, capped at `refreshInterval`.
 * - Provider failure: the last good set is served until `cacheMaxAge` after its fetch (stale-if-error);
 *   with no usable set, requests fail fast with ERR_JWKS_UNAVAILABLE (503: the token is not at fault).
 * - Every fetched set is judged as a first fetch would judge it: an entry is reused only when the JWK is
 *   identical in every member, and a JWK Set with no usable key replaces the served set (nothing is served)
 *   instead of counting as a provider failure.
 */
import { type ErrorCode, GatehouseError } from '../errors.js'
import { isAllowedUrl, SECURE_URL_RULE } from '../lib/loopback.js'
import {
  ALL_ALGORITHMS,
  type Algorithm,
  type KeyStore,
  type KeyStoreEvent,
  type KeyStoreState,
  type ProtectedHeader,
  type VerificationKey,
} from '../types.js'
import {
  type CheckedFetchOptions,
  checkFetchOptions,
  FETCH_DEFAULTS,
  type FetchFailure,
  fetchJson,
} from './fetch-json.js'
import type { KeyEntry } from './key-set.js'
import { KeySet } from './key-set.js'

/** Options of {@link createRemoteKeySet}. Every duration is in milliseconds. */
export interface RemoteKeySetOptions {
  /** Time limit of one HTTP request, headers and body together. Default 5000. */
  timeoutDuration?: number
  /** Minimum gap between two fetches caused by unknown `kid`s. Default 5000 (a rotated key waits at most this). */
  cooldownDuration?: number
  /** Proactive background refresh period, ±10% jitter. Default 600_000 (10 min). `Infinity` turns it off. */
  refreshInterval?: number
  /** How long after its last successful fetch a key set is still served while refreshes fail. Default 43_200_000 (12 h). `Infinity` never expires it. */
  cacheMaxAge?: number
  /** Largest accepted JWKS body in bytes; a larger body is cut off while streaming. Default 1_048_576. */
  maxResponseSize?: number
  /** Extra request headers. `accept` defaults to `application/jwk-set+json, application/json`. */
  headers?: Record<string, string>
  /** A fetch implementation (proxies, instrumentation). Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Called for every {@link KeyStoreEvent}. A listener that throws or rejects never affects verification. */
  onEvent?: (event: KeyStoreEvent) => void
  /** The clock, in ms since the epoch, for tests. Default `Date.now`. Timers still use real time. */
  now?: () => number
  /**
   * Accept plain http on any host, not only on loopback hosts: for a development network only (a key set
   * fetched over http can be replaced in transit). Each such host is reported once with
   * `process.emitWarning`. Default false.
   */
  allowInsecureRequests?: boolean
}

/** A remote key store: the {@link KeyStore} interface plus manual refresh and health information. */
export interface RemoteKeyStore extends KeyStore {
  /** Fetch now, ignoring the cooldown (joins a fetch already running). Rejects with the fetch's GatehouseError. */
  refresh(): Promise<void>
  /** The error of the last fetch, or undefined when it succeeded (or none ran yet). */
  readonly lastError: Error | undefined
  /** When the last successful fetch finished, in ms of the `now` clock; undefined before the first. */
  readonly lastSuccessAt: number | undefined
}

/** The members of {@link RemoteKeySetOptions}: any other is a TypeError. */
export const REMOTE_KEY_SET_OPTIONS = Object.freeze([
  'timeoutDuration',
  'cooldownDuration',
  'refreshInterval',
  'cacheMaxAge',
  'maxResponseSize',
  'headers',
  'fetch',
  'onEvent',
  'now',
  'allowInsecureRequests',
] as const satisfies readonly (keyof RemoteKeySetOptions)[])

/** Every default of {@link RemoteKeySetOptions}. */
export const REMOTE_KEY_SET_DEFAULTS = Object.freeze({
  ...FETCH_DEFAULTS,
  cooldownDuration: 5_000,
  refreshInterval: 600_000,
  cacheMaxAge: 43_200_000,
})

/** The first retry after a failed background refresh waits at least this long, even with a zero cooldown. */
const MIN_RETRY_MS = 100
/** A URL function may take this many `timeoutDuration`s: discovery's two well-known locations. */
const RESOLVE_ATTEMPTS = 2
/** setTimeout's largest delay; longer ones fire at once in Node, so they are clamped. */
const MAX_TIMER_MS = 2_147_483_647
const ACCEPT = 'application/jwk-set+json, application/json'
const CODES: Readonly<Record<FetchFailure, ErrorCode>> = {
  failed: 'ERR_JWKS_FETCH_FAILED',
  timeout: 'ERR_JWKS_TIMEOUT',
  invalid: 'ERR_JWKS_INVALID',
  'too-large': 'ERR_JWKS_TOO_LARGE',
}

/**
 * A key store that fetches a JWK Set over https.
 *
 * Nothing is fetched here: the first `get` (or `refresh`) fetches. `url` may be a function resolving the
 * URL lazily ({@link discoverKeySet} passes one): it is called at the first fetch, may take up to twice
 * `timeoutDuration` (discovery's two locations, each with its own timeout), its result is checked like a
 * literal URL, cached once a key set was fetched from it, and its failures count as fetch failures.
 *
 * Does NOT check the document's `content-type`, nor follow redirects (a 3xx is refused). Closing it is
 * the caller's job: a verifier given it as `keys` leaves it open.
 *
 * @example
 * ```ts
 * const keys = createRemoteKeySet('https://id.example.com/.well-known/jwks.json', {
 *   timeoutDuration: 2_000,
 *   onEvent: (event) => logger.info(event),
 * })
 * const verifier = createVerifier({ issuer, audience, keys })
 * ```
 * @throws TypeError when `url` is not https (http only on loopback hosts, unless `allowInsecureRequests`),
 *   or an option is malformed or unknown.
 */
export function createRemoteKeySet(
  url: string | URL | (() => Promise<URL>),
  options: RemoteKeySetOptions = {},
): RemoteKeyStore {
  const checked = checkRemoteKeySetOptions(options)
  return new RemoteKeySet(checkUrl(url, checked.allowInsecureRequests), checked)
}

/** {@link RemoteKeySetOptions} with defaults applied. */
export interface CheckedRemoteKeySetOptions extends CheckedFetchOptions {
  cooldownDuration: number
  refreshInterval: number
  cacheMaxAge: number
  onEvent: ((event: KeyStoreEvent) => void) | undefined
  now: () => number
  allowInsecureRequests: boolean
}

type Reason = 'initial' | 'refresh' | 'unknown-kid'
type Timer = ReturnType<typeof setTimeout>
const noop = () => {}

class RemoteKeySet implements RemoteKeyStore {
  readonly #source: URL | (() => Promise<URL>)
  readonly #options: CheckedRemoteKeySetOptions
  #url: URL | undefined
  #set: KeySet | undefined
  /** Imported keys by alg then kid: `peek` answers a repeated header with two Map lookups. */
  #memo = new Map<Algorithm, Map<string | undefined, VerificationKey>>()
  #lastSuccessAt: number | undefined
  #lastFetchAt: number | undefined
  #lastError: Error | undefined
  #failures = 0
  #inflight: Promise<void> | undefined
  #refreshTimer: Timer | undefined
  #cooldownTimer: Timer | undefined
  #closed = false

  constructor(source: URL | (() => Promise<URL>), options: CheckedRemoteKeySetOptions) {
    this.#source = source
    this.#options = options
    if (source instanceof URL) this.#url = source
  }

  get state(): KeyStoreState {
    if (this.#inflight) return 'fetching'
    if (this.#current() === undefined) return this.#lastFetchAt === undefined ? 'empty' : 'unavailable'
    if (this.#lastError) return 'stale'
    if (this.#cooldownTimer) return 'cooling-down'
    return 'fresh'
  }

  get lastError(): Error | undefined {
    return this.#lastError
  }

  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt
  }

  peek(header: ProtectedHeader): VerificationKey | undefined {
    const set = this.#current()
    if (set === undefined) return undefined
    const hit = this.#memo.get(header.alg)?.get(header.kid)
    if (hit) return hit
    if (!set.has(header)) return undefined
    const key = set.resolveSync(header) // throws when several keys fit
    if (key) {
      const byKid = this.#memo.get(header.alg) ?? new Map<string | undefined, VerificationKey>()
      this.#memo.set(header.alg, byKid.set(header.kid, key))
    }
    return key
  }

  async get(header: ProtectedHeader): Promise<VerificationKey> {
    const set = this.#current()
    if (set?.has(header)) return set.resolve(header)
    if (this.#inflight === undefined && !this.#coolingDown()) {
      void this.#fetch(set ? 'unknown-kid' : this.#set ? 'refresh' : 'initial')
    }
    if (this.#inflight === undefined) return this.#refuse(header, set)
    await this.#inflight.catch(noop)
    // One fetch per request at most: whatever it brought is the answer.
    const after = this.#current()
    if (after === undefined || (this.#lastError && !after.has(header))) throw unavailable(this.#lastError)
    return after.resolve(header)
  }

  contains(key: VerificationKey): boolean {
    return this.#current()?.contains(key) ?? false
  }

  refresh(): Promise<void> {
    return this.#fetch(this.#set ? 'refresh' : 'initial')
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#refreshTimer)
    clearTimeout(this.#cooldownTimer)
    this.#refreshTimer = undefined
    this.#cooldownTimer = undefined
  }

  /** The set, if its last successful fetch is within `cacheMaxAge`. */
  #current(): KeySet | undefined {
    if (this.#set === undefined || this.#lastSuccessAt === undefined) return undefined
    return this.#options.now() - this.#lastSuccessAt <= this.#options.cacheMaxAge ? this.#set : undefined
  }

  #coolingDown(): boolean {
    return (
      this.#lastFetchAt !== undefined &&
      this.#options.now() - this.#lastFetchAt < this.#options.cooldownDuration
    )
  }

  /** A request the cooldown does not let fetch: answer now, and make sure one fetch follows the cooldown. */
  #refuse(header: ProtectedHeader, set: KeySet | undefined): never {
    const retryInMs = Math.max(
      0,
      (this.#lastFetchAt ?? 0) + this.#options.cooldownDuration - this.#options.now(),
    )
    this.#emit({ type: 'cooldown', kid: header.kid, retryInMs })
    // Without a usable set the next request after the cooldown tries again; nothing is scheduled, so a
    // store nobody uses does not poll a dead provider.
    if (set === undefined) throw unavailable(this.#lastError)
    if (!this.#closed && this.#cooldownTimer === undefined) {
      this.#cooldownTimer = startTimer(() => {
        this.#cooldownTimer = undefined
        if (!this.#closed) this.#fetch('unknown-kid').catch(noop)
      }, retryInMs)
    }
    // The provider failed last time: we cannot tell whether the kid exists, so the token is not at fault.
    if (this.#lastError) throw unavailable(this.#lastError)
    throw new GatehouseError('ERR_JWKS_NO_MATCHING_KEY', undefined, {
      cause: new Error(
        `no key with kid=${JSON.stringify(header.kid ?? null)}; refetch cooling down for ${retryInMs} ms`,
      ),
    })
  }

  /** Start a fetch, or join the one running. */
  #fetch(reason: Reason): Promise<void> {
    if (this.#inflight) return this.#inflight
    // This fetch serves whoever was waiting for the end of the cooldown.
    clearTimeout(this.#cooldownTimer)
    this.#cooldownTimer = undefined
    this.#lastFetchAt = this.#options.now()
    const run = this.#load(performance.now()).finally(() => {
      this.#inflight = undefined
    })
    run.catch(noop) // a background fetch has no caller; its failure is reported through events
    this.#inflight = run
    // After #inflight is set, so a listener reading `state` (or calling `get`) sees the fetch.
    this.#emit({ type: 'fetch', url: this.#label(), reason })
    return run
  }

  async #load(started: number): Promise<void> {
    // Let #fetch record this run as in flight before any of it (the URL function included) executes.
    await undefined
    let url: URL | undefined
    let conclusive = false
    try {
      url = await this.#resolveUrl()
      const document = await fetchJson(url, ACCEPT, this.#options, CODES)
      const set = await parse(document, this.#set)
      // A JWK Set the provider publishes is its answer, judged as a first fetch would judge it: when no
      // key in it is usable, the keys it withdrew or disqualified are not served on (stale-if-error is
      // for failing to get an answer, not for an answer that refuses every key).
      conclusive = true
      checkUsable(set)
      this.#accept(set, url, started)
    } catch (cause) {
      const error =
        cause instanceof GatehouseError
          ? cause
          : new GatehouseError('ERR_JWKS_FETCH_FAILED', undefined, { cause })
      this.#fail(error, url, started, conclusive)
      throw error
    }
  }

  async #resolveUrl(): Promise<URL> {
    if (this.#url) return this.#url
    const resolve = this.#source as () => Promise<URL>
    // Discovery may try two locations, each within its own timeoutDuration: the bound here is theirs
    // together, so that the second location is reachable when the first one hangs.
    const limit = RESOLVE_ATTEMPTS * this.#options.timeoutDuration
    let timer: Timer | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = startTimer(() => {
        const detail = `resolving the key set URL took more than ${limit} ms`
        reject(new GatehouseError('ERR_JWKS_TIMEOUT', undefined, { cause: new Error(detail) }))
      }, limit)
    })
    let resolved: unknown
    try {
      resolved = await Promise.race([Promise.resolve().then(() => resolve()), timeout])
    } finally {
      clearTimeout(timer)
    }
    const url = resolved instanceof URL ? resolved : typeof resolved === 'string' ? URL.parse(resolved) : null
    if (url === null || !isAllowedUrl(url, this.#options.allowInsecureRequests)) {
      const detail = `the resolved key set URL must be ${SECURE_URL_RULE}, got ${String(resolved)}`
      throw new GatehouseError('ERR_JWKS_FETCH_FAILED', undefined, { cause: new TypeError(detail) })
    }
    return url
  }

  #accept(set: KeySet, url: URL, started: number): void {
    const previous = this.#set
    this.#set = set
    this.#url = url
    this.#memo = new Map()
    this.#lastSuccessAt = this.#options.now()
    this.#lastError = undefined
    this.#failures = 0
    const durationMs = performance.now() - started
    this.#emit({ type: 'fetch-success', url: url.href, keyCount: set.entries.length, durationMs })
    const { added, removed } = diff(previous, set)
    if (added.length > 0 || removed.length > 0) this.#emit({ type: 'keys-changed', added, removed })
    this.#schedule(jitter(this.#options.refreshInterval))
  }

  /** `withdraw`: the provider's answer refused every key, so the previous set is dropped too. */
  #fail(error: GatehouseError, url: URL | undefined, started: number, withdraw: boolean): void {
    const previous = withdraw ? this.#set : undefined
    if (withdraw) {
      this.#set = undefined
      this.#memo = new Map()
    }
    this.#lastError = error
    this.#failures += 1
    const durationMs = performance.now() - started
    const servingStale = this.#current() !== undefined
    this.#emit({ type: 'fetch-error', url: url?.href ?? this.#label(), error, durationMs, servingStale })
    if (previous !== undefined && previous.entries.length > 0) {
      this.#emit({ type: 'keys-changed', added: [], removed: previous.entries.map(label) })
    }
    // Before the first success nothing is scheduled: requests drive the retries, one per cooldown.
    if (this.#set === undefined) return
    const { cooldownDuration, refreshInterval } = this.#options
    const backoff = Math.max(cooldownDuration, MIN_RETRY_MS) * 2 ** Math.min(this.#failures - 1, 30)
    this.#schedule(jitter(Math.min(backoff, refreshInterval)))
  }

  #schedule(delay: number): void {
    clearTimeout(this.#refreshTimer)
    this.#refreshTimer = undefined
    if (this.#closed || delay === Number.POSITIVE_INFINITY) return
    this.#refreshTimer = startTimer(() => {
      this.#refreshTimer = undefined
      if (!this.#closed) this.#fetch('refresh').catch(noop)
    }, delay)
  }

  #label(): string {
    return this.#url?.href ?? '(URL not resolved yet)'
  }

  /** A listener is for logs and metrics: whatever it does must not change a verification result. */
  #emit(event: KeyStoreEvent): void {
    const listener = this.#options.onEvent
    if (listener === undefined) return
    try {
      const result: unknown = listener(event)
      if (result instanceof Promise) result.catch(noop)
    } catch {
      // ignored on purpose, see above
    }
  }
}

/** Parse and warm a fetched document: keys are imported here, off the request path. */
async function parse(document: unknown, previous: KeySet | undefined): Promise<KeySet> {
  let set: KeySet
  try {
    set = KeySet.parse(document, previous)
  } catch (cause) {
    throw new GatehouseError('ERR_JWKS_INVALID', undefined, { cause })
  }
  // Importing now means `peek` finds the keys ready, and an unusable key (an RSA modulus out of bounds, a
  // private key) is known now.
  await Promise.all(
    set.entries.flatMap((entry) => algorithmsOf(entry).map((alg) => entry.import(alg).catch(noop))),
  )
  return set
}

/** A set with no key usable for signatures is invalid. */
function checkUsable(set: KeySet): void {
  if (set.entries.some((entry) => algorithmsOf(entry).length > 0)) return
  const detail = `the key set has no key usable for signature verification (${set.entries.length} published)`
  throw new GatehouseError('ERR_JWKS_INVALID', undefined, { cause: new Error(detail) })
}

function algorithmsOf(entry: KeyEntry): Algorithm[] {
  return ALL_ALGORITHMS.filter((alg) => entry.fits(alg))
}

function diff(previous: KeySet | undefined, next: KeySet): { added: string[]; removed: string[] } {
  const before = new Set(previous?.entries.map((entry) => entry.fingerprint))
  const after = new Set(next.entries.map((entry) => entry.fingerprint))
  // A key republished with any member changed is removed and added under its kid.
  return {
    added: next.entries.filter((entry) => !before.has(entry.fingerprint)).map(label),
    removed: (previous?.entries ?? []).filter((entry) => !after.has(entry.fingerprint)).map(label),
  }
}

function label(entry: KeyEntry): string {
  return entry.kid ?? '(no kid)'
}

function unavailable(cause: Error | undefined): GatehouseError {
  return new GatehouseError('ERR_JWKS_UNAVAILABLE', undefined, {
    cause: cause ?? new Error('no key set fetched within cacheMaxAge, and the cooldown forbids a fetch now'),
  })
}

/** ±10% so that a fleet of servers started together does not refresh in lockstep. */
function jitter(ms: number): number {
  return ms * (0.9 + Math.random() * 0.2)
}

function startTimer(callback: () => void, ms: number): Timer {
  const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS))
  // A key store must never keep a process alive on its own.
  ;(timer as { unref?: () => void }).unref?.()
  return timer
}

function checkUrl(url: unknown, allowInsecureRequests: boolean): URL | (() => Promise<URL>) {
  if (typeof url === 'function') return url as () => Promise<URL>
  const parsed = url instanceof URL ? new URL(url.href) : typeof url === 'string' ? URL.parse(url) : null
  if (parsed === null) throw new TypeError(`url: expected ${SECURE_URL_RULE}, or a function resolving one`)
  if (!isAllowedUrl(parsed, allowInsecureRequests))
    throw new TypeError(`url: expected ${SECURE_URL_RULE}, got ${parsed.href}`)
  return parsed
}

/**
 * Validate {@link RemoteKeySetOptions} and apply their defaults.
 * @throws TypeError naming the option: a malformed value, or a member that is not an option (a misspelt
 *   `cooldown` would otherwise leave the default on in silence).
 */
export function checkRemoteKeySetOptions(options: RemoteKeySetOptions): CheckedRemoteKeySetOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object')
  for (const name of Object.keys(options)) {
    if (!(REMOTE_KEY_SET_OPTIONS as readonly string[]).includes(name))
      throw new TypeError(`${name}: unknown option (expected ${REMOTE_KEY_SET_OPTIONS.join(', ')})`)
  }
  const d = REMOTE_KEY_SET_DEFAULTS
  const {
    cooldownDuration = d.cooldownDuration,
    refreshInterval = d.refreshInterval,
    cacheMaxAge = d.cacheMaxAge,
  } = options
  if (typeof cooldownDuration !== 'number' || !Number.isFinite(cooldownDuration) || cooldownDuration < 0) {
    throw new TypeError('cooldownDuration: expected a non-negative number of milliseconds')
  }
  if (typeof refreshInterval !== 'number' || !(refreshInterval > 0)) {
    throw new TypeError(
      'refreshInterval: expected a positive number of milliseconds (Infinity turns refresh off)',
    )
  }
  if (typeof cacheMaxAge !== 'number' || !(cacheMaxAge > 0)) {
    throw new TypeError('cacheMaxAge: expected a positive number of milliseconds (Infinity: never expire)')
  }
  for (const name of ['onEvent', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`${name}: expected a function`)
    }
  }
  const { allowInsecureRequests = false } = options
  if (typeof allowInsecureRequests !== 'boolean')
    throw new TypeError('allowInsecureRequests: expected a boolean')
  return {
    ...checkFetchOptions(options),
    cooldownDuration,
    refreshInterval,
    cacheMaxAge,
    onEvent: options.onEvent,
    now: options.now ?? Date.now,
    allowInsecureRequests,
  }
}
