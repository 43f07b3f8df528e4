/**
 * A controllable introspection endpoint on 127.0.0.1 (real sockets, no mocks): it records every call (its
 * headers and its parsed form) and answers with what the test last `set`: a JSON object, raw text with a
 * content type, a function of the form, or a hang.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface Call {
  headers: IncomingHttpHeaders
  form: URLSearchParams
  /** The raw body, as received. */
  body: string
}

export type Answer =
  | { json: unknown; status?: number; delayMs?: number }
  | { body: string | Uint8Array; contentType: string; status?: number }
  /** Headers never sent. */
  | 'hang'
  | ((call: Call, res: ServerResponse) => void)

export interface IntrospectionServer {
  /** `http://127.0.0.1:{port}/introspect`. */
  readonly url: string
  readonly calls: readonly Call[]
  set(answer: Answer): void
  close(): Promise<void>
}

export const PATH = '/introspect'

export async function startIntrospectionServer(answer: Answer): Promise<IntrospectionServer> {
  let current = answer
  const calls: Call[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const server = createServer((req, res) => {
    readBody(req).then((body) => {
      const call = { headers: req.headers, form: new URLSearchParams(body), body }
      calls.push(call)
      const reply = current
      if (reply === 'hang') return
      if (typeof reply === 'function') return reply(call, res)
      if ('json' in reply) {
        const send = () => {
          if (res.destroyed) return
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' })
          res.end(JSON.stringify(reply.json))
        }
        if (!reply.delayMs) return send()
        const timer = setTimeout(() => {
          timers.delete(timer)
          send()
        }, reply.delayMs)
        timers.add(timer)
        return
      }
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType })
      res.end(reply.body)
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}${PATH}`,
    calls,
    set: (next) => {
      current = next
    },
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => resolve(''))
  })
}

/** A clock the test moves: milliseconds since the epoch. */
export function testClock(start = Date.UTC(2030, 0, 1)): { now: () => number; advance(ms: number): void } {
  let at = start
  return {
    now: () => at,
    advance(ms) {
      at += ms
    },
  }
}

/** The rejection of `promise`, which must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}
