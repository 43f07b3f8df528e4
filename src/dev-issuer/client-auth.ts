/**
 * Client authentication at the endpoints that require it (token, introspection, revocation): HTTP Basic
 * (`client_secret_basic`, RFC 6749 §2.3.1), the credentials as parameters (`client_secret_post`), or a
 * JWT signed with the client's key (`private_key_jwt`, RFC 7523 §2.2); one method per request (§2.3).
 * Failures are RFC 6749 §5.2 `invalid_client` answers, with a Basic challenge when the client tried the
 * Authorization header.
 */
import type { MemoryStore } from '../core/store/memory.js'
import { JWT_BEARER, verifyClientAssertion } from './client-assertion.js'
import { authenticateClient, type DevClient } from './clients.js'

/** A response the server writes as is: JSON `body`, or `body` as text when `contentType` is given. */
export interface HttpResult {
  status: number
  headers: Record<string, string>
  /** JSON-serialized; `undefined` sends an empty body. A string sent as is when `contentType` is set. */
  body: unknown
  /** The media type of a non-JSON `body` (a string). */
  contentType?: string
}

/** The client authentication methods every authenticated endpoint accepts (RFC 8414 §2 names). */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const

/** What the authenticated endpoints share to recognise a client. */
export interface ClientDirectory {
  readonly clients: readonly DevClient[]
  /**
   * The `aud` values a client assertion may carry at the endpoint the client addressed (`endpoint`, the
   * URL as it sent it): the issuer identifier, the advertised token endpoint and that endpoint's URL.
   */
  assertionAudiences(endpoint: string): readonly string[]
  /** Assertion `jti`s already used, each kept until its assertion expires (bounded). */
  readonly seenAssertions: Pick<MemoryStore, 'setIfAbsentSync'>
}

// RFC 6749 §5.1: responses carrying tokens or credentials must not be cached; RFC 7662 §2.2 answers too.
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** An RFC 6749 §5.2 style error `{ error, error_description }`, not cacheable. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  extraHeaders: Record<string, string> = {},
): HttpResult {
  return {
    status,
    headers: { ...NO_STORE, ...extraHeaders },
    body: { error, error_description: description },
  }
}

export function invalidClient(description: string, usedBasic: boolean): HttpResult {
  // RFC 6749 §5.2: 401, and a Basic challenge when the client tried the Authorization header.
  return oauthError(
    401,
    'invalid_client',
    description,
    usedBasic ? { 'www-authenticate': 'Basic realm="gatehouse-dev-issuer"' } : {},
  )
}

export type BasicCredentials = { id: string; secret: string }

/**
 * RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`, each part form-urlencoded, so a
 * secret may contain ':' (encoded as %3A). Undefined when there is no Authorization header; an
 * `invalid_client` answer for any other scheme or malformed credentials.
 */
export function parseBasic(header: string | undefined): BasicCredentials | { error: HttpResult } | undefined {
  if (header === undefined) return undefined
  const match = /^basic +([A-Za-z0-9+/=._~-]*) *$/i.exec(header)
  if (match === null) {
    return { error: invalidClient('Only the Basic scheme is accepted in the Authorization header', true) }
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return { error: invalidClient('The Basic credentials are malformed', true) }
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    return { error: invalidClient('The Basic credentials are malformed', true) }
  }
}

/**
 * The client the request authenticates as, or the error to answer. `basic` is what {@link parseBasic}
 * returned (its error already answered); `get` reads the body parameters; `endpoint` is the URL the client
 * addressed, which a client assertion's `aud` may name.
 */
export async function authenticateRequest(
  directory: ClientDirectory,
  basic: BasicCredentials | undefined,
  get: (name: string) => string | undefined,
  endpoint: string,
): Promise<{ client: DevClient } | { error: HttpResult }> {
  const assertion = get('client_assertion')
  const assertionType = get('client_assertion_type')
  if (assertion !== undefined || assertionType !== undefined) {
    if (basic !== undefined || get('client_secret') !== undefined) {
      return { error: oauthError(400, 'invalid_request', ONE_METHOD) }
    }
    // RFC 7521 §4.2: both parameters, and the one assertion type this server knows.
    if (assertionType === undefined)
      return { error: oauthError(400, 'invalid_request', 'The client_assertion_type parameter is missing') }
    if (assertionType !== JWT_BEARER) {
      return { error: oauthError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`) }
    }
    if (assertion === undefined || assertion === '')
      return { error: oauthError(400, 'invalid_request', 'The client_assertion parameter is missing') }
    const result = await verifyClientAssertion(assertion, {
      clients: directory.clients,
      clientId: get('client_id'),
      audiences: directory.assertionAudiences(endpoint),
      seen: directory.seenAssertions,
      now: Date.now(),
    })
    if ('client' in result) return result
    return {
      error:
        result.error === 'invalid_client'
          ? invalidClient(result.description, false)
          : oauthError(400, result.error, result.description),
    }
  }

  let clientId = get('client_id')
  let clientSecret = get('client_secret')
  if (basic !== undefined) {
    if (clientSecret !== undefined) return { error: oauthError(400, 'invalid_request', ONE_METHOD) }
    if (clientId !== undefined && clientId !== basic.id) {
      return { error: oauthError(400, 'invalid_request', 'client_id does not match the Basic credentials') }
    }
    clientId = basic.id
    clientSecret = basic.secret
  }
  const usedBasic = basic !== undefined
  if (clientId === undefined || clientSecret === undefined) {
    return {
      error: invalidClient(
        'Client authentication is missing: send client_id and client_secret, or a client_assertion',
        usedBasic,
      ),
    }
  }
  const client = authenticateClient(directory.clients, clientId, clientSecret)
  if (client === undefined) return { error: invalidClient('Client authentication failed', usedBasic) }
  return { client }
}

const ONE_METHOD = 'Use one client authentication method: Basic, client_secret or client_assertion'

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}
