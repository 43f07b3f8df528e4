/**
 * Where a token is checked: verified here as a JWT, or asked of the issuer's introspection endpoint
 * (RFC 7662) as an opaque token. One trusted issuer at most is introspected (an opaque token names no
 * issuer, so only one endpoint can be asked); its `tokenSource` says which of its tokens go there.
 */
import { fail, type NormalizedIssuer, type TokenSource } from '../config/options.js'
import { GatehouseError, isGatehouseError } from '../errors.js'
import {
  createIntrospector,
  type IntrospectionCacheOptions,
  type IntrospectionClaims,
  type Introspector,
  type IntrospectorOptions,
} from '../introspection/index.js'
import { discover } from '../keys/discovery.js'
import { decodeBase64url } from '../lib/base64url.js'
import { isPlainObject } from '../lib/values.js'
import type { Store } from '../store/store.js'
import type { JWTClaims, ProtectedHeader } from '../types.js'
import type { Pending, Trust } from '../verify/verifier.js'

/**
 * The gate's `introspection` option: the endpoint and this API's client credentials at the authorization
 * server, for the issuer whose `tokenSource` is `'introspection'` or `'auto'`. The accepted issuer,
 * audience, clock tolerance and the keys of signed answers are that issuer's.
 */
export interface GateIntrospectionOptions
  extends Omit<
    IntrospectorOptions,
    'url' | 'issuer' | 'audience' | 'clockTolerance' | 'keys' | 'now' | 'cache'
  > {
  /** The introspection endpoint. Default: `introspection_endpoint` of the issuer's metadata (RFC 8414). */
  url?: string | URL
  /** Which trusted issuer (an exact issuer string). Default: the only one, or the one whose `tokenSource` is not `'jwt'`. */
  issuer?: string
  /** Answer reuse; `store` also takes a Redis URL, for which the gate makes a Redis store. */
  cache?: Omit<IntrospectionCacheOptions, 'store'> & { store?: Store | string }
}

export interface TokenSourceRouter {
  /** The introspected issuer. */
  readonly trust: Trust
  /** Whether this token is asked of the endpoint rather than verified here. */
  introspects(token: string): boolean
  introspect(token: string): Promise<{ claims: JWTClaims; header: ProtectedHeader }>
  /** From memory without waiting, or PENDING; undefined-free: throws what `introspect` rejects with. */
  introspectSync(token: string): { claims: JWTClaims; header: ProtectedHeader } | Pending
  /** Discover the endpoint now, when it is to be discovered: a missing one stops the start. */
  warmUp(): Promise<void>
  close(): void
}

/** Introspected tokens have no JOSE header: an empty one, shared. */
const NO_HEADER = Object.freeze({}) as ProtectedHeader

/** `eyJ…` in three base64url segments: a compact JWS (its header is JSON starting with `{"`). */
const COMPACT_JWS = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/

export function createTokenSource(
  options: GateIntrospectionOptions | undefined,
  trusts: readonly Trust[],
  now: (() => number) | undefined,
  storeFor: (url: string) => Store,
  pending: Pending,
): TokenSourceRouter | undefined {
  const chosen = trusts.filter((trust) => (trust.options.tokenSource ?? 'jwt') !== 'jwt')
  if (options === undefined) {
    if (chosen.length > 0)
      fail(
        'introspection',
        `the introspection endpoint’s client credentials (clientId, clientSecret or privateKey): an issuer’s tokenSource is '${chosen[0]!.options.tokenSource}'`,
      )
    return undefined
  }
  if (!isPlainObject(options as unknown)) fail('introspection', 'an object of introspection options')
  const { url, issuer, cache, ...rest } = options
  const trust = pickTrust(trusts, chosen, issuer)
  const source: TokenSource = trust.options.tokenSource ?? 'auto'
  if (source === 'jwt')
    fail('introspection.issuer', `an issuer whose tokenSource is not 'jwt' (${describeTrust(trust)} is)`)
  const cacheOptions =
    cache === undefined
      ? undefined
      : { ...cache, store: typeof cache.store === 'string' ? storeFor(cache.store) : cache.store }
  const policy = trust.options
  const base = {
    ...rest,
    ...(cacheOptions && { cache: cacheOptions }),
    issuer: policy.issuers.length > 0 ? policy.issuers : null,
    audience: policy.audience === null ? null : [...policy.audience],
    clockTolerance: policy.clockTolerance,
    // Signed answers name their issuer: only an issuer given as exact strings can check one.
    ...(policy.issuers.length > 0 && { keys: trust.keys }),
    ...(now && { now }),
  } satisfies Omit<IntrospectorOptions, 'url'>

  let introspector: Introspector<IntrospectionClaims> | undefined
  let finding: Promise<Introspector<IntrospectionClaims>> | undefined
  if (url !== undefined) {
    introspector = make({ ...base, url })
  } else {
    // Every option but the URL checked now, at construction, with a stand-in URL.
    make({ ...base, url: 'https://introspection.invalid/' }).close()
    if (policy.issuers.length === 0)
      fail('introspection.url', 'the endpoint: an issuer matcher names no issuer to discover it from')
  }
  let closed = false

  /** The introspector, once the endpoint is known: discovered on first use, again after a failure. */
  function ready(): Promise<Introspector<IntrospectionClaims>> {
    if (introspector !== undefined) return Promise.resolve(introspector)
    finding ??= discoverEndpoint(policy).then(
      (endpoint) => {
        const made = make({ ...base, url: endpoint })
        if (closed) made.close()
        else introspector = made
        return made
      },
      (error: unknown) => {
        finding = undefined
        throw error
      },
    )
    return finding
  }

  return {
    trust,
    introspects(token) {
      // Anything JOSE-shaped (`eyJ…` with dots: a JWS, or a JWE, or one malformed) is the verifier's to
      // refuse with a precise 401; introspection endpoints refuse such tokens themselves.
      if (!(token.startsWith('eyJ') && token.includes('.'))) return true
      if (source === 'auto' || !COMPACT_JWS.test(token)) return false
      // `introspection`: this issuer's JWTs too (a revoked one must stop); other issuers' are verified here.
      return source === 'introspection' && policy.issuers.includes(unverifiedIssuer(token) ?? '')
    },
    async introspect(token) {
      const { claims } = await (await ready()).introspect(token)
      return { claims, header: NO_HEADER }
    },
    introspectSync(token) {
      if (introspector === undefined) return pending
      const result = introspector.introspectSync(token)
      return result === pending
        ? pending
        : { claims: (result as { claims: JWTClaims }).claims, header: NO_HEADER }
    },
    async warmUp() {
      const made = await ready()
      // One call with a token no server issued: an inactive answer proves the endpoint and the
      // credentials; refused credentials stop the start, as a wrong key set does. An endpoint that is
      // down is not a start-up failure: requests answer 503 until it is back.
      try {
        await made.introspect(`gatehouse-warm-up-${Date.now()}`)
      } catch (error) {
        const status = ((error as { cause?: { status?: unknown } }).cause as { status?: unknown } | undefined)
          ?.status
        if (status === 401 || status === 403)
          throw new GatehouseError('ERR_INTROSPECTION_UNAVAILABLE', undefined, {
            cause: new Error(
              `the introspection endpoint refused this API's client credentials (HTTP ${status}): check introspection.clientId and its secret or key (GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET)`,
            ),
          })
      }
    },
    close() {
      closed = true
      introspector?.close()
    },
  }
}

