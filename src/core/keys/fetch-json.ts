/**
 * One bounded GET of a JSON document, shared by the remote key store and discovery, and the bounded
 * exchange under it, which token introspection uses for its POST. Everything a provider
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
 * GET `url` and parse its body as JSON: {@link fetchBounded}, then {@link parseJson}.
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
  const headers: Record<string, string> = new Headers(options.headers).has('accept') ? {} : { accept }
  const { body } = await fetchBounded(url, { method: 'GET', headers }, options, codes)
  return parseJson(url, body, codes)
}

/** What {@link fetchBounded} sends. */
export interface BoundedRequest {
  method: 'GET' | 'POST'
  /** Set over `options.headers`. */
  headers: Record<string, string>
  body?: string
}

/** A 200 answer, read whole within the limits. */
export interface BoundedResponse {
  headers: Headers
  body: Uint8Array
}

/**
 * Send `request` and read the answer: {@link send}, {@link checkHead}, {@link readBody}, all within one
 * deadline ({@link openExchange}). Only a 200 is an answer; a redirect is never followed.
 *
 * @param codes which GatehouseError code each failure becomes (`invalid` is not used here).
 * @throws GatehouseError with `codes[failure]` and the detail in `cause` (never the request body).
 */
export async function fetchBounded(
  url: URL,
  request: BoundedRequest,
  options: CheckedFetchOptions,
  codes: Readonly<Record<FetchFailure, ErrorCode>>,
): Promise<BoundedResponse> {
  const exchange = openExchange(url, options, codes)
  let completed = false
  try {
    const response = await send(exchange, request)
    checkHead(exchange, response)
    const body = await readBody(exchange, response)
    completed = true
    return { headers: response.headers, body }
  } finally {
    exchange.close(completed)
  }
}

/** One request in flight: its URL and limits, its deadline, and how its failures are reported. */
interface Exchange {
  readonly url: URL
  readonly options: CheckedFetchOptions
  /** Aborted when the deadline passes, or when the exchange is closed before completing. */
  readonly signal: AbortSignal
  /** `step`, or the deadline, whichever comes first: a `fetch` that ignores the signal cannot hang us. */
  within<T>(step: Promise<T>): Promise<T>
  /** The GatehouseError for `failure`, with what the provider did in `cause`. */
  fail(failure: FetchFailure, cause: unknown): GatehouseError
  /** An error from `fetch` or the body stream: `timeout` once the deadline has passed, else `failed`. */
  broken(cause: unknown): GatehouseError
  /** Stop the timer; unless `completed`, also drop the connection. */
  close(completed: boolean): void
}

/** Start the exchange's one timer, which covers the whole exchange: headers and body. */
function openExchange(
  url: URL,
  options: CheckedFetchOptions,
  codes: Readonly<Record<FetchFailure, ErrorCode>>,
): Exchange {
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
  const fail = (failure: FetchFailure, cause: unknown) =>
    new GatehouseError(codes[failure], undefined, { cause })
  return {
    url,
    options,
    signal: controller.signal,
    within: <T>(step: Promise<T>) => Promise.race([step, aborted]),
    fail,
    broken: (cause) =>
      timedOut
        ? fail(
            'timeout',
            new Error(`no complete answer from ${url.href} within ${options.timeoutDuration} ms`),
          )
        : fail('failed', cause),
    close(completed) {
      clearTimeout(timer)
      // On any failure, drop the connection: a half-read body must not keep a socket (or its memory) alive.
      if (!completed) controller.abort(new Error('cancelled'))
    },
  }
}

/**
 * Send the request with `redirect: 'manual'`: a key set or an endpoint that moved is a configuration
 * change, not something to follow silently (nor to send credentials to), so {@link checkHead} refuses the
 * redirect. (`redirect: 'error'` would refuse it too, but workerd rejects that value outright.)
 */
async function send(exchange: Exchange, request: BoundedRequest): Promise<Response> {
  const { url, options } = exchange
  const headers = new Headers(options.headers)
  for (const [name, value] of Object.entries(request.headers)) headers.set(name, value)
  const { method, body } = request
  const doFetch = options.fetch ?? globalThis.fetch
  try {
    return await exchange.within(
      doFetch(url.href, { method, headers, body, redirect: 'manual', signal: exchange.signal }),
    )
  } catch (cause) {
    throw exchange.broken(cause)
  }
}

/** Status and declared length, before reading a byte: only a 200 carries the document. */
function checkHead(exchange: Exchange, response: Response): void {
  const discard = () => void response.body?.cancel().catch(() => {})
  // `manual` hands back the redirect itself (Node, Bun, Deno, workerd), or an opaque one in browsers.
  if (response.type === 'opaqueredirect' || REDIRECT_STATUSES.has(response.status)) {
    discard()
    const status = response.status === 0 ? '' : ` HTTP ${response.status},` // an opaque one has none
    throw exchange.fail(
      'failed',
      new Error(`${exchange.url.href} answered${status} a redirect, which is not followed`),
    )
  }
  if (response.status !== 200) {
    discard()
    // The status stays on the cause, for callers that tell a refused request from a failing server.
    throw exchange.fail(
      'failed',
      Object.assign(new Error(`${exchange.url.href} answered HTTP ${response.status} (expected 200)`), {
        status: response.status,
      }),
    )
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > exchange.options.maxResponseSize) {
    discard()
    throw tooLarge(exchange)
  }
}

/** The body, counted while it streams and cut off past the size limit: never buffered whole. */
async function readBody(exchange: Exchange, response: Response): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body?.getReader()
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await exchange.within(reader.read())
        if (done) break
        size += value.byteLength
        if (size > exchange.options.maxResponseSize) throw tooLarge(exchange)
        chunks.push(value)
      }
    } catch (cause) {
      // Release the stream even if the fetch implementation ignores the abort signal.
      reader.cancel().catch(() => {})
      if (cause instanceof GatehouseError) throw cause
      throw exchange.broken(cause)
    }
  }
  return concat(chunks, size)
}

/** The body as JSON text: UTF-8 (RFC 8259 §8.1), then a JSON value; anything else is `invalid`. */
function parseJson(url: URL, body: Uint8Array, codes: Readonly<Record<FetchFailure, ErrorCode>>): unknown {
  const invalid = (cause: unknown) => new GatehouseError(codes.invalid, undefined, { cause })
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch (cause) {
    throw invalid(new Error(`${url.href} sent a body that is not UTF-8`, { cause }))
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw invalid(new Error(`${url.href} sent a body that is not JSON`, { cause }))
  }
}

/** The redirect statuses of the Fetch standard (§2.2.6). */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

function tooLarge(exchange: Exchange): GatehouseError {
  return exchange.fail(
    'too-large',
    new Error(`${exchange.url.href} sent more than ${exchange.options.maxResponseSize} bytes`),
  )
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
