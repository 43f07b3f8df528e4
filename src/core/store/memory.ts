/**
 * The store in this process's memory: a `Map` from key to slot, bounded in entries and in bytes.
 *
 * Every operation is O(1) and allocates nothing but the map's own growth. Expired entries are dropped
 * when read, and each insertion sweeps at most two expired entries from the oldest end, so expired
 * entries leave at least as fast as new ones arrive. When a limit is reached the oldest entry is evicted
 * even if it has not expired, and counted in `evictions`: for a replay check, the oldest entry is the
 * proof closest to leaving its window anyway. Size the store for (requests per second × window) entries.
 *
 * It is not shared: two processes (or two stores) each accept a proof once. Use `createRedisStore` when a
 * service runs on more than one instance.
 */

import { type Store, ttlMilliseconds } from './store.js'

export interface MemoryStoreOptions {
  /** Most entries held; the oldest is evicted first. Default 100_000. */
  maxEntries?: number
  /**
   * Most bytes held, estimated as 2 per character of key and value plus {@link ENTRY_OVERHEAD} per entry.
   * Default 33_554_432 (32 MiB).
   */
  maxBytes?: number
  /** The clock, in ms since the epoch, for tests. Default `Date.now`. */
  now?: () => number
}

/** A store in this process's memory: every member also answers synchronously. */
export interface MemoryStore extends Store {
  setIfAbsentSync(key: string, ttlSeconds: number): boolean
  getSync(key: string): string | undefined
  setSync(key: string, value: string, ttlSeconds: number): void
  /** Entries held, including expired ones not swept yet. */
  readonly size: number
  /** Estimated bytes held (see `maxBytes`). */
  readonly bytes: number
  /**
   * Entries evicted before they expired, to stay within `maxEntries` or `maxBytes`. Non-zero means the
   * store is too small for the traffic: a replayed proof whose entry was evicted is not recognised.
   */
  readonly evictions: number
  /** Drop every entry. */
  clear(): void
}

/**
 * Estimated bytes of one entry beyond its key and value: the map's slot and the entry's fields (measured
 * at about 55 bytes on Node 20 with 200,000 entries).
 */
export const ENTRY_OVERHEAD = 64

/** The value `setIfAbsent` records: `get` answers it for a recorded key, as on Redis. */
const RECORDED = '1'
/** Expired entries removed from the oldest end per insertion. */
const SWEEP = 2

/** No slot: the end of a list. */
const NONE = -1
/** Slots allocated at first; the arrays double up to `maxEntries`. */
const INITIAL_SLOTS = 1024

