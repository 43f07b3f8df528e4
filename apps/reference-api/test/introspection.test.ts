/**
 * Opaque access tokens (RFC 7662) in the reference API as it is deployed: copies of the built
 * `dist/server.js` as separate processes, with the API's client credentials at the authorization server
 * (GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET) and its introspection endpoint (GATEHOUSE_INTROSPECTION_URL,
 * or discovered from the issuer's metadata before listening). Two instances that share a real
 * redis-server (GATEHOUSE_REDIS_URL) ask the endpoint once for a token both see; two that keep answers in
 * their own memory ask once each. A Redis that cannot be reached costs calls, never an answer; an endpoint
 * that cannot be reached is a 503 with Retry-After.
 *
 * Tokens come from a dev issuer in this process (one client gets opaque tokens, one JWTs); its
 * introspection calls are counted by a proxy in front of it (helpers/issuer-proxy.ts), which is also the
 * issuer's URL, so the discovery of the endpoint can be seen too.
 */
import { once } from 'node:events'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, call, type LogRecord } from './helpers/api-server.js'
import { type BuiltApp, copyBuiltApp } from './helpers/built-app.js'
import { type IssuerProxy, startIssuerProxy } from './helpers/issuer-proxy.js'
import { READY, type Spawned, spawnNode, stopAll, stopStrays, waitFor } from './helpers/process.js'
import { redisServerAvailable, startRedis, type TestRedis } from './helpers/redis-server.js'
import { STEP_MS, timeoutFor } from './helpers/timeouts.js'

const withRedis = redisServerAvailable()

const INTROSPECT = '/oauth2/introspect'
/** How long an instance reuses an `active: true` answer (GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE; default 60 s). */
const CACHE_MAX_AGE_MS = 15_000

/** The API's own credentials at the issuer, the ones it introspects with. */
const API_CLIENT = { clientId: 'reference-api', clientSecret: 'reference-api-test-secret-of-some-length' }
const OPAQUE_CLIENT = { clientId: 'opaque-client', clientSecret: 'opaque-client-test-secret' }
const JWT_CLIENT = { clientId: 'jwt-client', clientSecret: 'jwt-client-test-secret' }

/** One reference API process. */
interface Instance {
  /** Where it listens, from its ready line: `http://127.0.0.1:{port}`. */
  url: string
  proc: Spawned
}

let built: BuiltApp
let proxy: IssuerProxy
let issuer: DevIssuer
let root: string
let redis: TestRedis | undefined
/** An initialised, migrated data folder, copied for each instance: a first PGlite open is the slow part. */
let template: string
/** Each instance: `shared*` share Redis, `memory*` keep answers in memory, `discovered` has no endpoint URL. */
const api: Record<string, Instance> = {}
/** Requests for the issuer's metadata the proxy had seen once every instance was ready. */
let metadataRequestsAtStart: number

const server = (env: Record<string, string>) => spawnNode([join(built.dir, 'dist/server.js')], env, root)
/** The issuer and its keys, as for JWTs. */
const trust = () => ({
  GATEHOUSE_ISSUER: issuer.issuer,
  GATEHOUSE_AUDIENCE: issuer.audience,
  GATEHOUSE_JWKS_URL: issuer.jwksUri,
})
/** Introspection on, at the endpoint behind the counting proxy. */
const introspecting = () => ({
  ...trust(),
  GATEHOUSE_CLIENT_ID: API_CLIENT.clientId,
  GATEHOUSE_CLIENT_SECRET: API_CLIENT.clientSecret,
  GATEHOUSE_INTROSPECTION_URL: `${proxy.url}${INTROSPECT}`,
  GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE: String(CACHE_MAX_AGE_MS / 1000),
})

async function startInstance(name: string, env: Record<string, string>): Promise<void> {
  const dataDir = join(root, name)
  await cp(template, dataDir, { recursive: true })
  const proc = server({ PORT: '0', DATA_DIR: dataDir, ...env })
  api[name] = { url: await waitFor(proc, READY, STEP_MS.pgliteReopen), proc }
}

