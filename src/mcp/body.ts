/**
 * The JSON-RPC body of a request that no framework parsed, read the way the SDK's Streamable HTTP
 * transport reads it (a bounded read, UTF-8 without a fatal decoder, `JSON.parse`), so that Gatehouse
 * sees the calls the SDK will dispatch.
 */
import type { IncomingMessage } from 'node:http'

/** The SDK transport's default `maxRequestBodySize`: 4 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024

/** A body read: its JSON value, none (`undefined`: empty or not JSON, the SDK answers), or too large. */
export type ReadBody = { tooLarge: false; value: unknown } | { tooLarge: true }

/** JSON, or undefined when the text is not JSON (the SDK answers such a body with its own 400). */
function parsed(text: string): ReadBody {
  if (text === '') return { tooLarge: false, value: undefined }
  try {
    return { tooLarge: false, value: JSON.parse(text) }
  } catch {
    return { tooLarge: false, value: undefined }
  }
}

/** A `Content-Length` over the bound refuses the body unread, as the SDK does. */
function declaredTooLarge(contentLength: string | null | undefined, maxSize: number): boolean {
  return Number(contentLength) > maxSize
}

/**
 * A Web `Request`'s body, read from a clone: the request's own body stays unread for the SDK, which
 * reads it when it is not handed the parsed value.
 */
export async function readWebBody(request: Request, maxSize: number): Promise<ReadBody> {
  if (declaredTooLarge(request.headers.get('content-length'), maxSize)) return { tooLarge: true }
  if (request.body === null) return { tooLarge: false, value: undefined }
  const reader = request.clone().body!.getReader()
  const decoder = new TextDecoder()
  let received = 0
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.byteLength
      if (received > maxSize) {
        void reader.cancel().catch(() => {})
        return { tooLarge: true }
      }
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    reader.releaseLock()
  }
  return parsed(text + decoder.decode())
}

/**
 * A `node:http` request's body, for an Express app without a JSON body parser: read here, since the
 * calls must be known before the SDK reads it. A request whose body was already read elsewhere reads
 * as none.
 */
export function readNodeBody(req: IncomingMessage, maxSize: number): Promise<ReadBody> {
  if (declaredTooLarge(req.headers['content-length'], maxSize)) return Promise.resolve({ tooLarge: true })
  if (req.readableEnded) return Promise.resolve({ tooLarge: false, value: undefined })
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder()
    let received = 0
    let text = ''
    const done = (result: ReadBody) => {
      req.off('data', data)
      req.off('end', end)
      req.off('error', reject)
      resolve(result)
    }
    const data = (chunk: Buffer) => {
      received += chunk.byteLength
      if (received > maxSize) {
        done({ tooLarge: true })
        req.resume() // the rest is drained, unread: the answer is a 413
      } else text += decoder.decode(chunk, { stream: true })
    }
    const end = () => done(parsed(text + decoder.decode()))
    req.on('data', data)
    req.once('end', end)
    req.once('error', reject)
  })
}

/** The SDK transport's answer to a body over its bound: 413 with a JSON-RPC error. */
export function tooLargeResponse(maxSize: number): {
  status: 413
  headers: Record<string, string>
  body: string
} {
  return {
    status: 413,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      error: { code: -32000, message: `Payload Too Large: Request body must not exceed ${maxSize} bytes` },
      id: null,
    }),
  }
}
