/**
 * Verifier options: their types, their defaults, and their validation, once, at construction. Every
 * failure is a TypeError that names the option and the expected form. A security check is switched off
 * only explicitly (`audience: null`), never by leaving an option out.
 *
 * The options of an issuer are its verification policy (who, for whom, which algorithms, which claims)
 * and where its keys come from. How a key set is fetched (timeouts, cooldown, events, plain http) is
 * configured where the key set is made: `createRemoteKeySet(url, options)` / `discoverKeySet(issuer,
 * options)` given as `keys`, or, in the flat form (`jwksUri`, `discovery`, the default URL), the one
 * member `keySet`, as jose keeps `jwtVerify(token, getKey, policy)` apart from `createRemoteJWKSet(url,
 * options)`.
 */

import { type ClaimPath, parseClaimPath } from '../authz/claim-path.js'
import type { ClaimMapping } from '../authz/claims-reader.js'
import { checkRemoteKeySetOptions, REMOTE_KEY_SET_OPTIONS, type RemoteKeySetOptions } from '../keys/remote.js'
import { isHostName } from '../lib/hosts.js'
import { isAllowedUrl, SECURE_URL_RULE } from '../lib/loopback.js'
import { normalizeTyp } from '../lib/typ.js'
import { describe, isPlainObject, stringList } from '../lib/values.js'
import {
  ALL_ALGORITHMS,
  type Algorithm,
  type JWKS,
  type JWTClaims,
  type KeyStore,
  type ProtectedHeader,
} from '../types.js'

/** Matches `iss` values that cannot be listed (Entra's any-tenant issuer); prefer exact strings. */
export interface IssuerMatcher {
  test(iss: string): boolean
  /** Shown in errors and logs. */
  toString(): string
}

/**
 * How the verifier fetches a key set it builds itself (from `jwksUri`, `discovery` or the default URL):
 * the options of `createRemoteKeySet`, except `now`, which is the verifier's.
 */
export type KeySetOptions = Omit<RemoteKeySetOptions, 'now'>

/**
 * Options of one trusted issuer: its verification policy and its key source. The key source is one of
 * `keys` (a key store you built, or a JWK Set), `jwksUri`, `discovery`, or by default
 * `{issuer}/.well-known/jwks.json`; `keySet` configures how the last three are fetched.
 */
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
  /**
   * How this issuer's tokens may be presented (RFC 9449 §7): `'off'` (the default, as before DPoP)
   * accepts `Authorization: Bearer` only and ignores `cnf`; `'allowed'` accepts Bearer and
   * `Authorization: DPoP` with a proof, and refuses a DPoP-bound token (`cnf.jkt`) sent as Bearer;
   * `'required'` accepts DPoP only. Proof checks (store, nonces, windows) are the gate's `dpopProof`.
   */
  dpop?: DpopMode
  /**
   * What this issuer's tokens are: `'jwt'` (verified here, with its keys), `'introspection'` (asked of its
   * introspection endpoint, RFC 7662: opaque tokens, and its JWTs too, so that a revoked one stops at
   * once) or `'auto'` (a compact JWS is verified here, anything else introspected). The endpoint and
   * credentials are the gate's `introspection` option. Default `'jwt'`, or `'auto'` for the issuer the
   * gate's `introspection` is for.
   */
  tokenSource?: TokenSource
  /**
   * The key source as an object: a key store (`createRemoteKeySet`, `discoverKeySet`, `createLocalKeySet`,
   * or your own), configured where it is made and left open by `verifier.close()`; or a JWK Set, for keys
   * given in code (no network at all). Excludes `jwksUri`, `discovery` and `keySet`.
   */
  keys?: JWKS | KeyStore
  /** JWKS URL. Default: discovery if `discovery` is set, else `{issuer}/.well-known/jwks.json`. https only, except loopback. */
  jwksUri?: string | URL
  /**
   * Read `jwks_uri` from the issuer's metadata (OpenID Connect Discovery, then RFC 8414), checking that
   * the metadata's `issuer` equals ours. `'auto'` falls back to `{issuer}/.well-known/jwks.json` when no
   * metadata document is found. Default false.
   */
  discovery?: boolean | 'auto'
  /**
   * How the key set of `jwksUri`, `discovery` or the default URL is fetched: timeouts, cooldown, refresh,
   * events, `fetch`, plain http on a development network (`allowInsecureRequests`, which also lets the
   * URLs above be http). Defaults: those of `createRemoteKeySet` (docs/key-store.md). Refused with `keys`,
   * whose store has its own.
   */
  keySet?: KeySetOptions
}

