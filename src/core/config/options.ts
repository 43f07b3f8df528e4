/**
 * Verifier options: their types, their defaults, and their validation, once, at construction. Every
 * failure is a TypeError that names the option and the expected form. A security check is switched off
 * only explicitly (`audience: null`), never by leaving an option out.
 */

import { type ClaimPath, parseClaimPath } from '../authz/claim-path.js'
import type { ClaimMapping } from '../authz/claims-reader.js'
import { isAllowedUrl, SECURE_URL_RULE } from '../lib/loopback.js'
import { normalizeTyp } from '../lib/typ.js'
import {
  ALL_ALGORITHMS,
  type Algorithm,
  type JWKS,
  type JWTClaims,
  type KeyStore,
  type KeyStoreEvent,
  type ProtectedHeader,
} from '../types.js'

/** Matches `iss` values that cannot be listed (Entra's any-tenant issuer); prefer exact strings. */
export interface IssuerMatcher {
  test(iss: string): boolean
  /** Shown in errors and logs. */
  toString(): string
}

/** Options of one trusted issuer. */
export interface IssuerOptions {
  /**
   * The exact `iss` value(s) to accept (RFC 7519 §4.1.1, compared as strings: a trailing slash matters
   * and is never added or removed: Auth0 issues `https://{domain}/`, Cognito and Keycloak
   * issue without; the AuthAction preset accepts both, see docs/presets.md). Required unless `domain` is given.
   */
  issuer?: string | readonly string[] | IssuerMatcher
  /** Shorthand: `issuer = https://{domain}` (no trailing slash), as in axioms-drf-py's configuration hierarchy. */
  domain?: string
  /** Accepted audience(s); at least one must appear in `aud`. Required: pass `null` to switch the check off. */
  audience?: string | readonly string[] | null
  /** JWKS URL. Default: discovery if `discovery` is set, else `{issuer}/.well-known/jwks.json`. https only, except loopback. */
  jwksUri?: string | URL
  /**
   * Read `jwks_uri` from the issuer's metadata (OpenID Connect Discovery, then RFC 8414), checking that
   * the metadata's `issuer` equals ours. `'auto'` falls back to `{issuer}/.well-known/jwks.json` when no
   * metadata document is found. Default false.
   */
  discovery?: boolean | 'auto'
  /** Keys given in code (a JWK Set) or a key store of your own: no network at all. */
  keys?: JWKS | KeyStore
  /** Accepted `alg` values. Default: every asymmetric algorithm (RS*, PS*, ES*, EdDSA). */
  algorithms?: readonly Algorithm[]
  /** Seconds of clock skew allowed on exp, nbf and iat. Default 5. */
  clockTolerance?: number
  /** Seconds: reject tokens whose `iat` is older. Default: no limit (`exp` still applies). */
  maxTokenAge?: number
  /** Claims that must be present. `exp` is always required; `aud` unless `audience: null`. */
  requiredClaims?: readonly string[]
  /** Accepted `typ` header value(s), e.g. `at+jwt` for RFC 9068's media type. Default: any or none. */
  typ?: string | readonly string[]
  /**
   * RFC 9068's profile as one switch: `typ` must be `at+jwt` (or `application/at+jwt`, §2.1, §4); scopes
   * are read only from the `scope` claim, a space-delimited string (§2.2.3: never `scp`, never an
   * array); and a gate answers 400 `invalid_request` to a request that carries an `access_token` query
   * or form parameter beside its Authorization header, even where those locations are not read (RFC 6750
   * §2: one method per request). Conflicting `typ` or `claims.scopes` options are a TypeError. Default false.
   */
  strict?: boolean
  /**
   * Extra checks after all others (presets use it: Cognito `token_use`, Keycloak `azp`). Throw a
   * GatehouseError to reject. With `cache`, it runs again on every cache hit, so it can consult state that
   * changes while a token is valid (a `jti` deny-list); keep it fast and synchronous.
   */
  validate?: (claims: JWTClaims, header: ProtectedHeader) => void
  /** Where roles, permissions, groups and scopes are read from (used by policies, not by verification). */
  claims?: ClaimMapping
  /** Key store: milliseconds per JWKS/metadata request. Default 5000. */
  timeoutDuration?: number
  /** Key store: milliseconds between refetches caused by unknown `kid`s. Default 5000. */
  cooldownDuration?: number
  /** Key store: milliseconds between background refreshes. Default 600000 (10 min). */
  refreshInterval?: number
  /** Key store: milliseconds the last good key set is served while the provider fails. Default 43200000 (12 h). */
  cacheMaxAge?: number
  /** Key store: largest JWKS/metadata body accepted, in bytes. Default 1 MiB. */
  maxResponseSize?: number
  /** Key store: events for logs and metrics (fetches, failures, key changes). */
  onEvent?: (event: KeyStoreEvent) => void
  /** Key store: the fetch to use (proxies, instrumentation). Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /**
   * Fetch the issuer's metadata and keys over plain http on any host, not only on loopback hosts: for a
   * development network (a Keycloak container at http://keycloak:8080) and nothing else, since keys
   * fetched over http can be replaced in transit by anyone on the way. Each such host is reported once,
   * at construction, with `process.emitWarning`. Default false: such a URL is a TypeError.
   */
  allowInsecureRequests?: boolean
}