beforeAll(
  async () => {
    ;[built, proxy, root] = await Promise.all([
      copyBuiltApp(),
      startIssuerProxy(),
      mkdtemp(join(tmpdir(), 'gatehouse-refapi-introspection-')),
    ])
    // The proxy is the issuer's URL (its metadata is fetched through it); the endpoints it names are the
    // issuer's own, so only an explicit GATEHOUSE_INTROSPECTION_URL sends introspection through the proxy.
    issuer = await startDevIssuer({
      dataDir: null,
      issuer: proxy.url,
      clients: [
        { ...API_CLIENT, scopes: [] },
        { ...OPAQUE_CLIENT, scopes: ['read:messages'], tokenFormat: 'opaque' },
        { ...JWT_CLIENT, scopes: ['read:messages'] },
      ],
    })
    proxy.forwardTo(issuer.url)

    template = join(root, 'template')
    const first = server({ ...trust(), PORT: '0', DATA_DIR: template })
    await waitFor(first, READY)
    first.child.kill('SIGTERM')
    expect(await first.exit()).toEqual({ code: 0, signal: null })

    if (withRedis) redis = await startRedis()
    await Promise.all([
      ...(redis === undefined
        ? []
        : [
            startInstance('sharedA', { ...introspecting(), GATEHOUSE_REDIS_URL: redis.url }),
            startInstance('sharedB', { ...introspecting(), GATEHOUSE_REDIS_URL: redis.url }),
          ]),
      startInstance('memoryA', introspecting()),
      startInstance('memoryB', introspecting()),
      // Nothing listens on port 1: every connection is refused.
      startInstance('noRedis', { ...introspecting(), GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:1' }),
      // The deployment's minimum: the issuer and the credentials; keys and endpoint from the metadata.
      startInstance('discovered', {
        GATEHOUSE_ISSUER: issuer.issuer,
        GATEHOUSE_AUDIENCE: issuer.audience,
        GATEHOUSE_CLIENT_ID: API_CLIENT.clientId,
        GATEHOUSE_CLIENT_SECRET: API_CLIENT.clientSecret,
      }),
    ])
    metadataRequestsAtStart = metadataRequests()
  },
  timeoutFor('pgliteOpen', 'pgliteReopen'),
)

afterAll(async () => {
  await stopStrays()
  await redis?.stop()
  await issuer?.close()
  await proxy?.close()
  await built?.remove()
  if (root) await rm(root, { recursive: true, force: true })
}, timeoutFor('exit'))

const metadataRequests = () =>
  proxy.count('/.well-known/openid-configuration') + proxy.count('/.well-known/oauth-authorization-server')

/** A new token from the issuer's token endpoint (client credentials, RFC 6749 §4.4). */
async function tokenFor(client: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${client.clientId}:${client.clientSecret}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience: issuer.audience }),
    signal: AbortSignal.timeout(STEP_MS.quick),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}
const opaqueToken = () => tokenFor(OPAQUE_CLIENT)

/** Introspection requests that asked about `token`. */
const calls = (token: string) => proxy.count(INTROSPECT, token)

const get = (instance: Instance, token: string, path = '/protected'): Promise<Answer> =>
  call(instance.url, path, { token })

/** The accepted answer of /protected for a token of the opaque client. */
const PROTECTED = { message: 'This is a protected message!', sub: `${OPAQUE_CLIENT.clientId}@clients` }

/**
 * The `request refused` log lines an instance wrote with `code`, once there are at least `count`: the
 * process writes the line before it answers, but its output may reach this process after the answer.
 */
