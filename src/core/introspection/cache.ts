/**
 * Where answers are reused: a bounded map in this process's memory, and optionally a shared store (Redis)
 * behind it, so that N instances make one introspection call per token rather than N.
 *
 * Keys are base64url(SHA-256(token)): whoever reads the memory or the store learns nothing that can be
 * presented as a token. In the shared store the key also names the endpoint and client, so that two
 * introspectors sharing one store never read each other's answers.
 *
 * The memory level is a `Map` rather than the memory store of `store/`: that store holds strings, so every
 * hit would parse JSON into a new object; the map holds the frozen answer itself, shared by every hit.
 * Eviction is first-in first-out, as in the verified-token cache: no reordering on the hit path, and an
 * evicted hot token is only asked for again. Every hit checks the entry's end (`until`), and the caller
 * rechecks the claims (`exp`, `nbf`) on every answer, cached or not.
 */
import { canDigestSync, sha256, sha256Sync } from '../crypto/digest.js'
import type { Store } from '../store/store.js'
import { type IntrospectionAnswer, readAnswer } from './response.js'

/** base64url(SHA-256(token)). */
export function tokenKey(token: string): string | Promise<string> {
  return canDigestSync ? sha256Sync(token) : sha256(token)
}

interface Entry {
  answer: IntrospectionAnswer
  /** Milliseconds since the epoch. */
  until: number
  /** Estimated bytes. */
  size: number
}

/** Estimated bytes of an entry beyond its answer: the key (43 characters), the map slot, the fields. */
const ENTRY_OVERHEAD = 200

export class AnswerCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  /** The answer under `key` if it is still reusable at `now` (ms); an ended entry is dropped. */
  get(key: string, now: number): IntrospectionAnswer | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now < entry.until) return entry.answer
    this.#delete(key)
    return undefined
  }

  /** Keep `answer` until `until` (ms). `jsonSize` is the answer's size as JSON, in characters. */
  set(key: string, answer: IntrospectionAnswer, until: number, jsonSize: number): void {
    const size = jsonSize * 2 + ENTRY_OVERHEAD
    if (size > this.#maxBytes) return
    this.#delete(key)
    while (this.#entries.size >= this.#maxEntries || this.#bytes + size > this.#maxBytes) {
      this.#delete(this.#entries.keys().next().value as string)
    }
    this.#entries.set(key, { answer, until, size })
    this.#bytes += size
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    this.#bytes -= entry.size
  }
}

/** An answer read from the shared store. */
export interface SharedAnswer {
  answer: IntrospectionAnswer
  /** When it was fetched from the endpoint, and until when it may be reused (ms since the epoch). */
  fetchedAt: number
  until: number
  /** Characters of its JSON form. */
  jsonSize: number
}

/** The value kept in the store: the answer as the endpoint's members, and its two times. */
interface StoredAnswer {
  fetchedAt: number
  until: number
  answer: unknown
}

/**
 * The shared level over a {@link Store}. A store that fails (Redis down or slow: it answers within its own
 * timeout) counts as a miss on read and is ignored on write: the endpoint is the source of truth, the
 * store only spares it calls.
 */
export class SharedAnswers {
  readonly #store: Store
  readonly #prefix: string

  /** @param scope identifies the endpoint and client (a hash of them): part of every key. */
  constructor(store: Store, scope: string) {
    this.#store = store
    this.#prefix = `introspection:${scope}:`
  }

  /** The answer under `key`, if present, well-formed and reusable at `now` (ms). */
  async get(key: string, now: number): Promise<SharedAnswer | undefined> {
    let text: string | undefined
    try {
      text = await this.#store.get(this.#prefix + key)
    } catch {
      return undefined
    }
    if (text === undefined) return undefined
    try {
      const record = JSON.parse(text) as StoredAnswer
      const { fetchedAt, until } = record
      if (typeof fetchedAt !== 'number' || typeof until !== 'number' || !(now < until)) return undefined
      // The store is shared, so its content is read like an answer from the endpoint.
      return { answer: readAnswer(record.answer), fetchedAt, until, jsonSize: text.length }
    } catch {
      return undefined
    }
  }

  /** Keep `answer` (its members as JSON text) until `until` (ms); never waits, never fails. */
  set(key: string, answerJson: string, fetchedAt: number, until: number, now: number): void {
    const ttl = (until - now) / 1000
    if (!(ttl > 0)) return
    const text = `{"fetchedAt":${fetchedAt},"until":${until},"answer":${answerJson}}`
    try {
      this.#store.set(this.#prefix + key, text, ttl).catch(() => {})
    } catch {
      // A synchronous throw from a store is ignored like a rejection.
    }
  }
}
