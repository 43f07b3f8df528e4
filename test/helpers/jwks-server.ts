/**
 * A controllable HTTP server on 127.0.0.1 for key-store and discovery tests: each path answers what the
 * test last `set` for it, and every request is counted. Real sockets, no mocks.
 *
 * @example
 * ```ts
 * const server = await startJwksServer({ '/jwks.json': { json: { keys: [jwk] } } })
 * afterEach(() => server.close())
 * const keys = createRemoteKeySet(server.url('/jwks.json'))
 * server.set('/jwks.json', { status: 500, body: 'down' })
 * expect(server.hits('/jwks.json')).toBe(1)
 * ```
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** What a path answers. */
export type Reply =
  /** A JSON document (status 200 unless given), after an optional delay. */
  | { json: unknown; status?: number; headers?: Record<string, string>; delayMs?: number }
  /** A raw body (string or bytes), after an optional delay. */
  | { body: string | Uint8Array; status?: number; headers?: Record<string, string>; delayMs?: number }
  /** Accept the request and never answer (the socket is destroyed by `close()`). */
  | 'hang'
  /** Anything else: write the response yourself. */
  | ((req: IncomingMessage, res: ServerResponse) => void)

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
}

export interface JwksServer {
  /** `http://127.0.0.1:{port}`: a loopback origin, so plain http is allowed. */
  readonly origin: string
  /** Absolute URL of a path on this server. */
  url(path: string): string
  /** Make `path` answer `reply` from now on. */
  set(path: string, reply: Reply): void
  /** Requests received for `path` so far. */
  hits(path: string): number
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[]
  /** Stop listening and destroy every open socket, hanging ones included. Idempotent. */
  close(): Promise<void>
}

/** Start a server on 127.0.0.1 with an ephemeral port. Unknown paths answer 404. */
export async function startJwksServer(routes: Record<string, Reply> = {}): Promise<JwksServer> {
  const table = new Map(Object.entries(routes))
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers })
    const reply = table.get(path)
    if (reply === undefined)
      return send(res, 404, { 'content-type': 'application/json' }, '{"error":"not_found"}')
    if (reply === 'hang') return
    if (typeof reply === 'function') return reply(req, res)
    const isJson = 'json' in reply
    const body = isJson ? JSON.stringify(reply.json) : reply.body
    const headers = { 'content-type': isJson ? 'application/json' : 'text/plain', ...reply.headers }
    const respond = () => send(res, reply.status ?? 200, headers, body)
    if (!reply.delayMs) return respond()
    const timer = setTimeout(() => {
      timers.delete(timer)
      respond()
    }, reply.delayMs)
    timers.add(timer)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`

  let closed: Promise<void> | undefined
  return {
    origin,
    url: (path) => new URL(path, origin).href,
    set: (path, reply) => void table.set(path, reply),
    hits: (path) => requests.filter((request) => request.path === path).length,
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closed
    },
  }
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
) {
  if (res.destroyed) return
  res.writeHead(status, headers)
  res.end(body)
}