/**
 * Options of a verifier: one issuer, or several under `issuers`. With `issuers`, the top-level issuer
 * options are defaults for each issuer; a top-level `keySet` is merged member by member into each
 * issuer's own, for the issuers without `keys`.
 */
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
  /** Clock in milliseconds, for tests; also the clock of the key sets the verifier builds. Default `Date.now`. */
  now?: () => number
}

/** See {@link IssuerOptions.tokenSource}. */
export type TokenSource = 'jwt' | 'introspection' | 'auto'

/** How an issuer's tokens may be presented: see {@link IssuerOptions.dpop}. */
export type DpopMode = 'off' | 'allowed' | 'required'

export const DPOP_MODES: readonly DpopMode[] = ['off', 'allowed', 'required']

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
  dpop: DpopMode
  /** Undefined when not given: the gate's `introspection` option decides (see IssuerOptions.tokenSource). */
  tokenSource: TokenSource | undefined
  /** How keys are found: one of these is set. */
  keys:
    | { kind: 'given'; value: JWKS | KeyStore }
    | {
        kind: 'remote'
        /** Undefined with discovery. */
        url: URL | undefined
        discovery: boolean | 'auto'
        /** The exact issuer discovery reads, or ''. */
        issuer: string
        /** As given (validated); undefined members take the key set's defaults. */
        options: KeySetOptions
      }
}

/** The verifier-wide settings, and the options of each trusted issuer with where they came from. */
export interface VerifierSettings {
  maxTokenLength: number
  cache: VerifierOptions['cache']
  offload: boolean
  now: () => number
  /** `where` is '' for the single-issuer form, `issuers[i]` otherwise: the prefix of option names in errors. */
  issuers: { options: IssuerOptions; where: string }[]
}

const DEFAULT_MAX_TOKEN_LENGTH = 16_384

/** Options of the gate around a verifier, which name a request's parts rather than a token's. */
const GATE_OPTIONS: readonly string[] = [
  'introspection',
  'resource',
  'resourceMetadata',
  'dpopProof',
  'publicUrl',
  'trustForwardedHeaders',
  'tokenLocations',
  'realm',
  'principal',
  'onRejection',
  'verifier',
]

/** Options that belong to the verifier as a whole, never to one issuer. */
const VERIFIER_WIDE: readonly string[] = ['issuers', 'maxTokenLength', 'cache', 'offload', 'now']

export function fail(option: string, expected: string, got?: unknown): never {
  const seen = got === undefined ? '' : `, got ${describe(got)}`
  throw new TypeError(`${option}: expected ${expected}${seen}`)
}

/**
 * Split verifier options into the verifier-wide settings and one entry per issuer (top-level issuer
 * options merged into each). Validates the verifier-wide settings; each entry is for {@link normalizeIssuer}.
 */
export function readVerifierOptions(options: VerifierOptions): VerifierSettings {
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
  const settings = { maxTokenLength, cache, offload, now }
  if (list === undefined) return { ...settings, issuers: [{ options: shared, where: '' }] }

  if (!Array.isArray(list) || list.length === 0) fail('issuers', 'a non-empty array of issuer options', list)
  // Named at the top level, where they were written, not inside the first issuer they were merged into.
  checkKnown(shared, '')
  const issuers = list.map((entry: IssuerOptions, i) => {
    const where = `issuers[${i}]`
    if (!isPlainObject(entry)) fail(where, 'an object of issuer options', entry)
    return { options: withDefaults(shared, entry), where }
  })
  return { ...settings, issuers }
}

/** An issuer's options over the top-level ones; a top-level `keySet` only where the verifier builds the key set. */
function withDefaults(shared: IssuerOptions, entry: IssuerOptions): IssuerOptions {
  const merged = { ...shared, ...entry }
  if (merged.keys !== undefined) {
    if (entry.keySet === undefined) delete merged.keySet
  } else if (isPlainObject(shared.keySet) && isPlainObject(entry.keySet)) {
    merged.keySet = { ...shared.keySet, ...entry.keySet }
  }
  return merged
}

/**
 * Validate one issuer's options and apply their defaults: each option's step below, in order (a step may
 * read options checked before it). An option without a step is refused, with where it belongs when it
 * has a place elsewhere.
 */
export function normalizeIssuer(options: IssuerOptions, where: string): NormalizedIssuer {
  const name = (option: string) => (where ? `${where}.${option}` : option)
  checkKnown(options, where)
  const out: NormalizedIssuer = {
    issuers: [],
    matcher: undefined,
    audience: null,
    algorithms: new Set(ALL_ALGORITHMS),
    clockTolerance: 5,
    maxTokenAge: undefined,
    requiredClaims: [],
    typ: null,
    strict: false,
    validate: undefined,
    claims: undefined,
    dpop: 'off',
    tokenSource: undefined,
    keys: { kind: 'given', value: { keys: [] } }, // replaced by the `keys` or `jwksUri` step
  }
  for (const option of STEP_ORDER) STEPS[option](options[option], out, options, name)
  return out
}

