/**
 * A minimal HTTP client for the contract suite, on node:http so that a test controls every header byte
 * (fetch would merge or refuse some of the malformed requests the suite sends).
 */
import { request as httpRequest } from 'node:http'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The raw body text. */
  text: string
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown
}

export interface CallOptions {
  method?: string
  /** An array value sends the header once per item (repeated headers). */
  headers?: Record<string, string | string[]>
  timeoutMs?: number
}

/** One request on a fresh connection (no keep-alive, so stopping an example never waits on a socket). */
export function call(url: string, options: CallOptions = {}): Promise<Answer> {
  const { method = 'GET', headers = {}, timeoutMs = 5_000 } = options
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = text === '' ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)),
    )
    req.on('error', reject)
    req.end()
  })
}

/** `Authorization: Bearer <token>`. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
