/**
 * The request pipeline every adapter runs, so that no adapter decides anything:
 * extract the bearer token → verify it → authorize against the route's rule → map the principal.
 *
 * An adapter translates its framework's request into a {@link GateRequest}, calls `gate.check()`, and on
 * a GatehouseError renders `gate.reject(err, request)`, which reports it to `onRejection` (the one place
 * where an application sees every request the gate refused) and returns the response to send. Any other
 * error comes from the application (the principal hook) and goes to the framework's own error handling.
 */

import { type ClaimSets, createClaimsReader } from '../authz/claims-reader.js'
import { type AccessRule, type AuthContext, type CompiledRule, compileRule } from '../authz/index.js'
import { type DpopMode, fail, type VerifierOptions } from '../config/options.js'
import { createDpopChecker, type DpopChecker, type DpopOptions, type DpopResult } from '../dpop/checker.js'
import { boundThumbprint } from '../dpop/proof.js'
import { GatehouseError, isGatehouseError } from '../errors.js'
import { createRedisStore } from '../store/redis.js'
import type { Store } from '../store/store.js'
import type { JWTClaims, ProtectedHeader, VerifiedToken } from '../types.js'
import { createVerifier, PENDING, type Pending, type Trust, type Verifier } from '../verify/verifier.js'
import {
  type BearerRequest,
  extractToken,
  type HeaderSource,
  type PresentedToken,
  readAuthorization,
  readHeader,
  type TokenLocation,
  type TokenScheme,
} from './bearer.js'
import { type ErrorResponse, errorResponse } from './challenge.js'
import { createRequestUrl } from './request-url.js'
import {
  createResourceMetadata,
  type ResourceMetadata,
  type ResourceMetadataOptions,
} from './resource-metadata.js'
import { createTokenSource, type GateIntrospectionOptions } from './token-source.js'

export interface GateRequest extends BearerRequest {
  /** HTTP method, as received (DPoP's `htm` is compared case-sensitively). */
  method: string
  /**
   * Scheme and host as this server received the request (`http://127.0.0.1:3000`), for DPoP's `htu`
   * when `url` is a path and no `publicUrl` is set. Adapters pass it; without it, `http://` and the
   * `Host` header.
   */
  origin?: string
}

/**
 * The gate's DPoP proof options: those of `createDpopChecker`, with `store` also taking a Redis URL
 * (`redis://…`, `rediss://…`), for which the gate creates a Redis store and closes it in `close()`.
 */
export interface DpopProofOptions extends Omit<DpopOptions, 'store'> {
  store?: DpopOptions['store'] | string
}

/** Maps verified claims to the application's user (e.g. get-or-create a user row from `sub`). */
export type PrincipalResolver<P, C extends JWTClaims = JWTClaims> = (
  auth: AuthContext<undefined, C>,
) => P | Promise<P>

/** The request a refusal answered, as far as the gate may tell a log: never a header, never the query. */
export interface RejectedRequest {
  /** HTTP method. */
  method: string
  /** The request URL (absolute or path with query); only its path reaches {@link RejectionEvent}. */
  url?: string | URL
  /**
   * The request's headers, to tell which scheme a refused request used (`Authorization: DPoP` or
   * `Bearer`) when the error was thrown outside the gate (a handler's `assertOwner`): the challenge of
   * that scheme carries the error. Never reported to `onRejection`.
   */
  headers?: HeaderSource
}

/** What `onRejection` receives for every 4xx/5xx answer rendered through the gate. */
export interface RejectionEvent {
  /** The refusal: `code`, `status`, the RFC 6750 `error`, and `cause` with what was checked (for logs). */
  error: GatehouseError
  /** HTTP method of the refused request; undefined when the renderer was not given the request. */
  method: string | undefined
  /**
   * Path of the refused request, without its query string (a query may carry `access_token`,
   * RFC 6750 §2.3); undefined when the renderer was not given the request.
   */
  path: string | undefined
}

