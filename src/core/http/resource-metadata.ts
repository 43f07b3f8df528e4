/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a client reads, after a 401, to learn
 * which authorization server to ask and for what; where it is served (§3.1); and the URL every challenge
 * points to (`resource_metadata`, §5.1). Built once, from the gate's options; adapters serve it as is.
 */
import { fail } from '../config/options.js'
import { isSecureOrLoopback } from '../lib/loopback.js'
import { isPlainObject, stringList } from '../lib/values.js'

/** RFC 9728 §2 members a gate publishes besides what it knows (issuers, DPoP, token locations). */
export interface ResourceMetadataOptions {
  /** `authorization_servers`: issuer identifiers of the servers that issue tokens for this resource. Default: the gate's exact issuers. */
  authorizationServers?: readonly string[]
  /** `scopes_supported`: the scopes this resource understands, for clients that ask for a token. */
  scopesSupported?: readonly string[]
  /** `resource_name`: a human-readable name. */
  resourceName?: string
  /** `resource_documentation`: a URL of documentation for developers. */
  resourceDocumentation?: string
  /**
   * `Cache-Control` max-age of the served document, in seconds. Default 3600: it changes only with the
   * configuration.
   */
  maxAge?: number
}

/** What the gate knows that the document states. */
export interface ResourceFacts {
  issuers: readonly string[]
  bearerMethods: readonly ('header' | 'query' | 'body')[]
  /** The DPoP proof algorithms, when DPoP is accepted. */
  dpopAlgorithms: readonly string[] | undefined
  /** Whether every issuer requires DPoP. */
  dpopRequired: boolean
}

/** A served document: where, and the response to send (GET and HEAD; OPTIONS for CORS preflight). */
export interface ResourceMetadata {
  /** The resource identifier (`resource`): also the default accepted audience (RFC 8707 §2). */
  readonly resource: string
  /** The path this server answers it at (RFC 9728 §3.1), e.g. `/.well-known/oauth-protected-resource/mcp`. */
  readonly path: string
  /** The absolute URL of the document, as challenges name it in `resource_metadata`. */
  readonly url: string
  /** The document (RFC 9728 §2). */
  readonly document: Readonly<Record<string, unknown>>
  /** The HTTP response for a request to `path` with `method`: 200 for GET and HEAD, 204 for OPTIONS, else 405. */
  respond(method: string): { status: 200 | 204 | 405; headers: Record<string, string>; body: string }
}

export const WELL_KNOWN = '/.well-known/oauth-protected-resource'

/**
 * The resource identifier (RFC 9728 §1.2): an https URL without fragment (http on loopback, for local
 * development); no query, which §1.2 discourages and which would make the well-known path ambiguous.
 */
export function parseResource(value: unknown, option = 'resource'): URL {
  if (typeof value !== 'string' && !(value instanceof URL))
    fail(option, 'the resource identifier, an https URL such as "https://api.example.com"', value)
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    fail(option, 'an absolute https URL such as "https://api.example.com"', String(value))
  }
  if (!isSecureOrLoopback(url))
    fail(option, 'an https URL (http only on a loopback host: localhost, 127.0.0.1, [::1])', url.href)
  if (url.hash !== '' || url.search !== '' || url.username !== '' || url.password !== '')
    fail(option, 'a URL without query, fragment or credentials (RFC 9728 §1.2)', String(value))
  return url
}

/** The identifier as given, except that a bare origin has no trailing slash (`https://a.example`). */
function identifier(value: string | URL, url: URL): string {
  const text = String(value)
  return url.pathname === '/' && !text.endsWith('/') ? url.origin : text
}

export function createResourceMetadata(
  resource: string | URL,
  options: ResourceMetadataOptions | undefined,
  facts: ResourceFacts,
): ResourceMetadata {
  const url = parseResource(resource)
  const given: ResourceMetadataOptions = options ?? {}
  if (!isPlainObject(given as unknown)) fail('resourceMetadata', 'an object', given)
  const known = ['authorizationServers', 'scopesSupported', 'resourceName', 'resourceDocumentation', 'maxAge']
  for (const name of Object.keys(given))
    if (!known.includes(name)) fail(`resourceMetadata.${name}`, `one of ${known.join(', ')} (unknown option)`)
  const servers =
    given.authorizationServers === undefined
      ? facts.issuers
      : stringList('resourceMetadata.authorizationServers', given.authorizationServers)
  for (const server of servers) {
    try {
      new URL(server)
    } catch {
      fail('resourceMetadata.authorizationServers', 'issuer URLs', server)
    }
  }
  const { resourceName, resourceDocumentation, maxAge = 3600 } = given
  if (resourceName !== undefined && typeof resourceName !== 'string')
    fail('resourceMetadata.resourceName', 'a string', resourceName)
  if (resourceDocumentation !== undefined)
    parseResource(resourceDocumentation, 'resourceMetadata.resourceDocumentation')
  if (!Number.isInteger(maxAge) || maxAge < 0)
    fail('resourceMetadata.maxAge', 'a whole number of seconds, 0 or more', maxAge)

  const document: Record<string, unknown> = {
    resource: identifier(resource, url),
    authorization_servers: [...servers],
  }
  if (given.scopesSupported !== undefined)
    document.scopes_supported = stringList('resourceMetadata.scopesSupported', given.scopesSupported)
  document.bearer_methods_supported = facts.bearerMethods
  if (resourceName !== undefined) document.resource_name = resourceName
  if (resourceDocumentation !== undefined) document.resource_documentation = String(resourceDocumentation)
  if (facts.dpopAlgorithms !== undefined) {
    document.dpop_signing_alg_values_supported = [...facts.dpopAlgorithms]
    if (facts.dpopRequired) document.dpop_bound_access_tokens_required = true
  }

  // §3.1: the well-known string goes between the host and the path; a path of just "/" adds nothing.
  const path = WELL_KNOWN + (url.pathname === '/' ? '' : url.pathname)
  const body = JSON.stringify(document)
  const length = new TextEncoder().encode(body).length
  const shared = {
    // Read by browser clients of other origins; the document is public.
    'access-control-allow-origin': '*',
  }
  return Object.freeze({
    resource: document.resource as string,
    path,
    url: url.origin + path,
    document: Object.freeze(document),
    respond(method: string) {
      if (method === 'GET' || method === 'HEAD')
        return {
          status: 200 as const,
          headers: {
            ...shared,
            'content-type': 'application/json',
            'cache-control': `public, max-age=${maxAge}`,
            // HEAD too: its length is GET's (RFC 9110 §8.6), which runtimes would otherwise send as 0.
            'content-length': String(length),
          },
          body: method === 'HEAD' ? '' : body,
        }
      if (method === 'OPTIONS')
        return {
          status: 204 as const,
          headers: {
            ...shared,
            'access-control-allow-methods': 'GET, HEAD, OPTIONS',
            'access-control-max-age': '86400',
          },
          body: '',
        }
      return { status: 405 as const, headers: { ...shared, allow: 'GET, HEAD, OPTIONS' }, body: '' }
    },
  })
}