async function refusals(instance: Instance, code: string, count: number): Promise<LogRecord[]> {
  const deadline = Date.now() + STEP_MS.quick / 2
  for (;;) {
    const text = instance.proc.stdout()
    const found = text
      .slice(0, text.lastIndexOf('\n') + 1) // complete lines only
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogRecord)
      .filter((record) => record.msg === 'request refused' && record.code === code)
    if (found.length >= count || Date.now() > deadline) return found
    await sleep(50)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('GATEHOUSE_CLIENT_ID and _SECRET: opaque tokens accepted, JWTs still verified here', () => {
  it('an opaque token from the token endpoint passes the routes’ rules on the introspected claims', async () => {
    const { memoryA } = api
    const token = await opaqueToken()
    expect(token).not.toMatch(/^eyJ/)
    const answer = await get(memoryA!, token)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(PROTECTED)
    // The scope rule reads the introspected `scope`; the principal hook stores the introspected `sub`.
    expect((await get(memoryA!, token, '/api/private-scoped')).status).toBe(200)
    const me = await get(memoryA!, token, '/api/users/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ sub: PROTECTED.sub })
    // A scope the client was not given: 403, as for a JWT.
    const write = await call(memoryA!.url, '/api/messages', {
      token,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from an opaque token' }),
    })
    expect(write.status).toBe(403)
    expect(write.body).toMatchObject({ error: 'insufficient_scope', code: 'ERR_POLICY_SCOPE' })
    expect(calls(token)).toBe(1)
  })

  it('a JWT of the same issuer is verified with its keys, never sent to the endpoint', async () => {
    const { memoryA } = api
    const jwt = await tokenFor(JWT_CLIENT)
    expect(jwt).toMatch(/^eyJ/)
    const answer = await get(memoryA!, jwt)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ ...PROTECTED, sub: `${JWT_CLIENT.clientId}@clients` })
    expect(calls(jwt)).toBe(0)
  })

  it('a token the issuer does not know: 401 invalid_token, ERR_TOKEN_INACTIVE', async () => {
    const { memoryB } = api
    const unknown = 'an-opaque-token-this-issuer-never-issued'
    const answer = await get(memoryB!, unknown)
    expect(answer.status).toBe(401)
    expect(answer.body).toMatchObject({ error: 'invalid_token', code: 'ERR_TOKEN_INACTIVE' })
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect(calls(unknown)).toBe(1)
  })

  it('without GATEHOUSE_INTROSPECTION_URL the endpoint comes from the issuer’s metadata, read before listening', async () => {
    const { discovered } = api
    // The start read the metadata through the proxy (the issuer's URL)…
    expect(metadataRequestsAtStart).toBeGreaterThan(0)
    const token = await opaqueToken()
    const answer = await get(discovered!, token)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(PROTECTED)
    // …and the first opaque token needed no discovery: the endpoint was known when the API listened. The
    // metadata names the issuer's own endpoint, so this instance's calls do not pass the proxy.
    expect(metadataRequests()).toBe(metadataRequestsAtStart)
    expect(calls(token)).toBe(0)
  })
})

describe.runIf(withRedis)('two instances sharing Redis (GATEHOUSE_REDIS_URL)', () => {
  it('one opaque token at both instances: one introspection call, the second reads the shared answer', async () => {
    const { sharedA, sharedB } = api
    const token = await opaqueToken()
    const atA = await get(sharedA!, token)
    expect(atA.status).toBe(200)
    expect(atA.body).toEqual(PROTECTED)
    expect(calls(token)).toBe(1)
    const atB = await get(sharedB!, token)
    expect(atB.status).toBe(200)
    expect(atB.body).toEqual(PROTECTED)
    expect(calls(token)).toBe(1)
    // Both now hold it in memory too.
    for (const instance of [sharedA!, sharedB!, sharedA!])
      expect((await get(instance, token)).status).toBe(200)
    expect(calls(token)).toBe(1)
  })

  it('Redis stopped: answers go on, each instance asking the endpoint itself', async () => {
    const { sharedA, sharedB } = api
    const before = await opaqueToken()
    expect((await get(sharedA!, before)).status).toBe(200)
    await redis!.stop()
    const token = await opaqueToken()
    expect((await get(sharedA!, token)).status).toBe(200)
    expect(calls(token)).toBe(1)
    const atB = await get(sharedB!, token)
    expect(atB.status).toBe(200)
    expect(atB.body).toEqual(PROTECTED)
    expect(calls(token)).toBe(2)
    // An answer already in an instance's memory needs neither.
    expect((await get(sharedA!, before)).status).toBe(200)
    expect(calls(before)).toBe(1)
  })
})

