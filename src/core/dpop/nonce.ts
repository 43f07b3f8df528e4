/**
 * Stateless DPoP nonces (RFC 9449 §8, §9): a nonce is base64url(HMAC-SHA256(secret, period number)),
 * where the period number is the clock divided by `period`. Nothing is stored: every instance configured
 * with the same secret computes the same nonces, so a client may take its nonce from one instance and
 * present it to another. The nonce of the current period is handed out; those of the previous and the
 * next period are still accepted (a nonce lives one to two periods, and instances whose clocks differ by
 * less than a period agree).
 *
 * A nonce is not a secret (any client may ask for one) and the comparison need not be constant-time: what
 * must stay secret is the key, so that nobody can compute the nonce of a period to come.
 */
import { canDigestSync, hmacSha256, hmacSha256Sync } from '../crypto/digest.js'

export interface DpopNonceOptions {
  /**
   * The HMAC key: at least 32 bytes (a string counts its UTF-8 bytes), the same on every instance that
   * should accept the others' nonces. Random, and kept like any other secret.
   */
  secret: string | Uint8Array
  /** Seconds a nonce is handed out for; it is accepted for one more. Default 60. */
  period?: number
}

/** The nonces of one period and its neighbours. */
interface Window {
  period: number
  previous: string
  current: string
  next: string
}

export interface NonceSource {
  /**
   * The nonce to hand out at `nowMs` (milliseconds since the epoch), for `DPoP-Nonce`; undefined when it
   * must first be computed asynchronously (WebCrypto only): see {@link NonceSource.prepare}.
   */
  current(nowMs: number): string | undefined
  /** Whether `nonce` is accepted at `nowMs`; undefined as for `current`. */
  accepts(nonce: string, nowMs: number): boolean | undefined
  /** Compute the nonces of the period of `nowMs`, so that `current` and `accepts` answer. */
  prepare(nowMs: number): Promise<void>
}

/** Smallest secret accepted, in bytes: the HMAC-SHA256 key length (RFC 2104 §3). */
export const MIN_SECRET_BYTES = 32

const utf8 = new TextEncoder()

/**
 * Nonces from a secret. Validates the options once.
 *
 * @throws TypeError naming the option: a secret under 32 bytes, a period that is not a positive number.
 */
export function createNonceSource(options: DpopNonceOptions, option = 'nonce'): NonceSource {
  const { secret, period = 60 } = options
  const key =
    typeof secret === 'string' ? utf8.encode(secret) : secret instanceof Uint8Array ? secret.slice() : null
  if (key === null || key.byteLength < MIN_SECRET_BYTES)
    throw new TypeError(
      `${option}.secret: expected a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`,
    )
  if (typeof period !== 'number' || !Number.isFinite(period) || period < 1)
    throw new TypeError(`${option}.period: expected a number of seconds of at least 1, got ${period}`)

  const input = (n: number) => utf8.encode(`gatehouse dpop nonce ${n}`)
  let window: Window | undefined

  const periodOf = (nowMs: number) => Math.floor(nowMs / 1000 / period)
  function windowAt(nowMs: number): Window | undefined {
    const n = periodOf(nowMs)
    if (window?.period === n) return window
    if (!canDigestSync) return undefined
    const at = (m: number) => hmacSha256Sync(key as Uint8Array, input(m))
    // A step forward reuses what the previous window computed.
    window =
      window?.period === n - 1
        ? { period: n, previous: window.current, current: window.next, next: at(n + 1) }
        : { period: n, previous: at(n - 1), current: at(n), next: at(n + 1) }
    return window
  }

  return {
    current: (nowMs) => windowAt(nowMs)?.current,
    accepts(nonce, nowMs) {
      const w = windowAt(nowMs)
      if (w === undefined) return undefined
      return nonce === w.current || nonce === w.previous || nonce === w.next
    },
    async prepare(nowMs) {
      const n = periodOf(nowMs)
      if (window?.period === n || canDigestSync) return
      const [previous, current, next] = await Promise.all(
        [n - 1, n, n + 1].map((m) => hmacSha256(key as Uint8Array, input(m))),
      )
      window = { period: n, previous: previous as string, current: current as string, next: next as string }
    },
  }
}
