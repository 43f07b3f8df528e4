/**
 * The introspection endpoint (RFC 7662 §2): an authenticated client asks whether a token is active and
 * what it carries. It answers for the opaque tokens this issuer keeps and for the JWTs it signed (its own
 * signature checked against the keys it publishes), with `{ "active": false }` for anything else, and
 * never says why (§2.2). With `Accept: application/token-introspection+jwt`, the answer is RFC 9701's
 * signed response, verifiable with the issuer's JWKS.
 *
 * The caller authenticates as a client, by secret or by `private_key_jwt`, as at the token endpoint.
 *
 * Does NOT implement: authentication by bearer token (§2.1 allows it), per-client restrictions on which
 * tokens a client may introspect (§4: any authenticated client learns about any token), encrypted
 * responses (RFC 9701 §5), refresh tokens (there are none).
 */
import { createLocalJWKSet, errors, jwtVerify } from 'jose'
import type { JWKS } from '../core/types.js'
import {
  authenticateRequest,
  type ClientDirectory,
  type HttpResult,
  NO_STORE,
  oauthError,
  parseBasic,
} from './client-auth.js'
import type { DevClient } from './clients.js'
import { DEV_ALGORITHMS } from './options.js'
import type { TokenClaims, TokenStore } from './token-store.js'

/** A token this issuer issued and still considers active. */
export interface IssuedToken {
  format: 'jwt' | 'opaque'
  /** Its claims, `token_type` included: what introspection returns beside `active`. */
  claims: TokenClaims
}

/** What the introspection and revocation endpoints need from the issuer. */
export interface TokenAuthority {
  readonly issuer: string
  readonly directory: ClientDirectory
  /** The token if it is one of ours and active: known, not expired, not before its `nbf`, not revoked. */
  find(token: string): Promise<IssuedToken | undefined>
  /** Make a found token inactive. */
  revoke(token: string, found: IssuedToken): void
  /** Sign an RFC 9701 response's claims with the issuer's current key, `typ: token-introspection+jwt`. */
  signIntrospection(claims: Record<string, unknown>): Promise<string>
}

export interface FormRequest {
  contentType: string | undefined
  authorization: string | undefined
  accept: string | undefined
  /** This endpoint's URL as the client addressed it, which a client assertion's `aud` may name. */
  url: string
  body: Buffer
}

/** RFC 9701 §4: the media type a client sends in `Accept` to get a signed response, and gets back. */
export const INTROSPECTION_JWT_TYPE = 'application/token-introspection+jwt'

/** The parameters the introspection and revocation endpoints read; each may appear once (RFC 6749 §3.2). */
const PARAMETERS = [
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
] as const

export type AuthenticatedForm = {
  client: DevClient
  /** The `token` parameter. `token_type_hint` is read but not needed: there are only access tokens here. */
  token: string
}

/**
 * Parse the form (RFC 7662 §2.1, RFC 7009 §2.1: `application/x-www-form-urlencoded`), authenticate the
 * client, then require `token`: an unauthenticated caller gets `invalid_client` whatever token it sent.
 */
export async function authenticatedForm(
  request: FormRequest,
  directory: ClientDirectory,
): Promise<AuthenticatedForm | { error: HttpResult }> {
  const type = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const text = request.body.toString('utf8')
  if (type !== 'application/x-www-form-urlencoded' && !(type === '' && text === '')) {
    return {
      error: oauthError(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded'),
    }
  }
  const form = new URLSearchParams(text)
  for (const name of PARAMETERS) {
    if (form.getAll(name).length > 1) {
      return { error: oauthError(400, 'invalid_request', `The ${name} parameter appears more than once`) }
    }
  }
  const basic = parseBasic(request.authorization)
  if (basic !== undefined && 'error' in basic) return basic
  const get = (name: string) => form.get(name) ?? undefined
  const authenticated = await authenticateRequest(directory, basic, get, request.url)
  if ('error' in authenticated) return authenticated
  const token = form.get('token')
  if (token === null || token === '') {
    return { error: oauthError(400, 'invalid_request', 'The token parameter is missing') }
  }
  return { client: authenticated.client, token }
}

export async function handleIntrospectionRequest(
  request: FormRequest,
  authority: TokenAuthority,
): Promise<HttpResult> {
  const form = await authenticatedForm(request, authority.directory)
  if ('error' in form) return form.error
  const found = await authority.find(form.token)
  // §2.2: the same answer for unknown, expired and revoked tokens, and `active` whatever the claims say.
  const response = found === undefined ? { active: false } : { ...found.claims, active: true }
  if (!acceptsSignedResponse(request.accept)) return { status: 200, headers: NO_STORE, body: response }
  // RFC 9701 §5: the response in `token_introspection`, for the requesting resource server (`aud`), without
  // `sub` or `exp` at the top level, so that it cannot pass for an access token.
  const jwt = await authority.signIntrospection({
    iss: authority.issuer,
    aud: form.client.clientId,
    iat: Math.floor(Date.now() / 1000),
    token_introspection: response,
  })
  return { status: 200, headers: NO_STORE, body: jwt, contentType: INTROSPECTION_JWT_TYPE }
}

/** Whether `Accept` lists RFC 9701's media type with a non-zero quality (RFC 9110 §12.5.1). */
export function acceptsSignedResponse(accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    if (type !== INTROSPECTION_JWT_TYPE) return false
    const q = params.find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

/** How to find a token: the opaque store, then the published keys for a JWT. */
export interface TokenSources {
  issuer: string
  store: TokenStore
  jwks(): Promise<JWKS>
}

/**
 * An active token of this issuer. A compact JWS counts when its signature verifies with a published key,
 * `typ` is `at+jwt` (so a signed introspection response is not taken for a token), `iss` is this issuer,
 * `exp` is present and past neither it nor `nbf`, and it is not revoked.
 */
export async function findIssuedToken(
  token: string,
  sources: TokenSources,
): Promise<IssuedToken | undefined> {
  const opaque = sources.store.lookup(token)
  if (opaque !== undefined) return { format: 'opaque', claims: opaque }
  if (token.split('.').length !== 3) return undefined
  let claims: TokenClaims
  try {
    ;({ payload: claims } = await jwtVerify(token, createLocalJWKSet(await sources.jwks()), {
      issuer: sources.issuer,
      typ: 'at+jwt',
      algorithms: [...DEV_ALGORITHMS],
      requiredClaims: ['exp'],
    }))
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined
    throw error
  }
  if (sources.store.isRevokedJwt(token, claims)) return undefined
  return { format: 'jwt', claims: { ...claims, token_type: tokenType(claims) } }
}

/** RFC 9449 §6.2: a token bound to a DPoP key is introspected with `token_type` `DPoP`. */
export function tokenType(claims: TokenClaims): 'Bearer' | 'DPoP' {
  const cnf = claims.cnf as { jkt?: unknown } | undefined
  return typeof cnf?.jkt === 'string' ? 'DPoP' : 'Bearer'
}
