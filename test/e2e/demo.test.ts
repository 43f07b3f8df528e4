/**
 * The start-up contract, black-box: `node dist/cli/main.js start` (what `npm start` runs) as a
 * child process, in a fresh working directory.
 *
 * - with no GATEHOUSE_* variables: the demo; its printed curl commands are run by bash exactly as printed;
 * - with GATEHOUSE_ISSUER + GATEHOUSE_AUDIENCE (+ GATEHOUSE_JWKS_URL): the reference API alone, one ready
 *   line, data kept across a restart, discovery when no JWKS URL is given, exit 2 on a bad variable.
 *
 * Needs the build (`npm test` runs it first, as pretest): the CLI in dist/ and the app in
 * apps/reference-api/dist/.
 *
 * Each test starts in a folder of its own, bounds each step by what it needs on a loaded machine
 * (helpers/timeouts.ts), and a child left running by a failed step is killed after the test, so one
 * failure never holds a port or a data folder for the next.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { modesUnder } from '../../apps/reference-api/test/helpers/modes.js'
import { spawnNode, stopStrays, waitFor } from '../../apps/reference-api/test/helpers/process.js'
import { STEP_MS, timeoutFor } from '../../apps/reference-api/test/helpers/timeouts.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'dist/cli/main.js')
const APP = join(ROOT, 'apps/reference-api/dist/index.js')
/** The ready line of the reference API (a JSON log line at info). */
const READY = /reference API ready on (http:\/\/127\.0\.0\.1:\d+)/

let cwd: string

beforeAll(async () => {
  for (const built of [CLI, APP]) {
    if (!existsSync(built))
      throw new Error(`${built} is missing: run \`npm run build\` first (npm test does)`)
  }
  cwd = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-'))
})
afterEach(stopStrays, timeoutFor('exit'))
afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

