/**
 * The store on Redis, shared by every instance that uses the same server and `prefix`, through
 * node-redis (the `redis` package, an optional peer dependency loaded on first use, so that an
 * application without Redis never loads it). docs/dpop.md says why node-redis rather than ioredis.
 *
 * `setIfAbsent` is one `SET key 1 NX PX ttl`: atomic on the server, whatever the number of instances.
 * Keys are `prefix + base64url(SHA-256(key))`: never the raw value (a `jti`, a token), so that nothing
 * readable by whoever can read Redis identifies a client's request, and every key has one short length.
 *
 * Every operation is bounded by `timeoutDuration`: a server that is unreachable, refuses, or accepts the
 * connection and never answers makes the operation reject with `ERR_STORE_UNAVAILABLE` (503) within that
 * time. A replay check that could not be made is never taken for a success.
 */

import { sha256 } from '../crypto/digest.js'
import { GatehouseError } from '../errors.js'
import { describe } from '../lib/values.js'
import { type Store, ttlMilliseconds } from './store.js'

/**
 * The part of a node-redis client that the store uses: what `createClient()` and `createCluster()` of
 * node-redis 5 and later return.
 */
export interface RedisClientLike {
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' },
  ): Promise<unknown>
  get(key: string): Promise<unknown>
}

export interface RedisStoreOptions {
  /**
   * `redis://` or `rediss://` URL (credentials and database included, as node-redis reads them). The store
   * creates its own client, connects on first use, reconnects with backoff, and closes it in `close()`.
   * Give `url` or `client`, not both.
   */
  url?: string
  /**
   * A node-redis client or cluster you created and connected (`await createClient(...).connect()`). The
   * store never connects or closes it. A client that queues commands while disconnected (node-redis's
   * default) still answers within `timeoutDuration`; `disableOfflineQueue: true` makes it fail at once.
   */
  client?: RedisClientLike
  /** Prepended to every (hashed) key. Default `'gatehouse:'`. */
  prefix?: string
  /**
   * Milliseconds one operation may take, connecting on first use included, before it rejects with
   * `ERR_STORE_UNAVAILABLE`. Default 500.
   */
  timeoutDuration?: number
}

/** What the store needs from its own client, beyond RedisClientLike. */
interface OwnClient extends RedisClientLike {
  on(event: 'error', listener: (error: unknown) => void): unknown
  connect(): Promise<unknown>
  destroy(): void
}

interface RedisModule {
  createClient(options: {
    url: string
    disableOfflineQueue: boolean
    socket: { connectTimeout: number; reconnectStrategy: (retries: number) => number }
  }): OwnClient
}

/** Longest wait between two reconnection attempts of the store's own client, in milliseconds. */
const MAX_RECONNECT_DELAY = 2000

