/**
 * Token introspection (RFC 7662) for `inspect` and `doctor`: the endpoint a gate with this configuration
 * would ask (configured, or `introspection_endpoint` of the issuer's metadata), an introspector made by the
 * core's `createIntrospector` with the options the gate gives it, and the endpoint's failures in plain
 * words. The client secret goes to the endpoint and nowhere else: no line, message or JSON member holds it.
 */
import { GatehouseError } from '../core/errors.js'
import { createIntrospector, type Introspector } from '../core/introspection/index.js'
import { discover } from '../core/keys/discovery.js'
import type { Trust } from '../core/verify/trust.js'
import { explainNetworkError } from './net-errors.js'
import { INSECURE_OPT_IN, type Transport, transportOf } from './transport.js'

/**
 * The gate's `introspection` option as the environment gives it (read in src/cli/config.ts). Issuer,
 * audience, clock tolerance and the keys of signed answers are the verifier's, as in the gate.
 */
export interface IntrospectionConfig {
  /** The configured endpoint; undefined: `introspection_endpoint` of the issuer's metadata. */
  url: URL | undefined
  clientId: string
  /** Sent to the endpoint only: never printed, never put in a message. */
  clientSecret: string
  allowInsecureRequests: boolean
  /** `auto`: compact JWS verified here, anything else introspected; `introspection`: this issuer's JWTs too. */
  tokenSource: 'auto' | 'introspection'
}

/** Where the endpoint is, and how the CLI learnt it. */
export interface Endpoint {
  url: URL
  from: 'configured' | 'metadata'
}

/** The flags and variables that configure introspection, as messages name them. */
export const CREDENTIALS = '--client-id / GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET'
export const URL_SETTING = '--introspection-url / GATEHOUSE_INTROSPECTION_URL'

/** The issuer's metadata, read as the gate reads it to find the endpoint (keys/discovery.ts). */
export async function readMetadata(trust: Trust): Promise<Record<string, unknown>> {
  const keySet = trust.options.keys.kind === 'remote' ? trust.options.keys.options : {}
  return (await discover(trust.options.issuers[0]!, {
    allowInsecureRequests: keySet.allowInsecureRequests === true,
    ...(keySet.timeoutDuration !== undefined && { timeoutDuration: keySet.timeoutDuration }),
  })) as Record<string, unknown>
}

/**
 * The endpoint: the configured URL, else the metadata's `introspection_endpoint`. A string says in words
 * why there is none.
 */
export async function findEndpoint(trust: Trust, config: IntrospectionConfig): Promise<Endpoint | string> {
  if (config.url !== undefined) return { url: config.url, from: 'configured' }
  let document: Record<string, unknown>
  try {
    document = await readMetadata(trust)
  } catch (error) {
    return (
      `could not read the issuer's metadata to find its introspection_endpoint: ${explainNetworkError(error, timeoutOf(trust))}. ` +
      `Set ${URL_SETTING}`
    )
  }
  const advertised = document.introspection_endpoint
  if (typeof advertised !== 'string' || !URL.canParse(advertised))
    return `the issuer's metadata has no valid "introspection_endpoint": set ${URL_SETTING}`
  return { url: new URL(advertised), from: 'metadata' }
}

/** How the endpoint may be reached: the core's rule for every URL it fetches (src/core/lib/loopback.ts). */
export function endpointTransport(url: URL, config: IntrospectionConfig): Transport {
  return transportOf(url, config.allowInsecureRequests)
}

/** Why a `refused` endpoint is refused, and what to do. */
export function refusedEndpoint(url: URL): string {
  if (url.protocol !== 'http:') return `${url.href} is not an https URL`
  return (
    `${url.href} is plain http to a host that is not loopback, which Gatehouse refuses: the client secret and ` +
    `the answers would cross the network in clear. Use https, or on a development network only set ${INSECURE_OPT_IN}`
  )
}

