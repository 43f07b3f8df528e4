/**
 * The token endpoint: client-credentials grant only (RFC 6749 §4.4).
 *
 * Both paths accept both encodings, like Auth0's: `POST /oauth2/m2m/token` is AuthAction's JSON request
 * verbatim (`{client_id, client_secret, audience, grant_type}`), `POST /oauth2/token` the standard form
 * request (RFC 6749 §4.4.2). The client authenticates with HTTP Basic (`client_secret_basic`, §2.3.1),
 * with parameters in the body (`client_secret_post`), or with a JWT signed by its key (`private_key_jwt`,
 * RFC 7523 §2.2), one method only (§2.3).
 *
 * The token's audience is the RFC 8707 `resource` parameter (an absolute URI without fragment, §2), or
 * Auth0's `audience`, or the issuer's default; a client with an `audiences` list gets only those
 * (`invalid_target`). One resource per request: a token here has one audience, so that a resource server
 * cannot replay it at another (§2 lets the server refuse what it cannot issue).
 *
 * A request with a `DPoP` header gets a DPoP-bound token (RFC 9449 §5): the proof is checked (`htm`
 * POST, `htu` this endpoint as the client addressed it, replay), and the token names the proof key in
 * `cnf.jkt` and is returned with `token_type` `DPoP`.
 *
 * Does NOT implement: other grants, refresh tokens, tokens for several resources at once, DPoP nonces
 * (§8) and `dpop_jkt` (§10, a parameter of the authorization endpoint, which refuses every request here).
 */
import type { DpopChecker } from '../core/dpop/checker.js'
import { isGatehouseError } from '../core/errors.js'
import {
  authenticateRequest,
  type ClientDirectory,
  type HttpResult,
  NO_STORE,
  oauthError,
  parseBasic,
} from './client-auth.js'
import { type DevClient, grantScopes } from './clients.js'

export type { HttpResult } from './client-auth.js'

/**
 * RFC 6749 §5.2 error codes, plus RFC 8707 §2 `invalid_target` for a resource or audience the client may
 * not get and RFC 9449 §5 `invalid_dpop_proof`.
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_dpop_proof'

export interface TokenRequest {
  contentType: string | undefined
  authorization: string | undefined
  /** The `DPoP` header as received, or undefined when absent (a Bearer token is issued). */
  dpop: string | readonly string[] | undefined
  /** This endpoint's URL as the client addressed it (scheme, host, path): what the proof's `htu` names. */
  url: string
  body: Buffer
}

/** What the endpoint needs from the issuer: resolve the client, check a DPoP proof, then sign. */
export interface TokenIssuer {
  directory: ClientDirectory
  defaultAudience: string
  tokenLifetime: number
  dpop: Pick<DpopChecker, 'check'>
  /** Sign a token; with `jkt`, bound to that DPoP key (`cnf.jkt`). */
  issue(client: DevClient, audience: string, scopes: string[], jkt: string | undefined): Promise<string>
}

export function tokenError(
  status: number,
  error: TokenErrorCode,
  description: string,
  extraHeaders: Record<string, string> = {},
): HttpResult {
  return oauthError(status, error, description, extraHeaders)
}

export async function handleTokenRequest(request: TokenRequest, issuer: TokenIssuer): Promise<HttpResult> {
  const params = parseParameters(request)
  if ('error' in params) return params.error

  // Only Basic can carry client credentials here: any other scheme is a client authentication failure.
  const basic = parseBasic(request.authorization)
  if (basic !== undefined && 'error' in basic) return basic.error

  const grantType = params.get('grant_type')
  if (grantType === undefined)
    return tokenError(400, 'invalid_request', 'The grant_type parameter is missing')
  if (grantType !== 'client_credentials') {
    return tokenError(400, 'unsupported_grant_type', 'Only the client_credentials grant is supported')
  }

  const authenticated = await authenticateRequest(issuer.directory, basic, params.get, request.url)
  if ('error' in authenticated) return authenticated.error
  const { client } = authenticated

  const target = tokenAudience(params, issuer.defaultAudience)
  if ('error' in target) return target.error
  const { audience } = target
  if (client.audiences !== undefined && !client.audiences.includes(audience)) {
    const what = target.fromResource ? 'resource' : 'audience'
    return tokenError(400, 'invalid_target', `The client may not request tokens for this ${what}`)
  }
  const grant = grantScopes(client, params.get('scope'))
  if (!grant.ok) return tokenError(400, 'invalid_scope', grant.description)

  // Last, so that only a request that gets a token records its proof as used.
  let jkt: string | undefined
  if (request.dpop !== undefined) {
    try {
      ;({ jkt } = await issuer.dpop.check({ proof: request.dpop, method: 'POST', url: request.url }))
    } catch (error) {
      // RFC 9449 §5: a 400 with invalid_dpop_proof, whatever is wrong with the proof.
      if (isGatehouseError(error) && error.error === 'invalid_dpop_proof')
        return tokenError(400, 'invalid_dpop_proof', error.description)
      throw error
    }
  }

  const accessToken = await issuer.issue(client, audience, grant.scopes, jkt)
  // RFC 6749 §5.1; `scope` is always returned so the client sees what it got (§3.3). RFC 9449 §5:
  // `token_type` says how the token must be presented.
  return {
    status: 200,
    headers: NO_STORE,
    body: {
      access_token: accessToken,
      token_type: jkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: Math.round(issuer.tokenLifetime),
      scope: grant.scopes.join(' '),
    },
  }
}