/**
 * Create a store on Redis.
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url: process.env.REDIS_URL, prefix: 'api:' })
 * await store.setIfAbsent('jti:abc', 300) // true once, across every instance using this Redis
 * ```
 * @throws TypeError naming the option when an option is invalid (neither or both of `url` and `client`).
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const { url, client: given, prefix = 'gatehouse:', timeoutDuration = 500 } = options
  if ((url === undefined) === (given === undefined))
    throw new TypeError('createRedisStore: give exactly one of `url` and `client`')
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url)))
    throw new TypeError(`url: expected a redis:// or rediss:// URL, got ${describe(url)}`)
  if (given !== undefined && (typeof given?.set !== 'function' || typeof given.get !== 'function'))
    throw new TypeError('client: expected a node-redis client (with set and get)')
  if (typeof prefix !== 'string') throw new TypeError(`prefix: expected a string, got ${describe(prefix)}`)
  if (!Number.isFinite(timeoutDuration) || timeoutDuration <= 0)
    throw new TypeError(`timeoutDuration: expected a positive number of milliseconds, got ${timeoutDuration}`)

  let own: OwnClient | undefined
  /** The store's own client, once loaded and its first connection attempt has ended (either way). */
  let opening: Promise<RedisClientLike> | undefined
  let closed = false

  function connection(): Promise<RedisClientLike> {
    if (given !== undefined) return Promise.resolve(given)
    opening ??= (async () => {
      const { createClient } = loadRedis()
      const client = createClient({
        url: url as string,
        // While reconnecting, commands fail at once (a 503 now) rather than queue for an unknown time.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: timeoutDuration,
          reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY),
        },
      })
      // node-redis emits every connection failure as 'error'; unheard, it would crash the process. Each
      // failure reaches the request that meets it as ERR_STORE_UNAVAILABLE instead.
      client.on('error', () => {})
      own = client
      if (closed)
        destroy(client) // closed while node-redis was loading
      // The first attempt only, and no longer than one operation may take: later attempts run in the
      // background (reconnectStrategy), and while there is no connection commands fail at once
      // (disableOfflineQueue) instead of each waiting out its timeout.
      else await settledWithin(client.connect(), timeoutDuration)
      return client
    })()
    return opening
  }

  /** Run `operation` within `timeoutDuration`; any failure becomes ERR_STORE_UNAVAILABLE. */
  function bounded<T>(operation: (client: RedisClientLike) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(unavailable({ reason: 'the store is closed' }))
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable({ reason: 'timeout', timeoutDuration })),
        timeoutDuration,
      )
      // A pending timer must not keep a process alive that is otherwise done.
      ;(timer as { unref?: () => void }).unref?.()
      connection()
        .then(operation)
        .then(
          (value) => {
            clearTimeout(timer)
            resolve(value)
          },
          (error: unknown) => {
            clearTimeout(timer)
            reject(error instanceof GatehouseError ? error : unavailable(error))
          },
        )
    })
  }

  return {
    async open() {
      if (!closed) await connection().catch(() => {})
    },
    setIfAbsent(key, ttlSeconds) {
      const ttl = ttlMilliseconds(ttlSeconds)
      return bounded(async (client) => {
        const reply = await client.set(await redisKey(prefix, key), '1', {
          expiration: { type: 'PX', value: ttl },
          condition: 'NX',
        })
        // SET … NX answers OK when it set the key, and nil when the key was there.
        if (reply === 'OK') return true
        if (reply === null) return false
        throw new Error('SET NX answered neither OK nor nil')
      })
    },
    get(key) {
      return bounded(async (client) => {
        const reply = await client.get(await redisKey(prefix, key))
        if (reply === null) return undefined
        if (typeof reply !== 'string') throw new Error('GET answered a value that is not a string')
        return reply
      })
    },
    set(key, value, ttlSeconds) {
      const ttl = ttlMilliseconds(ttlSeconds)
      return bounded(async (client) => {
        await client.set(await redisKey(prefix, key), value, { expiration: { type: 'PX', value: ttl } })
      })
    },
    async close() {
      if (closed) return
      closed = true
      if (own !== undefined) destroy(own)
    },
  }
}

/** Resolves when `promise` settles (either way) or after `ms`, whichever comes first. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    ;(timer as { unref?: () => void }).unref?.()
    promise.then(
      () => resolve(),
      () => resolve(),
    )
  })
}

/** Close at once: a graceful QUIT would wait for a server that may never answer. */
function destroy(client: OwnClient): void {
  try {
    client.destroy()
  } catch {
    // already closed
  }
}

function unavailable(cause: unknown): GatehouseError {
  return new GatehouseError('ERR_STORE_UNAVAILABLE', undefined, { cause })
}

/** `prefix + base64url(SHA-256(key))`, on node:crypto where there is one (no thread-pool round trip). */
async function redisKey(prefix: string, key: string): Promise<string> {
  return prefix + (await sha256(key))
}

/**
 * node-redis, loaded on first use with `require` from Node's `module` (node-redis ships CommonJS). Not an
 * `import()`: a bundler would pull a literal one into every bundle of the core, and Workers refuse a
 * computed one in any module they load, used or not. Runtimes without `process.getBuiltinModule`
 * (Workers) cannot load it: give a `client` there.
 */
function loadRedis(): RedisModule {
  const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule
  const nodeModule = builtin?.('node:module') as
    | { createRequire(from: string): (id: string) => unknown }
    | undefined
  if (nodeModule === undefined)
    throw new Error(
      'no module loader on this runtime to load node-redis: pass a connected client as `client`',
    )
  return nodeModule.createRequire(import.meta.url)('redis') as RedisModule
}