/** The warning line of an `insecure` endpoint. */
export function insecureEndpoint(url: URL): string {
  return (
    `requests to ${url.host} are not protected by TLS (GATEHOUSE_ALLOW_INSECURE_REQUESTS is on): anyone on that ` +
    'network can read the client secret and answer that any token is active. Use it on a development network only'
  )
}

/** One answer of the endpoint, as the recording fetch saw it. */
export interface Exchange {
  status: number
  contentType: string | undefined
  /** The body (its first {@link MAX_RECORDED} bytes), or undefined when it could not be read in time. */
  body(): Promise<string | undefined>
}

const MAX_RECORDED = 65_536

/**
 * A fetch that keeps a copy of each answer, so that a refusal can be told apart (401 `invalid_client`
 * from a 404) and an answer's members shown: the introspector itself keeps neither. Reads a clone; the
 * introspector's limits still apply to the original.
 */
export function recordingFetch(timeoutMs = ANSWER_TIMEOUT): {
  fetch: typeof fetch
  last(): Exchange | undefined
} {
  let last: Exchange | undefined
  const wrapped: typeof fetch = async (resource, init) => {
    const response = await globalThis.fetch(resource, init)
    // Read at once, so that the copy never holds the connection open after the introspector is done;
    // a refusal's body in full first, since the introspector drops the connection on any status but 200.
    const text = readBounded(response.clone(), timeoutMs)
    if (response.status !== 200) await text
    last = {
      status: response.status,
      contentType: response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase(),
      body: () => text,
    }
    return response
  }
  return { fetch: wrapped, last: () => last }
}

/**
 * How long the copy of an answer may take: the introspector's own bound (its `timeoutDuration` default).
 * The copy reads the same bytes as the introspector, so on a loaded machine it needs as long.
 */
const ANSWER_TIMEOUT = 5_000

/** At most {@link MAX_RECORDED} bytes, within `timeoutMs`: a stalled body must not hold the report. */
async function readBounded(response: Response, timeoutMs: number): Promise<string | undefined> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs)
  })
  try {
    while (size < MAX_RECORDED) {
      const step = await Promise.race([reader.read(), late])
      if (step === 'late') return undefined
      if (step.done) break
      chunks.push(step.value)
      size += step.value.byteLength
    }
    return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, MAX_RECORDED))
  } catch {
    return undefined
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
}

/**
 * An introspector for `url` with the options the gate gives one (src/core/http/token-source.ts): the
 * issuer's exact issuers, audience, clock tolerance and keys (for signed answers, RFC 9701).
 * @throws TypeError for options the core refuses.
 */
export function introspectorFor(
  trust: Trust,
  config: IntrospectionConfig,
  url: URL,
  extra: { fetch: typeof fetch; now?: () => number },
): Introspector {
  const policy = trust.options
  const timeoutDuration = timeoutOf(trust)
  return createIntrospector({
    url,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    allowInsecureRequests: config.allowInsecureRequests,
    issuer: policy.issuers.length > 0 ? policy.issuers : null,
    audience: policy.audience === null ? null : [...policy.audience],
    clockTolerance: policy.clockTolerance,
    keys: trust.keys,
    fetch: extra.fetch,
    ...(timeoutDuration !== undefined && { timeoutDuration }),
    ...(extra.now && { now: extra.now }),
  })
}

/** `--timeout`, which the CLI sets on the key set: it bounds every request of the command. */
export function timeoutOf(trust: Trust): number | undefined {
  return trust.options.keys.kind === 'remote' ? trust.options.keys.options.timeoutDuration : undefined
}

/**
 * The error codes of RFC 6749 §5.2 and RFC 7662 an endpoint may answer with. Only these are shown: an
 * error body is the server's text, and one that echoed the request could hold the token.
 */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'access_denied',
  'unsupported_token_type',
  'server_error',
  'temporarily_unavailable',
])

