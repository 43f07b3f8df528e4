/**
 * examples/nestjs compiled with its own tsconfig (`module: commonjs`, emitDecoratorMetadata) and run as
 * `node examples/nestjs/dist/main.js`: a CommonJS Nest app that `require()`s the ESM-only package
 * (Node >= 20.19), configured by the environment, against a real dev issuer. Needs the package built
 * (`npm run build`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

const EXAMPLE = fileURLToPath(new URL('../../examples/nestjs/', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))

let issuer: DevIssuer
let child: ChildProcess
let origin: string

/** Start a node script; resolve with the origin printed in its ready line (bounded wait). */
async function startExample(
  script: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; origin: string }> {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 15 s:\n${output}`)), 15_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', (chunk: Buffer) => {
      output += chunk
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ready:\n${output}`))
    })
  })
  return { child: proc, origin: await ready }
}

beforeAll(async () => {
  // The real build, type check included: a CommonJS consumer must resolve 'gatehouse/nestjs' and its types.
  await promisify(execFile)(process.execPath, [TSC, '-p', `${EXAMPLE}tsconfig.json`], {
    timeout: 90_000,
  }).catch((error) => {
    throw new Error(`tsc -p examples/nestjs failed:\n${error.stdout}${error.stderr}`)
  })
  issuer = await startDevIssuer({ dataDir: null })
  ;({ child, origin } = await startExample(`${EXAMPLE}dist/main.js`, {
    GATEHOUSE_ISSUER: issuer.issuer,
    GATEHOUSE_AUDIENCE: issuer.audience,
    GATEHOUSE_JWKS_URL: issuer.jwksUri,
    PORT: '0',
  }))
}, 120_000)

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await issuer?.close()
})

async function call(path: string, token?: string, method = 'GET') {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const response = await fetch(origin + path, { method, headers, signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text === '' ? undefined : JSON.parse(text),
  }
}

describe('examples/nestjs (CommonJS build)', () => {
  it('is compiled to CommonJS that require()s the ESM-only package', async () => {
    const module = await readFile(`${EXAMPLE}dist/app.module.js`, 'utf8')
    expect(module).toContain('require("gatehouse/nestjs")')
    expect(module).not.toMatch(/^import /m)
  })

  it("answers the seeds' endpoints with their exact messages", async () => {
    const token = await issuer.mint({ scope: 'read:messages' }, { sub: 'client-id@clients' })
    expect(await call('/public')).toMatchObject({
      status: 200,
      body: { message: 'This is a public message!' },
    })
    expect(await call('/protected', token)).toMatchObject({
      status: 200,
      body: { message: 'This is a protected message!', sub: 'client-id@clients' },
    })
    expect(await call('/api/public')).toMatchObject({
      status: 200,
      body: { message: "Hello from a public endpoint! You don't need to be authenticated to see this." },
    })
    expect(await call('/api/private', token)).toMatchObject({
      status: 200,
      body: { message: 'Hello from a private endpoint! You need to be authenticated to see this.' },
    })
    expect(await call('/api/private-scoped', token)).toMatchObject({
      status: 200,
      body: {
        message:
          'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      },
    })
  })

  it('answers 401 with a bare challenge without a token, 403 insufficient_scope with scope=', async () => {
    expect(await call('/protected')).toMatchObject({
      status: 401,
      challenge: 'Bearer',
      body: { code: 'ERR_NO_TOKEN' },
    })
    expect(await call('/api/private')).toMatchObject({ status: 401, challenge: 'Bearer' })
    const res = await call('/api/private-scoped', await issuer.mint())
    expect(res.status).toBe(403)
    expect(res.challenge).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="read:messages"',
    )
  })

  it('serves /api/posts (optional GET, scoped POST) and the owner rule', async () => {
    expect(await call('/api/posts')).toMatchObject({ status: 200, body: { anonymous: true } })
    expect(await call('/api/posts', await issuer.mint({}, { sub: 'bob' }))).toMatchObject({
      status: 200,
      body: { anonymous: false, sub: 'bob' },
    })
    expect((await call('/api/posts', await issuer.mint({}, { expiresIn: -120 }))).status).toBe(401)
    expect((await call('/api/posts', await issuer.mint(), 'POST')).status).toBe(403)
    expect(
      await call('/api/posts', await issuer.mint({ scope: 'write:messages' }, { sub: 'bob' }), 'POST'),
    ).toMatchObject({
      status: 201,
      body: { created: true, sub: 'bob' },
    })
    const token = await issuer.mint({}, { sub: 'carol' })
    expect((await call('/api/posts/carol', token, 'DELETE')).status).toBe(204)
    expect(await call('/api/posts/dave', token, 'DELETE')).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_OWNER' },
    })
  })

  it('exits 0 on SIGTERM', async () => {
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no exit within 5 s')), 5000).unref(),
    )
    expect(await Promise.race([exited, timeout])).toEqual([0, null])
  })
})