/**
 * One option's step: validate `value` (TypeErrors name `name(option)`), write the result into `out`.
 * `given` holds the other options, for the checks that involve two.
 */
type Step = (
  value: unknown,
  out: NormalizedIssuer,
  given: IssuerOptions,
  name: (option: string) => string,
) => void

const STEPS: { readonly [K in keyof IssuerOptions]-?: Step } = {
  issuer(value, out, given, name) {
    if (value === undefined) {
      if (given.domain === undefined)
        fail(name('issuer'), 'the issuer URL (or `domain`), e.g. "https://tenant.example.com/"')
      return
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if (typeof (value as IssuerMatcher).test !== 'function')
        fail(name('issuer'), 'a string, an array of strings or a matcher with test()', value)
      // A RegExp with `g` or `y` keeps `lastIndex` between calls: the same `iss` would pass, then fail.
      if ((value as RegExp).global === true || (value as RegExp).sticky === true)
        fail(name('issuer'), 'a RegExp without the g or y flag (they make test() stateful)', String(value))
      out.matcher = value as IssuerMatcher
    } else {
      out.issuers = stringList(name('issuer'), value)
    }
  },

  domain(value, out, given, name) {
    if (value === undefined) return
    if (given.issuer !== undefined)
      fail(name('domain'), 'to be left out when issuer is given (domain only derives the issuer)', value)
    if (!isHostName(value))
      fail(name('domain'), 'a host name such as "tenant.example.com" (no scheme, no path)', value)
    out.issuers = [`https://${value}`]
  },

  audience(value, out, _given, name) {
    if (value === undefined) {
      fail(
        name('audience'),
        'the API identifier(s) your tokens are issued for (or null to switch the audience check off explicitly)',
      )
    }
    out.audience = value === null ? null : new Set(stringList(name('audience'), value))
  },

  algorithms(value, out, _given, name) {
    if (value === undefined) return
    if (!Array.isArray(value) || value.length === 0)
      fail(name('algorithms'), `a non-empty array of ${ALL_ALGORITHMS.join(', ')}`, value)
    for (const alg of value) {
      if (!ALL_ALGORITHMS.includes(alg))
        fail(name('algorithms'), `only asymmetric algorithms (${ALL_ALGORITHMS.join(', ')})`, alg)
    }
    out.algorithms = new Set(value)
  },

  clockTolerance(value, out, _given, name) {
    if (value !== undefined) out.clockTolerance = nonNegative(name('clockTolerance'), value, 'seconds')
  },

  maxTokenAge(value, out, _given, name) {
    if (value !== undefined) out.maxTokenAge = nonNegative(name('maxTokenAge'), value, 'seconds')
  },

  requiredClaims(value, out, _given, name) {
    if (value !== undefined) out.requiredClaims = stringList(name('requiredClaims'), value)
  },

  strict(value, out, _given, name) {
    if (value !== undefined && typeof value !== 'boolean') fail(name('strict'), 'a boolean', value)
    out.strict = value === true
  },

  typ(value, out, _given, name) {
    const typ = value === undefined ? null : new Set(stringList(name('typ'), value).map(normalizeTyp))
    if (!out.strict) {
      out.typ = typ
      return
    }
    // RFC 9068 §2.1, §4: the `at+jwt` media type, with or without `application/`.
    if (typ !== null && [...typ].some((t) => t !== STRICT_TYP))
      fail(name('typ'), `only "${STRICT_TYP}" with strict: true (or leave typ out)`, value)
    out.typ = new Set([STRICT_TYP])
  },

  claims(value, out, _given, name) {
    const claims = value as ClaimMapping | undefined
    if (!out.strict) {
      out.claims = claims
      return
    }
    // RFC 9068 §2.2.3: scopes are the space-delimited `scope` claim, and nothing else.
    const scopes = claims?.scopes
    if (
      scopes !== undefined &&
      !(Array.isArray(scopes) && scopes.length === 1 && isScopeClaim(scopes[0], name('claims.scopes[0]')))
    )
      fail(name('claims.scopes'), `['scope'] or nothing with strict: true (RFC 9068 §2.2.3)`, scopes)
    out.claims = { ...claims, scopes: ['scope'] }
  },

  dpop(value, out, _given, name) {
    if (value === undefined) return
    if (!DPOP_MODES.includes(value as DpopMode)) fail(name('dpop'), "'off', 'allowed' or 'required'", value)
    out.dpop = value as DpopMode
  },

  tokenSource(value, out, _given, name) {
    if (value === undefined) return
    if (value !== 'jwt' && value !== 'introspection' && value !== 'auto')
      fail(name('tokenSource'), "'jwt', 'introspection' or 'auto'", value)
    out.tokenSource = value
  },

  validate(value, out, _given, name) {
    if (value !== undefined && typeof value !== 'function') fail(name('validate'), 'a function', value)
    out.validate = value as NormalizedIssuer['validate']
  },

  keySet(value, _out, given, name) {
    if (value === undefined) return
    if (!isPlainObject(value)) fail(name('keySet'), 'an object of key set options', value)
    if (given.keys !== undefined) {
      fail(
        name('keySet'),
        'to be left out with keys: a key store given as keys is configured where it is made, e.g. ' +
          'createRemoteKeySet(url, { timeoutDuration })',
      )
    }
    if (value.now !== undefined)
      fail(name('keySet.now'), 'to be left out: the verifier’s `now` is the clock of its key sets')
    try {
      checkRemoteKeySetOptions(value)
    } catch (error) {
      // Its messages start with the member's name: prefixed, they name the option as written here.
      if (error instanceof TypeError) throw new TypeError(`${name('keySet')}.${error.message}`)
      throw error
    }
  },

  discovery(value, _out, _given, name) {
    if (value !== undefined && value !== true && value !== false && value !== 'auto')
      fail(name('discovery'), "true, false or 'auto'", value)
  },

  keys(value, out, given, name) {
    if (value === undefined) return
    if (given.jwksUri !== undefined || (given.discovery ?? false) !== false)
      fail(name('keys'), 'to be the only key source (leave out jwksUri and discovery)')
    if (!isKeyStore(value) && !(isPlainObject(value) && Array.isArray(value.keys)))
      fail(name('keys'), 'a JWK Set ({ keys: [...] }) or a KeyStore', value)
    out.keys = { kind: 'given', value: value as JWKS | KeyStore }
  },

  /** The remote key source, when there is no `keys`: `jwksUri`, discovery, or the default URL. */
  jwksUri(value, out, given, name) {
    if (given.keys !== undefined) return
    const options = given.keySet ?? {}
    const insecure = options.allowInsecureRequests === true
    const discovery = given.discovery ?? false
    const first = out.issuers[0]
    let url: URL | undefined
    if (value !== undefined) {
      if (discovery) fail(name('discovery'), 'to be off when jwksUri is given (one key source)')
      url = parseHttpUrl(name('jwksUri'), value as string | URL, insecure)
    } else if (first === undefined) {
      if (discovery) fail(name('discovery'), 'an exact issuer to discover (a matcher names none)')
      fail(name('jwksUri'), 'a JWKS URL: an issuer matcher cannot derive one')
    } else if (!discovery) {
      url = parseHttpUrl(name('issuer'), `${first.replace(/\/+$/, '')}/.well-known/jwks.json`, insecure)
    } else {
      // Discovery fetches from the issuer itself: refused here, not at the first request (a 503 for all).
      parseHttpUrl(name('issuer'), first, insecure)
    }
    out.keys = { kind: 'remote', url, discovery, issuer: first ?? '', options }
  },
}

