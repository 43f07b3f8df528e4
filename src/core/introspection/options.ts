/**
 * Introspector options: their types, their defaults, and their validation, once, at construction. Every
 * failure is a TypeError naming the option; no message ever shows the client secret or the private key.
 * Durations named `…Duration` are milliseconds; ages and tolerances are seconds, as for the verifier.
 */
import { checkSigningKey, type SigningKey, type SigningKeyInput } from '../crypto/sign.js'
import { type CheckedFetchOptions, checkFetchOptions } from '../keys/fetch-json.js'
import { isAllowedUrl, SECURE_URL_RULE } from '../lib/loopback.js'
import { booleanOption, describe, isPlainObject, stringList } from '../lib/values.js'
import type { Store } from '../store/store.js'
import type { Algorithm, KeyStore } from '../types.js'

/** How the resource server authenticates to the introspection endpoint (RFC 7591 §2 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** How answers are reused. Every entry is also bounded by the token's `exp`. */
export interface IntrospectionCacheOptions {
  /**
   * Seconds an `active: true` answer is reused. Default 60: introspection exists to notice revocation,
   * and a revoked token keeps working for at most this long. `0` asks the endpoint for every request.
   */
  maxAge?: number
  /** Seconds an `active: false` answer is reused, so that a flood of bad tokens costs one call each. Default 5. */
  inactiveMaxAge?: number
  /** Most answers held in this process's memory; the oldest goes first. Default 10_000. */
  maxEntries?: number
  /** Most bytes held in memory, estimated from each answer's JSON size. Default 16_777_216 (16 MiB). */
  maxBytes?: number
  /**
   * A second level shared by every instance (`createRedisStore`): an answer one instance fetched is read by
   * the others instead of asking the endpoint again. Keys are hashes, never the token. A store that cannot
   * answer counts as a miss. Default none.
   */
  store?: Store
}

/** When the endpoint fails, stop asking it for a while, so that every request is not a timeout. */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. Default 5. */
  failureThreshold?: number
  /**
   * Milliseconds the circuit stays open (every call refused at once with a 503); then one trial call
   * decides whether it closes. Default 10_000.
   */
  cooldownDuration?: number
}

