/**
 * Authorization server discovery: read the issuer's metadata to learn its `jwks_uri` (Okta, Keycloak and
 * Entra publish keys at paths no default guesses). Two well-known locations are tried in order:
 *
 * 1. OpenID Connect Discovery 1.0 §4: `{issuer without trailing /}/.well-known/openid-configuration`
 *    (appended to the issuer's path);
 * 2. RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the host and the
 *    issuer's path.
 *
 * The second is tried only when the first yields no JSON document (network error, non-200, timeout,
 * oversized or non-JSON body). A document that answers but fails the checks below is conclusive.
 */
import { GatehouseError } from '../errors.js'
import { isAllowedUrl, SECURE_URL_RULE } from '../lib/loopback.js'
import { checkFetchOptions, type FetchOptions, fetchJson } from './fetch-json.js'
import { createRemoteKeySet, type RemoteKeySetOptions, type RemoteKeyStore } from './remote.js'

/** Authorization server metadata (RFC 8414 §2). Only `issuer` and `jwks_uri` are checked. */
export interface AuthorizationServerMetadata {
  issuer: string
  jwks_uri: string
  token_endpoint?: string
  authorization_endpoint?: string
  [member: string]: unknown
}

/**
 * The `cause` of ERR_DISCOVERY_FAILED when neither well-known location returned a JSON document (as
 * opposed to a document that answered and failed a check, e.g. an issuer mismatch). Lets a caller fall
 * back to a default JWKS URL for providers without metadata, without ever papering over a mismatch.
 * `errors` holds one Error per URL tried.
 */
export class NoMetadataError extends AggregateError {
  override readonly name = 'NoMetadataError'
}

/**
 * Options of {@link discover}: the same bounded fetch as the key store (timeout 5 s per location tried,
 * body ≤ 1 MiB).
 */
export interface DiscoveryOptions extends FetchOptions {
  /**
   * Accept plain http for the issuer and `jwks_uri` on any host, not only on loopback hosts: for a
   * development network only. Each such host is reported once with `process.emitWarning`. Default false.
   */
  allowInsecureRequests?: boolean
}

const CODES = {
  failed: 'ERR_DISCOVERY_FAILED',
  timeout: 'ERR_DISCOVERY_FAILED',
  invalid: 'ERR_DISCOVERY_FAILED',
  'too-large': 'ERR_DISCOVERY_FAILED',
} as const

/**
 * The two metadata URLs for an issuer, in the order {@link discover} tries them.
 *
 * @example
 * ```ts
 * discoveryUrls('https://id.example.com/realms/x')
 * // https://id.example.com/realms/x/.well-known/openid-configuration
 * // https://id.example.com/.well-known/oauth-authorization-server/realms/x
 * ```
 * @throws TypeError when `issuer` is not an https (or loopback http, or with `allowInsecureRequests` any
 *   http) URL without query or fragment.
 */
