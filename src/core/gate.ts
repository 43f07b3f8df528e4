/**
 * The request pipeline every adapter runs, so that no adapter decides anything:
 * extract the bearer token → verify it → authorize against the route's rule → map the principal.
 *
 * An adapter translates its framework's request into a {@link GateRequest}, calls `gate.check()`, and on
 * a GatehouseError renders `gate.errorResponse(err)`. Any other error comes from the application (the
 * principal hook) and goes to the framework's own error handling.
 */
import { type BearerRequest, extractBearer, type TokenLocation } from './bearer.js'
import { type ErrorResponse, errorResponse } from './challenge.js'
import { type ClaimSets, createClaimsReader } from './claims-reader.js'
import { GatehouseError } from './errors.js'
import { fail, type VerifierOptions } from './options.js'
import { type AccessRule, type AuthContext, type CompiledRule, compileRule } from './policy/index.js'
import type { JWTClaims, ProtectedHeader, VerifiedToken } from './types.js'
import { createVerifier, type Trust, type Verifier } from './verify.js'

export interface GateRequest extends BearerRequest {
  /** HTTP method, any case. */
  method: string
}

/** Maps verified claims to the application's user (seed 004: get-or-create from `sub`). */
export type PrincipalResolver<P, C extends JWTClaims = JWTClaims> = (
  auth: AuthContext<C, undefined>,
) => P | Promise<P>

export interface GateOptions<P = unknown, C extends JWTClaims = JWTClaims> extends VerifierOptions {
  /** A verifier you built (shared by several gates); otherwise one is created from these options. */
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
}

export interface Gate<P = unknown, C extends JWTClaims = JWTClaims> {
  readonly verifier: Verifier<C>
  /**
   * Run the pipeline for one request under `rule` (default: a valid token, nothing more). Resolves with
   * the auth context, or `null` for an anonymous request that the rule allows for this method. Rejects
   * with a GatehouseError (400, 401, 403, 503) or with the principal hook's own error.
   */
  check(request: GateRequest, rule?: AccessRule | CompiledRule): Promise<AuthContext<C, P> | null>
  /**
   * The same pipeline without waiting, when nothing needs waiting for: the token is cached or its key is
   * loaded (see `Verifier.verifySync`) and there is no `principal` hook. Returns undefined when only
   * `check` can answer; throws what `check` rejects with. Adapters try it first, so that most requests are
   * answered in the tick that read them (a promise per request costs measurably behind a fast server).
   */
  checkSync(request: GateRequest, rule?: AccessRule | CompiledRule): AuthContext<C, P> | null | undefined
  /** Authorize an already authenticated request under another rule (route-level rules after a global check). */
  authorize(auth: AuthContext<C, P> | null, method: string, rule: AccessRule | CompiledRule): void
  /** Status, headers and JSON body for a GatehouseError. */
  errorResponse(error: GatehouseError): ErrorResponse
  /** Stop the verifier's background work. */
  close(): void
}

const compiled = new WeakMap<object, CompiledRule>()
const DEFAULT_RULE = compileRule({})

/** Compile once per rule object: adapters pass the same rule object on every request. */
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

class Auth<C extends JWTClaims, P> implements AuthContext<C, P> {
  readonly token: string
  readonly claims: C
  readonly header: ProtectedHeader
  principal: P
  readonly #read: (claims: JWTClaims) => ClaimSets
  #sets: ClaimSets | undefined

  constructor(token: string, verified: VerifiedToken<C>, read: (claims: JWTClaims) => ClaimSets) {
    this.token = token
    this.claims = verified.claims
    this.header = verified.header
    this.principal = undefined as P
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
    return { claims: this.claims, header: this.header, principal: this.principal }
  }
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
  const { verifier: given, tokenLocations = ['header'], realm, principal, ...verifierOptions } = options
  if (
    !Array.isArray(tokenLocations) ||
    tokenLocations.length === 0 ||
    !tokenLocations.every((l) => ['header', 'query', 'body'].includes(l))
  ) {
    fail('tokenLocations', "a non-empty array of 'header', 'query', 'body'", tokenLocations)
  }
  if (realm !== undefined && typeof realm !== 'string') fail('realm', 'a string', realm)
  if (principal !== undefined && typeof principal !== 'function') fail('principal', 'a function', principal)
  const verifier = given ?? createVerifier<C>(verifierOptions)

  // One claims reader per trusted issuer: each provider keeps roles and scopes in other claims.
  const readers = new Map<Trust, (claims: JWTClaims) => ClaimSets>()
  for (const trust of verifier.trusts) readers.set(trust, createClaimsReader(trust.options.claims))
  const defaultReader = createClaimsReader(options.claims)

  function authorize(auth: AuthContext<C, P> | null, method: string, rule: AccessRule | CompiledRule): void {
    const compiledRule = toCompiledRule(rule)
    if (auth === null) {
      if (compiledRule.requiresToken(method)) throw new GatehouseError('ERR_NO_TOKEN')
      return
    }
    compiledRule.authorize(auth as AuthContext, method)
  }

  /** The token of the request, or null for an anonymous request the rule allows (throws otherwise). */
  function tokenOf(request: GateRequest, rule: CompiledRule): string | null {
    const token = extractBearer(request, tokenLocations)
    if (token !== undefined) return token
    if (rule.requiresToken(request.method)) throw new GatehouseError('ERR_NO_TOKEN')
    return null
  }

  /** The auth context of a verified token, authorized under `rule` (throws the 403). */
  function contextFor(
    token: string,
    verified: VerifiedToken<C>,
    rule: CompiledRule,
    method: string,
  ): Auth<C, P> {
    const trust = verifier.trustOf(verified.claims)
    const auth = new Auth<C, P>(token, verified, (trust && readers.get(trust)) ?? defaultReader)
    rule.authorize(auth as AuthContext, method)
    return auth
  }

  return {
    verifier,
    async check(request, rule) {
      const compiledRule = toCompiledRule(rule)
      const token = tokenOf(request, compiledRule)
      if (token === null) return null
      // A token that is sent is always verified, even where anonymous access is allowed.
      const auth = contextFor(token, await verifier.verify(token), compiledRule, request.method)
      // After authorization: a forbidden request never creates a user row.
      if (principal) auth.principal = (await principal(auth as unknown as AuthContext<C, undefined>)) as P
      return auth
    },
    checkSync(request, rule) {
      if (principal) return undefined
      const compiledRule = toCompiledRule(rule)
      const token = tokenOf(request, compiledRule)
      if (token === null) return null
      const verified = verifier.verifySync(token)
      return verified === undefined ? undefined : contextFor(token, verified, compiledRule, request.method)
    },
    authorize,
    errorResponse: (error) => errorResponse(error, { realm }),
    close: () => verifier.close(),
  }
}
