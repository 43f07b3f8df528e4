/**
 * The request headers of a `node:http` request as the core must see them.
 *
 * Node keeps only the first of repeated `Authorization` headers in `req.headers` (Node docs, "message.headers":
 * duplicates of `authorization` are discarded). A request with two sets of credentials is ambiguous and the
 * core rejects it as `invalid_request` (RFC 6750 §2: one method per request; RFC 7230 §3.2.2: a field that is
 * not a list must not be repeated), as it does on Fetch runtimes, where `Headers` joins the values. So the
 * adapters built on `IncomingMessage` (Express, Fastify, node:http, NestJS on Express or Fastify) hand the
 * core every value that was sent.
 */
import type { IncomingMessage } from 'node:http'
import type { HeaderSource } from '../core/http/bearer.js'

/**
 * `req.headers`, except that a repeated `Authorization` header keeps all its values, joined with `", "` as
 * Fetch's `Headers` joins them, so that every runtime gets the same answer. Costs one pass over `rawHeaders`
 * comparing lengths; the common request allocates nothing.
 */
export function headersOf(req: Pick<IncomingMessage, 'headers' | 'rawHeaders'>): HeaderSource {
  const raw = req.rawHeaders
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 13 && name.toLowerCase() === 'authorization') seen++
  }
  if (seen < 2) return req.headers
  const values: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.toLowerCase() === 'authorization') values.push(raw[i + 1]!)
  return { ...req.headers, authorization: values.join(', ') }
}

/**
 * Scheme and host of a request as this server received it (`http://127.0.0.1:3000`): https when the
 * socket is TLS, and the `Host` header. What DPoP's `htu` is compared with when the gate has no
 * `publicUrl` (a proxy's `X-Forwarded-*` only with the gate's `trustForwardedHeaders`).
 */
export function originOf(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
  const tls = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true
  return `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`
}
