/**
 * Token introspection (RFC 7662): asking the authorization server whether an opaque access token is
 * active, and what it stands for. One call per token at a time, answers reused within strict bounds,
 * a failing endpoint answered with 503s rather than waited on.
 *
 * For each `introspect(token)`:
 * 1. the token is a non-empty string of at most `maxTokenLength` characters (else 401 `ERR_TOKEN_MALFORMED`);
 * 2. its key, base64url(SHA-256(token)), finds a reusable answer in memory; else
 * 3. a call for the same token already running is joined (single-flight); else one starts, which
 * 4. reads the shared store, if any; else
 * 5. asks the circuit breaker (open: 503 at once), then POSTs the form (§2.1) within `timeoutDuration` and
 *    `maxResponseSize` (keys/fetch-json.ts), and reads the answer, plain or signed (RFC 9701);
 * 6. the answer is kept in memory and in the shared store (see cache.ts for how long);
 * 7. `active: false` → 401 `ERR_TOKEN_INACTIVE`; `active: true` → the claim checks (claims.ts), on every
 *    answer, cached or fresh.
 *
 * What it does NOT check: scopes and other policies (the caller's rules), `cnf` binding (the DPoP checks),
 * whether the token is a JWT that could be verified locally.
 */
import { canDigestSync, sha256Sync } from '../crypto/digest.js'
import { type ErrorCode, GatehouseError } from '../errors.js'
import { type BoundedResponse, type FetchFailure, fetchBounded } from '../keys/fetch-json.js'
import { PENDING, type Pending } from '../verify/verifier.js'
import { AnswerCache, SharedAnswers, tokenKey } from './cache.js'
import { CircuitBreaker, type CircuitState } from './circuit.js'
import { type ActiveRules, activeUntil, checkActiveClaims } from './claims.js'
import { type ClientCredentials, createClientAuthenticator } from './client-auth.js'
import { type IntrospectorOptions, readIntrospectorOptions } from './options.js'
import { type IntrospectionAnswer, type IntrospectionClaims, invalidAnswer, readAnswer } from './response.js'
import { readSignedAnswer, SIGNED_ANSWER_TYPE } from './signed-response.js'

/** What an accepted token stands for. */
export interface IntrospectionResult<C extends IntrospectionClaims = IntrospectionClaims> {
  /** The members of the `active: true` answer, after every check; deep-frozen (cached answers share them). */
  claims: Readonly<C>
  /** An opaque token has no JOSE header. */
  header: undefined
  /** Where the answer came from: this call to the endpoint, this process's memory, or the shared store. */
  source: 'endpoint' | 'memory' | 'store'
}

export interface Introspector<C extends IntrospectionClaims = IntrospectionClaims> {
  /**
   * Introspect an access token. Resolves with its claims; rejects with a GatehouseError: 401 for the
   * token's faults (`ERR_TOKEN_INACTIVE`, `ERR_TOKEN_MALFORMED`, `ERR_JWT_EXPIRED`, `ERR_JWT_ISSUER_INVALID`,
   * `ERR_JWT_AUDIENCE_INVALID`, …), 503 when no trustworthy answer could be had
   * (`ERR_INTROSPECTION_UNAVAILABLE`, `_TIMEOUT`, `_INVALID`). Never rejects with anything else.
   */
  introspect(token: string): Promise<IntrospectionResult<C>>
  /**
   * The same answer without waiting, when this process's memory holds one for the token: the result, or
   * a throw as `introspect` rejects. Returns {@link PENDING} when only `introspect` can answer, having
   * started nothing. Gates use it so that a request with a cached token is answered in the same tick.
   */
  introspectSync(token: string): IntrospectionResult<C> | Pending
  /** The circuit breaker's state: `closed` while the endpoint answers. */
  readonly circuit: CircuitState
  /** Drop the answers held in memory; later calls reject with 503. A store passed in stays open. Idempotent. */
  close(): void
}

const CODES: Readonly<Record<FetchFailure, ErrorCode>> = {
  failed: 'ERR_INTROSPECTION_UNAVAILABLE',
  timeout: 'ERR_INTROSPECTION_TIMEOUT',
  invalid: 'ERR_INTROSPECTION_INVALID',
  'too-large': 'ERR_INTROSPECTION_INVALID',
}

const JSON_ONLY = 'application/json'
const PREFER_SIGNED = `${SIGNED_ANSWER_TYPE}, application/json;q=0.5`

/** An answer as the memory and the store keep it. */
interface Fetched {
  answer: IntrospectionAnswer
  source: 'endpoint' | 'store'
}