describe('two instances keeping answers in their own memory (no GATEHOUSE_REDIS_URL)', () => {
  it('one opaque token at both instances: two introspection calls, one each', async () => {
    const { memoryA, memoryB } = api
    const token = await opaqueToken()
    expect((await get(memoryA!, token)).status).toBe(200)
    expect(calls(token)).toBe(1)
    expect((await get(memoryB!, token)).status).toBe(200)
    expect(calls(token)).toBe(2)
    for (const instance of [memoryA!, memoryB!]) expect((await get(instance, token)).status).toBe(200)
    expect(calls(token)).toBe(2)
  })

  it(
    'a revoked token is refused at once where no answer is kept, and after the answer’s lifetime where one is',
    async () => {
      const { memoryA, memoryB } = api
      const token = await opaqueToken()
      const asked = Date.now()
      expect((await get(memoryA!, token)).status).toBe(200)
      expect(await issuer.revoke(token)).toBe(true)
      // memoryA reuses its answer: the price of not asking for every request.
      expect((await get(memoryA!, token)).status).toBe(200)
      const atB = await get(memoryB!, token)
      expect(atB.status).toBe(401)
      expect(atB.body).toMatchObject({ error: 'invalid_token', code: 'ERR_TOKEN_INACTIVE' })
      expect(calls(token)).toBe(2)

      // Still reused near its end (fetched after `asked`, so it ends after asked + its lifetime; the margin
      // is for a request that is slow to arrive on a busy machine)…
      await sleep(asked + CACHE_MAX_AGE_MS - 5_000 - Date.now())
      expect((await get(memoryA!, token)).status).toBe(200)
      expect(calls(token)).toBe(2)
      // …then asked again, and refused.
      let refused: Answer | undefined
      while (refused === undefined && Date.now() < asked + CACHE_MAX_AGE_MS + STEP_MS.quick) {
        const answer = await get(memoryA!, token)
        if (answer.status !== 200) refused = answer
        else await sleep(250)
      }
      expect(refused?.status).toBe(401)
      expect(refused?.body).toMatchObject({ error: 'invalid_token', code: 'ERR_TOKEN_INACTIVE' })
      expect(calls(token)).toBe(3)
    },
    CACHE_MAX_AGE_MS + STEP_MS.quick * 2,
  )
})

describe('GATEHOUSE_REDIS_URL that cannot be reached', () => {
  it('starts, and introspects as without Redis: a failing store is a miss', async () => {
    const { noRedis } = api
    const token = await opaqueToken()
    for (let i = 0; i < 3; i++) {
      const answer = await get(noRedis!, token)
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual(PROTECTED)
    }
    expect(calls(token)).toBe(1)
  })
})

describe('the introspection endpoint down', () => {
  it('a new opaque token: 503 temporarily_unavailable with Retry-After; answers kept and JWTs go on', async () => {
    const { memoryA } = api
    const kept = await opaqueToken()
    expect((await get(memoryA!, kept)).status).toBe(200)
    const [token, jwt] = await Promise.all([opaqueToken(), tokenFor(JWT_CLIENT)])
    const before = (await refusals(memoryA!, 'ERR_INTROSPECTION_UNAVAILABLE', 0)).length
    await proxy.close()

    for (let i = 0; i < 2; i++) {
      const answer = await get(memoryA!, token)
      expect(answer.status).toBe(503)
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(answer.headers.get('www-authenticate')).toBeNull()
      expect(answer.body).toMatchObject({
        error: 'temporarily_unavailable',
        code: 'ERR_INTROSPECTION_UNAVAILABLE',
      })
    }
    // Logged at warn: an operator's problem, not the client's.
    expect((await refusals(memoryA!, 'ERR_INTROSPECTION_UNAVAILABLE', before + 2)).slice(before)).toEqual([
      expect.objectContaining({ level: 40, status: 503, path: '/protected' }),
      expect.objectContaining({ level: 40, status: 503, path: '/protected' }),
    ])
    expect((await get(memoryA!, kept)).status).toBe(200)
    expect((await get(memoryA!, jwt)).status).toBe(200)
  })
})