export interface GateOptions<P = unknown, C extends JWTClaims = JWTClaims> extends VerifierOptions {
  /** A verifier you built (shared by several gates; you close it); otherwise one is created from these options. */
  verifier?: Verifier<C>
  /** Where tokens are read from, in order (RFC 6750 §2). Default ['header']. */
  tokenLocations?: readonly TokenLocation[]
  /** `realm` of the WWW-Authenticate challenge. Default: none (a bare `Bearer` challenge). */
  realm?: string
  /**
   * Called once per request after the token is verified and authorized; its result is `auth.principal`.
   * Errors thrown here are the application's and reach the framework's error handler unchanged.
   */
  principal?: PrincipalResolver<P, C>
  /**
   * Called for every refusal rendered through the gate (`gate.reject`, which every adapter uses): 400,
   * 401, 403 and 503, with the GatehouseError (its `cause` names what was checked and the values
   * involved), the method and the path. The one place to log why a request was refused; it never
   * receives the token. Synchronous; whatever it throws is ignored, so a logging bug cannot turn a 401
   * into a 500. Default: nothing.
   *
   * @example onRejection: ({ error, method, path }) => log.info({ code: error.code, status: error.status, cause: error.cause, method, path }, 'request refused')
   */
  onRejection?: (event: RejectionEvent) => void
  /**
   * How DPoP proofs are checked (RFC 9449 §4.3), for issuers whose `dpop` mode is not `'off'`: accepted
   * algorithms, `maxAge`, `clockTolerance`, the replay `store` (a Redis URL or store for several
   * instances; default one in this process's memory), server `nonce`s. Defaults: those of
   * `createDpopChecker` (docs/dpop.md).
   */
  dpopProof?: DpopProofOptions
  /**
   * The URL clients use to reach this API, when a proxy stands in front (`https://api.example.com`, or
   * with a path prefix the proxy strips: `https://example.com/api`): a DPoP proof's `htu` is compared with
   * it followed by the request's path. Default: the URL as this server received it.
   */
  publicUrl?: string | URL
  /**
   * Take the scheme and host for `htu` from `Forwarded` (RFC 7239), else `X-Forwarded-Proto` and
   * `X-Forwarded-Host`: only behind a proxy that sets them and strips clients' own. Ignored with
   * `publicUrl`. Default false: the headers are a client's to forge.
   */
  trustForwardedHeaders?: boolean
  /**
   * This API's resource identifier (RFC 9728 §1.2, RFC 8707): an https URL such as
   * `https://api.example.com` or `https://api.example.com/mcp`. With it the gate publishes Protected
   * Resource Metadata (`gate.resourceMetadata`, served by every adapter at
   * `/.well-known/oauth-protected-resource` + the resource's path), every challenge names it in
   * `resource_metadata`, and, where no `audience` is given, tokens must carry exactly this identifier
   * in `aud` (RFC 8707 §2). Default: none.
   */
  resource?: string | URL
  /** The other members of the metadata document (RFC 9728 §2); needs `resource`. */
  resourceMetadata?: ResourceMetadataOptions
  /**
   * Token introspection (RFC 7662) for opaque tokens: the endpoint (default: discovered from the issuer's
   * metadata), this API's client credentials, the answer cache (`store` also a Redis URL), the circuit
   * breaker. For the issuer whose `tokenSource` is `'introspection'` or `'auto'` (the default for the
   * issuer these options are for). docs/introspection.md.
   */
  introspection?: GateIntrospectionOptions
}