/**
 * Create an introspector. Options are validated here, once: a bad option throws a TypeError naming it.
 * Nothing is fetched before the first `introspect`.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector({
 *   url: 'https://id.example.com/oauth2/introspect',
 *   clientId: 'orders-api',
 *   clientSecret: process.env.INTROSPECTION_SECRET,
 *   issuer: 'https://id.example.com/',
 *   audience: 'https://orders.example.com',
 * })
 * const { claims } = await introspector.introspect(token) // throws GatehouseError
 * ```
 */
export function createIntrospector<C extends IntrospectionClaims = IntrospectionClaims>(
  options: IntrospectorOptions,
): Introspector<C> {
  const settings = readIntrospectorOptions(options)
  const { now, cache: cacheOptions } = settings
  const authenticate = createClientAuthenticator(settings.clientId, settings.auth)
  const rules: ActiveRules = {
    issuers: settings.issuers,
    audience: settings.audience,
    clockTolerance: settings.clockTolerance,
  }
  const memory = new AnswerCache(cacheOptions.maxEntries, cacheOptions.maxBytes)
  const circuit = new CircuitBreaker(
    settings.circuitBreaker.failureThreshold,
    settings.circuitBreaker.cooldownDuration,
    now,
  )
  const inflight = new Map<string, Promise<Fetched>>()
  let shared: Promise<SharedAnswers> | undefined
  let closed = false

  /** The shared level, its key scope derived once from the endpoint and the client. */
  function sharedLevel(): Promise<SharedAnswers> | undefined {
    const { store } = cacheOptions
    if (store === undefined) return undefined
    shared ??= Promise.resolve(tokenKey(`${settings.url.href} ${settings.clientId}`)).then(
      (scope) => new SharedAnswers(store, scope.slice(0, 16)),
    )
    return shared
  }

  /**
   * Until when (ms) an answer fetched at `fetchedAt` may be reused here: this introspector's own maxAge
   * (whoever fetched it), the token's `exp`, and `limit` (the end a shared entry was given).
   */
  function reusableUntil(answer: IntrospectionAnswer, fetchedAt: number, limit: number): number {
    const own = answer.active
      ? activeUntil(answer.claims, fetchedAt, cacheOptions.maxAge)
      : fetchedAt + cacheOptions.inactiveMaxAge * 1000
    return Math.min(limit, own)
  }

  /** Keep an answer in memory, and in the store when it comes from the endpoint, until `until` (ms). */
  function keep(key: string, answer: IntrospectionAnswer, fetchedAt: number, until: number, store: boolean) {
    const at = now()
    if (!(until > at)) return
    const json = answer.active ? JSON.stringify(answer.claims) : '{"active":false}'
    memory.set(key, answer, until, json.length)
    if (store) void sharedLevel()?.then((level) => level.set(key, json, fetchedAt, until, at))
  }

  async function fetchAnswer(key: string, token: string): Promise<Fetched> {
    const level = await sharedLevel()
    const found = await level?.get(key, now())
    if (found !== undefined) {
      const until = reusableUntil(found.answer, found.fetchedAt, found.until)
      if (until > now()) {
        keep(key, found.answer, found.fetchedAt, until, false)
        return { answer: found.answer, source: 'store' }
      }
    }
    // An open circuit refuses before anything is signed; the credentials are made before the circuit
    // admits the call, since an admitted trial call must end in succeeded() or failed().
    if (circuit.wait() > 0) throw circuitOpen()
    const fetchedAt = now()
    const credentials = await authenticate(fetchedAt)
    if (circuit.admit() > 0) throw circuitOpen()
    let answer: IntrospectionAnswer
    try {
      answer = await call(token, credentials)
    } catch (error) {
      // A 400 is the endpoint refusing this token (oidc-provider answers `unsupported_token_type` for a
      // JWT): the token's fault, not the endpoint's. Counting it would let any client open the circuit
      // for everyone with a few malformed tokens.
      if (statusOf(error) === 400) {
        circuit.succeeded()
        throw new GatehouseError('ERR_TOKEN_INACTIVE', undefined, {
          cause: new Error('the introspection endpoint refused the token (HTTP 400)'),
        })
      }
      circuit.failed()
      throw error
    }
    circuit.succeeded()
    keep(key, answer, fetchedAt, reusableUntil(answer, fetchedAt, Number.POSITIVE_INFINITY), true)
    return { answer, source: 'endpoint' }
  }

  function circuitOpen(): GatehouseError {
    const wait = Math.ceil(circuit.wait())
    const detail = `the introspection endpoint failed ${circuit.failures} times in a row; next attempt in ${wait} ms`
    return new GatehouseError('ERR_INTROSPECTION_UNAVAILABLE', undefined, { cause: new Error(detail) })
  }

  /** One POST to the endpoint (RFC 7662 §2.1), and its answer read. */
  async function call(token: string, credentials: ClientCredentials): Promise<IntrospectionAnswer> {
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', ...credentials.params })
    const accept =
      settings.signedResponse === 'require'
        ? SIGNED_ANSWER_TYPE
        : settings.signedResponse === 'accept'
          ? PREFER_SIGNED
          : JSON_ONLY
    const response = await fetchBounded(
      settings.url,
      {
        method: 'POST',
        headers: { ...credentials.headers, 'content-type': 'application/x-www-form-urlencoded', accept },
        body: body.toString(),
      },
      settings.fetch,
      CODES,
    )
    return readAnswer(await decode(response))
  }

  /** The answer's members: the JSON body, or the `token_introspection` of a signed answer. */
  async function decode(response: BoundedResponse): Promise<unknown> {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(response.body)
    } catch {
      throw invalidAnswer('is not UTF-8')
    }
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type === SIGNED_ANSWER_TYPE) {
      const { keys, issuers } = settings
      if (keys === undefined || issuers === null)
        throw invalidAnswer('is signed, and no keys are configured to verify it')
      return readSignedAnswer(
        text,
        {
          keys,
          issuers,
          clientId: settings.clientId,
          clockTolerance: settings.clockTolerance,
          maxLength: text.length,
        },
        now() / 1000,
      )
    }
    if (settings.signedResponse === 'require')
      throw invalidAnswer(
        `is not signed (content-type ${JSON.stringify(type ?? null)}), and signedResponse is 'require'`,
      )
    try {
      return JSON.parse(text)
    } catch (error) {
      // Not the parser's message: it quotes the body, which may echo the token.
      throw invalidAnswer(`is not JSON (${(error as Error).name})`)
    }
  }

  function conclude(
    fetched: IntrospectionAnswer,
    source: IntrospectionResult['source'],
  ): IntrospectionResult<C> {
    if (!fetched.active) throw new GatehouseError('ERR_TOKEN_INACTIVE')
    checkActiveClaims(fetched.claims, rules, now() / 1000)
    return { claims: fetched.claims as Readonly<C>, header: undefined, source }
  }

  /** What is refused before any lookup. */
  function admitToken(token: string): void {
    if (typeof token !== 'string' || token === '')
      throw new GatehouseError('ERR_TOKEN_MALFORMED', 'Token is empty or not a string')
    if (token.length > settings.maxTokenLength)
      throw new GatehouseError('ERR_TOKEN_MALFORMED', 'Token is too long', {
        cause: { reason: `longer than maxTokenLength (${settings.maxTokenLength})` },
      })
    if (closed)
      throw new GatehouseError('ERR_INTROSPECTION_UNAVAILABLE', undefined, {
        cause: new Error('the introspector is closed'),
      })
  }

  async function introspect(token: string): Promise<IntrospectionResult<C>> {
    admitToken(token)
    const key = await tokenKey(token)
    const cached = memory.get(key, now())
    if (cached !== undefined) return conclude(cached, 'memory')
    let flight = inflight.get(key)
    if (flight === undefined) {
      flight = fetchAnswer(key, token).finally(() => inflight.delete(key))
      inflight.set(key, flight)
    }
    const { answer, source } = await flight
    return conclude(answer, source)
  }

  return {
    introspect: (token) =>
      introspect(token).catch((error: unknown) => {
        // Whatever went wrong, the caller gets a GatehouseError: a 503, the token not blamed.
        if (error instanceof GatehouseError) throw error
        throw new GatehouseError('ERR_INTROSPECTION_UNAVAILABLE', undefined, { cause: error })
      }),
    introspectSync(token) {
      admitToken(token)
      if (!canDigestSync) return PENDING
      const cached = memory.get(sha256Sync(token), now())
      return cached === undefined ? PENDING : conclude(cached, 'memory')
    },
    get circuit() {
      return circuit.state
    },
    close() {
      closed = true
      memory.clear()
    },
  }
}

/** The HTTP status a failed call was answered with, when it was answered. */
function statusOf(error: unknown): number | undefined {
  const cause = (error as { cause?: { status?: unknown } } | undefined)?.cause
  return typeof cause?.status === 'number' ? cause.status : undefined
}
