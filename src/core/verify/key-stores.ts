/**
 * The key stores of one verifier, made from its issuers' key sources: a store given as `keys` is used as
 * it is; a JWK Set given as `keys` becomes a local store; `jwksUri`, `discovery` and the default URL
 * become remote stores, with the issuer's `keySet` options and the verifier's clock. Issuers that name
 * the same key set (Entra's v1 and v2 issuers) share one store: one cache, one refresh.
 */
import type { KeySetOptions, NormalizedIssuer } from '../config/options.js'
import { discoverKeySet } from '../keys/discovery.js'
import { createLocalKeySet } from '../keys/local.js'
import {
  createRemoteKeySet,
  REMOTE_KEY_SET_DEFAULTS,
  REMOTE_KEY_SET_OPTIONS,
  type RemoteKeyStore,
} from '../keys/remote.js'
import type { JWKS, KeyStore } from '../types.js'

/** A remote store this verifier built, the options it was built with, and the first issuer that uses it. */
interface SharedStore {
  store: RemoteKeyStore
  options: KeySetOptions
  issuer: NormalizedIssuer
}

/** The options two issuers sharing a store must agree on: every key set option but the clock. */
const SHARED_OPTIONS = REMOTE_KEY_SET_OPTIONS.filter(
  (name): name is Exclude<typeof name, 'now'> => name !== 'now',
) satisfies readonly (keyof KeySetOptions)[]

const DEFAULTS: Readonly<Partial<Record<keyof KeySetOptions, unknown>>> = {
  ...REMOTE_KEY_SET_DEFAULTS,
  headers: {},
  allowInsecureRequests: false,
}

export class VerifierKeyStores {
  readonly #now: () => number
  /** Remote stores built here, by key set: its URL, or the issuer discovery reads. */
  readonly #shared = new Map<string, SharedStore>()
  /** The stores built here: the only ones `close()` closes (a store passed in may serve other verifiers). */
  readonly #built: KeyStore[] = []
  /** Every store that fetches, built here or passed in: what `warmUp()` loads. */
  readonly #remote = new Set<RemoteKeyStore>()

  constructor(now: () => number) {
    this.#now = now
  }

  /**
   * The store of one issuer.
   * @throws TypeError when it shares a key set with an earlier issuer but asks for other key set options.
   */
  storeFor(issuer: NormalizedIssuer, where: string): KeyStore {
    const source = issuer.keys
    if (source.kind === 'given') {
      const { value } = source
      if (isKeyStore(value)) {
        if (isRemote(value)) this.#remote.add(value)
        return value
      }
      const local = createLocalKeySet(value)
      this.#built.push(local)
      return local
    }
    const id = source.url ? source.url.href : `discovery:${source.issuer}:${source.discovery}`
    const existing = this.#shared.get(id)
    if (existing) {
      const keySet = source.url?.href ?? `(discovered for ${source.issuer})`
      checkSameOptions(existing, source.options, issuer, where, keySet)
      return existing.store
    }
    const options = { ...source.options, now: this.#now }
    const store = source.url
      ? createRemoteKeySet(source.url, options)
      : discoverKeySet(source.issuer, { ...options, fallback: source.discovery === 'auto' })
    this.#shared.set(id, { store, options: source.options, issuer })
    this.#built.push(store)
    this.#remote.add(store)
    return store
  }

  /** Fetch every remote key set now; rejects with the first failure. */
  async warmUp(): Promise<void> {
    await Promise.all([...this.#remote].map((store) => store.refresh()))
  }

  /** Close the stores built here; stores passed in stay open. */
  close(): void {
    for (const store of this.#built) store.close()
  }
}

/** One store has one set of options: an issuer asking for others would silently get the first one's. */
function checkSameOptions(
  first: SharedStore,
  options: KeySetOptions,
  issuer: NormalizedIssuer,
  where: string,
  keySet: string,
): void {
  for (const name of SHARED_OPTIONS) {
    const mine = options[name] ?? DEFAULTS[name]
    const theirs = first.options[name] ?? DEFAULTS[name]
    if (same(mine, theirs)) continue
    const show = (value: unknown) =>
      typeof value === 'function' ? 'a function' : value === undefined ? 'nothing' : String(value)
    const values =
      typeof mine === 'function' && typeof theirs === 'function'
        ? 'two different functions'
        : name === 'headers'
          ? 'different headers' // their values may be credentials: never in a message
          : `${show(theirs)} and ${show(mine)}`
    throw new TypeError(
      `${where ? `${where}.` : ''}keySet.${name}: issuers ${label(first.issuer)} and ${label(issuer)} share ` +
        `the key set ${keySet}, so they share one key store with one ${name}; they ask for ${values}. Give ` +
        'both the same value (a top-level keySet applies to every issuer)',
    )
  }
}

/** Equal values; header records with the same entries (any order) count as equal. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  const entries = (value: object) =>
    JSON.stringify(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)))
  return entries(a) === entries(b)
}

function label(issuer: NormalizedIssuer): string {
  return JSON.stringify(issuer.issuers[0] ?? String(issuer.matcher))
}

function isKeyStore(value: JWKS | KeyStore): value is KeyStore {
  return typeof (value as KeyStore).get === 'function'
}

function isRemote(store: KeyStore): store is RemoteKeyStore {
  return typeof (store as RemoteKeyStore).refresh === 'function'
}
