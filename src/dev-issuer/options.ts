/**
 * Options of the development authorization server, validated once at start (a wrong option throws a
 * `TypeError` naming it, before anything listens).
 */
import type { DevClient } from './clients.js'
import { TOKEN_FORMATS, type TokenFormat } from './tokens.js'

/** Algorithms the dev issuer signs with. Asymmetric only, like everything in Gatehouse. */
export type DevAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

export const DEV_ALGORITHMS: readonly DevAlgorithm[] = Object.freeze(['RS256', 'ES256', 'EdDSA'])

/** The audience tokens get when the request names none. Matches the reference API's default. */
export const DEFAULT_AUDIENCE = 'https://api.gatehouse.local'

/** Default token lifetime, in seconds (one hour, like most providers). */
export const DEFAULT_TOKEN_LIFETIME = 3600

/** Default bound of the opaque tokens (and revoked JWTs) kept in memory. */
export const DEFAULT_MAX_OPAQUE_TOKENS = 10_000

export interface DevIssuerOptions {
  /** TCP port. Default `0`: a free port chosen by the OS (read it from `DevIssuer.url`). */
  port?: number
  /**
   * Address to bind. Default `'127.0.0.1'`. Only loopback addresses (`127.0.0.0/8`, `::1`, `localhost`) are
   * accepted unless `allowNonLoopback` is true: the dev issuer hands out tokens to anyone who asks with
   * the printed credentials, so it must not be reachable from the network by accident.
   */
  host?: string
  /** Bind to a non-loopback address anyway. Default `false`. Never do this on a shared network. */
  allowNonLoopback?: boolean
  /**
   * Folder for `keys.json` (private signing keys, mode 0600) and `clients.json`. Created if missing.
   * `null` (the default) keeps everything in memory: right for tests, keys vanish on `close()`.
   */
  dataDir?: string | null
  /** The `iss` of every token and of the metadata. Default `http://{host}:{port}` (no trailing slash). */
  issuer?: string
  /** Audience used when a token request names none. Default {@link DEFAULT_AUDIENCE}. */
  audience?: string
  /** Signing algorithm of the current key. Default `'RS256'` (RSA 2048). */
  alg?: DevAlgorithm
  /** Lifetime of issued tokens, in seconds. Default 3600. */
  tokenLifetime?: number
  /**
   * The clients that may request tokens. When given, `clients.json` is neither read nor written. By default
   * the file in `dataDir` is used, and generated on first start (see docs/dev-issuer.md).
   */
  clients?: DevClient[]
  /**
   * How long a key stays published in the JWKS after a rotation replaced it, in seconds (fractions allowed).
   * Default: `tokenLifetime`, so every token signed before the rotation still verifies until it expires.
   */
  rotationGrace?: number
  /**
   * The format of tokens from the token endpoint: `'jwt'` (default) or `'opaque'` (reference tokens, to be
   * introspected at `/oauth2/introspect`). A client's own `tokenFormat` overrides it.
   */
  tokenFormat?: TokenFormat
  /**
   * How many opaque tokens are kept in memory, and as many revoked JWTs. Default 10 000. Expired ones are
   * dropped first, then the oldest: an evicted token introspects as inactive.
   */
  maxOpaqueTokens?: number
}

export interface ResolvedOptions {
  port: number
  host: string
  dataDir: string | null
  issuer: string | undefined
  audience: string
  alg: DevAlgorithm
  tokenLifetime: number
  clients: DevClient[] | undefined
  rotationGrace: number
  tokenFormat: TokenFormat
  maxOpaqueTokens: number
}

/** Whether `host` names the loopback interface (RFC 1122 §3.2.1.3: all of 127.0.0.0/8; RFC 4291: ::1). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7))
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

export function resolveOptions(options: DevIssuerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object')
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('port: expected an integer from 0 to 65535')
  }
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw new TypeError('host: expected a host name or address')
  if (!isLoopbackHost(host) && options.allowNonLoopback !== true) {
    throw new TypeError(
      `host: refusing to bind the dev issuer to ${JSON.stringify(host)}. It is a development tool that hands ` +
        'out tokens to anyone holding the demo credentials; bind it to 127.0.0.1, or pass allowNonLoopback: true ' +
        '(CLI: --allow-non-loopback) if you really mean to expose it.',
    )
  }
  const dataDir = options.dataDir ?? null
  if (dataDir !== null && (typeof dataDir !== 'string' || dataDir === '')) {
    throw new TypeError('dataDir: expected a folder path, or null to keep keys in memory')
  }
  const issuer = options.issuer
  if (issuer !== undefined) {
    if (typeof issuer !== 'string' || !URL.canParse(issuer))
      throw new TypeError('issuer: expected an absolute URL')
  }
  const audience = options.audience ?? DEFAULT_AUDIENCE
  if (typeof audience !== 'string' || audience === '')
    throw new TypeError('audience: expected a non-empty string')
  const alg = options.alg ?? 'RS256'
  if (!DEV_ALGORITHMS.includes(alg)) throw new TypeError(`alg: expected one of ${DEV_ALGORITHMS.join(', ')}`)
  const tokenLifetime = options.tokenLifetime ?? DEFAULT_TOKEN_LIFETIME
  if (typeof tokenLifetime !== 'number' || !Number.isFinite(tokenLifetime) || tokenLifetime <= 0) {
    throw new TypeError('tokenLifetime: expected a positive number of seconds')
  }
  const rotationGrace = options.rotationGrace ?? tokenLifetime
  if (typeof rotationGrace !== 'number' || !Number.isFinite(rotationGrace) || rotationGrace < 0) {
    throw new TypeError('rotationGrace: expected a number of seconds, 0 or more')
  }
  if (options.clients !== undefined && !Array.isArray(options.clients)) {
    throw new TypeError('clients: expected an array of clients')
  }
  const tokenFormat = options.tokenFormat ?? 'jwt'
  if (!TOKEN_FORMATS.includes(tokenFormat))
    throw new TypeError(`tokenFormat: expected one of ${TOKEN_FORMATS.join(', ')}`)
  const maxOpaqueTokens = options.maxOpaqueTokens ?? DEFAULT_MAX_OPAQUE_TOKENS
  if (!Number.isInteger(maxOpaqueTokens) || maxOpaqueTokens < 1)
    throw new TypeError('maxOpaqueTokens: expected a positive integer')
  return {
    port,
    host,
    dataDir,
    issuer,
    audience,
    alg,
    tokenLifetime,
    clients: options.clients,
    rotationGrace,
    tokenFormat,
    maxOpaqueTokens,
  }
}
