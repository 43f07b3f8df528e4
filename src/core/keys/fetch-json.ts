/**
 * One bounded GET of a JSON document, shared by the remote key store and discovery. Everything a provider
 * sends is untrusted: the answer must arrive within a time limit (headers AND body), must be 200, must
 * stay under a size limit while it streams (a 10 MB body is cut off after the limit, never buffered
 * whole), and must parse as JSON. Every failure becomes a GatehouseError whose code the caller chooses;
 * what the provider said goes in `cause`, never in the description.
 *
 * Not checked here: `content-type` (providers disagree on it; the JSON parse decides), the document's shape.
 */
import { type ErrorCode, GatehouseError } from '../errors.js'

/** The ways a fetch can fail; each caller maps them to its own codes. */
export type FetchFailure = 'failed' | 'timeout' | 'invalid' | 'too-large'

/** Defaults shared by the key store and discovery. */
export const FETCH_DEFAULTS = Object.freeze({
  /** 5 s per request: long enough for a slow provider, short enough that a request waiting on it survives. */
  timeoutDuration: 5_000,
  /** 1 MiB: real key sets are a few kB, metadata documents a few tens of kB. */
  maxResponseSize: 1_048_576,
})

/** Options every bounded fetch takes (validated by {@link checkFetchOptions}). */
export interface FetchOptions {
  /** Milliseconds for the whole request, headers and body. Default 5000. */
  timeoutDuration?: number
  /** Largest accepted body in bytes. Default 1 MiB (1_048_576). */
  maxResponseSize?: number
  /** Extra request headers (e.g. an API gateway key). `accept` is set unless given here. */
  headers?: Record<string, string>
  /** A fetch implementation (e.g. one that goes through a proxy). Default `globalThis.fetch`. */
  fetch?: typeof fetch
}

/** {@link FetchOptions} with defaults applied. */
export interface CheckedFetchOptions {
  timeoutDuration: number
  maxResponseSize: number
  headers: Record<string, string>
  fetch: typeof fetch | undefined
}

/**
 * Validate the fetch options once, at construction.
 * @throws TypeError naming the option and the expected form.
 */
export function checkFetchOptions(options: FetchOptions): CheckedFetchOptions {
  const {
    timeoutDuration = FETCH_DEFAULTS.timeoutDuration,
    maxResponseSize = FETCH_DEFAULTS.maxResponseSize,
  } = options
  if (typeof timeoutDuration !== 'number' || !(timeoutDuration > 0) || !Number.isFinite(timeoutDuration)) {
    throw new TypeError('timeoutDuration: expected a positive, finite number of milliseconds')
  }
  if (!Number.isSafeInteger(maxResponseSize) || maxResponseSize <= 0) {
    throw new TypeError('maxResponseSize: expected a positive integer number of bytes')
  }
  const headers = options.headers ?? {}
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Array.isArray(headers) ||
    Object.values(headers).some((value) => typeof value !== 'string')
  ) {
    throw new TypeError('headers: expected an object of header names to string values')
  }
  try {
    new Headers(headers)
  } catch {
    throw new TypeError('headers: expected valid HTTP header names and values')
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError('fetch: expected a function compatible with globalThis.fetch')
  }
  return { timeoutDuration, maxResponseSize, headers: { ...headers }, fetch: options.fetch }
}

/**
 * GET `url` and parse its body as JSON.
 *
 * The request uses `redirect: 'error'` (a key set that moved is a configuration change, not something to
 * follow silently) and one AbortSignal whose timer covers the whole exchange; each body read also races
 * the timer, so a `fetch` implementation that ignores the signal cannot hang us either.
 *
 * @param accept the `accept` header, unless `options.headers` sets one.
 * @param codes which GatehouseError code each failure becomes.
 * @throws GatehouseError with `codes[failure]` and the detail in `cause`.
 */
export async function fetchJson(
  url: URL,
  accept: string,
  options: CheckedFetchOptions,
  codes: Readonly<Record<FetchFailure, ErrorCode>>,
): Promise<unknown> {
  const fail = (failure: FetchFailure, cause: unknown) =>
    new GatehouseError(codes[failure], undefined, { cause })
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new Error('timeout'))
  }, options.timeoutDuration)
  ;(timer as { unref?: () => void }).unref?.()
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  aborted.catch(() => {})
  const bounded = <T>(step: Promise<T>) => Promise.race([step, aborted])
  const timeoutError = () =>
    fail('timeout', new Error(`no complete answer from ${url.href} within ${options.timeoutDuration} ms`))

  let done = false
  try {
    const headers = new Headers(options.headers)
    if (!headers.has('accept')) headers.set('accept', accept)
    const doFetch = options.fetch ?? globalThis.fetch
    let response: Response
    try {
      response = await bounded(
        doFetch(url.href, { method: 'GET', headers, redirect: 'error', signal: controller.signal }),
      )
    } catch (cause) {
      throw timedOut ? timeoutError() : fail('failed', cause)
    }
    const discard = () => void response.body?.cancel().catch(() => {})
    if (response.status !== 200) {
      discard()
      throw fail('failed', new Error(`${url.href} answered HTTP ${response.status} (expected 200)`))
    }
    // A declared length over the limit is refused before reading a byte.
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (declared > options.maxResponseSize) {
      discard()
      throw tooLarge()
    }

    const chunks: Uint8Array[] = []
    let size = 0
    const reader = response.body?.getReader()
    if (reader) {
      try {
        for (;;) {
          const { done: end, value } = await bounded(reader.read())
          if (end) break
          size += value.byteLength
          if (size > options.maxResponseSize) throw tooLarge()
          chunks.push(value)
        }
      } catch (cause) {
        // Release the stream even if the fetch implementation ignores the abort signal.
        reader.cancel().catch(() => {})
        if (cause instanceof GatehouseError) throw cause
        throw timedOut ? timeoutError() : fail('failed', cause)
      }
    }
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(concat(chunks, size))
    } catch (cause) {
      throw fail('invalid', new Error(`${url.href} sent a body that is not UTF-8`, { cause }))
    }
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch (cause) {
      throw fail('invalid', new Error(`${url.href} sent a body that is not JSON`, { cause }))
    }
    done = true
    return document
  } finally {
    clearTimeout(timer)
    // On any failure, drop the connection: a half-read body must not keep a socket (or its memory) alive.
    if (!done) controller.abort(new Error('cancelled'))
  }

  function tooLarge() {
    return fail('too-large', new Error(`${url.href} sent more than ${options.maxResponseSize} bytes`))
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}
