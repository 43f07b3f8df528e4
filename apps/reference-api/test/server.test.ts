/**
 * `node dist/server.js`, the API alone configured by the environment, run from a copy of the build in a
 * temporary folder (helpers/built-app.ts): starts and answers, exits 0 on SIGTERM, exits 2 with one line
 * naming the variable on a bad setting.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { call } from './helpers/api-server.js'
import { type BuiltApp, copyBuiltApp } from './helpers/built-app.js'
import { modesUnder } from './helpers/modes.js'
import { READY, spawnNode, stopStrays, waitFor } from './helpers/process.js'
import { timeoutFor } from './helpers/timeouts.js'

let built: BuiltApp
let issuer: DevIssuer
let cwd: string

beforeAll(async () => {
  ;[built, issuer, cwd] = await Promise.all([
    copyBuiltApp(),
    startDevIssuer({ dataDir: null }),
    mkdtemp(join(tmpdir(), 'gatehouse-refapi-server-')),
  ])
}, timeoutFor())
afterEach(stopStrays, timeoutFor('exit'))
afterAll(async () => {
  await issuer?.close()
  await built?.remove()
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

const server = (env: Record<string, string>) => spawnNode([join(built.dir, 'dist/server.js')], env, cwd)
const trust = () => ({
  GATEHOUSE_ISSUER: issuer.issuer,
  GATEHOUSE_AUDIENCE: issuer.audience,
  GATEHOUSE_JWKS_URL: issuer.jwksUri,
})

describe('node dist/server.js', () => {
  it(
    'starts from the environment, answers, and exits 0 on SIGTERM',
    async () => {
      const proc = server({ ...trust(), PORT: '0' })
      const url = await waitFor(proc, READY)
      expect((await modesUnder(join(cwd, '.gatehouse/data'))).loose).toEqual([])
      const token = await issuer.mint({}, { sub: 'auth0|standalone' })
      expect((await call(url, '/protected', { token })).body).toEqual({
        message: 'This is a protected message!',
        sub: 'auth0|standalone',
      })
      proc.child.kill('SIGTERM')
      expect(await proc.exit()).toEqual({ code: 0, signal: null })
      expect(proc.stderr()).toBe('reference-api: received SIGTERM, stopping\n')
      // DATA_DIR defaults to .gatehouse/data in the working directory; every stdout line is JSON.
      const lines = proc.stdout().trim().split('\n')
      expect(lines.every((line) => JSON.parse(line).level !== undefined)).toBe(true)
      expect(lines.filter((line) => READY.test(line))).toHaveLength(1)
      expect(lines[0]).toContain(join(cwd, '.gatehouse/data'))
    },
    timeoutFor('pgliteOpen', 'exit'),
  )

  it(
    'exits 2 with one line naming the variable for a bad setting',
    async () => {
      const cases: [Record<string, string>, string][] = [
        [{ ...trust(), GATEHOUSE_CLOCK_TOLERANCE: 'soon' }, 'GATEHOUSE_CLOCK_TOLERANCE'],
        [{ GATEHOUSE_AUDIENCE: 'https://api' }, 'GATEHOUSE_ISSUER'],
        [{ GATEHOUSE_ISSUER: 'https://issuer.example.com/' }, 'GATEHOUSE_AUDIENCE'],
        [{ ...trust(), PORT: '99999' }, 'PORT'],
        [{ ...trust(), LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      ]
      await Promise.all(
        cases.map(async ([env, variable]) => {
          const proc = server(env)
          expect(await proc.exit(), variable).toEqual({ code: 2, signal: null })
          const lines = proc.stderr().trim().split('\n')
          expect(lines, variable).toHaveLength(1)
          expect(lines[0], variable).toMatch(new RegExp(`^reference-api: ${variable}: `))
          expect(proc.stdout(), variable).toBe('')
        }),
      )
    },
    timeoutFor('exit'),
  )

  it(
    'exits 2 naming DATABASE_URL, without its password, when the URL is malformed',
    async () => {
      const proc = server({ ...trust(), DATABASE_URL: 'mysql://user:Secret-pw@127.0.0.1/db' })
      expect(await proc.exit()).toEqual({ code: 2, signal: null })
      expect(proc.stderr()).toContain('DATABASE_URL')
      expect(proc.stderr()).not.toContain('Secret-pw')
      expect(proc.stderr().trim().split('\n')).toHaveLength(1)
    },
    timeoutFor('exit'),
  )
})