function make(options: IntrospectorOptions): Introspector<IntrospectionClaims> {
  try {
    return createIntrospector(options)
  } catch (error) {
    // Its options are named as given to createIntrospector; here they are members of `introspection`.
    if (error instanceof TypeError) throw new TypeError(`introspection.${error.message}`)
    throw error
  }
}

function pickTrust(trusts: readonly Trust[], chosen: readonly Trust[], issuer: string | undefined): Trust {
  if (issuer !== undefined) {
    const trust = trusts.find((t) => t.options.issuers.includes(issuer))
    if (trust === undefined) fail('introspection.issuer', 'one of the trusted issuers (exact string)', issuer)
    if (chosen.some((t) => t !== trust))
      fail(
        'introspection.issuer',
        'the only issuer whose tokenSource is not jwt (one endpoint per gate)',
        issuer,
      )
    return trust
  }
  if (chosen.length > 1)
    fail('issuers', 'at most one issuer whose tokenSource is not jwt: an opaque token names no issuer')
  if (chosen.length === 1) return chosen[0]!
  if (trusts.length === 1) return trusts[0]!
  return fail('introspection.issuer', 'the issuer these options are for, with several trusted issuers')
}

function describeTrust(trust: Trust): string {
  return trust.options.issuers[0] ?? String(trust.options.matcher)
}

/** The `iss` of a compact JWS, unverified: only to route it. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = token.split('.')[1]!
    const bytes = decodeBase64url(payload)
    if (bytes === undefined) return undefined
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown
    return isPlainObject(json) && typeof json.iss === 'string' ? json.iss : undefined
  } catch {
    return undefined
  }
}

/** `introspection_endpoint` from the issuer's metadata (RFC 8414 §2), fetched as the key set's discovery is. */
async function discoverEndpoint(policy: NormalizedIssuer): Promise<string> {
  const issuer = policy.issuers[0]!
  const keySet = policy.keys.kind === 'remote' ? policy.keys.options : {}
  let metadata: Record<string, unknown>
  try {
    metadata = (await discover(issuer, {
      allowInsecureRequests: keySet.allowInsecureRequests === true,
      ...(keySet.timeoutDuration !== undefined && { timeoutDuration: keySet.timeoutDuration }),
      ...(keySet.fetch !== undefined && { fetch: keySet.fetch }),
    })) as Record<string, unknown>
  } catch (error) {
    throw isGatehouseError(error)
      ? error
      : new GatehouseError('ERR_DISCOVERY_FAILED', undefined, { cause: error })
  }
  const endpoint = metadata.introspection_endpoint
  if (typeof endpoint !== 'string' || endpoint === '')
    throw new GatehouseError('ERR_DISCOVERY_FAILED', undefined, {
      cause: {
        reason: `the metadata of ${issuer} has no introspection_endpoint: set introspection.url (GATEHOUSE_INTROSPECTION_URL)`,
      },
    })
  return endpoint
}
