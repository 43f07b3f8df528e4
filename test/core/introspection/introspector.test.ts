/**
 * The introspector (RFC 7662) against a real endpoint on 127.0.0.1: answers and their checks, the cache
 * and its lifetimes, the bounds of the call (time, size, status), single-flight, the circuit breaker, the
 * shared store, and what never leaks (the token, in a cache key or an error).
 */
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import {
  createIntrospector,
  type Introspector,
  type IntrospectorOptions,
} from '../../../src/core/introspection/index.js'
import { createMemoryStore } from '../../../src/core/store/memory.js'
import type { Store } from '../../../src/core/store/store.js'
import { PENDING } from '../../../src/core/verify/verifier.js'
import {
  type Answer,
  type IntrospectionServer,
  rejection,
  startIntrospectionServer,
  testClock,
} from './helpers.js'

const ISSUER = 'https://id.example.com/'
const AUDIENCE = 'https://orders.example.com'
const TOKEN = 'opq_7Hq2LZx9TmW4kVb1sRn8'

const servers: IntrospectionServer[] = []
const introspectors: Introspector[] = []
let clock = testClock()
const seconds = () => clock.now() / 1000

afterEach(async () => {
  for (const introspector of introspectors.splice(0)) introspector.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
  clock = testClock()
})

async function serve(answer: Answer): Promise<IntrospectionServer> {
  const server = await startIntrospectionServer(answer)
  servers.push(server)
  return server
}

function make(server: IntrospectionServer, options: Partial<IntrospectorOptions> = {}): Introspector {
  const introspector = createIntrospector({
    url: server.url,
    clientId: 'orders-api',
    clientSecret: 'correct horse',
    issuer: ISSUER,
    audience: AUDIENCE,
    now: clock.now,
    ...options,
  })
  introspectors.push(introspector)
  return introspector
}

/** An active answer valid for an hour at the test clock. */
function active(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    active: true,
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'web-app',
    scope: 'orders:read orders:write',
    iat: seconds() - 10,
    exp: seconds() + 3600,
    ...extra,
  }
}

async function refusal(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await rejection(promise)
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('an active token', () => {
  it('is accepted with the answer’s members as claims, after one POST of the form', async () => {
    const server = await serve({ json: active() })
    const result = await make(server).introspect(TOKEN)
    expect(result).toMatchObject({ header: undefined, source: 'endpoint' })
    expect(result.claims).toMatchObject({ active: true, sub: 'user-1', scope: 'orders:read orders:write' })
    expect(Object.isFrozen(result.claims)).toBe(true)

    expect(server.calls).toHaveLength(1)
    const [call] = server.calls
    expect(call!.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(call!.headers.accept).toBe('application/json')
    expect(call!.form.get('token')).toBe(TOKEN)
    expect(call!.form.get('token_type_hint')).toBe('access_token')
  })

  it('is answered from memory the second time', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server)
    await introspector.introspect(TOKEN)
    clock.advance(30_000)
    const again = await introspector.introspect(TOKEN)
    expect(again.source).toBe('memory')
    expect(server.calls).toHaveLength(1)
  })

  it('keeps one answer per token', async () => {
    const server = await serve((call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(active({ sub: call.form.get('token') })))
    })
    const introspector = make(server)
    expect((await introspector.introspect('token-a')).claims.sub).toBe('token-a')
    expect((await introspector.introspect('token-b')).claims.sub).toBe('token-b')
    expect((await introspector.introspect('token-a')).claims.sub).toBe('token-a')
    expect(server.calls).toHaveLength(2)
  })
})

