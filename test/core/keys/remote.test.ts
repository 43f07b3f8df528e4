import { generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import {
  createRemoteKeySet,
  type RemoteKeySetOptions,
  type RemoteKeyStore,
} from '../../../src/core/keys/remote.js'
import { isLoopbackUrl } from '../../../src/core/lib/loopback.js'
import type { JWK, KeyStoreEvent, ProtectedHeader } from '../../../src/core/types.js'
import { type JwksServer, type Reply, startJwksServer } from '../../helpers/jwks-server.js'

// ── fixtures ──────────────────────────────────────────────────────────────────────────────────────

interface TestKey {
  jwk: JWK
  privateKey: KeyObject
}

function ecKey(kid: string | undefined): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' } as JWK
  if (kid !== undefined) jwk.kid = kid
  return { jwk, privateKey }
}

const A = ecKey('a')
const B = ecKey('b')
const PATH = '/jwks.json'
const header = (kid: string | undefined): ProtectedHeader => ({ alg: 'ES256', kid })
const jwks = (...keys: TestKey[]): Reply => ({ json: { keys: keys.map((key) => key.jwk) } })

const servers: JwksServer[] = []
const stores: RemoteKeyStore[] = []

async function serve(reply: Reply): Promise<JwksServer> {
  const server = await startJwksServer({ [PATH]: reply })
  servers.push(server)
  return server
}

function store(server: JwksServer, options: RemoteKeySetOptions = {}): RemoteKeyStore {
  const keys = createRemoteKeySet(server.url(PATH), options)
  stores.push(keys)
  return keys
}

