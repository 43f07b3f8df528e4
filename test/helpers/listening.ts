/**
 * The origin of a test server once it listens on 127.0.0.1, with its closing added to the file's
 * `closers` (open connections dropped first, so that keep-alive clients do not hold `close` up).
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Closer = () => Promise<unknown> | unknown

export async function listening(server: Server, closers: Closer[]): Promise<string> {
  if (!server.listening) await once(server, 'listening')
  closers.push(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