describe('an inactive token', () => {
  it('is a 401 invalid_token ERR_TOKEN_INACTIVE', async () => {
    const server = await serve({ json: { active: false } })
    const error = await refusal(make(server).introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_TOKEN_INACTIVE', status: 401, error: 'invalid_token' })
  })

  it('is remembered for inactiveMaxAge only (default 5 s)', async () => {
    const server = await serve({ json: { active: false } })
    const introspector = make(server)
    await refusal(introspector.introspect(TOKEN))
    clock.advance(4_000)
    expect((await refusal(introspector.introspect(TOKEN))).code).toBe('ERR_TOKEN_INACTIVE')
    expect(server.calls).toHaveLength(1)
    clock.advance(1_500)
    server.set({ json: active() })
    expect((await introspector.introspect(TOKEN)).source).toBe('endpoint')
    expect(server.calls).toHaveLength(2)
  })

  it('with an empty or overlong token: ERR_TOKEN_MALFORMED, and the endpoint is not called', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server, { maxTokenLength: 64 })
    expect((await refusal(introspector.introspect(''))).code).toBe('ERR_TOKEN_MALFORMED')
    expect((await refusal(introspector.introspect('x'.repeat(65)))).code).toBe('ERR_TOKEN_MALFORMED')
    expect((await refusal(introspector.introspect(42 as unknown as string))).code).toBe('ERR_TOKEN_MALFORMED')
    expect(server.calls).toHaveLength(0)
  })
})

describe('cache lifetimes', () => {
  it('a token that expires while cached is refused at its exp, whatever cache.maxAge says', async () => {
    const server = await serve({ json: active({ exp: seconds() + 30 }) })
    const introspector = make(server, { cache: { maxAge: 600 }, clockTolerance: 0 })
    await introspector.introspect(TOKEN)
    clock.advance(29_000)
    expect((await introspector.introspect(TOKEN)).source).toBe('memory')
    clock.advance(2_000)
    const error = await refusal(introspector.introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_JWT_EXPIRED', status: 401 })
  })

  it('an answer whose exp has passed is refused even when fresh', async () => {
    const server = await serve({ json: active({ exp: seconds() - 60 }) })
    expect((await refusal(make(server).introspect(TOKEN))).code).toBe('ERR_JWT_EXPIRED')
  })

  it('a revoked token is refused once cache.maxAge (default 60 s) has passed', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server)
    await introspector.introspect(TOKEN)
    server.set({ json: { active: false } }) // revoked at the authorization server
    clock.advance(59_000)
    expect((await introspector.introspect(TOKEN)).source).toBe('memory')
    clock.advance(1_001)
    expect((await refusal(introspector.introspect(TOKEN))).code).toBe('ERR_TOKEN_INACTIVE')
    expect(server.calls).toHaveLength(2)
  })

  it('cache.maxAge 0 asks the endpoint every time', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server, { cache: { maxAge: 0 } })
    await introspector.introspect(TOKEN)
    await introspector.introspect(TOKEN)
    expect(server.calls).toHaveLength(2)
  })

  it('holds at most cache.maxEntries answers, dropping the oldest', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server, { cache: { maxEntries: 2 } })
    for (const token of ['a', 'b', 'c']) await introspector.introspect(token)
    expect((await introspector.introspect('c')).source).toBe('memory')
    expect((await introspector.introspect('a')).source).toBe('endpoint')
  })
})

