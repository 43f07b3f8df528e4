/**
 * The dev issuer's signing keys: one current key per algorithm, plus keys retired by a rotation that stay
 * published until their grace period ends.
 *
 * With a data folder, `keys.json` is the source of truth: every operation re-reads it when it changed on
 * disk, so `gatehouse issuer rotate` run in another terminal takes effect in a running issuer, and
 * `gatehouse token` signs with the key the issuer publishes.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK as JoseJWK,
} from 'jose'
import type { JWK, JWKS } from '../core/types.js'
import { readJsonFile, writeJsonFile } from './files.js'
import { DEV_ALGORITHMS, type DevAlgorithm } from './options.js'

export const KEYS_FILE = 'keys.json'

/** One key as stored in `keys.json`. Times are ISO 8601 strings, so the file reads well. */
export interface StoredKey {
  kid: string
  alg: DevAlgorithm
  createdAt: string
  /** When a rotation replaced this key; absent while it is current. */
  retiredAt?: string
  /** Until when a retired key stays in the JWKS. */
  publishedUntil?: string
  /** The private JWK. Never served. */
  privateJwk: JoseJWK
}

interface KeysDocument {
  version: 1
  keys: StoredKey[]
}

/** What a signer needs: the key, its `kid` and algorithm. */
export interface SigningKey {
  kid: string
  alg: DevAlgorithm
  privateKey: CryptoKey
  privateJwk: JoseJWK
}

/** Generate a key pair for `alg` (RSA 2048, P-256 or Ed25519). `kid` is the RFC 7638 thumbprint. */
export async function generateStoredKey(alg: DevAlgorithm, now = Date.now()): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' && { modulusLength: 2048 }),
  })
  const privateJwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(privateJwk, 'sha256')
  return { kid, alg, createdAt: new Date(now).toISOString(), privateJwk }
}

/** The public half of a stored key, as published in the JWKS (RFC 7517 §4). */
export function publicJwk(key: StoredKey): JWK {
  const { kty, crv, n, e, x, y } = key.privateJwk
  const out: JWK = { kty: kty as string, kid: key.kid, use: 'sig', alg: key.alg }
  if (crv !== undefined) out.crv = crv
  if (n !== undefined) out.n = n
  if (e !== undefined) out.e = e
  if (x !== undefined) out.x = x
  if (y !== undefined) out.y = y
  return out
}

export class KeyRing {
  readonly #file: string | undefined
  readonly #now: () => number
  #keys: StoredKey[] = []
  #fileStamp = ''
  readonly #imported = new Map<string, CryptoKey>()
  /** Mutations run one at a time, so two concurrent first mints create one key, not two. */
  #queue: Promise<unknown> = Promise.resolve()

  /** `dataDir` null keeps the keys in memory. `now` is a millisecond clock (tests). */
  constructor(dataDir: string | null, now: () => number = Date.now) {
    this.#file = dataDir === null ? undefined : join(dataDir, KEYS_FILE)
    this.#now = now
  }

  /** Path of `keys.json`, or undefined in memory. */
  get file(): string | undefined {
    return this.#file
  }