/** Why the endpoint gave no usable answer (a 503 of the introspector), and whether it refused the client. */
export interface EndpointFailure {
  /** True when the endpoint refused this API's credentials (401, or `invalid_client`). */
  refused: boolean
  reason: string
}

export async function explainEndpointFailure(
  error: unknown,
  exchange: Exchange | undefined,
  url: URL,
  config: IntrospectionConfig,
  timeoutMs: number | undefined,
): Promise<EndpointFailure> {
  const code = (error as GatehouseError)?.code
  const client = JSON.stringify(config.clientId)
  if (exchange !== undefined && exchange.status !== 200 && code === 'ERR_INTROSPECTION_UNAVAILABLE') {
    const oauth = await oauthErrorOf(exchange)
    const answered = `HTTP ${exchange.status}${oauth === undefined ? '' : ` ${oauth}`}`
    if (exchange.status === 401 || oauth === 'invalid_client')
      return {
        refused: true,
        reason: `the endpoint refused client ${client} (${answered}): check ${CREDENTIALS}`,
      }
    if (exchange.status === 403)
      return {
        refused: true,
        reason: `the endpoint does not let client ${client} introspect tokens (${answered}): the authorization server must allow it`,
      }
    if (exchange.status >= 300 && exchange.status < 400)
      return {
        refused: false,
        reason: `${url.href} answered ${answered}, a redirect, which is not followed: configure the final URL with ${URL_SETTING}`,
      }
    return {
      refused: false,
      reason: `${url.href} answered ${answered} (expected 200): is this the introspection endpoint?`,
    }
  }
  if (code === 'ERR_INTROSPECTION_INVALID')
    return {
      refused: false,
      reason: `${url.href} answered, but not with an introspection answer (RFC 7662 §2.2): ${invalidDetail(error)}`,
    }
  return { refused: false, reason: `${url.href}: ${explainNetworkError(error, timeoutMs)}` }
}

/** The `error` of an RFC 6749 §5.2 body, when it is one of the registered codes. */
async function oauthErrorOf(exchange: Exchange): Promise<string | undefined> {
  try {
    const body = JSON.parse((await exchange.body()) ?? '') as { error?: unknown }
    return typeof body?.error === 'string' && OAUTH_ERRORS.has(body.error) ? body.error : undefined
  } catch {
    return undefined
  }
}

/** What the core found wrong with an answer: its cause names the member, never a value. */
function invalidDetail(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause
  if (cause instanceof Error) return cause.message.replace(/^the introspection answer /, 'the answer ')
  const { claim, reason, header } = (cause ?? {}) as { claim?: unknown; reason?: unknown; header?: unknown }
  if (typeof claim === 'string' && typeof reason === 'string') return `"${claim}" ${reason}`
  if (header === 'typ') return 'a signed answer whose "typ" is not token-introspection+jwt'
  if (header !== undefined) return "a signed answer whose signature does not verify with the issuer's keys"
  return 'its shape is wrong'
}

/** Whether the error is the endpoint's (no trustworthy answer), rather than a verdict on the token. */
export function isEndpointFailure(error: unknown): boolean {
  return error instanceof GatehouseError && error.status === 503
}

/**
 * Whether a gate with this configuration asks the endpoint about `token` rather than verifying it here
 * (src/core/http/token-source.ts): anything but a compact JWS; with `introspection`, this issuer's JWTs too.
 */
export function introspects(
  token: string,
  config: IntrospectionConfig,
  trust: Trust,
  unverifiedIss: unknown,
): boolean {
  if (!COMPACT_JWS.test(token)) return true
  return (
    config.tokenSource === 'introspection' &&
    typeof unverifiedIss === 'string' &&
    trust.options.issuers.includes(unverifiedIss)
  )
}

/** As the gate tells a compact JWS (its header is JSON starting with `{"`, hence `eyJ`). */
const COMPACT_JWS = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/