afterEach(async () => {
  for (const keys of stores.splice(0)) keys.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Poll until `check` holds; fails after `timeoutMs` instead of hanging. */
async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

/** The rejection of `promise`, which must reject with a GatehouseError. */
async function failure(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

const causeCode = (error: GatehouseError) => (error.cause as GatehouseError | undefined)?.code

// ── construction ──────────────────────────────────────────────────────────────────────────────────

describe('construction', () => {
  it.each([
    ['timeoutDuration', 0, 'timeoutDuration: expected a positive'],
    ['timeoutDuration', Number.POSITIVE_INFINITY, 'timeoutDuration: expected a positive, finite'],
    ['timeoutDuration', '5000', 'timeoutDuration: expected'],
    ['cooldownDuration', -1, 'cooldownDuration: expected a non-negative number of milliseconds'],
    ['cooldownDuration', Number.NaN, 'cooldownDuration: expected'],
    ['refreshInterval', 0, 'refreshInterval: expected a positive number of milliseconds'],
    ['cacheMaxAge', -5, 'cacheMaxAge: expected a positive number of milliseconds'],
    ['maxResponseSize', 1.5, 'maxResponseSize: expected a positive integer number of bytes'],
    ['headers', { 'x-key': 1 }, 'headers: expected an object'],
    ['headers', { 'bad header': 'x' }, 'headers: expected valid HTTP header names'],
    ['fetch', 'fetch', 'fetch: expected a function'],
    ['onEvent', {}, 'onEvent: expected a function'],
    ['now', 1, 'now: expected a function'],
    ['cooldown', 1_000, 'cooldown: unknown option (expected timeoutDuration, cooldownDuration,'],
  ])('rejects %s = %j with a TypeError naming it', (name, value, message) => {
    const make = () =>
      createRemoteKeySet('https://id.example.com/jwks', { [name]: value } as RemoteKeySetOptions)
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
  })

  it('accepts Infinity for refreshInterval and cacheMaxAge, and 0 for cooldownDuration', () => {
    const keys = createRemoteKeySet('https://id.example.com/jwks', {
      refreshInterval: Number.POSITIVE_INFINITY,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      cooldownDuration: 0,
    })
    expect(keys.state).toBe('empty')
    keys.close()
  })

  it.each([
    'http://id.example.com/jwks',
    'http://128.0.0.1/jwks',
    'http://localhost.example.com/jwks',
    'ftp://localhost/x',
    'not a url',
    '/relative',
  ])('refuses %s: https only, http on loopback hosts', (url) => {
    expect(() => createRemoteKeySet(url)).toThrow(TypeError)
    expect(() => createRemoteKeySet(url)).toThrow('url: expected an https URL')
  })

  it.each([
    'https://id.example.com/jwks',
    'http://127.0.0.1:9/jwks',
    'http://127.200.3.4/jwks',
    'http://localhost:9/jwks',
    'http://[::1]:9/jwks',
    'http://127.1/jwks',
  ])('accepts %s', (url) => {
    createRemoteKeySet(new URL(url)).close()
    createRemoteKeySet(url).close()
  })

  it('recognises loopback hosts only after URL normalisation, without DNS', () => {
    expect(isLoopbackUrl(new URL('http://LOCALHOST/'))).toBe(true)
    expect(isLoopbackUrl(new URL('http://[0:0:0:0:0:0:0:1]/'))).toBe(true)
    expect(isLoopbackUrl(new URL('http://0x7f.1/'))).toBe(true)
    expect(isLoopbackUrl(new URL('http://127.0.0.1.example.com/'))).toBe(false)
    expect(isLoopbackUrl(new URL('http://[::ffff:127.0.0.1]/'))).toBe(false)
  })

  it('does no network work at construction', async () => {
    const server = await serve(jwks(A))
    const keys = store(server)
    await sleep(50)
    expect(server.hits(PATH)).toBe(0)
    expect(keys.state).toBe('empty')
    expect(keys.peek(header('a'))).toBeUndefined()
  })
})

// ── fetching ──────────────────────────────────────────────────────────────────────────────────────

describe('first fetch', () => {
  it('fetches on first use, with the JWKS accept header, and returns a key that verifies', async () => {
    const server = await serve(jwks(A, B))
    const keys = store(server, { headers: { 'x-api-key': 'k' } })
    const key = await keys.get(header('b'))
    expect(key.kid).toBe('b')
    const data = Buffer.from('payload')
    const signature = sign('sha256', data, { key: B.privateKey, dsaEncoding: 'ieee-p1363' })
    expect(
      verify('sha256', data, { key: key.handle as KeyObject, dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true)
    expect(server.requests[0]?.headers.accept).toBe('application/jwk-set+json, application/json')
    expect(server.requests[0]?.headers['x-api-key']).toBe('k')
    expect(keys.state).toBe('fresh')
    expect(keys.lastSuccessAt).toBeTypeOf('number')
    expect(keys.lastError).toBeUndefined()
  })

  it('imports keys during the fetch, so peek answers synchronously afterwards', async () => {
    const server = await serve(jwks(A, B))
    const keys = store(server)
    const key = await keys.get(header('a'))
    expect(keys.peek(header('a'))).toBe(key)
    expect(keys.peek(header('b'))?.kid).toBe('b')
    expect(keys.peek(header('zzz'))).toBeUndefined()
    expect(keys.contains(key)).toBe(true)
    expect(server.hits(PATH)).toBe(1)
  })

  it('shares one fetch between concurrent requests (single-flight), even with no cooldown', async () => {
    const server = await serve({ json: { keys: [A.jwk] }, delayMs: 100 })
    const keys = store(server, { cooldownDuration: 0 })
    const pending = Array.from({ length: 25 }, () => keys.get(header('a')))
    expect(keys.state).toBe('fetching')
    const results = await Promise.all(pending)
    expect(new Set(results).size).toBe(1)
    expect(server.hits(PATH)).toBe(1)
    // 25 concurrent unknown kids: one refetch, shared, and no second one afterwards.
    const misses = await Promise.all(Array.from({ length: 25 }, (_, i) => failure(keys.get(header(`x${i}`)))))
    expect(misses.map((error) => error.code)).toEqual(Array(25).fill('ERR_JWKS_NO_MATCHING_KEY'))
    expect(server.hits(PATH)).toBe(2)
  })

  it('throws ERR_JWKS_MULTIPLE_MATCHING_KEYS from peek and get when a kid-less token fits several keys', async () => {
    const server = await serve(jwks(ecKey(undefined), ecKey(undefined)))
    const keys = store(server)
    expect((await failure(keys.get(header(undefined)))).code).toBe('ERR_JWKS_MULTIPLE_MATCHING_KEYS')
    expect(() => keys.peek(header(undefined))).toThrow(GatehouseError)
  })

  it('accepts a kid-less token when exactly one key fits', async () => {
    const server = await serve(jwks(ecKey(undefined)))
    const keys = store(server)
    const key = await keys.get(header(undefined))
    expect(keys.peek(header(undefined))).toBe(key)
  })
})

describe('refresh and rotation', () => {
  it('background refresh picks up a new key without a request waiting', async () => {
    const events: KeyStoreEvent[] = []
    const server = await serve(jwks(A))
    const keys = store(server, {
      refreshInterval: 100,
      cooldownDuration: 60_000,
      onEvent: (e) => events.push(e),
    })
    await keys.get(header('a'))
    server.set(PATH, jwks(A, B))
    await waitFor(() => keys.peek(header('b')) !== undefined)
    expect(events).toContainEqual(expect.objectContaining({ type: 'fetch', reason: 'refresh' }))
    expect(events).toContainEqual({ type: 'keys-changed', added: ['b'], removed: [] })
    expect(server.hits(PATH)).toBeGreaterThanOrEqual(2)
  })

  it('keeps answering known kids from the current set while a refresh is in flight', async () => {
    const server = await serve(jwks(A))
    const keys = store(server)
    const key = await keys.get(header('a'))
    server.set(PATH, { json: { keys: [A.jwk] }, delayMs: 300 })
    let refreshed = false
    const refreshing = keys.refresh().then(() => {
      refreshed = true
    })
    expect(keys.state).toBe('fetching')
    expect(await keys.get(header('a'))).toBe(key)
    expect(keys.peek(header('a'))).toBe(key)
    expect(refreshed).toBe(false) // answered without waiting for the refresh
    await refreshing
    expect(keys.peek(header('a'))).toBe(key) // unchanged key: imported once, reused
  })

  it('refetches once for an unknown kid once the cooldown has passed, then answers', async () => {
    const server = await serve(jwks(A))
    const keys = store(server, { cooldownDuration: 50 })
    await keys.get(header('a'))
    server.set(PATH, jwks(A, B)) // the provider rotates
    await sleep(60)
    expect((await keys.get(header('b'))).kid).toBe('b')
    expect(server.hits(PATH)).toBe(2)
    await sleep(60)
    const error = await failure(keys.get(header('c')))
    expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(server.hits(PATH)).toBe(3) // one refetch, then the answer
  })

  it('accepts a key rotated right after a fetch within the cooldown, via one scheduled fetch', async () => {
    const events: KeyStoreEvent[] = []
    const server = await serve(jwks(A))
    const keys = store(server, { cooldownDuration: 200, onEvent: (e) => events.push(e) })
    const oldKey = await keys.get(header('a'))
    server.set(PATH, jwks(B))
    const first = Date.now()
    expect((await failure(keys.get(header('b')))).code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(keys.state).toBe('cooling-down')
    const cooldown = events.find((e) => e.type === 'cooldown')
    expect(cooldown).toMatchObject({ type: 'cooldown', kid: 'b' })
    expect((cooldown as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(200)
    await waitFor(() => keys.peek(header('b')) !== undefined)
    expect(Date.now() - first).toBeLessThan(1_000)
    expect(server.hits(PATH)).toBe(2)
    expect(keys.contains(oldKey)).toBe(false) // 'a' left the set
    expect(events).toContainEqual({ type: 'keys-changed', added: ['b'], removed: ['a'] })
  })

  it('a flood of random kids costs at most one fetch per cooldown', async () => {
    const server = await serve(jwks(A))
    const keys = store(server, { cooldownDuration: 500 })
    await keys.get(header('a'))
    const flood = () =>
      Promise.all(Array.from({ length: 200 }, () => failure(keys.get(header(randomUUID())))))
    // Inside the cooldown of the first fetch: every token answered at once, one fetch scheduled.
    for (const error of await flood()) expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(server.hits(PATH)).toBe(1)
    await flood()
    await waitFor(() => server.hits(PATH) === 2)
    // After the cooldown: 200 concurrent misses share a single refetch.
    await sleep(550)
    for (const error of await flood()) expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(server.hits(PATH)).toBe(3)
    await sleep(550)
    expect(server.hits(PATH)).toBe(3) // nobody was refused that time, so nothing was scheduled
  })
})

// ── provider failures ─────────────────────────────────────────────────────────────────────────────

describe('provider failures', () => {
  it('with no key set, fails fast with ERR_JWKS_UNAVAILABLE (503) and retries once per cooldown', async () => {
    const server = await serve({ status: 500, body: 'internal detail 8f3a' })
    const keys = store(server, { cooldownDuration: 400 })
    const first = await failure(keys.get(header('a')))
    expect(first.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(first.status).toBe(503)
    expect(causeCode(first)).toBe('ERR_JWKS_FETCH_FAILED')
    expect(first.description).not.toContain('500')
    expect(String((first.cause as Error).cause)).toContain('HTTP 500')
    expect(keys.state).toBe('unavailable')
    const started = Date.now()
    for (let i = 0; i < 20; i++)
      expect((await failure(keys.get(header('a')))).code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(keys.peek(header('a'))).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(300)
    expect(server.hits(PATH)).toBe(1)
    server.set(PATH, jwks(A))
    await sleep(410)
    expect((await keys.get(header('a'))).kid).toBe('a')
    expect(server.hits(PATH)).toBe(2)
  })

  it.each<[string, string, Reply]>([
    ['a 500', 'ERR_JWKS_FETCH_FAILED', { status: 500, body: 'oops' }],
    ['a 404', 'ERR_JWKS_FETCH_FAILED', { status: 404, body: '' }],
    ['a 204', 'ERR_JWKS_FETCH_FAILED', { status: 204, body: '' }],
    ['a redirect', 'ERR_JWKS_FETCH_FAILED', { status: 302, body: '', headers: { location: '/elsewhere' } }],
    ['garbage', 'ERR_JWKS_INVALID', { body: '<html>not json' }],
    ['a JSON array', 'ERR_JWKS_INVALID', { json: [A.jwk] }],
    ['keys not an array', 'ERR_JWKS_INVALID', { json: { keys: 'a' } }],
    ['an empty key set', 'ERR_JWKS_INVALID', { json: { keys: [] } }],
    ['only encryption keys', 'ERR_JWKS_INVALID', { json: { keys: [{ ...A.jwk, use: 'enc' }] } }],
    ['invalid UTF-8', 'ERR_JWKS_INVALID', { body: new Uint8Array([0x7b, 0xff, 0x7d]) }],
  ])('maps %s to %s', async (_, code, reply) => {
    const server = await serve(reply)
    const keys = store(server)
    const error = await failure(keys.refresh())
    expect(error.code).toBe(code)
    expect(error.status).toBe(503)
    expect(keys.lastError).toBe(error)
    expect(keys.state).toBe('unavailable')
  })

  it('maps a refused connection to ERR_JWKS_FETCH_FAILED', async () => {
    const server = await serve(jwks(A))
    const url = server.url(PATH)
    await server.close()
    const keys = createRemoteKeySet(url)
    stores.push(keys)
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_FETCH_FAILED')
  })

  it('rejects an RSA key under 2048 bits, leaving no usable key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const server = await serve({
      json: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'r', alg: 'RS256' }] },
    })
    const error = await failure(store(server).refresh())
    expect(error.code).toBe('ERR_JWKS_INVALID')
    expect(String((error.cause as Error).message)).toContain('no key usable')
  })

  it('leaves out RSA keys over 8192 bits or with a large public exponent, as keys under 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const rsa = publicKey.export({ format: 'jwk' }) as JWK
    const big = new Uint8Array(1025).fill(0xa5) // 8193 bits
    big[0] = 1
    const refused = [
      { kty: 'RSA', kid: 'huge-n', alg: 'RS256', n: Buffer.from(big).toString('base64url'), e: 'AQAB' },
      { ...rsa, kid: 'huge-e', alg: 'RS256', e: Buffer.alloc(255, 0xff).toString('base64url') },
    ]
    const alone = await failure(store(await serve({ json: { keys: refused } })).refresh())
    expect(alone.code).toBe('ERR_JWKS_INVALID')
    expect(String((alone.cause as Error).message)).toContain('no key usable')
    // Beside a usable key: the set is accepted and only the out-of-bounds keys are left out.
    const keys = store(await serve({ json: { keys: [...refused, A.jwk] } }))
    expect((await keys.get(header('a'))).kid).toBe('a')
    for (const kid of ['huge-n', 'huge-e']) {
      const error = await failure(keys.get({ alg: 'RS256', kid }))
      expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    }
  })

  it('times out a server that never answers with ERR_JWKS_TIMEOUT', async () => {
    const server = await serve('hang')
    const keys = store(server, { timeoutDuration: 150 })
    const started = Date.now()
    const error = await failure(keys.get(header('a')))
    expect(error.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(causeCode(error)).toBe('ERR_JWKS_TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('times out a body that stalls after the headers', async () => {
    const server = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":[')
    })
    const keys = store(server, { timeoutDuration: 150 })
    const started = Date.now()
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('times out even with a fetch implementation that ignores the abort signal', async () => {
    const server = await serve('hang')
    const stubborn: typeof fetch = (input, init) => fetch(input, { ...init, signal: undefined })
    const keys = store(server, { timeoutDuration: 100, fetch: stubborn })
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_TIMEOUT')
    server.set(PATH, (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":[') // then stall: only the timer can end the body read
    })
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_TIMEOUT')
  })

  it('cuts off a 10 MB streamed body after about 1 MB, without reading the rest', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let written = 0
    const server = await serve((_, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' }) // chunked: no content-length to trust
      const pump = () => {
        while (written < 10 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        if (!res.destroyed) res.end()
      }
      pump()
    })
    let read = 0
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const body = response.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(part, controller) {
            read += part.byteLength
            controller.enqueue(part)
          },
        }),
      )
      return new Response(body, { status: response.status, headers: response.headers })
    }
    const keys = store(server, { fetch: counting })
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_TOO_LARGE')
    // What went through the body stream: just past the limit (plus what the pipe had in flight), not 10 MB.
    expect(read).toBeGreaterThan(1_048_576)
    expect(read).toBeLessThan(1_048_576 + 4 * chunk.length)
  })

  it('refuses a declared content-length over the limit before reading', async () => {
    const server = await serve({ body: JSON.stringify({ keys: [A.jwk], pad: 'x'.repeat(2_000) }) })
    const error = await failure(store(server, { maxResponseSize: 1_000 }).refresh())
    expect(error.code).toBe('ERR_JWKS_TOO_LARGE')
  })

  it('serves the last good set while refreshes fail (stale-if-error), then expires it', async () => {
    let clock = 1_000_000
    const events: KeyStoreEvent[] = []
    const server = await serve(jwks(A))
    const keys = store(server, {
      cacheMaxAge: 60_000,
      cooldownDuration: 1_000,
      refreshInterval: Number.POSITIVE_INFINITY,
      now: () => clock,
      onEvent: (e) => events.push(e),
    })
    const key = await keys.get(header('a'))
    expect(keys.lastSuccessAt).toBe(clock)

    server.set(PATH, { status: 503, body: 'maintenance' })
    clock += 30_000
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_FETCH_FAILED')
    expect(keys.state).toBe('stale')
    expect(events.at(-1)).toMatchObject({ type: 'fetch-error', servingStale: true })
    expect(await keys.get(header('a'))).toBe(key)
    expect(keys.peek(header('a'))).toBe(key)
    // A new kid while the provider is failing: we cannot tell, so 503 rather than 401.
    clock += 2_000
    expect((await failure(keys.get(header('new')))).code).toBe('ERR_JWKS_UNAVAILABLE')

    clock += 28_001 // 60 001 ms after the last success
    expect(keys.state).toBe('unavailable')
    expect(keys.peek(header('a'))).toBeUndefined()
    expect(keys.contains(key)).toBe(false)
    const expired = await failure(keys.get(header('a')))
    expect(expired.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(causeCode(expired)).toBe('ERR_JWKS_FETCH_FAILED')
    expect(events.at(-1)).toMatchObject({ type: 'fetch-error', servingStale: false })

    server.set(PATH, jwks(A))
    clock += 1_000
    expect(await keys.get(header('a'))).toBe(key) // recovered, and the key object was reused
    expect(keys.state).toBe('fresh')
  })

  it.each<{ what: string; reply: Reply }>([
    { what: 'a 500', reply: { status: 500, body: '' } },
    { what: 'a hang', reply: 'hang' },
    { what: 'garbage', reply: { body: 'nope' } },
    { what: 'an oversized body', reply: { body: 'x'.repeat(5_000) } },
  ])('keeps serving after a good fetch when the provider sends $what', async ({ reply }) => {
    const server = await serve(jwks(A))
    const keys = store(server, { timeoutDuration: 400, maxResponseSize: 4_000 })
    const key = await keys.get(header('a'))
    server.set(PATH, reply)
    await failure(keys.refresh())
    expect(keys.state).toBe('stale')
    expect(await keys.get(header('a'))).toBe(key)
  })

  it('a JWK Set with no usable key is an answer, not an outage: the previous set is no longer served', async () => {
    const events: KeyStoreEvent[] = []
    const server = await serve(jwks(A, B))
    const keys = store(server, { onEvent: (e) => events.push(e) })
    const key = await keys.get(header('a'))
    server.set(PATH, { json: { keys: [] } })
    const error = await failure(keys.refresh())
    expect(error.code).toBe('ERR_JWKS_INVALID')
    expect(keys.state).toBe('unavailable')
    expect(keys.contains(key)).toBe(false)
    expect(keys.peek(header('a'))).toBeUndefined()
    expect(events.slice(-2)).toEqual([
      expect.objectContaining({ type: 'fetch-error', servingStale: false }),
      { type: 'keys-changed', added: [], removed: ['a', 'b'] },
    ])
    const refused = await failure(keys.get(header('a')))
    expect(refused.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(causeCode(refused)).toBe('ERR_JWKS_INVALID')
  })

  it('retries a failed background refresh with backoff, well before the next interval', async () => {
    const server = await serve(jwks(A))
    const keys = store(server, { refreshInterval: 5_000, cooldownDuration: 100 })
    await keys.get(header('a'))
    server.set(PATH, { status: 500, body: '' })
    await failure(keys.refresh())
    const failedAt = Date.now()
    server.set(PATH, jwks(A, B))
    await waitFor(() => keys.state === 'fresh', 1_500)
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(80) // not sooner than ~cooldownDuration
    expect(keys.peek(header('b'))?.kid).toBe('b')
    expect(server.hits(PATH)).toBe(3)
  })
})

// ── discovery-style URL ───────────────────────────────────────────────────────────────────────────

describe('URL given as a function', () => {
  it('resolves lazily, once, and reuses the URL after a success', async () => {
    const server = await serve(jwks(A))
    let calls = 0
    const keys = createRemoteKeySet(async () => {
      calls++
      return new URL(server.url(PATH))
    })
    stores.push(keys)
    expect(calls).toBe(0)
    await keys.get(header('a'))
    await keys.refresh()
    expect(calls).toBe(1)
    expect(server.hits(PATH)).toBe(2)
  })

  it('counts a failing or insecure resolution as a fetch failure', async () => {
    const insecure = createRemoteKeySet(async () => new URL('http://id.example.com/jwks'))
    const throwing = createRemoteKeySet(() => Promise.reject(new Error('metadata down')))
    const slow = createRemoteKeySet(() => new Promise<URL>(() => {}), { timeoutDuration: 100 })
    stores.push(insecure, throwing, slow)
    const first = await failure(insecure.get(header('a')))
    expect(first.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(causeCode(first)).toBe('ERR_JWKS_FETCH_FAILED')
    expect(String(((first.cause as Error).cause as Error).message)).toContain('https')
    expect(insecure.state).toBe('unavailable')
    expect(causeCode(await failure(throwing.get(header('a'))))).toBe('ERR_JWKS_FETCH_FAILED')
    expect(causeCode(await failure(slow.get(header('a'))))).toBe('ERR_JWKS_TIMEOUT')
  })
})

// ── events, state, close ──────────────────────────────────────────────────────────────────────────

describe('events and lifecycle', () => {
  it('reports fetch, fetch-success and keys-changed, and keys-changed only when the set changed', async () => {
    const events: KeyStoreEvent[] = []
    const statesAtFetch: string[] = []
    const server = await serve(jwks(A))
    const keys = store(server, {
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'fetch') statesAtFetch.push(keys.state)
      },
    })
    await keys.get(header('a'))
    await keys.refresh()
    expect(statesAtFetch).toEqual(['fetching', 'fetching'])
    const url = server.url(PATH)
    expect(events.map((e) => e.type)).toEqual([
      'fetch',
      'fetch-success',
      'keys-changed',
      'fetch',
      'fetch-success',
    ])
    expect(events[0]).toEqual({ type: 'fetch', url, reason: 'initial' })
    expect(events[1]).toMatchObject({ type: 'fetch-success', url, keyCount: 1 })
    expect(events[2]).toEqual({ type: 'keys-changed', added: ['a'], removed: [] })
    expect(events[3]).toEqual({ type: 'fetch', url, reason: 'refresh' })
    server.set(PATH, { status: 500, body: '' })
    await failure(keys.refresh())
    const error = events.at(-1) as Extract<KeyStoreEvent, { type: 'fetch-error' }>
    expect(error).toMatchObject({ type: 'fetch-error', url, servingStale: true })
    expect((error.error as GatehouseError).code).toBe('ERR_JWKS_FETCH_FAILED')
  })

  it('a listener that throws or rejects changes nothing', async () => {
    const server = await serve(jwks(A))
    let calls = 0
    const keys = store(server, {
      cooldownDuration: 0,
      onEvent: (e) => {
        calls++
        if (e.type === 'fetch-success') return Promise.reject(new Error('async listener bug')) as never
        throw new Error('listener bug')
      },
    })
    expect((await keys.get(header('a'))).kid).toBe('a')
    expect((await failure(keys.get(header('zzz')))).code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    server.set(PATH, { status: 500, body: '' })
    expect((await failure(keys.refresh())).code).toBe('ERR_JWKS_FETCH_FAILED')
    expect((await keys.get(header('a'))).kid).toBe('a')
    expect(calls).toBeGreaterThanOrEqual(6)
    await sleep(20) // an unhandled rejection from the async listener would fail the run here
  })

  it('close() stops background refresh, is idempotent, and schedules nothing afterwards', async () => {
    const server = await serve(jwks(A))
    // A frozen clock keeps the unknown kid inside the cooldown however slow the machine, so it schedules a
    // refetch (30 ms of real time) instead of fetching at once.
    const t0 = Date.now()
    const keys = store(server, { refreshInterval: 50, cooldownDuration: 30, now: () => t0 })
    await keys.get(header('a'))
    expect((await failure(keys.get(header('other')))).code).toBe('ERR_JWKS_NO_MATCHING_KEY') // schedules one
    keys.close()
    keys.close()
    await sleep(200)
    expect(server.hits(PATH)).toBe(1)
    expect(keys.state).toBe('fresh')
    await keys.refresh() // an explicit fetch still works after close, but arms no timer
    await sleep(150)
    expect(server.hits(PATH)).toBe(2)
  })
})