export function discoveryUrls(
  issuer: string,
  { allowInsecureRequests = false }: { allowInsecureRequests?: boolean } = {},
): [oidc: URL, rfc8414: URL] {
  const url = parseIssuer(issuer, allowInsecureRequests)
  // Both specs remove a terminating "/" from the path before building the well-known URL.
  const path = url.pathname.replace(/\/$/, '')
  return [
    new URL(`${url.origin}${path}/.well-known/openid-configuration`),
    new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`),
  ]
}

/**
 * Fetch and check the issuer's metadata.
 *
 * Checks: the document is a JSON object; its `issuer` equals the configured `issuer` exactly (RFC 8414
 * §3.3, OIDC Discovery §4.3 — a trailing slash is significant and never added or removed); `jwks_uri` is
 * an https URL, or http on a loopback host (any http with `allowInsecureRequests`). Each location gets its
 * own `timeoutDuration`, so a first location that hangs leaves time for the second. Does NOT check any
 * other member, nor follow redirects.
 *
 * @example
 * ```ts
 * const { jwks_uri } = await discover('https://id.example.com/realms/x')
 * ```
 * @throws TypeError for a malformed `issuer` or options (a programming error).
 * @throws GatehouseError `ERR_DISCOVERY_FAILED` for anything the server does; the detail is in `cause`: a
 *   {@link NoMetadataError} when neither location gave a document, an Error naming the failed check
 *   (both issuer values, the bad `jwks_uri`) otherwise.
 */
export async function discover(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const checked = checkFetchOptions(options)
  const { allowInsecureRequests = false } = options
  if (typeof allowInsecureRequests !== 'boolean')
    throw new TypeError('allowInsecureRequests: expected a boolean')
  const urls = discoveryUrls(issuer, { allowInsecureRequests })
  const failures: Error[] = []
  for (const url of urls) {
    let document: unknown
    try {
      document = await fetchJson(url, 'application/json', checked, CODES)
    } catch (error) {
      failures.push(new Error(`${url.href}: ${detail(error)}`, { cause: error }))
      continue
    }
    return checkMetadata(document, issuer, url, allowInsecureRequests)
  }
  throw new GatehouseError('ERR_DISCOVERY_FAILED', undefined, {
    cause: new NoMetadataError(
      failures,
      `no metadata for issuer ${issuer}: ${failures.map((f) => f.message).join('; ')}`,
    ),
  })
}

/** Options of {@link discoverKeySet}: those of the remote key set, which discovery's fetches use too. */
export interface DiscoveredKeySetOptions extends RemoteKeySetOptions {
  /**
   * When neither metadata location gives a document (AuthAction, plain JWKS hosts), fetch
   * `{issuer}/.well-known/jwks.json` instead: what `discovery: 'auto'` does. A document that answers but
   * fails a check (an issuer mismatch) is never papered over. Default false: no document is a failure.
   */
  fallback?: boolean
}

/**
 * A remote key store whose JWKS URL is the issuer's metadata `jwks_uri` (see {@link discover}): the
 * explicit form of the verifier's `discovery` option, for a store you configure, share or close yourself.
 * Nothing is fetched here: discovery runs at the store's first fetch, within twice `timeoutDuration`,
 * and its failures are fetch failures (503, cooldown included). The URL found is kept once a key set was
 * fetched from it.
 *
 * @example
 * ```ts
 * const keys = discoverKeySet('https://id.example.com/realms/shop', { timeoutDuration: 2_000 })
 * const verifier = createVerifier({ issuer: 'https://id.example.com/realms/shop', audience, keys })
 * ```
 * @throws TypeError for a malformed `issuer` (see {@link discoveryUrls}), `fallback`, or key set option.
 */
export function discoverKeySet(issuer: string, options: DiscoveredKeySetOptions = {}): RemoteKeyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object')
  const { fallback = false, ...transport } = options
  if (typeof fallback !== 'boolean') throw new TypeError('fallback: expected a boolean')
  const store = createRemoteKeySet(() => discoveredJwksUri(issuer, fallback, transport), transport)
  // Checked now, after the options (allowInsecureRequests among them): a wrong issuer stops construction.
  discoveryUrls(issuer, { allowInsecureRequests: transport.allowInsecureRequests === true })
  return store
}

async function discoveredJwksUri(issuer: string, fallback: boolean, options: DiscoveryOptions): Promise<URL> {
  try {
    return new URL((await discover(issuer, options)).jwks_uri)
  } catch (error) {
    if (fallback && error instanceof GatehouseError && error.cause instanceof NoMetadataError)
      return new URL(`${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`)
    throw error
  }
}

function checkMetadata(
  document: unknown,
  issuer: string,
  url: URL,
  allowInsecureRequests: boolean,
): AuthorizationServerMetadata {
  const invalid = (message: string) =>
    new GatehouseError('ERR_DISCOVERY_FAILED', undefined, { cause: new Error(`${url.href}: ${message}`) })
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw invalid('the metadata document is not a JSON object')
  }
  const metadata = document as Record<string, unknown>
  if (metadata.issuer !== issuer) {
    const seen = typeof metadata.issuer === 'string' ? `"${metadata.issuer}"` : 'no string issuer'
    throw invalid(
      `the metadata names ${seen} but the configured issuer is "${issuer}"; they must match exactly ` +
        '(a trailing slash counts). If this server is the one you mean, configure issuer as ' +
        (typeof metadata.issuer === 'string'
          ? `"${metadata.issuer}"`
          : 'the value its tokens carry in "iss"'),
    )
  }
  const jwksUri = metadata.jwks_uri
  if (typeof jwksUri !== 'string') throw invalid('the metadata has no string "jwks_uri"')
  let parsed: URL
  try {
    parsed = new URL(jwksUri)
  } catch {
    throw invalid(`"jwks_uri" is not an absolute URL: ${JSON.stringify(jwksUri)}`)
  }
  if (!isAllowedUrl(parsed, allowInsecureRequests))
    throw invalid(`"jwks_uri" must be ${SECURE_URL_RULE}, got ${parsed.href}`)
  return metadata as AuthorizationServerMetadata
}

function parseIssuer(issuer: string, allowInsecureRequests: boolean): URL {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new TypeError(`issuer: expected an absolute URL, got ${JSON.stringify(issuer)}`)
  }
  if (!isAllowedUrl(url, allowInsecureRequests))
    throw new TypeError(`issuer: expected ${SECURE_URL_RULE} for discovery`)
  // RFC 8414 §2: the issuer identifier has no query or fragment.
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new TypeError('issuer: expected a URL without query or fragment (RFC 8414 §2)')
  }
  return url
}

function detail(error: unknown): string {
  const cause = error instanceof GatehouseError ? error.cause : error
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : ''
    return cause.message + inner
  }
  return String(cause)
}
