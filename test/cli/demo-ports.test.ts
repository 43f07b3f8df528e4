/**
 * `gatehouse demo` beside servers that already hold its ports: the issuer and the reference API each
 * move to a free port, the demo says which, and the two still work together. Real listeners hold the
 * ports; the reference API opens a real embedded database (slow on a loaded machine: long timeouts).
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, type Running, runCli, startCli } from './run-cli.js'

let dir: string
const blockers: Server[] = []

/** A listener on 127.0.0.1 holding a port the system chose; closed in afterAll. */
async function occupyPort(): Promise<number> {
  const server = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  blockers.push(server)
  return (server.address() as { port: number }).port
}

beforeAll(async () => {
  assertBuilt()
  dir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-demo-ports-')))
})
afterAll(async () => {
  await Promise.all(blockers.map((server) => new Promise((resolve) => server.close(resolve))))
  await rm(dir, { recursive: true, force: true })
})

describe('gatehouse demo when its ports are taken', () => {
  it('starts the issuer and the API on free ports, prints them, and they work together', async () => {
    const issuerPort = await occupyPort()
    const apiPort = await occupyPort()
    let demo: Running | undefined
    try {
      // The API port from PORT (as npm start reads it), the issuer's from its option.
      demo = startCli(['demo', '--issuer-port', String(issuerPort)], {
        cwd: dir,
        env: { PORT: String(apiPort), DATA_DIR: join(dir, 'data') },
      })
      await demo.waitFor(/Press Ctrl\+C to stop\./, 180_000)
      const output = demo.output()

      const issuerMoved = output.match(
        new RegExp(`^Port ${issuerPort} is taken: the issuer listens on port (\\d+) instead\\.$`, 'm'),
      )
      const apiMoved = output.match(
        new RegExp(`^Port ${apiPort} is taken: the reference API listens on port (\\d+) instead\\.$`, 'm'),
      )
      expect(issuerMoved, output).not.toBeNull()
      expect(apiMoved, output).not.toBeNull()
      const issuerUrl = `http://127.0.0.1:${issuerMoved![1]}`
      const apiUrl = `http://127.0.0.1:${apiMoved![1]}`
      expect(Number(issuerMoved![1])).not.toBe(issuerPort)
      expect(Number(apiMoved![1])).not.toBe(apiPort)
      expect(output).toContain(`  issuer         ${issuerUrl}   `)
      expect(output).toContain(`  reference API  ${apiUrl}   `)
      expect(output).toContain(`curl -s -w '\\n' ${apiUrl}/public`)

      // The issuer answers where the demo says, under its own URL.
      const metadata = await fetch(`${issuerUrl}/.well-known/openid-configuration`)
      expect(((await metadata.json()) as { issuer: string }).issuer).toBe(issuerUrl)
      // A token of that issuer (gatehouse token reads where it runs) is accepted by the API.
      const minted = await runCli(['token'], { cwd: dir, timeoutMs: 30_000 })
      expect(minted.stderr).toContain(`for issuer ${issuerUrl} `)
      const protectedAnswer = await fetch(`${apiUrl}/protected`, {
        headers: { authorization: `Bearer ${minted.stdout.trim()}` },
      })
      expect(protectedAnswer.status).toBe(200)
    } finally {
      const stopped = await demo?.stop('SIGTERM', 60_000)
      if (stopped !== undefined) expect(stopped.code, stopped.output).toBe(0)
    }
  }, 300_000)
})