describe('claim checks', () => {
  it.each([
    ['another issuer', { iss: 'https://other.example.com/' }, 'ERR_JWT_ISSUER_INVALID'],
    ['no issuer', { iss: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['another audience', { aud: 'https://billing.example.com' }, 'ERR_JWT_AUDIENCE_INVALID'],
    [
      'audiences without ours',
      { aud: ['https://a.example.com', 'https://b.example.com'] },
      'ERR_JWT_AUDIENCE_INVALID',
    ],
    ['no audience', { aud: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['nbf in the future', { nbf: 'soon' }, 'ERR_JWT_NOT_YET_VALID'],
    ['iat in the future', { iat: 'soon' }, 'ERR_JWT_CLAIM_INVALID'],
  ])('%s: 401 %s', async (_, extra, code) => {
    const members = Object.fromEntries(
      Object.entries(extra).map(([name, value]) => [name, value === 'soon' ? seconds() + 600 : value]),
    )
    const server = await serve({ json: active(members) })
    const error = await refusal(make(server).introspect(TOKEN))
    expect(error).toMatchObject({ code, status: 401, error: 'invalid_token' })
  })

  it('accepts an audience list holding ours, and any audience or issuer when switched off with null', async () => {
    const server = await serve({ json: active({ aud: ['https://a.example.com', AUDIENCE] }) })
    await expect(make(server).introspect(TOKEN)).resolves.toBeDefined()
    server.set({ json: active({ aud: undefined, iss: undefined }) })
    await expect(make(server, { audience: null, issuer: null }).introspect(TOKEN)).resolves.toBeDefined()
  })

  it('rechecks the time claims of a cached answer on every call', async () => {
    const server = await serve({ json: active({ nbf: seconds() + 20 }) })
    const introspector = make(server, { clockTolerance: 0 })
    expect((await refusal(introspector.introspect(TOKEN))).code).toBe('ERR_JWT_NOT_YET_VALID')
    clock.advance(21_000)
    expect((await introspector.introspect(TOKEN)).source).toBe('memory')
  })
})

describe('answers that are not introspection answers: 503 ERR_INTROSPECTION_INVALID', () => {
  it.each([
    ['malformed JSON', '{"active": true,', 'application/json'],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), 'application/json'],
    ['an array', '[{"active":true}]', 'application/json'],
    ['a string', '"active"', 'application/json'],
    ['null', 'null', 'application/json'],
    ['active missing', '{"iss":"https://id.example.com/"}', 'application/json'],
    ['active a string', '{"active":"true"}', 'application/json'],
    ['active a number', '{"active":1}', 'application/json'],
    ['exp a string', '{"active":true,"exp":"tomorrow"}', 'application/json'],
    ['aud a number', '{"active":true,"aud":7}', 'application/json'],
    ['scope an array', '{"active":true,"scope":["a"]}', 'application/json'],
    ['cnf a string', '{"active":true,"cnf":"x"}', 'application/json'],
    ['nested too deep', `{"active":true,"x":${'['.repeat(40)}${']'.repeat(40)}}`, 'application/json'],
    ['a signed answer without keys to check it', 'e30.e30.e30', 'application/token-introspection+jwt'],
  ])('%s', async (_, body, contentType) => {
    const server = await serve({ body, contentType })
    const error = await refusal(make(server).introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_INVALID', status: 503, error: undefined })
  })

  it.each([
    [401, 'the client credentials are refused'],
    [500, 'the endpoint fails'],
    [302, 'a redirect, not followed'],
  ])('HTTP %i (%s): 503 ERR_INTROSPECTION_UNAVAILABLE', async (status) => {
    const server = await serve((_, res) => {
      res.writeHead(status, { location: 'http://127.0.0.1:1/elsewhere', 'content-type': 'application/json' })
      res.end('{"active":true}')
    })
    const error = await refusal(make(server).introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_UNAVAILABLE', status: 503 })
    expect(server.calls).toHaveLength(1)
  })

  it('an endless body is cut at maxResponseSize', async () => {
    let closedByClient = false
    let sent = 0
    const server = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"active":true,"padding":"')
      const chunk = 'a'.repeat(16_384)
      const pump = setInterval(() => {
        if (res.destroyed) return
        res.write(chunk)
        sent += chunk.length
      }, 2)
      res.on('close', () => {
        closedByClient = true
        clearInterval(pump)
      })
    })
    const error = await refusal(make(server, { maxResponseSize: 32_768 }).introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_INVALID', status: 503 })
    expect(String((error.cause as Error).message)).toContain('more than 32768 bytes')
    await expect.poll(() => closedByClient, { timeout: 5_000 }).toBe(true)
    expect(sent).toBeLessThan(4 * 1024 * 1024)
  })

  it('a declared content-length over the cap is refused before reading', async () => {
    const server = await serve({
      body: JSON.stringify(active({ pad: 'x'.repeat(70_000) })),
      contentType: 'application/json',
    })
    expect((await refusal(make(server).introspect(TOKEN))).code).toBe('ERR_INTROSPECTION_INVALID')
  })
})

describe('a hanging endpoint: a timely 503 ERR_INTROSPECTION_TIMEOUT', () => {
  it('when the headers never come', async () => {
    const server = await serve('hang')
    const started = performance.now()
    const error = await refusal(make(server, { timeoutDuration: 300 }).introspect(TOKEN))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_TIMEOUT', status: 503 })
    expect(performance.now() - started).toBeLessThan(3_000)
  })

  it('when the body never ends', async () => {
    const server = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"active":tr')
    })
    const started = performance.now()
    const error = await refusal(make(server, { timeoutDuration: 300 }).introspect(TOKEN))
    expect(error.code).toBe('ERR_INTROSPECTION_TIMEOUT')
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})

describe('single-flight', () => {
  it('100 concurrent introspect() calls for one token make exactly one HTTP call', async () => {
    const server = await serve({ json: active(), delayMs: 100 })
    const introspector = make(server)
    const results = await Promise.all(Array.from({ length: 100 }, () => introspector.introspect(TOKEN)))
    expect(server.calls).toHaveLength(1)
    expect(new Set(results.map((result) => result.claims)).size).toBe(1)
  })

  it('concurrent callers share a failure too, and the next call tries again', async () => {
    const server = await serve({ body: 'garbage', contentType: 'text/plain' })
    const introspector = make(server)
    const errors = await Promise.all(
      Array.from({ length: 20 }, () => refusal(introspector.introspect(TOKEN))),
    )
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(['ERR_INTROSPECTION_INVALID']))
    expect(server.calls).toHaveLength(1)
    server.set({ json: active() })
    await introspector.introspect(TOKEN)
    expect(server.calls).toHaveLength(2)
  })
})

describe('the circuit breaker', () => {
  const failing: Answer = { body: 'down', contentType: 'text/plain', status: 500 }

  it('opens after failureThreshold failures in a row, refusing at once without calling', async () => {
    const server = await serve(failing)
    const introspector = make(server, { circuitBreaker: { failureThreshold: 3, cooldownDuration: 10_000 } })
    for (let i = 0; i < 3; i++) await refusal(introspector.introspect(`token-${i}`))
    expect(server.calls).toHaveLength(3)
    expect(introspector.circuit).toBe('open')

    const error = await refusal(introspector.introspect('token-x'))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_UNAVAILABLE', status: 503 })
    expect((error.cause as Error).message).toMatch(/failed 3 times in a row; next attempt in 10000 ms/)
    expect(server.calls).toHaveLength(3)
  })

  it('after the cool-down lets one trial call through; its success closes the circuit', async () => {
    const server = await serve(failing)
    const introspector = make(server, { circuitBreaker: { failureThreshold: 2, cooldownDuration: 10_000 } })
    for (let i = 0; i < 2; i++) await refusal(introspector.introspect(`token-${i}`))
    clock.advance(9_999)
    await refusal(introspector.introspect('early'))
    expect(server.calls).toHaveLength(2)

    clock.advance(2)
    server.set({ json: active(), delayMs: 50 })
    const [trial, other] = await Promise.allSettled([
      introspector.introspect('trial'),
      introspector.introspect('other'),
    ])
    expect(trial.status).toBe('fulfilled')
    expect(other).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INTROSPECTION_UNAVAILABLE' } })
    expect(server.calls).toHaveLength(3)
    expect(introspector.circuit).toBe('closed')
    await introspector.introspect('after')
    expect(server.calls).toHaveLength(4)
  })

  it('a failed trial opens it for another cool-down', async () => {
    const server = await serve(failing)
    const introspector = make(server, { circuitBreaker: { failureThreshold: 1, cooldownDuration: 5_000 } })
    await refusal(introspector.introspect('a'))
    clock.advance(5_000)
    await refusal(introspector.introspect('trial'))
    expect(server.calls).toHaveLength(2)
    expect(introspector.circuit).toBe('open')
    clock.advance(4_000)
    await refusal(introspector.introspect('b'))
    expect(server.calls).toHaveLength(2)
  })

  it('a 400 is the token refused (401), not the endpoint failing: malformed tokens cannot open the circuit', async () => {
    const server = await serve({
      json: {
        error: 'unsupported_token_type',
        error_description: 'Structured JWT Tokens cannot be introspected',
      },
      status: 400,
    })
    const introspector = make(server, { circuitBreaker: { failureThreshold: 2 } })
    for (let i = 0; i < 5; i++) {
      const error = await refusal(introspector.introspect(`hostile-${i}`))
      expect(error).toMatchObject({ code: 'ERR_TOKEN_INACTIVE', status: 401 })
    }
    expect(introspector.circuit).toBe('closed')
    expect(server.calls).toHaveLength(5)
  })

  it('inactive answers and claim refusals are successes: the endpoint works', async () => {
    const server = await serve({ json: { active: false } })
    const introspector = make(server, { circuitBreaker: { failureThreshold: 2 } })
    for (let i = 0; i < 5; i++) await refusal(introspector.introspect(`token-${i}`))
    expect(introspector.circuit).toBe('closed')
    expect(server.calls).toHaveLength(5)
  })
})

/** A store that records what it is given, over a memory store. */
function recordingStore(inner: Store = createMemoryStore()): {
  store: Store
  keys: string[]
  values: string[]
} {
  const keys: string[] = []
  const values: string[] = []
  return {
    keys,
    values,
    store: {
      setIfAbsent: (key, ttl) => inner.setIfAbsent(key, ttl),
      get(key) {
        keys.push(key)
        return inner.get(key)
      },
      set(key, value, ttl) {
        keys.push(key)
        values.push(value)
        return inner.set(key, value, ttl)
      },
      close: () => inner.close(),
    },
  }
}

describe('the shared store', () => {
  it('two introspectors on one store: one call for one token', async () => {
    const server = await serve({ json: active() })
    const store = createMemoryStore({ now: clock.now })
    const first = make(server, { cache: { store } })
    const second = make(server, { cache: { store } })
    expect((await first.introspect(TOKEN)).source).toBe('endpoint')
    await expect.poll(() => store.size).toBe(1)
    const result = await second.introspect(TOKEN)
    expect(result.source).toBe('store')
    expect(result.claims.sub).toBe('user-1')
    expect(server.calls).toHaveLength(1)
    expect((await second.introspect(TOKEN)).source).toBe('memory')
  })

  it('shares inactive answers too, for their own short lifetime', async () => {
    const server = await serve({ json: { active: false } })
    const store = createMemoryStore({ now: clock.now })
    await refusal(make(server, { cache: { store } }).introspect(TOKEN))
    await expect.poll(() => store.size).toBe(1)
    expect((await refusal(make(server, { cache: { store } }).introspect(TOKEN))).code).toBe(
      'ERR_TOKEN_INACTIVE',
    )
    expect(server.calls).toHaveLength(1)
  })

  it('an answer read from the store lives no longer than the reader’s own maxAge', async () => {
    const server = await serve({ json: active() })
    const store = createMemoryStore({ now: clock.now })
    await make(server, { cache: { store, maxAge: 300 } }).introspect(TOKEN)
    await expect.poll(() => store.size).toBe(1)
    clock.advance(120_000)
    const reader = make(server, { cache: { store, maxAge: 60 } })
    expect((await reader.introspect(TOKEN)).source).toBe('endpoint')
    expect(server.calls).toHaveLength(2)
  })

  it('introspectors of different endpoints or clients do not read each other’s answers', async () => {
    const server = await serve({ json: { active: false } })
    const store = createMemoryStore({ now: clock.now })
    await refusal(make(server, { cache: { store }, clientId: 'other-api' }).introspect(TOKEN))
    await expect.poll(() => store.size).toBe(1)
    server.set({ json: active() })
    expect((await make(server, { cache: { store } }).introspect(TOKEN)).source).toBe('endpoint')
  })

  it('a store that fails is a miss: the endpoint answers', async () => {
    const server = await serve({ json: active() })
    const broken: Store = {
      setIfAbsent: () => Promise.reject(new GatehouseError('ERR_STORE_UNAVAILABLE')),
      get: () => Promise.reject(new GatehouseError('ERR_STORE_UNAVAILABLE')),
      set: () => Promise.reject(new GatehouseError('ERR_STORE_UNAVAILABLE')),
      close: () => Promise.resolve(),
    }
    expect((await make(server, { cache: { store: broken } }).introspect(TOKEN)).source).toBe('endpoint')
  })

  it('a corrupt entry in the store is a miss', async () => {
    const server = await serve({ json: active() })
    const recorded = recordingStore()
    await make(server, { cache: { store: recorded.store } }).introspect(TOKEN)
    await expect.poll(() => recorded.values.length).toBe(1)
    const corrupt = { fetchedAt: clock.now(), until: clock.now() + 60_000, answer: { active: 'yes' } }
    await recorded.store.set(recorded.keys.at(-1)!, JSON.stringify(corrupt), 60)
    expect((await make(server, { cache: { store: recorded.store } }).introspect(TOKEN)).source).toBe(
      'endpoint',
    )
  })
})

describe('the token never leaks', () => {
  it('no cache key and no stored value holds the token', async () => {
    const server = await serve({ json: active() })
    const recorded = recordingStore()
    await make(server, { cache: { store: recorded.store } }).introspect(TOKEN)
    await expect.poll(() => recorded.values.length).toBe(1)
    expect(recorded.keys.length).toBeGreaterThan(0)
    for (const key of recorded.keys) {
      expect(key).not.toContain(TOKEN)
      expect(key).toMatch(/^introspection:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{43}$/)
    }
    for (const value of recorded.values) expect(value).not.toContain(TOKEN)
  })

  // Endpoints that echo what they were sent: the token must not travel on into an error or its cause.
  it.each<[string, Answer]>([
    ['a body that is not JSON', { body: `invalid token ${TOKEN}`, contentType: 'text/plain' }],
    ['JSON cut short', { body: `{"active":true,"token":"${TOKEN}"`, contentType: 'application/json' }],
    ['a member of the wrong type', { json: { active: true, scope: [TOKEN], sub: 1 } }],
    ['active of the wrong type', { json: { active: TOKEN } }],
    ['an error status', { body: `{"error":"${TOKEN}"}`, contentType: 'application/json', status: 400 }],
    ['an inactive answer', { json: { active: false, token: TOKEN } }],
    ['headers never sent', 'hang'],
  ])('%s', async (_, answer) => {
    const server = await serve(answer)
    const error = await refusal(make(server, { timeoutDuration: 300 }).introspect(TOKEN))
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain(TOKEN)
    expect(JSON.stringify(error.cause ?? null)).not.toContain(TOKEN)
  })
})

describe('introspectSync', () => {
  it('answers from memory in the same tick, and PENDING when only introspect() can answer', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server)
    expect(introspector.introspectSync(TOKEN)).toBe(PENDING)
    expect(server.calls).toHaveLength(0)
    await introspector.introspect(TOKEN)
    expect(introspector.introspectSync(TOKEN)).toMatchObject({ source: 'memory', claims: { sub: 'user-1' } })
    clock.advance(61_000)
    expect(introspector.introspectSync(TOKEN)).toBe(PENDING)
  })

  it('throws as introspect() rejects: an inactive answer held, a malformed token', async () => {
    const server = await serve({ json: { active: false } })
    const introspector = make(server)
    await refusal(introspector.introspect(TOKEN))
    expect(() => introspector.introspectSync(TOKEN)).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_INACTIVE' }),
    )
    expect(() => introspector.introspectSync('')).toThrow(
      expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }),
    )
  })
})