/**
 * The audience of the token: the `resource` (RFC 8707 §2), else `audience`, else the default. Both given
 * must agree: a request naming two targets is contradictory, and saying so beats picking one.
 */
function tokenAudience(
  params: RequestParameters,
  defaultAudience: string,
): { audience: string; fromResource: boolean } | { error: HttpResult } {
  const audience = params.get('audience')
  if (audience === '') return { error: tokenError(400, 'invalid_request', 'The audience parameter is empty') }
  const resources = params.all('resource')
  if (resources.length === 0) return { audience: audience ?? defaultAudience, fromResource: false }
  if (resources.length > 1) {
    return {
      error: tokenError(
        400,
        'invalid_target',
        'Ask for one resource per token request: a token of this issuer has one audience',
      ),
    }
  }
  const resource = resources[0]!
  if (!isResourceIndicator(resource)) {
    return {
      error: tokenError(
        400,
        'invalid_target',
        'The resource parameter must be an absolute URI without a fragment',
      ),
    }
  }
  if (audience !== undefined && audience !== resource) {
    return {
      error: tokenError(
        400,
        'invalid_request',
        'The audience and resource parameters name different targets',
      ),
    }
  }
  return { audience: resource, fromResource: true }
}

/**
 * RFC 8707 §2: an absolute URI (RFC 3986 §4.3: a scheme, no fragment). Kept as sent, not normalized: the
 * token's `aud` is compared by exact string, so `https://api.example` and `https://api.example/` differ.
 */
function isResourceIndicator(value: string): boolean {
  return !value.includes('#') && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && URL.canParse(value)
}

interface RequestParameters {
  get(name: string): string | undefined
  /** Every value of a parameter that may repeat (`resource`, RFC 8707 §2). */
  all(name: string): string[]
}

type Parameters = RequestParameters | { error: HttpResult }

/** Parameters from a JSON object or a form body. Repeated or non-string parameters are refused (RFC 6749 §3.2). */
function parseParameters(request: TokenRequest): Parameters {
  const type = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const text = request.body.toString('utf8')
  if (type === 'application/json') {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return { error: tokenError(400, 'invalid_request', 'The body is not valid JSON') }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { error: tokenError(400, 'invalid_request', 'The JSON body must be an object') }
    }
    const record = value as Record<string, unknown>
    for (const name of [...PARAMETERS, 'resource']) {
      const v = record[name]
      if (v !== undefined && v !== null && typeof v !== 'string') {
        return { error: tokenError(400, 'invalid_request', `The ${name} parameter must be a string`) }
      }
    }
    const get = (name: string) =>
      Object.hasOwn(record, name) ? ((record[name] as string | null) ?? undefined) : undefined
    return {
      get,
      all: (name) => {
        const value = get(name)
        return value === undefined ? [] : [value]
      },
    }
  }
  if (type === 'application/x-www-form-urlencoded' || (type === '' && text === '')) {
    const form = new URLSearchParams(text)
    for (const name of PARAMETERS) {
      if (form.getAll(name).length > 1) {
        return { error: tokenError(400, 'invalid_request', `The ${name} parameter appears more than once`) }
      }
    }
    return { get: (name) => form.get(name) ?? undefined, all: (name) => form.getAll(name) }
  }
  return {
    error: tokenError(
      400,
      'invalid_request',
      'Send the parameters as application/x-www-form-urlencoded or application/json',
    ),
  }
}

/**
 * Parameters that must be strings and appear once. `resource` may repeat in a form (RFC 8707 §2), and is
 * a string in JSON.
 */
const PARAMETERS = [
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'audience',
  'scope',
] as const
