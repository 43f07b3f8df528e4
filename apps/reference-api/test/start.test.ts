/**
 * `startReferenceApi`, the function the CLI starts: one ready line, graceful shutdown (requests in flight
 * finish, then the gate and the database close), data kept across a restart, clean failure on a busy port,
 * a data folder no other user can read.
 *
 * Each test has its own data folder (a copy of an earlier test's when it needs an initialised one), and
 * every API a test starts is closed after it even when the test failed or timed out, so one failure never
 * leaves a folder locked for the next test.
 */
import { existsSync } from 'node:fs'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type ReferenceApiOptions, type RunningApi, startReferenceApi } from '../src/index.js'
import { call, LogCapture } from './helpers/api-server.js'
import { modesUnder } from './helpers/modes.js'
import { STEP_MS, timeoutFor } from './helpers/timeouts.js'

let issuer: DevIssuer
let root: string
let token: string

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  root = await mkdtemp(join(tmpdir(), 'gatehouse-refapi-start-'))
  token = await issuer.mint({ scope: 'read:messages write:messages' }, { sub: 'auth0|restart' })
})
afterAll(async () => {
  await issuer?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

/** Every start of this file, settled or not: closed after each test, whatever the test did. */
const started: Promise<RunningApi>[] = []
afterEach(async () => {
  const starts = started.splice(0)
  await Promise.all(starts.map((start) => start.then((api) => api.close()).catch(() => {})))
}, timeoutFor('pgliteOpen'))

function start(options: Omit<ReferenceApiOptions, 'auth'>): Promise<RunningApi> {
  const starting = startReferenceApi({ port: 0, auth: auth(), ...options })
  started.push(starting)
  return starting
}

let folders = 0
/** A data folder of its own for one test: `<root>/<n>/data`, not created yet. */
const freshDataDir = () => join(root, String(++folders), 'data')
/** The first test's folder once that test has passed and closed it: initialised, migrated and private. */
let initialised: string | undefined
/**
 * A folder of its own for a test that needs an initialised database but not a first start: a copy of
 * `initialised` (a first start runs PGlite's initdb, the slow part), or a new folder when there is none.
 */
async function initialisedDataDir(): Promise<string> {
  const dataDir = freshDataDir()
  if (initialised !== undefined) await cp(initialised, dataDir, { recursive: true })
  return dataDir
}

const auth = () => ({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri })

/** A POST whose body is held back until `finish()`, so it is in flight while the server closes. */
function slowPost(url: string, text: string) {
  const target = new URL(`${url}/api/messages`)
  const body = JSON.stringify({ text })
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    authorization: `Bearer ${token}`,
  }
  const req = httpRequest({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    headers,
  })
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let data = ''
      res.on('data', (chunk: Buffer) => {
        data += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }))
    })
    req.on('error', reject)
  })
  req.write(body.slice(0, 5))
  return { answer, finish: () => req.end(body.slice(5)) }
}

describe('startReferenceApi', () => {
  it(
    'logs one ready line, keeps its data folder private, finishes requests in flight on close, restarts',
    async () => {
      const dataDir = freshDataDir()
      const logs = new LogCapture()
      const api = await start({ dataDir, logStream: logs })
      const port = new URL(api.url).port
      expect(api.url).toBe(`http://127.0.0.1:${port}`)
      expect(logs.records).toHaveLength(1)
      expect(logs.records[0]).toMatchObject({ level: 30, msg: expect.stringContaining('ready') })
      expect(logs.records[0]!.msg).toContain(`127.0.0.1:${port}`)
      expect(logs.records[0]!.msg).toContain(`pglite ${dataDir}`)
      // PGlite's initdb writes about a thousand files (0666 of its own accord): every one is private now.
      const modes = await modesUnder(dataDir)
      expect(modes.files).toBeGreaterThan(500)
      expect(modes.loose).toEqual([])

      const first = await call(api.url, '/api/messages', {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'written before the restart' }),
      })
      expect(first.status).toBe(201)

      const routed = () => logs.records.filter((r) => r.msg === 'incoming request').length
      const before = routed()
      const inFlight = slowPost(api.url, 'finished during shutdown')
      // Close only once the server has routed the request: it is then in flight, waiting for its body.
      for (const deadline = Date.now() + STEP_MS.quick; routed() === before && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(routed()).toBe(before + 1)
      const closing = api.close()
      expect(api.close()).toBe(closing)
      await new Promise((resolve) => setTimeout(resolve, 100))
      inFlight.finish()
      const answer = await inFlight.answer
      expect(answer.status).toBe(201)
      expect(JSON.parse(answer.body)).toMatchObject({ text: 'finished during shutdown' })
      await closing
      await expect(fetch(`${api.url}/public`)).rejects.toThrow()
      await expect(api.db.ping()).rejects.toThrow()
      expect((await modesUnder(dataDir)).loose).toEqual([])

      const again = await start({ dataDir, logLevel: 'silent' })
      const list = await call(again.url, '/api/messages', { token })
      expect(list.body.map((m: { text: string }) => m.text)).toEqual([
        'written before the restart',
        'finished during shutdown',
      ])
      await again.close()
      initialised = dataDir
    },
    timeoutFor('pgliteOpen', 'pgliteReopen'),
  )

  it(
    'fails on a busy port, releasing the database for the next start',
    async () => {
      const dataDir = await initialisedDataDir()
      const busy: Server = createServer()
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
      const { port } = busy.address() as { port: number }
      try {
        await expect(start({ port, dataDir, logLevel: 'silent' })).rejects.toThrow(/EADDRINUSE/)
      } finally {
        await new Promise((resolve) => busy.close(resolve))
      }
      const next = await start({ dataDir, logLevel: 'silent' })
      expect((await call(next.url, '/public')).status).toBe(200)
    },
    timeoutFor('pgliteOpen', 'pgliteReopen'),
  )

  it('refuses invalid options with a TypeError naming the option, before opening anything', async () => {
    const cases: [object, RegExp][] = [
      [{ port: 70000, auth: auth() }, /^port:/],
      [{ port: -1, auth: auth() }, /^port:/],
      [{ host: '', auth: auth() }, /^host:/],
      [{ logLevel: 'loud', auth: auth() }, /^logLevel:/],
      [{}, /^auth:/],
    ]
    for (const [options, message] of cases) {
      const missing = freshDataDir()
      const error = await startReferenceApi({ dataDir: missing, ...options } as never).catch((e: Error) => e)
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toMatch(message)
      expect(existsSync(missing)).toBe(false)
    }
  })
})
