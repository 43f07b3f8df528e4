/**
 * The verified-token cache: a client reuses its access token for the token's whole lifetime, so the
 * signature check (about 70% of a protected request's cost behind a fast server) is paid once per token.
 *
 * Bounded in entries and in bytes (token length counts; claims are usually smaller than the token).
 * Eviction is first-in first-out: cheaper than LRU on the hit path, and a hot token that is evicted is
 * simply verified again. Every hit rechecks the validity window, so an entry never outlives `exp`.
 */

import type { VerificationKey, VerifiedToken } from '../types.js'
import type { Trust } from './trust.js'

export interface CachedToken {
  verified: VerifiedToken
  key: VerificationKey
  trust: Trust
  /** Seconds: valid while from <= now < until. */
  from: number
  until: number
}

export interface TokenCacheOptions {
  /** Default 10000. */
  maxEntries?: number
  /** Approximate bytes (2 per token character). Default 16 MiB. */
  maxBytes?: number
}

export class TokenCache {
  readonly #entries = new Map<string, CachedToken>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0

  constructor(options: TokenCacheOptions) {
    const { maxEntries = 10_000, maxBytes = 16 * 1024 * 1024 } = options
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new TypeError(`cache.maxEntries: expected a positive integer, got ${maxEntries}`)
    if (!Number.isInteger(maxBytes) || maxBytes < 1024)
      throw new TypeError(`cache.maxBytes: expected an integer of at least 1024, got ${maxBytes}`)
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  /** The entry if present and valid at `now` (seconds); an expired entry is dropped. */
  get(token: string, now: number): CachedToken | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (now >= entry.from && now < entry.until) return entry
    this.#delete(token)
    return undefined
  }

  set(token: string, entry: CachedToken): void {
    const size = token.length * 2
    if (size > this.#maxBytes) return
    this.#delete(token)
    while (this.#entries.size >= this.#maxEntries || this.#bytes + size > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value as string
      this.#delete(oldest)
    }
    this.#entries.set(token, entry)
    this.#bytes += size
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  #delete(token: string): void {
    if (this.#entries.delete(token)) this.#bytes -= token.length * 2
  }
}
