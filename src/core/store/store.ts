/**
 * The shared store: small, expiring state that every request of a process, and with a shared backend
 * every instance of a service, sees alike. Two uses shape it: the DPoP replay check (RFC 9449 §11.1: a
 * proof's `jti` is accepted once within its window), which needs an atomic "record unless present", and
 * caches of short string values (token introspection), which need `get` and `set`.
 *
 * Implementations: `createMemoryStore` (this process only; answers without waiting) and
 * `createRedisStore` (shared by every instance that uses the same Redis and `prefix`).
 */

/**
 * Expiring string values under string keys, in one key space. Times are in seconds and may be
 * fractional (a Redis store rounds up to the millisecond).
 *
 * A store that cannot answer (Redis unreachable, or slower than its `timeoutDuration`) rejects with a
 * GatehouseError `ERR_STORE_UNAVAILABLE` (503): it never reports a key as absent, or as recorded, without
 * knowing.
 */
export interface Store {
  /**
   * Record `key` for `ttlSeconds` unless it is recorded and not expired. Resolves `true` when this call
   * recorded it, `false` when it was already there (a replay). Atomic: of concurrent calls with one key,
   * on one store or on several sharing a backend, exactly one resolves `true`.
   */
  setIfAbsent(key: string, ttlSeconds: number): Promise<boolean>
  /** The value under `key` if present and not expired; `undefined` otherwise. */
  get(key: string): Promise<string | undefined>
  /**
   * Store `value` under `key` for `ttlSeconds`, replacing any value. Meant for caches: a bounded store may
   * evict it before it expires.
   */
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  /**
   * `setIfAbsent` without waiting. Present only on stores that keep their state in this process (the
   * memory store), so that a request needing no I/O is answered in the same tick.
   */
  setIfAbsentSync?(key: string, ttlSeconds: number): boolean
  /** `get` without waiting; present where `setIfAbsentSync` is. */
  getSync?(key: string): string | undefined
  /** `set` without waiting; present where `setIfAbsentSync` is. */
  setSync?(key: string, value: string, ttlSeconds: number): void
  /**
   * Open the store's connection now, at start-up, so that the first request does not wait for it.
   * Resolves once the first attempt has ended, whether or not the backend answered (a store that cannot
   * answer says so on each operation). Absent on stores with nothing to open.
   */
  open?(): Promise<void>
  /** Release what the store opened (a connection it created; a client passed in stays open). Idempotent. */
  close(): Promise<void>
}

/**
 * `ttlSeconds` as milliseconds, at least 1.
 *
 * @throws TypeError when it is not a positive finite number: a caller's mistake, never a client's.
 */
export function ttlMilliseconds(ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !(ttlSeconds > 0) || ttlSeconds === Number.POSITIVE_INFINITY)
    throw new TypeError(`ttlSeconds: expected a positive finite number of seconds, got ${ttlSeconds}`)
  return Math.max(1, Math.ceil(ttlSeconds * 1000))
}