/** Options of a verifier: one issuer, or several under `issuers` (top-level members are their defaults). */
export interface VerifierOptions extends IssuerOptions {
  /** Several trusted issuers; the token's `iss` picks one before any network request. */
  issuers?: readonly IssuerOptions[]
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number
  /**
   * Cache of verified tokens, for clients that reuse a token for its lifetime: a hit skips the signature
   * check. An entry never outlives the token's `exp` (times are rechecked on every hit) and is dropped
   * when its key leaves the key set; the issuer's `validate` hook runs on every hit. Cached claims are
   * shared between requests, hence deep-frozen.
   * `true` = 10000 entries / 16 MiB. Default off.
   */
  cache?: boolean | { maxEntries?: number; maxBytes?: number }
  /**
   * Run signature checks on worker threads (one per core but one, at most four, shared by every verifier
   * in the process) instead of the calling thread; when they already have checks queued, a check runs on
   * the calling thread. More throughput when several requests are in flight and the process has a core to
   * spare (1.5–2.1× the synchronous path with 2 idle cores); slower with one core, and each check waits
   * for a thread hop, so a lone request is answered later (docs/benchmarks.md). Default false.
   */
  offload?: boolean
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

export interface NormalizedIssuer {
  /** Exact issuers (the fast path), or a matcher. */
  issuers: readonly string[]
  matcher: IssuerMatcher | undefined
  audience: ReadonlySet<string> | null
  algorithms: ReadonlySet<Algorithm>
  clockTolerance: number
  maxTokenAge: number | undefined
  requiredClaims: readonly string[]
  typ: ReadonlySet<string> | null
  /** RFC 9068's profile (see {@link IssuerOptions.strict}); `typ` and `claims` already reflect it. */
  strict: boolean
  validate: ((claims: JWTClaims, header: ProtectedHeader) => void) | undefined
  claims: ClaimMapping | undefined
  /** How keys are found: one of these is set. */
  keys:
    | { kind: 'local'; value: JWKS | KeyStore }
    | {
        kind: 'remote'
        url: URL | undefined
        discovery: boolean | 'auto'
        issuer: string
        allowInsecureRequests: boolean
      }
}

export function fail(option: string, expected: string, got?: unknown): never {
  const seen = got === undefined ? '' : `, got ${describe(got)}`
  throw new TypeError(`${option}: expected ${expected}${seen}`)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

function nonNegative(
  name: string,
  value: unknown,
  fallback: number | undefined,
  unit: string,
): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    fail(name, `a non-negative number of ${unit}`, value)
  return value
}

function stringList(name: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    fail(name, 'a non-empty string or a non-empty array of non-empty strings', value)
  }
  return list as string[]
}

const DOMAIN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$/

function isKeyStore(value: unknown): value is KeyStore {
  return typeof value === 'object' && value !== null && typeof (value as KeyStore).get === 'function'
}