export interface Gate<P = unknown, C extends JWTClaims = JWTClaims> {
  readonly verifier: Verifier<C>
  /**
   * Run the pipeline for one request under `rule` (default: a valid token, nothing more). Resolves with
   * the auth context, or `null` for an anonymous request that the rule allows for this method. Rejects
   * with a GatehouseError (400, 401, 403, 503) or with the principal hook's own error.
   */
  check(request: GateRequest, rule?: AccessRule | CompiledRule): Promise<AuthContext<P, C> | null>
  /**
   * The same pipeline without waiting, when nothing needs waiting for: the token is cached or its key is
   * loaded (see `Verifier.verifySync`) and there is no `principal` hook. Returns what `check` resolves
   * with (`null`: an anonymous request the rule allows), or {@link PENDING} when only `check` can answer;
   * throws what `check` rejects with. Adapters try it first, so that most requests are answered in the
   * tick that read them (a promise per request costs measurably behind a fast server).
   */
  checkSync(request: GateRequest, rule?: AccessRule | CompiledRule): AuthContext<P, C> | null | Pending
  /** Authorize an already authenticated request under another rule (route-level rules after a global check). */
  authorize(auth: AuthContext<P, C> | null, method: string, rule: AccessRule | CompiledRule): void
  /**
   * Refuse a request: report `error` to `onRejection` with `request`'s method and path, then return the
   * response to send (status, headers, JSON body: `errorResponse(error, { realm })`). Adapters pass the
   * request; without it the event has neither. It sends nothing itself.
   *
   * @example const { status, headers, body } = gate.reject(error, { method: req.method, url: req.url })
   */
  reject(error: GatehouseError, request?: RejectedRequest): ErrorResponse
  /**
   * Load every trusted issuer's keys now (discovery included), so that a wrong issuer URL, metadata
   * document or key set stops the start instead of answering the first requests 503. Resolves when all
   * are loaded; rejects with an Error whose message names what failed (its `cause` is the
   * GatehouseError). Issuers with local keys need nothing. Call it once, before listening.
   *
   * @example await gate.warmUp() // before app.listen()
   */
  warmUp(): Promise<void>
  /**
   * The Protected Resource Metadata (RFC 9728) of the gate's `resource`: where to serve it (`path`), its
   * URL, the document, and the response to send; undefined without `resource`. Adapters serve it.
   */
  readonly resourceMetadata: ResourceMetadata | undefined
  /** Where the gate reads tokens from (the `tokenLocations` option), for adapters that cannot read all. */
  readonly tokenLocations: readonly TokenLocation[]
  /** Stop the background work of the verifier this gate built; a `verifier` passed in is left open. */
  close(): void
}

/**
 * Whether an adapter was given a gate rather than the options to build one. Internal: every adapter that
 * accepts both asks it here.
 */
export function isGate<P, C extends JWTClaims>(value: Gate<P, C> | GateOptions<P, C>): value is Gate<P, C> {
  return (
    typeof (value as Gate<P, C> | undefined)?.check === 'function' &&
    typeof (value as Gate<P, C>).reject === 'function'
  )
}

const compiled = new WeakMap<object, CompiledRule>()
const DEFAULT_RULE = compileRule({})

/**
 * Compile once per rule object: adapters pass the same rule object on every request. Internal (adapters);
 * applications use `compileRule`.
 */
export function toCompiledRule(rule: AccessRule | CompiledRule | undefined): CompiledRule {
  if (rule === undefined) return DEFAULT_RULE
  if (typeof (rule as CompiledRule).authorize === 'function') return rule as CompiledRule
  let done = compiled.get(rule)
  if (done === undefined) {
    done = compileRule(rule as AccessRule)
    compiled.set(rule, done)
  }
  return done
}

class Auth<P, C extends JWTClaims> implements AuthContext<P, C> {
  readonly token: string
  readonly claims: C
  readonly header: ProtectedHeader
  principal: P
  readonly tokenType: TokenScheme
  readonly jkt: string | undefined
  readonly dpopNonce: string | undefined
  readonly #read: (claims: JWTClaims) => ClaimSets
  #sets: ClaimSets | undefined

  constructor(
    token: string,
    verified: VerifiedToken<C>,
    read: (claims: JWTClaims) => ClaimSets,
    dpop: DpopResult | undefined,
  ) {
    this.token = token
    this.claims = verified.claims
    this.header = verified.header
    this.principal = undefined as P
    this.tokenType = dpop === undefined ? 'bearer' : 'dpop'
    this.jkt = dpop?.jkt
    this.dpopNonce = dpop?.nonce
    this.#read = read
  }

