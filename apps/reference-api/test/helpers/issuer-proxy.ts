/**
 * A counting reverse proxy on 127.0.0.1 in front of a dev issuer: every request is forwarded as it came,
 * and recorded by path, with the `token` of each introspection request (RFC 7662 §2.1), so a test can
 * say how often the API asked about one token. The dev issuer runs in the test's process and counts
 * nothing itself; the API's processes are pointed at the proxy instead.
 *
 * Started before the issuer (whose `issuer` option may name the proxy), then `forwardTo` the issuer.
 * `close()` is the issuer going down for the API: connections refused, kept-alive ones dropped.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface IssuerProxy {
  /** `http://127.0.0.1:{port}`. */
  url: string
  /** Where requests go from now on: the issuer's origin. */
  forwardTo(origin: string): void
  /** Requests received for `path` (without query), and, with `token`, those that asked about it. */
  count(path: string, token?: string): number
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>
}

/** Largest request body read: an introspection form with a long token fits many times over. */
const MAX_BODY = 64 * 1024

export async function startIssuerProxy(): Promise<IssuerProxy> {
  let target: URL | undefined
  const seen: { path: string; token: string | undefined }[] = []

  const server = createServer((incoming, outgoing) => {
    forward(incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
  })

  async function forward(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY) throw new Error('request body too large')
      chunks.push(chunk)
    }
    const body = Buffer.concat(chunks)
    const path = (incoming.url ?? '/').split('?')[0]!
    const form = incoming.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
    const token = form ? (new URLSearchParams(body.toString('utf8')).get('token') ?? undefined) : undefined
    seen.push({ path, token })
    if (target === undefined) throw new Error('no target yet')
    const { host: _host, connection: _connection, ...headers } = incoming.headers
    const upstream = request(new URL(incoming.url ?? '/', target), {
      method: incoming.method,
      headers: { ...headers, 'content-length': String(body.length) },
    })
    upstream.end(body)
    const [answer] = (await once(upstream, 'response')) as [IncomingMessage]
    outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(outgoing)
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    forwardTo(origin) {
      target = new URL(origin)
    },
    count: (path, token) =>
      seen.filter((entry) => entry.path === path && (token === undefined || entry.token === token)).length,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
