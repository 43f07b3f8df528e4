/**
 * Bearer token extraction (RFC 6750 §2). The Authorization header is the default and the only location
 * on by default; the query parameter (§2.3) and the form body (§2.2) leak tokens into logs and caches and
 * are read only when enabled. A token sent more than one way is `invalid_request` (§2: "MUST NOT use
 * more than one method"); in strict mode that holds even for the locations that are not read.
 */
import { GatehouseError } from '../errors.js'

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const BEARER_PREFIX = /^bearer /i
const DPOP_PREFIX = /^dpop /i

export type TokenLocation = 'header' | 'query' | 'body'

/** Header values as the platforms give them: Web `Headers`, or Node's record (arrays for repeats). */
export type HeaderSource =
  | Headers
  | { get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>

export interface BearerRequest {
  headers: HeaderSource
  /**
   * The request URL (absolute, or the path with its query as Node gives it), for `access_token` when
   * 'query' is enabled. Only what follows `?` (up to any `#`) is read as the query.
   */
  url?: string | URL
  /** A parsed form body (`application/x-www-form-urlencoded`), for `access_token` when 'body' is enabled. */
  body?: unknown
}

const invalid = (why: string) => new GatehouseError('ERR_INVALID_REQUEST', why)

/**
 * A header's value as the platform gives it: a string (Fetch's `Headers` and Node join repeated fields
 * with `, `), an array for fields Node keeps apart, or undefined. `name` in lower case.
 */
export function readHeader(headers: HeaderSource, name: string): string | readonly string[] | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const record = headers as Record<string, string | readonly string[] | undefined>
  let value = record[name]
  if (value === undefined) {
    // Plain records may keep the sender's casing.
    for (const key of Object.keys(record)) if (key.toLowerCase() === name) value = record[key]
  }
  return value
}

/** The Authorization header's value; several values (repeated headers) are `invalid_request`. */
export function readAuthorization(headers: HeaderSource): string | undefined {
  const value = readHeader(headers, 'authorization')
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalid('Several Authorization headers')
    return value[0]
  }
  return value as string | undefined
}

/**
 * The token in an Authorization header value, undefined when it carries no Bearer credentials (absent,
 * or another scheme: RFC 6750 §3.1 answers that without an error code). Throws `invalid_request` for
 * Bearer credentials that are malformed or repeated.
 */
export function parseAuthorization(value: string | undefined | null): string | undefined {
  return parseCredentials(value, false)?.token
}

/** How a token was presented: `Authorization: Bearer` (or a query or form parameter), or `Authorization: DPoP`. */
export type TokenScheme = 'bearer' | 'dpop'

/** A token and the scheme it came with. */
export interface PresentedToken {
  token: string
  scheme: TokenScheme
}

const SCHEME_PART = /^\s*(bearer|dpop)(\s|$)/i
const BEARER_PART = /^\s*bearer(\s|$)/i

/**
 * The credentials in an Authorization header value: Bearer (RFC 6750 §2.1), and DPoP (RFC 9449 §7.1)
 * when `dpop` is set; undefined for absent or other schemes. Both carry a token68 with the same syntax.
 * Throws `invalid_request` for such credentials that are malformed or repeated.
 */
export function parseCredentials(
  value: string | undefined | null,
  dpop: boolean,
): PresentedToken | undefined {
  if (value === undefined || value === null) return undefined
  // Fast path, one scan of the token: `Bearer <b64token>` as every client sends it. Anything else (other
  // spacing, other schemes, several credentials) takes the general path below, with the same answers.
  if (value.length > 7 && value.charCodeAt(6) === 32 && BEARER_PREFIX.test(value)) {
    const credentials = value.slice(7)
    if (B64TOKEN.test(credentials)) return { token: credentials, scheme: 'bearer' }
  }
  // The same for `DPoP <token68>` (RFC 9449 §7.1).
  if (dpop && value.length > 5 && value.charCodeAt(4) === 32 && DPOP_PREFIX.test(value)) {
    const credentials = value.slice(5)
    if (B64TOKEN.test(credentials)) return { token: credentials, scheme: 'dpop' }
  }
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  // Repeated headers reach us joined with ", " (Fetch's Headers); a comma never occurs in a b64token.
  const parts = trimmed.split(',')
  if (parts.length > 1) {
    if (parts.some((part) => (dpop ? SCHEME_PART : BEARER_PART).test(part)))
      throw invalid('Several credentials in the Authorization header')
    return undefined
  }
  const space = trimmed.search(/\s/)
  // RFC 7235 §2.1: the scheme is case-insensitive.
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase()
  if (scheme !== 'bearer' && !(dpop && scheme === 'dpop')) return undefined
  const name = scheme === 'bearer' ? 'Bearer' : 'DPoP'
  const credentials = space === -1 ? '' : trimmed.slice(space).replace(/^[ \t]+/, '')
  if (credentials === '') throw invalid(`${name} scheme without a token`)
  if (!B64TOKEN.test(credentials)) throw invalid(`Malformed ${name} token`)
  return { token: credentials, scheme }
}

