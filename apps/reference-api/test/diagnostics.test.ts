/**
 * What the API tells its operator. Why it cannot start: `node dist/server.js` loads the issuer's keys
 * before it listens (`gate.warmUp()`), so a key set that cannot be loaded stops the start with a message
 * naming the problem, instead of a server that answers every request 503. Why it refused a request: one
 * log line per refusal with the code, the status and what was checked, never the token.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import type { Database } from '../src/db/index.js'
import { LogCapture } from './helpers/api-server.js'
import { type BuiltApp, copyBuiltApp } from './helpers/built-app.js'
import { READY, spawnNode, stopStrays } from './helpers/process.js'
import { timeoutFor } from './helpers/timeouts.js'

let built: BuiltApp
let issuer: DevIssuer
let cwd: string

beforeAll(async () => {
  ;[built, issuer, cwd] = await Promise.all([
    copyBuiltApp(),
    startDevIssuer({ dataDir: null }),
    mkdtemp(join(tmpdir(), 'gatehouse-refapi-warmup-')),
  ])
}, timeoutFor())
afterEach(stopStrays, timeoutFor('exit'))
afterAll(async () => {
  await issuer?.close()
  await built?.remove()
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('start-up warm-up', () => {
  it(
    'exits 1 naming the URL and the 404 when the JWKS URL answers 404, and never listens',
    async () => {
      const jwksUri = new URL('/no-such/jwks.json', issuer.jwksUri).href
      const proc = spawnNode(
        [join(built.dir, 'dist/server.js')],
        {
          GATEHOUSE_ISSUER: issuer.issuer,
          GATEHOUSE_AUDIENCE: issuer.audience,
          GATEHOUSE_JWKS_URL: jwksUri,
          PORT: '0',
        },
        cwd,
      )
      expect(await proc.exit(timeoutFor('pgliteOpen', 'exit'))).toEqual({ code: 1, signal: null })
      const lines = proc.stderr().trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(
        /^reference-api: gatehouse: cannot load the issuer's signing keys \(ERR_JWKS_FETCH_FAILED\)/,
      )
      expect(lines[0]).toContain(`${jwksUri} answered HTTP 404`)
      expect(proc.stdout()).not.toMatch(READY)
    },
    timeoutFor('pgliteOpen', 'exit'),
  )
})

describe('refusals in the log', () => {
  it('logs why each request was refused: code, status, cause, method and path at info; never the token', async () => {
    const logs = new LogCapture()
    // A refused request never reaches the database: none is opened.
    const app = await buildApp({
      db: {} as Database,
      auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri },
      logStream: logs,
    })
    try {
      const expired = await issuer.mint({}, { sub: 'auth0|late', expiresIn: -120 })
      const foreign = await issuer.mint({ aud: 'https://another-api.example.com' }, { sub: 'auth0|lost' })
      for (const token of [expired, foreign]) {
        const answer = await app.inject({ url: '/protected', headers: { authorization: `Bearer ${token}` } })
        expect(answer.statusCode).toBe(401)
      }
      expect((await app.inject({ url: '/protected' })).statusCode).toBe(401)

      const refusals = logs.records.filter((record) => record.msg === 'request refused')
      expect(refusals.map((r) => [r.level, r.code, r.status, r.method, r.path])).toEqual([
        [30, 'ERR_JWT_EXPIRED', 401, 'GET', '/protected'],
        [30, 'ERR_JWT_AUDIENCE_INVALID', 401, 'GET', '/protected'],
        [30, 'ERR_NO_TOKEN', 401, 'GET', '/protected'],
      ])
      // What was checked and the values involved, from the verifier.
      expect(refusals[0]!.cause).toMatchObject({ claim: 'exp' })
      expect(refusals[1]!.cause).toMatchObject({ claim: 'aud', received: 'https://another-api.example.com' })
      for (const token of [expired, foreign]) expect(logs.text).not.toContain(token.split('.')[2])
    } finally {
      await app.close()
    }
  })
})