describe('close()', () => {
  it('later calls are refused with a 503', async () => {
    const server = await serve({ json: active() })
    const introspector = make(server)
    await introspector.introspect(TOKEN)
    introspector.close()
    expect((await refusal(introspector.introspect(TOKEN))).code).toBe('ERR_INTROSPECTION_UNAVAILABLE')
  })
})

describe('options', () => {
  const base = (): IntrospectorOptions => ({
    url: 'https://id.example.com/introspect',
    clientId: 'orders-api',
    clientSecret: 'correct horse',
    issuer: ISSUER,
    audience: AUDIENCE,
  })

  it.each<[string, Partial<Record<keyof IntrospectorOptions | 'other', unknown>>, string]>([
    ['plain http off loopback', { url: 'http://id.example.com/introspect' }, 'url: expected an https URL'],
    ['credentials in the URL', { url: 'https://a:b@id.example.com/introspect' }, 'url: credentials'],
    ['no issuer', { issuer: undefined }, 'issuer: required'],
    ['no audience', { audience: undefined }, 'audience: required'],
    ['no clientId', { clientId: '' }, 'clientId: expected a non-empty string'],
    ['no client authentication', { clientSecret: undefined }, 'clientSecret: expected a non-empty string'],
    ['an unknown method', { authMethod: 'tls_client_auth' }, 'authMethod: expected'],
    ['a misspelt option', { other: 1 }, 'other: unknown option'],
    [
      'a header the introspector writes',
      { headers: { Authorization: 'Bearer x' } },
      'headers: Authorization',
    ],
    ['signed answers without keys', { signedResponse: 'require' }, 'keys: required with signedResponse'],
    ['a negative maxAge', { cache: { maxAge: -1 } }, 'cache.maxAge: expected a finite number of seconds'],
    ['a zero threshold', { circuitBreaker: { failureThreshold: 0 } }, 'circuitBreaker.failureThreshold'],
    [
      'a public key to sign with',
      { clientSecret: undefined, privateKey: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }, alg: 'ES256' },
      'privateKey: expected a private JWK',
    ],
    [
      'a key that does not fit alg',
      { clientSecret: undefined, privateKey: { kty: 'EC', crv: 'P-256', d: 'x' }, alg: 'RS256' },
      'privateKey: RS256 needs kty RSA, got kty "EC"',
    ],
  ])('%s: a TypeError naming the option', (_, change, message) => {
    const options = { ...base(), ...change } as IntrospectorOptions
    expect(() => createIntrospector(options)).toThrow(TypeError)
    expect(() => createIntrospector(options)).toThrow(message)
  })

  it('never shows the client secret in a message', () => {
    const secret = 'sup3r-s3cret-value'
    const attempts = [
      { ...base(), clientSecret: secret, privateKey: { kty: 'EC' } },
      { ...base(), clientSecret: secret, authMethod: 'private_key_jwt' },
      { ...base(), clientSecret: secret, headers: { 'x-key': 1 } },
    ]
    for (const options of attempts) {
      expect(() => createIntrospector(options as IntrospectorOptions)).toThrow(TypeError)
      try {
        createIntrospector(options as IntrospectorOptions)
      } catch (error) {
        expect((error as Error).message).not.toContain(secret)
      }
    }
  })

  it('accepts plain http on another host only with allowInsecureRequests', () => {
    const url = 'http://keycloak:8080/realms/dev/protocol/openid-connect/token/introspect'
    expect(() => createIntrospector({ ...base(), url })).toThrow(TypeError)
    expect(() => createIntrospector({ ...base(), url, allowInsecureRequests: true })).not.toThrow()
  })
})