/** The query of a URL or path: what follows `?`, up to any `#` (RFC 3986 §3.4); undefined without `?`. */
function queryOf(url: string | URL | undefined): URLSearchParams | undefined {
  if (url === undefined) return undefined
  const text = String(url)
  const start = text.indexOf('?')
  if (start === -1) return undefined
  const end = text.indexOf('#', start)
  return new URLSearchParams(end === -1 ? text.slice(start + 1) : text.slice(start + 1, end))
}

function queryToken(url: string | URL | undefined): string | undefined {
  const values = queryOf(url)?.getAll('access_token')
  if (values === undefined) return undefined
  if (values.length > 1) throw invalid('Several access_token parameters')
  return values[0]
}

function bodyToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const value = (body as Record<string, unknown>).access_token
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalid('Several or malformed access_token parameters')
  return value
}

export interface ExtractOptions {
  /** Also read `Authorization: DPoP <token>` (RFC 9449 §7.1). Default false: only Bearer. */
  dpop?: boolean
  /**
   * Refuse (`invalid_request`) a request whose Authorization header carries Bearer credentials while its
   * query or form body also has an `access_token` parameter, whichever locations are read (RFC 6750 §2:
   * one method per request). The body is seen only when the caller passes it. Default false.
   */
  strict?: boolean
}

/** Whether the request uses more than one of the three methods, read or not (strict mode). */
function severalMethods(request: BearerRequest, dpop: boolean): boolean {
  const header = readAuthorization(request.headers)
  if (header === undefined || header === null || !(dpop ? SCHEME_PART : BEARER_PART).test(header))
    return false
  if (queryOf(request.url)?.has('access_token')) return true
  const { body } = request
  return typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token')
}

/**
 * Extract the bearer token of a request from the enabled locations (default: the header only).
 * Returns undefined when there is none; throws a GatehouseError (`invalid_request`) when it is malformed
 * or sent more than one way.
 */
export function extractBearer(
  request: BearerRequest,
  locations: readonly TokenLocation[] = ['header'],
  options: ExtractOptions = {},
): string | undefined {
  return extractToken(request, locations, { ...options, dpop: false })?.token
}

/**
 * The token of a request and how it was presented: as {@link extractBearer}, with `Authorization: DPoP`
 * read too when `options.dpop` is set (the query and the form body are Bearer only, RFC 9449 §7.1).
 */
export function extractToken(
  request: BearerRequest,
  locations: readonly TokenLocation[] = ['header'],
  options: ExtractOptions = {},
): PresentedToken | undefined {
  const dpop = options.dpop === true
  if (options.strict && severalMethods(request, dpop)) throw invalid('Token sent in more than one way')
  let found: PresentedToken | undefined
  for (const location of locations) {
    let presented: PresentedToken | undefined
    if (location === 'header') {
      presented = parseCredentials(readAuthorization(request.headers), dpop)
    } else {
      const token = location === 'query' ? queryToken(request.url) : bodyToken(request.body)
      if (token === undefined) continue
      if (!B64TOKEN.test(token)) throw invalid('Malformed bearer token')
      presented = { token, scheme: 'bearer' }
    }
    if (presented === undefined) continue
    if (found !== undefined) throw invalid('Token sent in more than one way')
    found = presented
  }
  return found
}