/**
 * Create a store in this process's memory.
 *
 * @example
 * ```ts
 * const store = createMemoryStore({ maxEntries: 200_000 })
 * store.setIfAbsentSync('jti:abc', 300) // true: recorded; a second call within 300 s answers false
 * ```
 * @throws TypeError naming the option when an option is invalid.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const { maxEntries = 100_000, maxBytes = 32 * 1024 * 1024, now = Date.now } = options
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError(`maxEntries: expected a positive integer, got ${maxEntries}`)
  if (!Number.isInteger(maxBytes) || maxBytes < 1024)
    throw new TypeError(`maxBytes: expected an integer of at least 1024, got ${maxBytes}`)
  if (typeof now !== 'function') throw new TypeError('now: expected a function returning milliseconds')

  // Each entry is a slot number: the map holds key → slot (a small integer, stored unboxed), and the
  // entry's fields live in arrays indexed by slot. An insertion allocates nothing but the map's own
  // growth, so the garbage collector never copies millions of medium-lived entry objects.
  const slots = new Map<string, number>()
  const keys: (string | undefined)[] = []
  const values: (string | undefined)[] = []
  let capacity = Math.min(maxEntries, INITIAL_SLOTS)
  /** Milliseconds since the epoch. */
  let expires = new Float64Array(capacity)
  let sizes = new Int32Array(capacity)
  // The insertion order, as a doubly linked list beside the map: a map iterator walks past every deleted
  // slot until the table is rebuilt, so asking the map for its oldest entry would cost O(n).
  let older = new Int32Array(capacity)
  let younger = new Int32Array(capacity)
  let oldest = NONE
  let youngest = NONE
  /** Released slots, linked through `younger`. */
  let free = NONE
  /** Slots handed out at least once. */
  let used = 0
  let bytes = 0
  let evictions = 0

  function grow(): void {
    capacity = Math.min(maxEntries, capacity * 2)
    const widen = <A extends Float64Array | Int32Array>(from: A, to: A): A => {
      to.set(from)
      return to
    }
    expires = widen(expires, new Float64Array(capacity))
    sizes = widen(sizes, new Int32Array(capacity))
    older = widen(older, new Int32Array(capacity))
    younger = widen(younger, new Int32Array(capacity))
  }

  function remove(slot: number): void {
    slots.delete(keys[slot] as string)
    keys[slot] = values[slot] = undefined
    bytes -= sizes[slot] as number
    const before = older[slot] as number
    const after = younger[slot] as number
    if (before === NONE) oldest = after
    else younger[before] = after
    if (after === NONE) youngest = before
    else older[after] = before
    younger[slot] = free
    free = slot
  }

  /** The slot of the live entry under `key`, or NONE; an expired entry is removed. */
  function live(key: string, at: number): number {
    const slot = slots.get(key)
    if (slot === undefined) return NONE
    if ((expires[slot] as number) > at) return slot
    remove(slot)
    return NONE
  }

  /** Add an entry for a key that has none, making room first. False when it can never fit. */
  function insert(key: string, value: string, at: number, ttl: number): boolean {
    const size = (key.length + value.length) * 2 + ENTRY_OVERHEAD
    if (size > maxBytes) return false
    for (let i = 0; i < SWEEP && oldest !== NONE && (expires[oldest] as number) <= at; i++) remove(oldest)
    while (oldest !== NONE && (slots.size >= maxEntries || bytes + size > maxBytes)) {
      if ((expires[oldest] as number) > at) evictions++
      remove(oldest)
    }
    let slot = free
    if (slot !== NONE) free = younger[slot] as number
    else {
      if (used === capacity) grow()
      slot = used++
    }
    slots.set(key, slot)
    keys[slot] = key
    values[slot] = value
    expires[slot] = at + ttl
    sizes[slot] = size
    older[slot] = youngest
    younger[slot] = NONE
    if (youngest === NONE) oldest = slot
    else younger[youngest] = slot
    youngest = slot
    bytes += size
    return true
  }

  function setIfAbsentSync(key: string, ttlSeconds: number): boolean {
    const ttl = ttlMilliseconds(ttlSeconds)
    const at = now()
    if (live(key, at) !== NONE) return false
    if (!insert(key, RECORDED, at, ttl))
      throw new TypeError(`key: ${key.length} characters do not fit in maxBytes (${maxBytes})`)
    return true
  }

  function getSync(key: string): string | undefined {
    const slot = live(key, now())
    return slot === NONE ? undefined : values[slot]
  }

  function setSync(key: string, value: string, ttlSeconds: number): void {
    const ttl = ttlMilliseconds(ttlSeconds)
    const previous = slots.get(key)
    if (previous !== undefined) remove(previous) // re-inserted at the young end
    insert(key, value, now(), ttl)
  }

  function clear(): void {
    while (oldest !== NONE) remove(oldest)
  }

  return {
    setIfAbsentSync,
    getSync,
    setSync,
    setIfAbsent: (key, ttlSeconds) => settle(() => setIfAbsentSync(key, ttlSeconds)),
    get: (key) => settle(() => getSync(key)),
    set: (key, value, ttlSeconds) => settle(() => setSync(key, value, ttlSeconds)),
    get size() {
      return slots.size
    },
    get bytes() {
      return bytes
    },
    get evictions() {
      return evictions
    },
    clear,
    close() {
      clear()
      return Promise.resolve()
    },
  }
}

/** A synchronous answer as a promise; a throw becomes a rejection, as from any other store. */
function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run())
  } catch (error) {
    return Promise.reject(error)
  }
}