  /** The current key for `alg`, created (and saved) if there is none. */
  current(alg: DevAlgorithm): Promise<SigningKey> {
    return this.#exclusive(async () => {
      await this.#reload()
      let key = this.#currentStored(alg)
      if (key === undefined) {
        key = await generateStoredKey(alg, this.#now())
        this.#keys.push(key)
        await this.#save()
      }
      return this.#signingKey(key)
    })
  }

  /** A published key by `kid` (current or in its grace period), or undefined. */
  byKid(kid: string): Promise<SigningKey | undefined> {
    return this.#exclusive(async () => {
      await this.#reload()
      const key = this.#published().find((k) => k.kid === kid)
      return key && this.#signingKey(key)
    })
  }

  /**
   * Make a new current key for `alg`. The previous one stops signing at once but stays in the JWKS for
   * `graceSeconds`, so tokens it signed keep verifying while they live (that is what rotation must not break).
   */
  rotate(alg: DevAlgorithm, graceSeconds: number): Promise<{ kid: string; retired: string | undefined }> {
    return this.#exclusive(async () => {
      await this.#reload()
      // Generate first (an RSA key takes a while): the grace period starts when the new key takes over.
      const fresh = await generateStoredKey(alg, this.#now())
      const now = this.#now()
      const old = this.#currentStored(alg)
      if (old !== undefined) {
        old.retiredAt = new Date(now).toISOString()
        old.publishedUntil = new Date(now + graceSeconds * 1000).toISOString()
      }
      this.#keys.push(fresh)
      this.#keys = this.#published()
      await this.#save()
      return { kid: fresh.kid, retired: old?.kid }
    })
  }

  /** The public JWK Set: current keys and keys still in their grace period. */
  jwks(): Promise<JWKS> {
    return this.#exclusive(async () => {
      await this.#reload()
      return { keys: this.#published().map(publicJwk) }
    })
  }

  /** Algorithms that have a current key (what a rotation of "every key" rotates). */
  currentAlgorithms(): Promise<DevAlgorithm[]> {
    return this.#exclusive(async () => {
      await this.#reload()
      return DEV_ALGORITHMS.filter((alg) => this.#currentStored(alg) !== undefined)
    })
  }

  /** Algorithms of the published keys, for the metadata document. */
  async algorithms(): Promise<DevAlgorithm[]> {
    const { keys } = await this.jwks()
    return DEV_ALGORITHMS.filter((alg) => keys.some((k) => k.alg === alg))
  }

  #currentStored(alg: DevAlgorithm): StoredKey | undefined {
    // The newest non-retired key wins, should a hand-edited file hold several.
    return this.#keys.filter((k) => k.alg === alg && k.retiredAt === undefined).at(-1)
  }

  #published(): StoredKey[] {
    const now = this.#now()
    return this.#keys.filter((k) => k.publishedUntil === undefined || Date.parse(k.publishedUntil) > now)
  }

  async #signingKey(key: StoredKey): Promise<SigningKey> {
    let privateKey = this.#imported.get(key.kid)
    if (privateKey === undefined) {
      privateKey = (await importJWK(key.privateJwk, key.alg)) as CryptoKey
      this.#imported.set(key.kid, privateKey)
    }
    return { kid: key.kid, alg: key.alg, privateKey, privateJwk: key.privateJwk }
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Re-read `keys.json` if it changed since we last read or wrote it (mtime + size). */
  async #reload(): Promise<void> {
    if (this.#file === undefined) return
    let stamp: string
    try {
      const s = await stat(this.#file)
      stamp = `${s.mtimeMs}:${s.size}`
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause
      stamp = 'missing'
    }
    if (stamp === this.#fileStamp) return
    const document = await readJsonFile(this.#file)
    this.#keys = document === undefined ? [] : parseKeysDocument(document, this.#file)
    this.#fileStamp = stamp
  }

  async #save(): Promise<void> {
    if (this.#file === undefined) return
    const document: KeysDocument = { version: 1, keys: this.#keys }
    await writeJsonFile(this.#file, document)
    const s = await stat(this.#file)
    this.#fileStamp = `${s.mtimeMs}:${s.size}`
  }
}

function parseKeysDocument(document: unknown, path: string): StoredKey[] {
  const keys = (document as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys))
    throw new Error(`${path}: expected { "keys": [ ... ] }; delete the file to start over`)
  return keys.map((raw, i) => {
    const k = raw as Partial<StoredKey> | null
    const ok =
      typeof k === 'object' &&
      k !== null &&
      typeof k.kid === 'string' &&
      DEV_ALGORITHMS.includes(k.alg as DevAlgorithm) &&
      typeof k.privateJwk === 'object' &&
      k.privateJwk !== null &&
      typeof k.privateJwk.d === 'string' &&
      (k.publishedUntil === undefined || !Number.isNaN(Date.parse(k.publishedUntil)))
    if (!ok) throw new Error(`${path}: keys[${i}] is malformed; delete the file to start over`)
    return k as StoredKey
  })
}