export function normalizeIssuer(options: IssuerOptions, where: string): NormalizedIssuer {
  const name = (option: string) => (where ? `${where}.${option}` : option)

  let issuers: string[] = []
  let matcher: IssuerMatcher | undefined
  if (options.issuer !== undefined) {
    const { issuer } = options
    if (typeof issuer === 'object' && issuer !== null && !Array.isArray(issuer)) {
      if (typeof (issuer as IssuerMatcher).test !== 'function')
        fail(name('issuer'), 'a string, an array of strings or a matcher with test()', issuer)
      // A RegExp with `g` or `y` keeps `lastIndex` between calls: the same `iss` would pass, then fail.
      if ((issuer as RegExp).global === true || (issuer as RegExp).sticky === true)
        fail(name('issuer'), 'a RegExp without the g or y flag (they make test() stateful)', String(issuer))
      matcher = issuer as IssuerMatcher
    } else {
      issuers = stringList(name('issuer'), issuer)
    }
    if (options.domain !== undefined)
      fail(
        name('domain'),
        'to be left out when issuer is given (domain only derives the issuer)',
        options.domain,
      )
  } else if (options.domain !== undefined) {
    if (typeof options.domain !== 'string' || !DOMAIN.test(options.domain)) {
      fail(name('domain'), 'a host name such as "tenant.example.com" (no scheme, no path)', options.domain)
    }
    issuers = [`https://${options.domain}`]
  } else {
    fail(name('issuer'), 'the issuer URL (or `domain`), e.g. "https://tenant.example.com/"')
  }

  if (!('audience' in options) || options.audience === undefined) {
    fail(
      name('audience'),
      'the API identifier(s) your tokens are issued for (or null to switch the audience check off explicitly)',
    )
  }
  const audience = options.audience === null ? null : new Set(stringList(name('audience'), options.audience))

  let algorithms: Set<Algorithm> = new Set(ALL_ALGORITHMS)
  if (options.algorithms !== undefined) {
    const list = options.algorithms
    if (!Array.isArray(list) || list.length === 0)
      fail(name('algorithms'), `a non-empty array of ${ALL_ALGORITHMS.join(', ')}`, list)
    for (const alg of list) {
      if (!ALL_ALGORITHMS.includes(alg))
        fail(name('algorithms'), `only asymmetric algorithms (${ALL_ALGORITHMS.join(', ')})`, alg)
    }
    algorithms = new Set(list)
  }

  const clockTolerance = nonNegative(name('clockTolerance'), options.clockTolerance, 5, 'seconds') as number
  const maxTokenAge = nonNegative(name('maxTokenAge'), options.maxTokenAge, undefined, 'seconds')
  const requiredClaims =
    options.requiredClaims === undefined ? [] : stringList(name('requiredClaims'), options.requiredClaims)
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    fail(name('strict'), 'a boolean', options.strict)
  const strict = options.strict === true
  let typ = options.typ === undefined ? null : new Set(stringList(name('typ'), options.typ).map(normalizeTyp))
  let claims = options.claims
  if (strict) {
    // RFC 9068 §2.1, §4: the `at+jwt` media type, with or without `application/`.
    if (typ !== null && [...typ].some((value) => value !== STRICT_TYP))
      fail(name('typ'), `only "${STRICT_TYP}" with strict: true (or leave typ out)`, options.typ)
    typ = new Set([STRICT_TYP])
    // RFC 9068 §2.2.3: scopes are the space-delimited `scope` claim, and nothing else.
    const scopes = claims?.scopes
    if (
      scopes !== undefined &&
      !(Array.isArray(scopes) && scopes.length === 1 && isScopeClaim(scopes[0], name('claims.scopes[0]')))
    )
      fail(name('claims.scopes'), `['scope'] or nothing with strict: true (RFC 9068 §2.2.3)`, scopes)
    claims = { ...claims, scopes: ['scope'] }
  }
  if (options.validate !== undefined && typeof options.validate !== 'function')
    fail(name('validate'), 'a function', options.validate)

  let keys: NormalizedIssuer['keys']
  const { allowInsecureRequests = false } = options
  if (typeof allowInsecureRequests !== 'boolean')
    fail(name('allowInsecureRequests'), 'a boolean', allowInsecureRequests)
  const discovery = options.discovery ?? false
  if (discovery !== true && discovery !== false && discovery !== 'auto')
    fail(name('discovery'), "true, false or 'auto'", discovery)
  if (options.keys !== undefined) {
    if (options.jwksUri !== undefined || discovery)
      fail(name('keys'), 'to be the only key source (leave out jwksUri and discovery)')
    if (
      !isKeyStore(options.keys) &&
      !(
        typeof options.keys === 'object' &&
        options.keys !== null &&
        Array.isArray((options.keys as JWKS).keys)
      )
    ) {
      fail(name('keys'), 'a JWK Set ({ keys: [...] }) or a KeyStore', options.keys)
    }
    keys = { kind: 'local', value: options.keys }
  } else {
    const first = issuers[0]
    let url: URL | undefined
    if (options.jwksUri !== undefined) {
      if (discovery) fail(name('discovery'), 'to be off when jwksUri is given (one key source)')
      url = parseHttpUrl(name('jwksUri'), options.jwksUri, allowInsecureRequests)
    } else if (first === undefined) {
      fail(name('jwksUri'), 'a JWKS URL: an issuer matcher cannot derive one')
    } else if (!discovery) {
      url = parseHttpUrl(
        name('issuer'),
        `${first.replace(/\/+$/, '')}/.well-known/jwks.json`,
        allowInsecureRequests,
      )
    }
    if (discovery && first === undefined) fail(name('discovery'), 'an exact issuer to discover')
    // Discovery fetches from the issuer itself: refused here, not at the first request (a 503 for all).
    if (discovery && first !== undefined) parseHttpUrl(name('issuer'), first, allowInsecureRequests)
    keys = { kind: 'remote', url, discovery, issuer: first ?? '', allowInsecureRequests }
  }

  return {
    issuers,
    matcher,
    audience,
    algorithms,
    clockTolerance,
    maxTokenAge,
    requiredClaims,
    typ,
    strict,
    validate: options.validate,
    claims,
    keys,
  }
}

const STRICT_TYP = 'at+jwt'

function isScopeClaim(path: unknown, option: string): boolean {
  if (typeof path !== 'string' && !Array.isArray(path)) return false
  const segments = parseClaimPath(path as ClaimPath, option)
  return segments.length === 1 && segments[0] === 'scope'
}

/**
 * An http(s) URL; https is required except on loopback, or anywhere with `allowInsecureRequests` (checked
 * again by the key store).
 */
export function parseHttpUrl(option: string, value: string | URL, allowInsecureRequests = false): URL {
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    fail(option, 'an absolute https URL', String(value))
  }
  if (!isAllowedUrl(url, allowInsecureRequests)) fail(option, SECURE_URL_RULE, url.href)
  return url
}