/** The order of the steps, hence of the errors: who, for whom, the policy, then the key source. */
const STEP_ORDER = Object.keys(STEPS) as (keyof IssuerOptions)[]

/** Where an option that is not an issuer option belongs, when it belongs somewhere. */
function checkKnown(options: object, where: string): void {
  for (const option of Object.keys(options)) {
    if (Object.hasOwn(STEPS, option)) continue
    const named = where ? `${where}.${option}` : option
    if ((REMOTE_KEY_SET_OPTIONS as readonly string[]).includes(option)) {
      throw new TypeError(
        `${named}: a key set option, not an issuer option: put it in keySet (keySet: { ${option} }) beside ` +
          `jwksUri or discovery, or pass it to createRemoteKeySet(url, { ${option} }) and give the store as keys`,
      )
    }
    if (GATE_OPTIONS.includes(option))
      throw new TypeError(
        `${named}: a gate option (request handling): pass it to createGate, not to a verifier`,
      )
    if (where && VERIFIER_WIDE.includes(option))
      throw new TypeError(`${named}: a verifier-wide option: set it at the top level, not in one issuer`)
    throw new TypeError(`${named}: unknown option (expected ${STEP_ORDER.join(', ')})`)
  }
}

function nonNegative(name: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    fail(name, `a non-negative number of ${unit}`, value)
  return value
}

function isKeyStore(value: unknown): value is KeyStore {
  return typeof value === 'object' && value !== null && typeof (value as KeyStore).get === 'function'
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