describe('stopping', () => {
  it(
    'every instance exits 0 on SIGTERM',
    async () => {
      const clean = { code: 0, signal: null }
      expect(await stopAll(api)).toEqual(Object.fromEntries(Object.keys(api).map((name) => [name, clean])))
    },
    timeoutFor('exit'),
  )
})

describe('start-up checks', () => {
  it(
    'credentials, and metadata without introspection_endpoint: exit 1 naming it, before listening',
    async () => {
      // An issuer whose metadata names keys (the dev issuer's) but no introspection endpoint.
      const metadata = createServer((request, response) => {
        const self = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}`
        if (!request.url?.startsWith('/.well-known/')) {
          response.writeHead(404).end()
          return
        }
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ issuer: self, jwks_uri: issuer.jwksUri }))
      })
      metadata.listen(0, '127.0.0.1')
      await once(metadata, 'listening')
      const dataDir = join(root, 'no-endpoint')
      try {
        await cp(template, dataDir, { recursive: true })
        const proc = server({
          GATEHOUSE_ISSUER: `http://127.0.0.1:${(metadata.address() as AddressInfo).port}`,
          GATEHOUSE_AUDIENCE: issuer.audience,
          GATEHOUSE_CLIENT_ID: API_CLIENT.clientId,
          GATEHOUSE_CLIENT_SECRET: API_CLIENT.clientSecret,
          PORT: '0',
          DATA_DIR: dataDir,
        })
        expect(await proc.exit(STEP_MS.pgliteReopen)).toEqual({ code: 1, signal: null })
        const lines = proc.stderr().trim().split('\n')
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(/^reference-api: .*has no introspection_endpoint/)
        expect(proc.stderr()).not.toContain(API_CLIENT.clientSecret)
        expect(proc.stdout()).not.toMatch(READY)
      } finally {
        metadata.closeAllConnections()
        metadata.close()
      }
    },
    timeoutFor('pgliteReopen'),
  )

  it(
    'invalid introspection settings: exit 2 with one line naming the variable, never the secret',
    async () => {
      const secret = { GATEHOUSE_CLIENT_SECRET: API_CLIENT.clientSecret }
      const id = { GATEHOUSE_CLIENT_ID: API_CLIENT.clientId }
      const cases: [Record<string, string>, string][] = [
        [id, 'GATEHOUSE_CLIENT_SECRET'],
        [secret, 'GATEHOUSE_CLIENT_ID'],
        [{ GATEHOUSE_INTROSPECTION_URL: `${issuer.url}${INTROSPECT}` }, 'GATEHOUSE_CLIENT_ID'],
        [{ ...id, ...secret, GATEHOUSE_INTROSPECTION_URL: 'introspect' }, 'GATEHOUSE_INTROSPECTION_URL'],
        [{ ...id, ...secret, GATEHOUSE_TOKEN_SOURCE: 'opaque' }, 'GATEHOUSE_TOKEN_SOURCE'],
      ]
      await Promise.all(
        cases.map(async ([env, variable]) => {
          const proc = server({ ...trust(), ...env })
          const label = `${Object.keys(env).join(' ')} → ${variable}`
          expect(await proc.exit(), label).toEqual({ code: 2, signal: null })
          const lines = proc.stderr().trim().split('\n')
          expect(lines, label).toHaveLength(1)
          expect(lines[0], label).toMatch(new RegExp(`^reference-api: ${variable}: expected `))
          expect(proc.stderr(), label).not.toContain(API_CLIENT.clientSecret)
          expect(proc.stdout(), label).toBe('')
        }),
      )
    },
    timeoutFor('exit'),
  )
})