/** Options of {@link createIntrospector}. */
export interface IntrospectorOptions {
  /** The introspection endpoint (RFC 7662 §2): https; plain http only on loopback hosts. */
  url: string | URL
  /**
   * Accept plain http on any host, not only on loopback hosts: a development network only (credentials and
   * answers cross it in clear). Each such host is reported once with `process.emitWarning`. Default false.
   */
  allowInsecureRequests?: boolean
  /** This resource server's `client_id` at the authorization server. */
  clientId: string
  /** The client secret, for `client_secret_basic` or `client_secret_post`. */
  clientSecret?: string
  /**
   * Default `client_secret_basic` with `clientSecret` (RFC 6749 §2.3.1), `private_key_jwt` with
   * `privateKey` (RFC 7523 §2.2).
   */
  authMethod?: ClientAuthMethod
  /** For `private_key_jwt`: a private JWK (its `kid` is sent), a CryptoKey or a Node KeyObject. */
  privateKey?: SigningKeyInput
  /** The client assertion's algorithm. Default the JWK's `alg`. */
  alg?: Algorithm
  /** The client assertion's `aud` (RFC 7523 §3). Default the introspection URL; some servers want their issuer. */
  assertionAudience?: string
  /**
   * The accepted `iss` of active tokens (exact strings). Required: `null` switches the check off. With a
   * signed response, also the accepted `iss` of the response itself.
   */
  issuer: string | readonly string[] | null
  /** Accepted audience(s); one must be in the answer's `aud`. Required: `null` switches the check off. */
  audience: string | readonly string[] | null
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number
  /** Longest token sent to the endpoint, in characters. Default 16384. */
  maxTokenLength?: number
  /** Milliseconds one call may take, headers and body together. Default 5000. */
  timeoutDuration?: number
  /** Largest accepted answer in bytes; a larger body is cut off while it streams. Default 65_536. */
  maxResponseSize?: number
  /** Extra request headers (an API gateway key). Not `authorization`, `content-type` or `accept`. */
  headers?: Record<string, string>
  /** A fetch implementation (proxies, instrumentation). Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Answer reuse; see {@link IntrospectionCacheOptions}. */
  cache?: IntrospectionCacheOptions
  /** See {@link CircuitBreakerOptions}. */
  circuitBreaker?: CircuitBreakerOptions
  /**
   * Signed answers (RFC 9701): `'accept'` asks for one and takes either; `'require'` takes signed answers
   * only. Both need `keys`. Default: plain JSON is asked for, and a signed answer is verified if `keys` is
   * given, refused otherwise.
   */
  signedResponse?: 'accept' | 'require'
  /** The authorization server's keys, for signed answers (e.g. `createRemoteKeySet(jwksUri)`). */
  keys?: KeyStore
  /** The clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number
}

/** Client authentication, checked. */
export type ClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | { method: 'private_key_jwt'; key: SigningKey; audience: string }

/** {@link IntrospectorOptions} validated, with defaults applied. */
export interface IntrospectorSettings {
  url: URL
  clientId: string
  auth: ClientAuth
  issuers: ReadonlySet<string> | null
  audience: ReadonlySet<string> | null
  clockTolerance: number
  maxTokenLength: number
  fetch: CheckedFetchOptions
  cache: Required<Omit<IntrospectionCacheOptions, 'store'>> & { store: Store | undefined }
  circuitBreaker: Required<CircuitBreakerOptions>
  signedResponse: 'accept' | 'require' | undefined
  keys: KeyStore | undefined
  now: () => number
}

export const INTROSPECTOR_DEFAULTS = Object.freeze({
  clockTolerance: 5,
  maxTokenLength: 16_384,
  timeoutDuration: 5_000,
  /** Real answers are a few hundred bytes; 64 KiB leaves room for rich authorization details. */
  maxResponseSize: 65_536,
  cache: Object.freeze({ maxAge: 60, inactiveMaxAge: 5, maxEntries: 10_000, maxBytes: 16_777_216 }),
  circuitBreaker: Object.freeze({ failureThreshold: 5, cooldownDuration: 10_000 }),
})

const KNOWN = [
  'url',
  'allowInsecureRequests',
  'clientId',
  'clientSecret',
  'authMethod',
  'privateKey',
  'alg',
  'assertionAudience',
  'issuer',
  'audience',
  'clockTolerance',
  'maxTokenLength',
  'timeoutDuration',
  'maxResponseSize',
  'headers',
  'fetch',
  'cache',
  'circuitBreaker',
  'signedResponse',
  'keys',
  'now',
] as const satisfies readonly (keyof IntrospectorOptions)[]

/** Headers the introspector writes itself: one given in `headers` would contradict it. */
const OWN_HEADERS = ['authorization', 'content-type', 'accept']

/**
 * Validate the options and apply their defaults.
 * @throws TypeError naming the option.
 */
export function readIntrospectorOptions(options: IntrospectorOptions): IntrospectorSettings {
  if (!isPlainObject(options)) throw new TypeError('options: expected an object')
  known(options, KNOWN, '')
  const allowInsecureRequests = booleanOption('allowInsecureRequests', options.allowInsecureRequests)
  const url = checkUrl(options.url, allowInsecureRequests)
  const { clientId } = options
  if (typeof clientId !== 'string' || clientId === '')
    throw new TypeError(`clientId: expected a non-empty string, got ${describe(clientId)}`)

  const d = INTROSPECTOR_DEFAULTS
  const headers = options.headers ?? {}
  if (isPlainObject(headers))
    for (const name of Object.keys(headers))
      if (OWN_HEADERS.includes(name.toLowerCase()))
        throw new TypeError(`headers: ${name} is written by the introspector; it cannot be given`)
  const fetchOptions = checkFetchOptions({
    timeoutDuration: options.timeoutDuration ?? d.timeoutDuration,
    maxResponseSize: options.maxResponseSize ?? d.maxResponseSize,
    headers: options.headers,
    fetch: options.fetch,
  })

  const { signedResponse, keys } = options
  if (signedResponse !== undefined && signedResponse !== 'accept' && signedResponse !== 'require')
    throw new TypeError(`signedResponse: expected 'accept' or 'require', got ${describe(signedResponse)}`)
  if (keys !== undefined && (typeof keys?.get !== 'function' || typeof keys.peek !== 'function'))
    throw new TypeError('keys: expected a key store (createRemoteKeySet, createLocalKeySet, …)')
  if (signedResponse !== undefined && keys === undefined)
    throw new TypeError('keys: required with signedResponse, to verify the signed answers')

  const issuers = checkList('issuer', options.issuer)
  if (issuers === null && keys !== undefined)
    throw new TypeError('issuer: required with signed answers (the answer’s own iss is checked against it)')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('now: expected a function returning milliseconds')

  return {
    url,
    clientId,
    auth: checkAuth(options, url),
    issuers,
    audience: checkList('audience', options.audience),
    clockTolerance: number('clockTolerance', options.clockTolerance, d.clockTolerance, 'seconds', 0),
    maxTokenLength: integer('maxTokenLength', options.maxTokenLength, d.maxTokenLength, 1),
    fetch: fetchOptions,
    cache: checkCache(options.cache),
    circuitBreaker: checkCircuitBreaker(options.circuitBreaker),
    signedResponse,
    keys,
    now,
  }
}

function checkAuth(options: IntrospectorOptions, url: URL): ClientAuth {
  const { clientSecret, privateKey, authMethod, alg, assertionAudience } = options
  if (clientSecret !== undefined && privateKey !== undefined)
    throw new TypeError('clientSecret, privateKey: give one of them, not both')
  const method = authMethod ?? (privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (method === 'client_secret_basic' || method === 'client_secret_post') {
    // The secret is never shown, not even cut: only its kind.
    if (typeof clientSecret !== 'string' || clientSecret === '')
      throw new TypeError(
        `clientSecret: expected a non-empty string with ${method}, got ${clientSecret === '' ? 'an empty string' : typeof clientSecret}`,
      )
    return { method, secret: clientSecret }
  }
  if (method !== 'private_key_jwt')
    throw new TypeError(
      `authMethod: expected 'client_secret_basic', 'client_secret_post' or 'private_key_jwt', got ${describe(method)}`,
    )
  if (privateKey === undefined) throw new TypeError('privateKey: required with private_key_jwt')
  if (assertionAudience !== undefined && (typeof assertionAudience !== 'string' || assertionAudience === ''))
    throw new TypeError(`assertionAudience: expected a non-empty string, got ${describe(assertionAudience)}`)
  return {
    method,
    key: checkSigningKey('privateKey', privateKey, alg),
    audience: assertionAudience ?? url.href,
  }
}

function checkCache(cache: IntrospectionCacheOptions | undefined): IntrospectorSettings['cache'] {
  const given = cache ?? {}
  if (!isPlainObject(given)) throw new TypeError(`cache: expected an object, got ${describe(cache)}`)
  known(given, ['maxAge', 'inactiveMaxAge', 'maxEntries', 'maxBytes', 'store'], 'cache.')
  const d = INTROSPECTOR_DEFAULTS.cache
  const store = given.store as Store | undefined
  if (store !== undefined && (typeof store?.get !== 'function' || typeof store.set !== 'function'))
    throw new TypeError('cache.store: expected a store (createRedisStore, createMemoryStore)')
  return {
    maxAge: number('cache.maxAge', given.maxAge, d.maxAge, 'seconds', 0),
    inactiveMaxAge: number('cache.inactiveMaxAge', given.inactiveMaxAge, d.inactiveMaxAge, 'seconds', 0),
    maxEntries: integer('cache.maxEntries', given.maxEntries, d.maxEntries, 1),
    maxBytes: integer('cache.maxBytes', given.maxBytes, d.maxBytes, 1024),
    store,
  }
}

function checkCircuitBreaker(
  circuitBreaker: CircuitBreakerOptions | undefined,
): Required<CircuitBreakerOptions> {
  const given = circuitBreaker ?? {}
  if (!isPlainObject(given))
    throw new TypeError(`circuitBreaker: expected an object, got ${describe(circuitBreaker)}`)
  known(given, ['failureThreshold', 'cooldownDuration'], 'circuitBreaker.')
  const d = INTROSPECTOR_DEFAULTS.circuitBreaker
  return {
    failureThreshold: integer(
      'circuitBreaker.failureThreshold',
      given.failureThreshold,
      d.failureThreshold,
      1,
    ),
    cooldownDuration: number(
      'circuitBreaker.cooldownDuration',
      given.cooldownDuration,
      d.cooldownDuration,
      'milliseconds',
      0,
    ),
  }
}

function checkUrl(value: unknown, allowInsecureRequests: boolean): URL {
  const url = value instanceof URL ? new URL(value.href) : typeof value === 'string' ? URL.parse(value) : null
  if (url === null || !isAllowedUrl(url, allowInsecureRequests))
    throw new TypeError(
      `url: expected ${SECURE_URL_RULE}, got ${url === null ? describe(value) : JSON.stringify(url.href)}`,
    )
  // The URL appears in error causes and logs: credentials in it would be printed there.
  if (url.username !== '' || url.password !== '')
    throw new TypeError('url: credentials in the URL are refused; use clientId and clientSecret')
  return url
}

function checkList(option: string, value: unknown): ReadonlySet<string> | null {
  if (value === null) return null
  if (value === undefined)
    throw new TypeError(`${option}: required (a string or an array of strings; null switches the check off)`)
  return new Set(stringList(option, value))
}

function known(options: object, names: readonly string[], prefix: string): void {
  for (const name of Object.keys(options))
    if (!names.includes(name))
      throw new TypeError(`${prefix}${name}: unknown option (expected ${names.join(', ')})`)
}

function number(option: string, value: unknown, fallback: number, unit: string, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    throw new TypeError(
      `${option}: expected a finite number of ${unit}, at least ${min}, got ${shown(value)}`,
    )
  return value
}

function integer(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < min)
    throw new TypeError(`${option}: expected an integer of at least ${min}, got ${shown(value)}`)
  return value as number
}

function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value)
}
