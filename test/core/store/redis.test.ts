/**
 * The Redis store against a real redis-server (see redis-server.ts): SET NX PX is atomic across clients,
 * entries expire, keys are hashed, and a server that is unreachable or never answers is a timely 503
 * (ERR_STORE_UNAVAILABLE), never an accepted replay.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { createRedisStore } from '../../../src/core/store/redis.js'
import type { Store } from '../../../src/core/store/store.js'
import { freePort, redisAvailability, startRedis, type TestRedis } from './redis-server.js'

const availability = redisAvailability()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A distinct prefix per test: REDIS_URL may point at a server other runs use. */
let prefixes = 0
const freshPrefix = () => `gatehouse-test:${process.pid}:${Date.now()}:${prefixes++}:`

/** The rejection of `promise`, with how long it took (ms); fails if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  try {
    await promise
  } catch (error) {
    return { error, ms: performance.now() - started }
  }
  throw new Error('expected a rejection')
}

describe('createRedisStore: options', () => {
  it.each([
    ['neither url nor client', {}, /exactly one of `url` and `client`/],
    ['both', { url: 'redis://127.0.0.1:1', client: createClient() }, /exactly one/],
    ['a URL of another scheme', { url: 'http://127.0.0.1:6379' }, /^url: expected a redis:\/\//],
    ['a client without set/get', { client: {} }, /^client: expected a node-redis client/],
    ['a prefix that is not a string', { url: 'redis://x', prefix: 1 }, /^prefix: expected a string/],
    ['timeoutDuration 0', { url: 'redis://x', timeoutDuration: 0 }, /^timeoutDuration: expected a positive/],
  ])('%s is a TypeError', (_why, options, message) => {
    expect(() => createRedisStore(options as never)).toThrow(TypeError)
    expect(() => createRedisStore(options as never)).toThrow(message)
  })

  it('a ttl that is not a positive finite number is a TypeError, before any I/O', () => {
    const store = createRedisStore({ url: 'redis://127.0.0.1:1' })
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => store.setIfAbsent('k', ttl)).toThrow(/ttlSeconds/)
  })
})

describe.runIf(availability.available)('createRedisStore on a real redis-server', () => {
  let redis: TestRedis
  const opened: Store[] = []
  const store = (options: Partial<Parameters<typeof createRedisStore>[0]> = {}): Store => {
    const created = createRedisStore({ url: redis.url, timeoutDuration: 2000, ...options } as never)
    opened.push(created)
    return created
  }

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const each of opened) await each.close()
    await redis?.stop()
  })

  it('setIfAbsent records once: two stores (two connections) racing on one key, exactly one wins', async () => {
    const prefix = freshPrefix()
    const [a, b] = [store({ prefix }), store({ prefix })]
    const racers = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).setIfAbsent('jti-1', 30))
    const results = await Promise.all(racers)
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await a.setIfAbsent('jti-1', 30)).toBe(false)
    expect(await b.setIfAbsent('jti-2', 30)).toBe(true) // another key is independent
  })

  it('an entry expires after its ttl, then the key can be recorded again', async () => {
    const s = store({ prefix: freshPrefix() })
    expect(await s.setIfAbsent('short', 0.2)).toBe(true)
    expect(await s.setIfAbsent('short', 0.2)).toBe(false)
    await sleep(350)
    expect(await s.setIfAbsent('short', 0.2)).toBe(true)
  })

  it('get and set: a value with a ttl, replaced by a later set, gone after expiry', async () => {
    const s = store({ prefix: freshPrefix() })
    expect(await s.get('cache')).toBeUndefined()
    await s.set('cache', '{"active":true}', 0.3)
    expect(await s.get('cache')).toBe('{"active":true}')
    await s.set('cache', 'second', 0.3)
    expect(await s.get('cache')).toBe('second')
    await sleep(450)
    expect(await s.get('cache')).toBeUndefined()
  })

  it('keys are prefix + base64url(SHA-256(key)): never the raw value', async () => {
    const prefix = freshPrefix()
    const s = store({ prefix })
    await s.setIfAbsent('raw-jti-value', 30)
    await s.set('raw-token-value', 'v', 30)
    const raw = createClient({ url: redis.url })
    await raw.connect()
    try {
      const keys = await raw.keys(`${prefix}*`)
      expect(keys).toHaveLength(2)
      for (const key of keys) expect(key).toMatch(new RegExp(`^${prefix}[A-Za-z0-9_-]{43}$`))
      expect(keys.join(' ')).not.toContain('raw-')
      // The same key under another prefix is another entry: stores sharing a server stay apart.
      expect(await store({ prefix: freshPrefix() }).setIfAbsent('raw-jti-value', 30)).toBe(true)
    } finally {
      raw.destroy()
    }
  })

  it('a client passed in is used as is, and left open by close()', async () => {
    const client = createClient({ url: redis.url })
    await client.connect()
    try {
      const prefix = freshPrefix()
      const s = createRedisStore({ client, prefix })
      expect(await s.setIfAbsent('given', 30)).toBe(true)
      expect(await store({ prefix }).setIfAbsent('given', 30)).toBe(false) // shared with a url store
      await s.close()
      expect(client.isOpen).toBe(true)
      expect(await rejection(s.get('given'))).toMatchObject({ error: { code: 'ERR_STORE_UNAVAILABLE' } })
    } finally {
      client.destroy()
    }
  })

  it('the server going away: 503 ERR_STORE_UNAVAILABLE, never a recorded replay', async () => {
    const own = await startRedis()
    const s = createRedisStore({ url: own.url, timeoutDuration: 500, prefix: freshPrefix() })
    try {
      expect(await s.setIfAbsent('k', 30)).toBe(true)
      await own.stop()
      const { error, ms } = await rejection(s.setIfAbsent('k2', 30))
      expect(error).toBeInstanceOf(GatehouseError)
      expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503, error: undefined })
      expect(ms).toBeLessThan(5000) // bounded by timeoutDuration, not by node-redis's reconnection
    } finally {
      await s.close()
      await own.stop()
    }
  })
})

describe('createRedisStore when Redis cannot answer', () => {
  let silent: Server
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    // Accepts connections and reads, never writes: a hung server or a black-holing proxy.
    silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('data', () => {})
      socket.on('close', () => sockets.delete(socket))
    })
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    silent.close()
    await once(silent, 'close')
  })
  const silentUrl = () => `redis://127.0.0.1:${(silent.address() as { port: number }).port}`

  it('nothing listens on the port: ERR_STORE_UNAVAILABLE within the time limit', async () => {
    const s = createRedisStore({ url: `redis://127.0.0.1:${await freePort()}`, timeoutDuration: 300 })
    try {
      const { error, ms } = await rejection(s.setIfAbsent('k', 30))
      expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503 })
      expect(ms).toBeLessThan(3000)
      // Later operations fail too (reconnecting in the background), each within the limit.
      expect((await rejection(s.get('k'))).error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
    } finally {
      await s.close()
    }
  })

  it('after open() found nothing listening, each operation fails at once rather than waiting out its limit', async () => {
    const s = createRedisStore({ url: `redis://127.0.0.1:${await freePort()}`, timeoutDuration: 1000 })
    try {
      await s.open?.()
      for (let i = 0; i < 3; i++) {
        const { error, ms } = await rejection(s.setIfAbsent(`k${i}`, 30))
        expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
        expect(ms).toBeLessThan(900) // not the 1000 ms limit: no operation waits for a connection
      }
    } finally {
      await s.close()
    }
  })

  it('a server that accepts the connection and never answers: a timely 503 (own client)', async () => {
    const s = createRedisStore({ url: silentUrl(), timeoutDuration: 300 })
    try {
      const { error, ms } = await rejection(s.setIfAbsent('k', 30))
      expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503 })
      expect(ms).toBeLessThan(3000)
    } finally {
      await s.close()
    }
  })

  it('the same with a client passed in that queues commands (node-redis defaults): the timeout decides', async () => {
    const client = createClient({
      url: silentUrl(),
      socket: { connectTimeout: 60_000, reconnectStrategy: false },
    })
    client.on('error', () => {})
    const connecting = client.connect().catch(() => {})
    const s = createRedisStore({ client, timeoutDuration: 300 })
    try {
      const { error, ms } = await rejection(s.setIfAbsent('k', 30))
      expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503 })
      expect((error as GatehouseError).cause).toEqual({ reason: 'timeout', timeoutDuration: 300 })
      expect(ms).toBeLessThan(3000)
    } finally {
      client.destroy()
      await connecting
    }
  })
})

if (!availability.available)
  describe('createRedisStore on a real redis-server', () => {
    it.skip(`SKIPPED: ${availability.why}`, () => {})
  })