  // Claim sets are read on first use: a route that only needs a valid token never pays for them.
  get #all(): ClaimSets {
    this.#sets ??= this.#read(this.claims)
    return this.#sets
  }
  get scopes() {
    return this.#all.scopes
  }
  get roles() {
    return this.#all.roles
  }
  get permissions() {
    return this.#all.permissions
  }
  get groups() {
    return this.#all.groups
  }
  toJSON() {
    // A logged auth context must never print the token.
    const { claims, header, principal, tokenType, jkt } = this
    return { claims, header, principal, tokenType, jkt }
  }
  // util.inspect and so console.log, through the registered symbol rather than node:util, which other
  // runtimes lack: the same fields as toJSON, never the token.
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this.toJSON()
  }
}

/** The path of a request URL, without query or fragment (`/a/b` from `https://h/a/b?x=1` or `/a/b?x=1`). */
function pathOf(url: string | URL | undefined): string | undefined {
  if (url === undefined) return undefined
  const text = String(url)
  const start = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(text)?.[0].length ?? 0
  const end = text.search(/[?#]/)
  return text.slice(start, end === -1 ? undefined : end) || '/'
}

/** A start-up failure with what failed in its message; the GatehouseError stays its `cause`. */
function warmUpError(error: unknown, what = `cannot load the issuer's signing keys`): Error {
  if (!isGatehouseError(error)) return error instanceof Error ? error : new Error(String(error))
  const detail = describeCause(error.cause)
  return new Error(`gatehouse: ${what} (${error.code}): ${error.message}${detail ? `: ${detail}` : ''}`, {
    cause: error,
  })
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = describeCause(cause.cause)
    return inner ? `${cause.message}: ${inner}` : cause.message
  }
  if (cause === undefined || cause === null) return ''
  if (typeof cause === 'object') {
    const { cause: inner, ...rest } = cause as Record<string, unknown>
    const own = Object.keys(rest).length > 0 ? JSON.stringify(rest) : ''
    const nested = describeCause(inner)
    return [own, nested].filter(Boolean).join(': ')
  }
  return String(cause)
}

/**
 * Create the request pipeline.
 *
 * @example
 * ```ts
 * const gate = createGate({ issuer: 'https://tenant.example.com/', audience: 'https://api.example.com' })
 * const auth = await gate.check({ method: 'GET', headers: request.headers }, { scopes: 'read:messages' })
 * ```
 */
export function createGate<P = unknown, C extends JWTClaims = JWTClaims>(
  options: GateOptions<P, C>,
): Gate<P, C> {
  if (typeof options !== 'object' || options === null) fail('options', 'an object')
  const {
    verifier: given,
    tokenLocations = ['header'],
    realm,
    principal,
    onRejection,
    dpopProof,
    publicUrl,
    trustForwardedHeaders,
    resource,
    resourceMetadata: metadataOptions,
    introspection,
    ...verifierOptions
  } = options
  if (
    !Array.isArray(tokenLocations) ||
    tokenLocations.length === 0 ||
    !tokenLocations.every((l) => ['header', 'query', 'body'].includes(l))
  ) {
    fail('tokenLocations', "a non-empty array of 'header', 'query', 'body'", tokenLocations)
  }
  if (realm !== undefined && typeof realm !== 'string') fail('realm', 'a string', realm)
  if (principal !== undefined && typeof principal !== 'function') fail('principal', 'a function', principal)
  if (onRejection !== undefined && typeof onRejection !== 'function')
    fail('onRejection', 'a function', onRejection)
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    fail('strict', 'a boolean', options.strict)
  const requestUrl = createRequestUrl({ publicUrl, trustForwardedHeaders })
  if (metadataOptions !== undefined && resource === undefined)
    fail('resourceMetadata', 'to come with `resource`, the identifier it describes')
  // RFC 8707 §2: without an explicit audience, a token must be issued for this very resource.
  const audienceBound =
    resource !== undefined && verifierOptions.audience === undefined
      ? { ...verifierOptions, audience: resourceIdentifier(resource) }
      : verifierOptions
  const verifier = given ?? createVerifier<C>(audienceBound)
  // RFC 6750 §2's one method per request, checked across all locations: the gate's own `strict`, else
  // when every trusted issuer is strict (a shared verifier built with `strict: true`).
  const { trusts } = verifier
  // DPoP (RFC 9449): the `Authorization: DPoP` scheme is read, and challenged, when an issuer accepts it.
  const modes = new Map<Trust, DpopMode>(trusts.map((trust) => [trust, trust.options.dpop]))
  const dpopOffered = trusts.some((trust) => trust.options.dpop !== 'off')
  const bearerOffered = trusts.some((trust) => trust.options.dpop !== 'required')
  const extractOptions = {
    strict: options.strict ?? (trusts.length > 0 && trusts.every((trust) => trust.options.strict === true)),
    dpop: dpopOffered,
  }
  // Redis stores made here from URLs, one per URL: DPoP's replay records and introspection answers may share one.
  const ownStores = new Map<string, Store>()
  const storeFor = (option: string) => (url: string) => {
    if (!/^rediss?:\/\//i.test(url)) fail(option, 'a store or a redis:// or rediss:// URL', url)
    let store = ownStores.get(url)
    if (store === undefined) {
      store = createRedisStore({ url })
      ownStores.set(url, store)
    }
    return store
  }
  const checker = dpopOffered ? dpopCheckerOf(dpopProof, storeFor('dpopProof.store')) : undefined
  const tokens = createTokenSource(
    introspection,
    trusts,
    verifierOptions.now,
    storeFor('introspection.cache.store'),
    PENDING,
  )
  const challenge = {
    realm,
    // Elliptic curves first: what DPoP clients use, and the first a client may pick from the list.
    dpopAlgorithms: checker?.checker.algorithms
      .slice()
      .sort((a, b) => ALG_PREFERENCE.indexOf(a) - ALG_PREFERENCE.indexOf(b)),
    bearer: bearerOffered,
  }
  const metadata =
    resource === undefined
      ? undefined
      : createResourceMetadata(resource, metadataOptions, {
          issuers: trusts.flatMap((trust) => trust.options.issuers),
          bearerMethods: tokenLocations,
          dpopAlgorithms: dpopOffered ? challenge.dpopAlgorithms : undefined,
          dpopRequired: trusts.length > 0 && trusts.every((trust) => trust.options.dpop === 'required'),
        })
  const responseOptions = { ...challenge, resourceMetadata: metadata?.url }
  // The scheme each refused request used, for the challenge that carries the error.
  const schemes = new WeakMap<GatehouseError, TokenScheme>()
  const noted = (error: unknown, scheme: TokenScheme) => {
    if (isGatehouseError(error)) schemes.set(error, scheme)
    return error
  }

  // One claims reader per trusted issuer: each provider keeps roles and scopes in other claims.
  const readers = new Map<Trust, (claims: JWTClaims) => ClaimSets>()
  for (const trust of verifier.trusts) readers.set(trust, createClaimsReader(trust.options.claims))
  const defaultReader = createClaimsReader(options.claims)

  function authorize(auth: AuthContext<P, C> | null, method: string, rule: AccessRule | CompiledRule): void {
    const compiledRule = toCompiledRule(rule)
    if (auth === null) {
      if (compiledRule.requiresToken(method)) throw new GatehouseError('ERR_NO_TOKEN')
      return
    }
    try {
      compiledRule.authorize(auth as AuthContext, method)
    } catch (error) {
      throw noted(error, auth.tokenType)
    }
  }

  /** The scheme of a refused request: noted when the gate threw, else read from its Authorization header. */
  function schemeOf(error: GatehouseError, request: RejectedRequest | undefined): TokenScheme | undefined {
    const noted = schemes.get(error)
    if (noted !== undefined || !dpopOffered || request?.headers === undefined) return noted
    try {
      return /^\s*dpop\s/i.test(readAuthorization(request.headers) ?? '') ? 'dpop' : undefined
    } catch {
      return undefined // several Authorization headers: the error is the request's anyway
    }
  }

  /**
   * The token of the request, or null for an anonymous request the rule allows (throws otherwise). On a
   * `public` method the token is not read at all, as where no adapter runs: anonymous whatever is sent.
   */
  function tokenOf(request: GateRequest, rule: CompiledRule): PresentedToken | null {
    const access = rule.access(request.method)
    if (access === 'public') return null
    const presented = extractToken(request, tokenLocations, extractOptions)
    if (presented !== undefined) return presented
    if (access === 'required') throw new GatehouseError('ERR_NO_TOKEN')
    return null
  }

  /**
   * Whether the token may come with the scheme it came with (RFC 9449 §7.1, §7.2), by its issuer's
   * mode. Returns the token's `cnf.jkt` for the proof check, when it came with DPoP.
   */
  function schemeAllowed(
    presented: PresentedToken,
    claims: JWTClaims,
    trust: Trust | undefined,
  ): string | undefined {
    const mode = (trust && modes.get(trust)) ?? 'off'
    if (presented.scheme === 'dpop') {
      if (mode === 'off') throw new GatehouseError('ERR_DPOP_NOT_ALLOWED')
      return boundThumbprint(claims)
    }
    if (mode === 'required') throw new GatehouseError('ERR_DPOP_REQUIRED')
    if (mode === 'allowed' && boundThumbprint(claims) !== undefined)
      throw new GatehouseError('ERR_DPOP_BOUND_TOKEN_AS_BEARER')
    return undefined
  }

  function proofRequest(request: GateRequest, token: string, cnfJkt: string | undefined) {
    return {
      proof: readHeader(request.headers, 'dpop'),
      method: request.method,
      url: requestUrl(request),
      accessToken: token,
      cnfJkt,
    }
  }

  /** The auth context of a verified token, authorized under `rule` (throws the 403). */
  function contextFor(
    token: string,
    verified: VerifiedToken<C>,
    rule: CompiledRule,
    method: string,
    dpop: DpopResult | undefined,
    trust: Trust | undefined,
  ): Auth<P, C> {
    const auth = new Auth<P, C>(token, verified, (trust && readers.get(trust)) ?? defaultReader, dpop)
    rule.authorize(auth as AuthContext, method)
    return auth
  }

  async function checkAsync(
    request: GateRequest,
    rule: CompiledRule,
    presented: PresentedToken,
  ): Promise<Auth<P, C>> {
    const { token } = presented
    // A token that is sent is always verified (or introspected), even where anonymous access is allowed.
    const introspected = tokens?.introspects(token) === true
    const verified = (
      introspected ? await tokens!.introspect(token) : await verifier.verify(token)
    ) as VerifiedToken<C>
    const trust = introspected ? tokens!.trust : verifier.trustOf(verified.claims)
    const cnfJkt = schemeAllowed(presented, verified.claims, trust)
    const dpop =
      presented.scheme === 'dpop'
        ? await checker!.checker.check(proofRequest(request, token, cnfJkt))
        : undefined
    return contextFor(token, verified, rule, request.method, dpop, trust)
  }

  function checkNow(
    request: GateRequest,
    rule: CompiledRule,
    presented: PresentedToken,
  ): Auth<P, C> | Pending {
    const { token } = presented
    const introspected = tokens?.introspects(token) === true
    const verified = (introspected ? tokens!.introspectSync(token) : verifier.verifySync(token)) as
      | VerifiedToken<C>
      | Pending
    if (verified === PENDING) return PENDING
    const trust = introspected ? tokens!.trust : verifier.trustOf(verified.claims)
    const cnfJkt = schemeAllowed(presented, verified.claims, trust)
    let dpop: DpopResult | undefined
    if (presented.scheme === 'dpop') {
      const result = checker!.checker.checkSync(proofRequest(request, token, cnfJkt))
      if (result === PENDING) return PENDING
      dpop = result
    }
    return contextFor(token, verified, rule, request.method, dpop, trust)
  }

  return {
    verifier,
    async check(request, rule) {
      const compiledRule = toCompiledRule(rule)
      const presented = tokenOf(request, compiledRule)
      if (presented === null) return null
      let auth: Auth<P, C>
      try {
        auth = await checkAsync(request, compiledRule, presented)
      } catch (error) {
        throw noted(error, presented.scheme)
      }
      // After authorization: a forbidden request never creates a user row.
      if (principal) auth.principal = (await principal(auth as unknown as AuthContext<undefined, C>)) as P
      return auth
    },
    checkSync(request, rule) {
      if (principal) return PENDING
      const compiledRule = toCompiledRule(rule)
      const presented = tokenOf(request, compiledRule)
      if (presented === null) return null
      try {
        return checkNow(request, compiledRule, presented)
      } catch (error) {
        throw noted(error, presented.scheme)
      }
    },
    authorize,
    reject(error, request) {
      if (onRejection !== undefined) {
        try {
          onRejection({ error, method: request?.method, path: pathOf(request?.url) })
        } catch {
          // A logging hook must not change the answer.
        }
      }
      return errorResponse(error, { ...responseOptions, scheme: schemeOf(error, request) })
    },
    warmUp: () =>
      Promise.all([
        verifier.warmUp().catch((error: unknown) => Promise.reject(warmUpError(error))),
        // The replay store's connection too: the first DPoP request must not wait for it. An
        // unreachable store is not a start-up failure; each DPoP request answers 503 until it is back.
        checker?.store?.open?.(),
        tokens
          ?.warmUp()
          .catch((error: unknown) =>
            Promise.reject(warmUpError(error, `cannot find the issuer's introspection endpoint`)),
          ),
        ...[...ownStores.values()].map((store) => store.open?.()),
      ]).then(() => undefined),
    resourceMetadata: metadata,
    tokenLocations: Object.freeze([...tokenLocations]),
    close: () => {
      // A verifier passed in may serve other gates: whoever built it closes it.
      if (given === undefined) verifier.close()
      // The checker closes a store it made; a store made here from a URL is closed here.
      void checker?.checker.close()
      tokens?.close()
      for (const store of ownStores.values()) void store.close()
    },
  }
}

const ALG_PREFERENCE = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
]

/** The gate's DPoP checker, and the store it made from a Redis URL (closed with the gate). */
function dpopCheckerOf(
  options: DpopProofOptions | undefined,
  storeFor: (url: string) => Store,
): { checker: DpopChecker; store: Store | undefined } {
  if (options === undefined) return { checker: createDpopChecker(), store: undefined }
  if (typeof options !== 'object' || options === null)
    fail('dpopProof', 'an object of DPoP proof options', options)
  const { store, ...rest } = options
  const used = typeof store === 'string' ? storeFor(store) : store
  try {
    return { checker: createDpopChecker({ ...rest, store: used }), store: used }
  } catch (error) {
    // The checker names its options `dpop.*`; here they are `dpopProof.*`.
    if (error instanceof TypeError) throw new TypeError(error.message.replace(/^dpop\b/, 'dpopProof'))
    throw error
  }
}

/** The resource identifier as an audience: as given, a bare origin without its trailing slash. */
function resourceIdentifier(resource: string | URL): string {
  const text = String(resource)
  try {
    const url = new URL(text)
    return url.pathname === '/' && !text.endsWith('/') ? url.origin : text
  } catch {
    return text // refused with its reason by createResourceMetadata
  }
}
