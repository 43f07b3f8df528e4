/**
 * The URL a client addressed, for DPoP's `htu` (RFC 9449 §4.3 check 9): what the server received, a
 * fixed public URL, or what a trusted proxy says in `Forwarded` / `X-Forwarded-*`. Headers a client can
 * write are read only when the application says a proxy sets them.
 */
import { fail } from '../config/options.js'
import { type HeaderSource, readHeader } from './bearer.js'

export interface RequestUrlOptions {
  publicUrl?: string | URL | undefined
  trustForwardedHeaders?: boolean | undefined
}

interface UrlRequest {
  headers: HeaderSource
  url?: string | URL
  origin?: string
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i

/** Build the function that gives a request's absolute URL; options are validated here, once. */
export function createRequestUrl(options: RequestUrlOptions): (request: UrlRequest) => string {
  const { publicUrl, trustForwardedHeaders = false } = options
  if (typeof trustForwardedHeaders !== 'boolean')
    fail('trustForwardedHeaders', 'a boolean', trustForwardedHeaders)
  if (publicUrl !== undefined) {
    const base = parsePublicUrl(publicUrl)
    return (request) => base + pathOf(request.url)
  }
  if (trustForwardedHeaders) {
    return (request) => (forwardedOrigin(request.headers) ?? originOf(request)) + pathOf(request.url)
  }
  return (request) => originOf(request) + pathOf(request.url)
}

/** `https://api.example.com` or `https://example.com/api`: no query, no fragment, no trailing slash. */
function parsePublicUrl(value: string | URL): string {
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    fail('publicUrl', 'an absolute http(s) URL such as "https://api.example.com"', String(value))
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail('publicUrl', 'an http or https URL', String(value))
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    fail('publicUrl', 'an origin with an optional path: no query, fragment or credentials', String(value))
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/**
 * The path of a request URL (absolute, or as Node gives it); `/` when there is none. Without the query:
 * `htu` leaves it out (RFC 9449 §4.3 check 9), and a query may carry a token (RFC 6750 §2.3) that must
 * not reach an error's `cause`.
 */
function pathOf(url: string | URL | undefined): string {
  if (url === undefined) return '/'
  const text = String(url)
  const start = ABSOLUTE.exec(text)?.[0].length ?? 0
  const end = text.slice(start).search(/[?#]/)
  const rest = end === -1 ? text.slice(start) : text.slice(start, start + end)
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`
}

function first(value: string | readonly string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : (value as string | undefined)
  return text?.split(',')[0]?.trim() || undefined
}

/** The origin as this server received the request: the adapter's, an absolute URL's, else http + Host. */
function originOf(request: UrlRequest): string {
  if (request.origin !== undefined) return request.origin
  const absolute = request.url === undefined ? undefined : ABSOLUTE.exec(String(request.url))?.[0]
  if (absolute !== undefined) return absolute
  return `http://${first(readHeader(request.headers, 'host')) ?? ''}`
}

const HOST = /^[A-Za-z0-9.\-_~%!$&'()*+;=:[\]]+$/

/** RFC 7239 `Forwarded: proto=https;host=api.example.com`, else `X-Forwarded-Proto` and `-Host`. */
function forwardedOrigin(headers: HeaderSource): string | undefined {
  let proto: string | undefined
  let host: string | undefined
  const forwarded = first(readHeader(headers, 'forwarded'))
  if (forwarded !== undefined) {
    for (const pair of forwarded.split(';')) {
      const equals = pair.indexOf('=')
      if (equals === -1) continue
      const name = pair.slice(0, equals).trim().toLowerCase()
      const value = pair
        .slice(equals + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
      if (name === 'proto') proto = value.toLowerCase()
      else if (name === 'host') host = value
    }
  } else {
    proto = first(readHeader(headers, 'x-forwarded-proto'))?.toLowerCase()
    host = first(readHeader(headers, 'x-forwarded-host'))
  }
  if (proto !== 'http' && proto !== 'https') proto = undefined
  if (host !== undefined && !HOST.test(host)) host = undefined
  if (proto === undefined && host === undefined) return undefined
  return `${proto ?? 'http'}://${host ?? first(readHeader(headers, 'host')) ?? ''}`
}