/** Bound of the demo's printed curl commands, run one after another by one shell. */
const CURL_SCRIPT_MS = 60_000

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Runs `script` with bash in `cwd`, bounded; resolves with stdout. */
function bash(script: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { cwd: dir, timeout: CURL_SCRIPT_MS }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout)
      // The exit code (the last curl's, e.g. 7: could not connect) and the output, to see which command failed.
      const ended = error.killed ? `killed after ${CURL_SCRIPT_MS} ms` : `exit code ${error.code}`
      reject(new Error(`${error.message.trimEnd()}\n${ended}\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    })
  })
}

describe('npm start without GATEHOUSE_* variables: the demo', () => {
  it(
    'prints curl commands that work when pasted, keeps its data private, and exits 0 on SIGTERM',
    async () => {
      const dir = join(cwd, 'demo')
      await mkdir(dir)
      const port = await freePort()
      const demo = spawnNode([CLI, 'start'], { PORT: String(port) }, dir)
      try {
        await waitFor(demo, /Press Ctrl\+C to stop\./, STEP_MS.pgliteOpen)
        const modes = await modesUnder(join(dir, '.gatehouse/data'))
        expect(modes.files).toBeGreaterThan(500)
        expect(modes.loose).toEqual([])
        const printed = demo.stdout().split('\n')
        const first = printed.findIndex((line) => line.startsWith('Paste these'))
        const commands = printed
          .slice(first + 1)
          .filter((line) => line.startsWith('  '))
          .map((line) => line.slice(2))
        expect(commands.length).toBeGreaterThanOrEqual(8)
        expect(commands[0]).toBe(`curl -s -w '\\n' http://127.0.0.1:${port}/public`)
        expect(existsSync(join(dir, '.gatehouse'))).toBe(true)

        // One shell, so TOKEN and READER carry over; a marker line before each command splits the output.
        // After the printed commands, the opaque token itself, to see that it is one.
        const script = [
          ...commands.map((command, i) => `printf '\\n@@@%d\\n' ${i}\n${command}`),
          `printf '\\n@@@%d\\n' ${commands.length}`,
          `printf '%s' "$OPAQUE_TOKEN"`,
        ].join('\n')
        const output = await bash(script, dir)
        const opaqueToken = output.slice(
          output.indexOf(`\n@@@${commands.length}\n`) + `\n@@@${commands.length}\n`.length,
        )
        const results = new Map<string, string>()
        for (const [i, command] of commands.entries()) {
          const start = output.indexOf(`\n@@@${i}\n`) + `\n@@@${i}\n`.length
          const end = output.indexOf(`\n@@@${i + 1}\n`)
          results.set(command, output.slice(start, end === -1 ? undefined : end))
        }
        const find = (predicate: (command: string) => boolean) => {
          const command = commands.find(predicate)
          expect(command).toBeDefined()
          return results.get(command!)!
        }
        const json = (text: string) => JSON.parse(text)

        expect(json(find((c) => c.endsWith('/public')))).toEqual({ message: 'This is a public message!' })
        expect(find((c) => c.startsWith('TOKEN='))).toBe('')
        expect(json(find((c) => c.includes('$TOKEN') && c.endsWith('/protected')))).toEqual({
          message: 'This is a protected message!',
          sub: 'demo-client@clients',
        })
        expect(json(find((c) => c.endsWith('/api/private-scoped')))).toEqual({
          message:
            'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
        })
        expect(json(find((c) => c.endsWith('/api/users/me')))).toMatchObject({
          sub: 'demo-client@clients',
          username: 'demo-client@clients',
        })
        const posted = json(find((c) => c.includes('$TOKEN') && c.includes('-X POST')))
        expect(posted).toMatchObject({
          id: expect.any(Number),
          text: 'hello from the demo',
          owner: 'demo-client@clients',
        })
        expect(
          json(find((c) => c.includes('$TOKEN') && c.endsWith('/api/messages') && !c.includes('-X'))),
        ).toContainEqual(posted)
        // DPoP (RFC 9449): the CLI as a shell function, a token bound to its key, a call with a fresh proof.
        expect(find((c) => c.startsWith('gatehouse() {'))).toBe('')
        expect(find((c) => c.startsWith('DPOP_TOKEN=') && c.includes('gatehouse proof --method POST'))).toBe(
          '',
        )
        expect(
          json(
            find(
              (c) =>
                c.includes('-H "Authorization: DPoP $DPOP_TOKEN"') &&
                c.includes('$(gatehouse proof --url') &&
                c.endsWith('/protected'),
            ),
          ),
        ).toEqual({ message: 'This is a protected message!', sub: 'demo-client@clients' })
        // The proofs' key, made by the first `gatehouse proof`, sits beside the issuer's data, owner-only.
        const issuerFiles = await modesUnder(join(dir, '.gatehouse/issuer'))
        expect(existsSync(join(dir, '.gatehouse/issuer/dpop-key.json'))).toBe(true)
        expect(issuerFiles.loose).toEqual([])
        // An opaque token (RFC 7662): it says nothing itself, and the demo's API introspects it.
        expect(find((c) => c.startsWith('OPAQUE_TOKEN=') && c.includes('"client_id":"opaque-client"'))).toBe(
          '',
        )
        expect(opaqueToken).toMatch(/^[\w-]{43}$/)
        expect(
          json(
            find((c) => c.includes('-H "Authorization: Bearer $OPAQUE_TOKEN"') && c.endsWith('/protected')),
          ),
        ).toEqual({ message: 'This is a protected message!', sub: 'opaque-client@clients' })
        const anonymous = find((c) => c.startsWith('curl -s -i') && c.endsWith('/protected'))
        expect(anonymous).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/)
        // The demo's API accepts DPoP too, and says so in its challenge (RFC 9449 §7.1).
        expect(anonymous).toMatch(/\r\nwww-authenticate: Bearer, DPoP algs="ES256 [^"\r\n]+"\r\n/i)
        expect(find((c) => c.startsWith('READER='))).toBe('')
        const denied = find((c) => c.includes('$READER'))
        expect(denied).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
        expect(denied).toContain('scope="write:messages"')
        expect(json(denied.slice(denied.indexOf('\r\n\r\n') + 4))).toMatchObject({
          error: 'insufficient_scope',
          code: 'ERR_POLICY_SCOPE',
        })
      } finally {
        demo.child.kill('SIGTERM')
      }
      expect(await demo.exit()).toEqual({ code: 0, signal: null })
      expect(demo.stdout()).toContain('Received SIGTERM, stopping.')
      expect((await modesUnder(join(dir, '.gatehouse/data'))).loose).toEqual([])
    },
    timeoutFor('pgliteOpen', 'exit') + CURL_SCRIPT_MS,
  )
})

