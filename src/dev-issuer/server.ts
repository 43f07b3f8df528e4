/**
 * The HTTP side of the dev issuer: routing, body limits, and the rule that any input gets a clean HTTP
 * answer (4xx JSON), never a crash or a hang.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { JWKS } from '../core/types.js'
import { type HttpResult, oauthError } from './client-auth.js'
import { handleIntrospectionRequest, type TokenAuthority } from './introspection.js'
import { PATHS } from './metadata.js'
import { isLoopbackHost } from './options.js'
import { handleRevocationRequest } from './revocation.js'
import { handleTokenRequest, type TokenIssuer, tokenError } from './token-endpoint.js'

/** Largest request body read, in bytes. A token request is a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024

export interface Routes {
  openidConfiguration(): Promise<Record<string, unknown>>
  oauthMetadata(): Promise<Record<string, unknown>>
  jwks(): Promise<JWKS>
  tokenIssuer(): TokenIssuer
  tokenAuthority(): TokenAuthority
  rotate(): Promise<{ kid: string }>
}

export function createIssuerServer(routes: Routes): Server {
  const server = createServer((req, res) => {
    route(routes, req, res).catch(() => {
      // Our bug, not the client's: answer 500 without detail rather than leaving the request hanging.
      send(req, res, { status: 500, headers: {}, body: { error: 'server_error' } })
    })
  })
  // A malformed request line or header: answer 400 and close, as Node does by default, without throwing.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    else socket.destroy()
  })
  server.requestTimeout = 10_000
  server.headersTimeout = 10_000
  return server
}

async function route(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!
  const method = req.method ?? 'GET'
  switch (path) {
    case PATHS.openidConfiguration:
    case PATHS.oauthMetadata:
    case PATHS.jwks: {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(req, res, 'GET, HEAD')
      const body =
        path === PATHS.jwks
          ? await routes.jwks()
          : path === PATHS.oauthMetadata
            ? await routes.oauthMetadata()
            : await routes.openidConfiguration()
      // Public documents: any origin may read them (browser apps fetch discovery). A short max-age keeps
      // rotations visible quickly; verifiers refetch on an unknown kid anyway.
      const cache = path === PATHS.jwks ? 'public, max-age=60' : 'public, max-age=300'
      return send(req, res, {
        status: 200,
        headers: { 'cache-control': cache, 'access-control-allow-origin': '*' },
        body,
      })
    }
    case PATHS.authorize: {
      if (method !== 'GET' && method !== 'POST') return methodNotAllowed(req, res, 'GET, POST')
      // Listed in the metadata for clients that require the member; no response type is supported
      // (RFC 6749 §3.1.1), and with no redirection URI registered the error is shown, never redirected
      // (§4.1.2.1). The body, if any, is not read, hence the closed connection.
      return send(
        req,
        res,
        oauthError(
          400,
          'unsupported_response_type',
          'This development issuer has no interactive flows: ask the token endpoint, with the client_credentials grant',
        ),
        true,
      )
    }
    case PATHS.token:
    case PATHS.m2mToken: {
      if (method !== 'POST') return methodNotAllowed(req, res, 'POST')
      const body = await readBody(req, MAX_BODY_BYTES)
      if (body === undefined) {
        return send(
          req,
          res,
          tokenError(413, 'invalid_request', `The body exceeds ${MAX_BODY_BYTES} bytes`),
          true,
        )
      }
      const result = await handleTokenRequest(
        {
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
          dpop: req.headers.dpop,
          url: addressedUrl(req, path),
          body,
        },
        routes.tokenIssuer(),
      )
      return send(req, res, result)
    }
    case PATHS.introspect:
    case PATHS.revoke: {
      if (method !== 'POST') return methodNotAllowed(req, res, 'POST')
      const body = await readBody(req, MAX_BODY_BYTES)
      if (body === undefined) {
        return send(
          req,
          res,
          tokenError(413, 'invalid_request', `The body exceeds ${MAX_BODY_BYTES} bytes`),
          true,
        )
      }
      const request = {
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        accept: req.headers.accept,
        url: addressedUrl(req, path),
        body,
      }
      const handle = path === PATHS.introspect ? handleIntrospectionRequest : handleRevocationRequest
      return send(req, res, await handle(request, routes.tokenAuthority()))
    }
    case PATHS.rotate: {
      if (method !== 'POST') return methodNotAllowed(req, res, 'POST')
      // Rotation is an operator's action: only from this machine, whatever address the server binds.
      if (!isLoopbackHost(req.socket.remoteAddress ?? '')) {
        return send(req, res, {
          status: 403,
          headers: {},
          body: { error: 'forbidden', error_description: 'Rotation is accepted from loopback only' },
        })
      }
      // A web page open on this machine could POST here too (CSRF): browsers always send Origin on a
      // cross-site POST, curl and scripts do not, so a request with Origin is refused.
      if (req.headers.origin !== undefined) {
        return send(req, res, {
          status: 403,
          headers: {},
          body: { error: 'forbidden', error_description: 'Rotation is not accepted from a browser page' },
        })
      }
      await readBody(req, MAX_BODY_BYTES)
      return send(req, res, {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: await routes.rotate(),
      })
    }
    default:
      return send(req, res, {
        status: 404,
        headers: {},
        body: { error: 'not_found', error_description: 'No such endpoint' },
      })
  }
}

/**
 * The URL of `path` as the client addressed this server: plain http (the dev issuer has no TLS), and the
 * `Host` header, so a proof made for `localhost` and one made for `127.0.0.1` are both checked against
 * what their client used (RFC 9449 §4.3 check 9), and so is a client assertion's `aud` (RFC 7523 §3).
 * Without `Host` (HTTP/1.0), the address it arrived on.
 */
function addressedUrl(req: IncomingMessage, path: string): string {
  const host = req.headers.host
  if (host !== undefined && host !== '') return `http://${host}${path}`
  const address = req.socket.localAddress ?? '127.0.0.1'
  return `http://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}${path}`
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  send(req, res, {
    status: 405,
    headers: { allow },
    body: { error: 'method_not_allowed', error_description: `Use ${allow}` },
  })
}

/** The body, or undefined when it exceeds `limit` bytes (declared or actual). Rejects if the client aborts. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.pause()
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
    req.on('aborted', () => reject(new Error('request aborted')))
  })
}

function send(req: IncomingMessage, res: ServerResponse, result: HttpResult, close = false): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const payload =
    result.body === undefined
      ? ''
      : result.contentType !== undefined
        ? String(result.body)
        : JSON.stringify(result.body)
  res.statusCode = result.status
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value)
  if (result.body !== undefined)
    res.setHeader('content-type', result.contentType ?? 'application/json; charset=utf-8')
  res.setHeader('content-length', Buffer.byteLength(payload))
  // After refusing an oversized body we stop reading it, so the connection cannot be reused.
  if (close) res.setHeader('connection', 'close')
  res.end(req.method === 'HEAD' ? undefined : payload)
}
