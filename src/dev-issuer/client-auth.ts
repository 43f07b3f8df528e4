/**
 * Client authentication at the endpoints that require it (token, introspection, revocation): HTTP Basic
 * (`client_secret_basic`, RFC 6749 §2.3.1) or the credentials as parameters (`client_secret_post`), never
 * both (§2.3). Failures are RFC 6749 §5.2 `invalid_client` answers, with a Basic challenge when the client
 * tried the Authorization header.
 */
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
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const

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
 * The client these credentials name, or the error to answer. `basic` is what {@link parseBasic} returned
 * (its error already answered); `get` reads the body parameters.
 */
export function authenticateRequest(
  clients: readonly DevClient[],
  basic: BasicCredentials | undefined,
  get: (name: string) => string | undefined,
): { client: DevClient } | { error: HttpResult } {
  let clientId = get('client_id')
  let clientSecret = get('client_secret')
  if (basic !== undefined) {
    if (clientSecret !== undefined) {
      return {
        error: oauthError(
          400,
          'invalid_request',
          'Use one client authentication method: Basic or client_secret',
        ),
      }
    }
    if (clientId !== undefined && clientId !== basic.id) {
      return { error: oauthError(400, 'invalid_request', 'client_id does not match the Basic credentials') }
    }
    clientId = basic.id
    clientSecret = basic.secret
  }
  const usedBasic = basic !== undefined
  if (clientId === undefined || clientSecret === undefined) {
    return {
      error: invalidClient('Client authentication is missing: send client_id and client_secret', usedBasic),
    }
  }
  const client = authenticateClient(clients, clientId, clientSecret)
  if (client === undefined) return { error: invalidClient('Client authentication failed', usedBasic) }
  return { client }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}