describe('npm start with GATEHOUSE_ISSUER and GATEHOUSE_AUDIENCE: the reference API alone', () => {
  let issuer: DevIssuer
  let folders = 0
  beforeAll(async () => {
    issuer = await startDevIssuer({ dataDir: null })
  })
  afterAll(async () => {
    await issuer?.close()
  })

  const start = (dataDir: string, env: Record<string, string>) =>
    spawnNode(
      [CLI, 'start'],
      { PORT: '0', DATA_DIR: dataDir, GATEHOUSE_AUDIENCE: issuer.audience, ...env },
      cwd,
    )

  it(
    'logs one ready line, answers, keeps data across a restart, and finds keys by discovery',
    async () => {
      const dataDir = join(cwd, `api-data-${++folders}`)
      const token = await issuer.mint({ scope: 'read:messages write:messages' }, { sub: 'auth0|e2e' })
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

      const first = start(dataDir, { GATEHOUSE_ISSUER: issuer.issuer, GATEHOUSE_JWKS_URL: issuer.jwksUri })
      let url: string
      try {
        url = await waitFor(first, READY, STEP_MS.pgliteOpen)
        const lines = first.stdout().trim().split('\n')
        expect(lines).toHaveLength(1)
        expect(JSON.parse(lines[0]!)).toMatchObject({
          level: 30,
          msg: expect.stringContaining(`pglite ${dataDir}`),
        })
        expect(existsSync(join(cwd, '.gatehouse/issuer'))).toBe(false) // no dev issuer in this mode
        const modes = await modesUnder(dataDir)
        expect(modes.files).toBeGreaterThan(500)
        expect(modes.loose).toEqual([])

        const protectedAnswer = await fetch(`${url}/protected`, { headers })
        expect(await protectedAnswer.json()).toEqual({
          message: 'This is a protected message!',
          sub: 'auth0|e2e',
        })
        const posted = await fetch(`${url}/api/messages`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ text: 'survives a restart' }),
        })
        expect(posted.status).toBe(201)
      } finally {
        first.child.kill('SIGTERM')
      }
      expect(await first.exit()).toEqual({ code: 0, signal: null })
      expect(first.stderr()).toContain('received SIGTERM, stopping')
      // Every stdout line is a JSON log record, and none holds the token.
      for (const line of first.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
      expect(first.stdout()).not.toContain(token.split('.')[2])

      // Same DATA_DIR, and no JWKS URL this time: discovery ('auto') against the dev issuer.
      const second = start(dataDir, { GATEHOUSE_ISSUER: issuer.issuer })
      try {
        url = await waitFor(second, READY, STEP_MS.pgliteReopen)
        const list = await fetch(`${url}/api/messages`, { headers })
        expect(list.status).toBe(200)
        expect((await list.json()).map((m: { text: string }) => m.text)).toEqual(['survives a restart'])
      } finally {
        second.child.kill('SIGTERM')
      }
      expect(await second.exit()).toEqual({ code: 0, signal: null })
      expect((await modesUnder(dataDir)).loose).toEqual([])
    },
    timeoutFor('pgliteOpen', 'exit', 'pgliteReopen', 'exit'),
  )

  it(
    'exits 2 with one line naming GATEHOUSE_CLOCK_TOLERANCE when it is not a number',
    async () => {
      const bad = start(join(cwd, `api-data-${++folders}`), {
        GATEHOUSE_ISSUER: issuer.issuer,
        GATEHOUSE_CLOCK_TOLERANCE: 'a while',
      })
      expect(await bad.exit()).toEqual({ code: 2, signal: null })
      expect(bad.stderr().trim().split('\n')).toHaveLength(1)
      expect(bad.stderr()).toContain('GATEHOUSE_CLOCK_TOLERANCE')
      expect(bad.stdout()).toBe('')
    },
    timeoutFor('exit'),
  )
})
