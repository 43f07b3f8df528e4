/**
 * Verifier options from environment variables, for apps and the CLI. An invalid value stops start-up
 * with a TypeError that names the variable and the expected value.
 *
 * | variable | option | form |
 * |---|---|---|
 * | GATEHOUSE_ISSUER | issuer | exact issuer URL (trailing slash significant); several separated by spaces |
 * | GATEHOUSE_DOMAIN | domain | host name; issuer = https://{domain} |
 * | GATEHOUSE_AUDIENCE | audience | API identifier(s), separated by spaces or commas (required) |
 * | GATEHOUSE_JWKS_URL | jwksUri | https URL (http only on loopback) |
 * | GATEHOUSE_DISCOVERY | discovery | true, false or auto |
 * | GATEHOUSE_ALLOW_INSECURE_REQUESTS | keySet.allowInsecureRequests | 1/true or 0/false: plain http to any host (development networks only) |
 * | GATEHOUSE_ALGORITHMS | algorithms | comma-separated, e.g. RS256,ES256 |
 * | GATEHOUSE_CLOCK_TOLERANCE | clockTolerance | seconds, non-negative |
 * | GATEHOUSE_MAX_TOKEN_AGE | maxTokenAge | seconds, non-negative |
 * | GATEHOUSE_TYP | typ | e.g. at+jwt |
 * | GATEHOUSE_STRICT | strict | 1/true or 0/false: RFC 9068's profile |
 * | GATEHOUSE_REQUIRED_CLAIMS | requiredClaims | comma-separated claim names |
 * | GATEHOUSE_SCOPES_CLAIM, _ROLES_CLAIM, _PERMISSIONS_CLAIM, _GROUPS_CLAIM | claims.scopes, .roles, … | space-separated claim paths in priority order: a name (`https://example.com/roles` is one name) or a JSON Pointer (`/realm_access/roles`) |
 * | GATEHOUSE_DPOP | dpop | off, allowed or required (default off): how tokens may be presented (RFC 9449) |
 * | GATEHOUSE_REDIS_URL | dpopProof.store | redis:// or rediss:// URL: DPoP replay records shared by every instance |
 * | GATEHOUSE_DPOP_NONCE_SECRET | dpopProof.nonce.secret | at least 32 bytes: DPoP server nonces on, the same on every instance |
 * | GATEHOUSE_PUBLIC_URL | publicUrl | the URL clients use (https://api.example.com), for DPoP's htu |
 * | GATEHOUSE_TRUST_FORWARDED_HEADERS | trustForwardedHeaders | 1/true or 0/false: htu from Forwarded / X-Forwarded-* (behind a proxy that sets them) |
 * | GATEHOUSE_TOKEN_SOURCE | tokenSource | jwt, introspection or auto (default auto with GATEHOUSE_CLIENT_ID, else jwt) |
 * | GATEHOUSE_INTROSPECTION_URL | introspection.url | https URL (default: introspection_endpoint of the issuer's metadata) |
 * | GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET | introspection.clientId, .clientSecret | this API's credentials at the authorization server; introspection on when set |
 * | GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE | introspection.cache.maxAge | seconds an active answer is reused (default 60): the longest a revoked token keeps working |
 * | GATEHOUSE_RESOURCE | resource | this API's resource identifier (RFC 9728), an https URL; the audience when GATEHOUSE_AUDIENCE is unset |
 * | GATEHOUSE_AUTHORIZATION_SERVERS | resourceMetadata.authorizationServers | issuer URLs separated by spaces (default the issuers) |
 * | GATEHOUSE_SCOPES_SUPPORTED | resourceMetadata.scopesSupported | scopes separated by spaces or commas |
 * | GATEHOUSE_RESOURCE_NAME, GATEHOUSE_RESOURCE_DOCUMENTATION | resourceMetadata.resourceName, .resourceDocumentation | text; an https URL |
 */
import { parseClaimPath } from '../authz/claim-path.js'
import type { ClaimMapping } from '../authz/claims-reader.js'
import { describe } from '../lib/values.js'
import { ALL_ALGORITHMS, type Algorithm } from '../types.js'
import { DPOP_MODES, type DpopMode, normalizeIssuer, type VerifierOptions } from './options.js'

type Env = Record<string, string | undefined>

/**
 * What the environment configures: verifier options, and the gate's request options (DPoP proofs and
 * the public URL), which `createGate` takes and `createVerifier` refuses.
 */
export interface EnvOptions extends VerifierOptions {
  dpopProof?: { store?: string; nonce?: { secret: string } }
  publicUrl?: string
  trustForwardedHeaders?: boolean
  resource?: string
  introspection?: {
    url?: string
    clientId: string
    clientSecret: string
    allowInsecureRequests?: boolean
    cache?: { store?: string; maxAge?: number }
  }
  resourceMetadata?: {
    authorizationServers?: string[]
    scopesSupported?: string[]
    resourceName?: string
    resourceDocumentation?: string
  }
}

/**
 * Every GATEHOUSE_* variable something in this repository reads: the table above, then the CLI, the
 * reference API, the tests and CI. THE list: a variable missing here is reported as unknown at start-up,
 * and test/core/env.test.ts fails when the code reads one that is not listed.
 */
export const ENV_VARIABLES: readonly string[] = Object.freeze([
  'GATEHOUSE_ISSUER',
  'GATEHOUSE_DOMAIN',
  'GATEHOUSE_AUDIENCE',
  'GATEHOUSE_JWKS_URL',
  'GATEHOUSE_DISCOVERY',
  'GATEHOUSE_ALLOW_INSECURE_REQUESTS',
  'GATEHOUSE_ALGORITHMS',
  'GATEHOUSE_CLOCK_TOLERANCE',
  'GATEHOUSE_MAX_TOKEN_AGE',
  'GATEHOUSE_TYP',
  'GATEHOUSE_STRICT',
  'GATEHOUSE_REQUIRED_CLAIMS',
  'GATEHOUSE_SCOPES_CLAIM',
  'GATEHOUSE_ROLES_CLAIM',
  'GATEHOUSE_PERMISSIONS_CLAIM',
  'GATEHOUSE_GROUPS_CLAIM',
  'GATEHOUSE_DPOP',
  'GATEHOUSE_REDIS_URL',
  'GATEHOUSE_DPOP_NONCE_SECRET',
  'GATEHOUSE_PUBLIC_URL',
  'GATEHOUSE_TRUST_FORWARDED_HEADERS',
  'GATEHOUSE_RESOURCE',
  'GATEHOUSE_TOKEN_SOURCE',
  'GATEHOUSE_INTROSPECTION_URL',
  'GATEHOUSE_CLIENT_ID',
  'GATEHOUSE_CLIENT_SECRET',
  'GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE',
  'GATEHOUSE_AUTHORIZATION_SERVERS',
  'GATEHOUSE_SCOPES_SUPPORTED',
  'GATEHOUSE_RESOURCE_NAME',
  'GATEHOUSE_RESOURCE_DOCUMENTATION',
  // Tests and CI (.ci/run, .ci/postgres.sh, apps/reference-api/test).
  'GATEHOUSE_REQUIRE_POSTGRES',
  'GATEHOUSE_PG_PORT',
  'GATEHOUSE_PG_PASSWORD',
  'GATEHOUSE_PG_WAIT',
])

/** Unknown variables already reported by {@link warnUnknownEnv}: each is reported once per process. */
const reported = new Set<string>()

/**
 * The GATEHOUSE_* variables in `env` that nothing reads (a misspelling is otherwise ignored without a
 * word), each with a warning naming the nearest known variable. Names only: a value may be a secret.
 */
export function unknownEnvWarnings(env: Env = process.env): { name: string; message: string }[] {
  // Windows looks variables up without regard to case, so there `gatehouse_issuer` is GATEHOUSE_ISSUER.
  // (`process` is read through globalThis: runtimes without it pass their own `env`.)
  const proc = (globalThis as { process?: { env?: unknown; platform?: string } }).process
  const caseless = env === proc?.env && proc?.platform === 'win32'
  const unknown: { name: string; message: string }[] = []
  for (const name of Object.keys(env)) {
    if (!/^gatehouse_/i.test(name) || ENV_VARIABLES.includes(caseless ? name.toUpperCase() : name)) continue
    const shown = /^\w+$/.test(name) ? name : JSON.stringify(name)
    const nearest = nearestVariable(name.toUpperCase())
    const close = nearest.distance <= Math.max(2, Math.floor(name.length / 6))
    const hint = close
      ? `did you mean ${nearest.name}?${nearest.distance === 0 ? ' (names are case-sensitive)' : ''}`
      : `the nearest known one is ${nearest.name} (every variable: docs/configuration.md)`
    unknown.push({ name, message: `${shown} is not a variable Gatehouse reads, so it is ignored; ${hint}` })
  }
  return unknown
}

/**
 * Warn about each unknown GATEHOUSE_* variable (see {@link unknownEnvWarnings}), once per process and
 * variable. `optionsFromEnv` calls it; the CLI calls it at start-up with its own `warn`.
 *
 * @param warn where warnings go. Default `process.emitWarning` (type `GatehouseWarning`).
 */
export function warnUnknownEnv(env: Env = process.env, warn: (message: string) => void = emitWarning): void {
  for (const { name, message } of unknownEnvWarnings(env)) {
    if (reported.has(name)) continue
    reported.add(name)
    warn(message)
  }
}

/** `process.emitWarning` where there is one (Node, Bun, Deno), else the console. */
function emitWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (message: string, type: string) => void } }).process
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, 'GatehouseWarning')
  else console.warn(`GatehouseWarning: ${message}`)
}

function nearestVariable(name: string): { name: string; distance: number } {
  let best = { name: ENV_VARIABLES[0]!, distance: Number.POSITIVE_INFINITY }
  for (const known of ENV_VARIABLES) {
    const distance = editDistance(name, known)
    if (distance < best.distance) best = { name: known, distance }
  }
  return best
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, d[i - 2]![j - 2]! + 1)
      d[i]![j] = value
    }
  }
  return d[a.length]![b.length]!
}

/** A variable's text, trimmed; undefined when it is unset or blank. */
type Read = (variable: string) => string | undefined

/** How one variable becomes one option. */
interface EnvOption {
  readonly variable: string
  readonly option: keyof EnvOptions
  /** The option's value from the variable's text; undefined leaves the option out. */
  readonly parse: (variable: string, text: string, read: Read) => unknown
  /** What an unset variable means: a default, a TypeError when it is required, or (absent) nothing. */
  readonly unset?: (variable: string, read: Read) => unknown
}

/** One row of {@link ENV_OPTIONS}, typed so that each parser returns what its option takes. */
function envOption<K extends keyof EnvOptions>(
  variable: string,
  option: K,
  parse: (variable: string, text: string, read: Read) => EnvOptions[K] | undefined,
  unset?: (variable: string, read: Read) => EnvOptions[K] | undefined,
): EnvOption {
  return { variable, option, parse, unset }
}

/**
 * The variables of the table above, in the order they are checked: with several invalid, the first is
 * the one reported. The claim-mapping variables fill one option between them: {@link CLAIM_VARIABLES}.
 */
const ENV_OPTIONS: readonly EnvOption[] = [
  envOption('GATEHOUSE_ISSUER', 'issuer', issuerUrls),
  envOption('GATEHOUSE_DOMAIN', 'domain', hostName),
  envOption(
    'GATEHOUSE_AUDIENCE',
    'audience',
    audiences,
    // With GATEHOUSE_RESOURCE, the audience is that identifier (RFC 8707), set by the gate.
    (variable, read) =>
      read('GATEHOUSE_RESOURCE') === undefined
        ? required('the API identifier your tokens are issued for (or GATEHOUSE_RESOURCE)')(variable)
        : undefined,
  ),
  envOption('GATEHOUSE_JWKS_URL', 'jwksUri', httpUrl),
  envOption('GATEHOUSE_DISCOVERY', 'discovery', discoveryMode, discoveryByDefault),
  envOption('GATEHOUSE_ALLOW_INSECURE_REQUESTS', 'keySet', (variable, text) => ({
    allowInsecureRequests: flag(variable, text),
  })),
  envOption('GATEHOUSE_ALGORITHMS', 'algorithms', algorithmList),
  envOption('GATEHOUSE_CLOCK_TOLERANCE', 'clockTolerance', seconds),
  envOption('GATEHOUSE_MAX_TOKEN_AGE', 'maxTokenAge', seconds),
  envOption('GATEHOUSE_TYP', 'typ', (_variable, text) => text),
  envOption('GATEHOUSE_STRICT', 'strict', flag),
  envOption('GATEHOUSE_REQUIRED_CLAIMS', 'requiredClaims', (_variable, text) => list(text)),
  envOption('GATEHOUSE_DPOP', 'dpop', dpopMode),
  envOption(
    'GATEHOUSE_REDIS_URL',
    'dpopProof',
    (_variable, _text, read) => dpopProof(read),
    (_variable, read) => dpopProof(read),
  ),
  envOption('GATEHOUSE_PUBLIC_URL', 'publicUrl', publicUrl),
  envOption('GATEHOUSE_TRUST_FORWARDED_HEADERS', 'trustForwardedHeaders', flag),
  envOption('GATEHOUSE_RESOURCE', 'resource', resourceUrl),
  envOption('GATEHOUSE_TOKEN_SOURCE', 'tokenSource', (variable, text) => {
    if (text !== 'jwt' && text !== 'introspection' && text !== 'auto')
      bad(variable, 'jwt, introspection or auto', text)
    return text
  }),
  envOption(
    'GATEHOUSE_CLIENT_ID',
    'introspection',
    (_variable, _text, read) => introspection(read),
    (_variable, read) => introspection(read),
  ),
  envOption(
    'GATEHOUSE_AUTHORIZATION_SERVERS',
    'resourceMetadata',
    (_variable, _text, read) => resourceMetadata(read),
    (_variable, read) => resourceMetadata(read),
  ),
]

/** The claim-mapping variables, each one category of the `claims` option. */
const CLAIM_VARIABLES = [
  ['GATEHOUSE_SCOPES_CLAIM', 'scopes'],
  ['GATEHOUSE_ROLES_CLAIM', 'roles'],
  ['GATEHOUSE_PERMISSIONS_CLAIM', 'permissions'],
  ['GATEHOUSE_GROUPS_CLAIM', 'groups'],
] as const

/** The variable that sets each option, to report the verifier's errors in the user's terms. */
const VARIABLE_OF: ReadonlyMap<string, string> = new Map(ENV_OPTIONS.map((row) => [row.option, row.variable]))

function bad(variable: string, expected: string, value: string): never {
  throw new TypeError(`${variable}: expected ${expected}, got ${describe(value)}`)
}

/** An {@link EnvOption.unset} for a variable that must be set. */
function required(expected: string): (variable: string) => never {
  return (variable) => {
    throw new TypeError(`${variable}: expected ${expected}, got nothing`)
  }
}

function list(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean)
}

/** One value as itself, several as a list: the option's own shapes. */
function oneOrMany(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values
}

/** GATEHOUSE_ISSUER: absolute URLs, separated by spaces (an issuer URL never contains one). */
function issuerUrls(variable: string, text: string): string | string[] {
  const issuers = text.split(/\s+/)
  for (const value of issuers) {
    try {
      new URL(value)
    } catch {
      bad(variable, 'the issuer URL, e.g. https://tenant.example.com/', value)
    }
  }
  return oneOrMany(issuers)
}

/** GATEHOUSE_DOMAIN: a host name and optional port, nothing a URL adds. The verifier checks the name itself. */
function hostName(variable: string, text: string): string {
  if (/[/:]/.test(text.replace(/:\d+$/, '')) || /\s/.test(text)) {
    bad(variable, 'a host name such as tenant.example.com (no https://, no path)', text)
  }
  return text
}

/** GATEHOUSE_AUDIENCE: identifiers separated by spaces or commas. */
function audiences(_variable: string, text: string): string | string[] {
  return oneOrMany(list(text))
}

/** GATEHOUSE_JWKS_URL: an absolute http(s) URL. Which hosts may be plain http is the verifier's rule. */
function httpUrl(variable: string, text: string): string {
  try {
    const url = new URL(text)
    if (!/^https?:$/.test(url.protocol)) throw new Error()
  } catch {
    bad(variable, 'an absolute https URL', text)
  }
  return text
}

/**
 * GATEHOUSE_DISCOVERY: `true`, `false` or `auto`. Beside GATEHOUSE_JWKS_URL only `false` is accepted
 * (that URL is where the keys are), and the option is then left out.
 */
function discoveryMode(variable: string, text: string, read: Read): boolean | 'auto' | undefined {
  const word = text.toLowerCase()
  if (word !== 'true' && word !== 'false' && word !== 'auto') bad(variable, 'true, false or auto', text)
  const mode = word === 'auto' ? 'auto' : word === 'true'
  if (read('GATEHOUSE_JWKS_URL') === undefined) return mode
  if (mode) bad(variable, 'false or unset when GATEHOUSE_JWKS_URL is set', text)
  return undefined
}

/** Without GATEHOUSE_JWKS_URL: the issuer's metadata when it publishes some, else {issuer}/.well-known/jwks.json. */
function discoveryByDefault(_variable: string, read: Read): 'auto' | undefined {
  return read('GATEHOUSE_JWKS_URL') === undefined ? 'auto' : undefined
}

/** A switch: `1`/`true` on, `0`/`false` off, any case. */
function flag(variable: string, value: string): boolean {
  const word = value.trim().toLowerCase()
  if (word === '1' || word === 'true') return true
  if (word === '0' || word === 'false') return false
  return bad(variable, '1, true, 0 or false', value)
}

/** GATEHOUSE_ALGORITHMS: names from the allow-list, exactly as JWA spells them (RFC 7518 §3.1). */
function algorithmList(variable: string, text: string): Algorithm[] {
  const algs = list(text)
  for (const alg of algs) {
    if (!ALL_ALGORITHMS.includes(alg as Algorithm))
      bad(variable, `a comma-separated list of ${ALL_ALGORITHMS.join(', ')}`, alg)
  }
  if (algs.length === 0) bad(variable, 'at least one algorithm', text)
  return algs as Algorithm[]
}

function seconds(variable: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) bad(variable, 'a non-negative number of seconds', value)
  return Number(value)
}

/** GATEHOUSE_DPOP: one of the modes, in any case. */
function dpopMode(variable: string, text: string): DpopMode {
  const mode = text.toLowerCase() as DpopMode
  if (!DPOP_MODES.includes(mode)) bad(variable, 'off, allowed or required', text)
  return mode
}

/**
 * The `dpopProof` option from GATEHOUSE_REDIS_URL and GATEHOUSE_DPOP_NONCE_SECRET (read together
 * whichever is set); undefined when neither is.
 */
function dpopProof(read: Read): EnvOptions['dpopProof'] {
  const url = read('GATEHOUSE_REDIS_URL')
  const secret = read('GATEHOUSE_DPOP_NONCE_SECRET')
  const out: NonNullable<EnvOptions['dpopProof']> = {}
  if (url !== undefined) {
    // Shown without its password, which a Redis URL may carry (`redis://:secret@host`).
    if (!/^rediss?:\/\/[^\s]+$/i.test(url))
      bad('GATEHOUSE_REDIS_URL', 'a redis:// or rediss:// URL', url.replace(/\/\/[^/@]*@/, '//…@'))
    out.store = url
  }
  if (secret !== undefined) {
    // HMAC-SHA256 keys shorter than the hash weaken it (RFC 2104 §3).
    if (new TextEncoder().encode(secret).length < 32)
      bad(
        'GATEHOUSE_DPOP_NONCE_SECRET',
        'a secret of at least 32 bytes (e.g. `openssl rand -base64 32`)',
        '…',
      )
    out.nonce = { secret }
  }
  return url === undefined && secret === undefined ? undefined : out
}

/**
 * The gate's `introspection` from GATEHOUSE_CLIENT_ID, _CLIENT_SECRET and _INTROSPECTION_URL (read together
 * whichever is set); undefined when none is. Answers are shared on GATEHOUSE_REDIS_URL when it is set.
 */
function introspection(read: Read): EnvOptions['introspection'] {
  const clientId = read('GATEHOUSE_CLIENT_ID')
  const clientSecret = read('GATEHOUSE_CLIENT_SECRET')
  const url = read('GATEHOUSE_INTROSPECTION_URL')
  if (clientId === undefined && clientSecret === undefined && url === undefined) {
    const source = read('GATEHOUSE_TOKEN_SOURCE')
    if (source === 'introspection' || source === 'auto')
      throw new TypeError(
        `GATEHOUSE_CLIENT_ID: expected this API’s client id at the authorization server (GATEHOUSE_TOKEN_SOURCE=${source} introspects), got nothing`,
      )
    return undefined
  }
  if (clientId === undefined)
    throw new TypeError(
      'GATEHOUSE_CLIENT_ID: expected this API’s client id at the authorization server (for introspection), got nothing',
    )
  if (clientSecret === undefined)
    throw new TypeError(
      'GATEHOUSE_CLIENT_SECRET: expected the client secret of GATEHOUSE_CLIENT_ID (for introspection), got nothing',
    )
  const out: NonNullable<EnvOptions['introspection']> = { clientId, clientSecret }
  const insecure = read('GATEHOUSE_ALLOW_INSECURE_REQUESTS')
  const allowInsecure = insecure !== undefined && flag('GATEHOUSE_ALLOW_INSECURE_REQUESTS', insecure)
  if (allowInsecure) out.allowInsecureRequests = true
  if (url !== undefined) {
    out.url = httpUrl('GATEHOUSE_INTROSPECTION_URL', url)
    const parsed = new URL(out.url)
    const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(parsed.hostname)
    if (parsed.protocol === 'http:' && !loopback && !allowInsecure)
      bad(
        'GATEHOUSE_INTROSPECTION_URL',
        'an https URL (http only on a loopback host, or with GATEHOUSE_ALLOW_INSECURE_REQUESTS=1)',
        url,
      )
  }
  const cache: NonNullable<NonNullable<EnvOptions['introspection']>['cache']> = {}
  const redis = read('GATEHOUSE_REDIS_URL')
  if (redis !== undefined) cache.store = redis
  const maxAge = read('GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE')
  if (maxAge !== undefined) cache.maxAge = seconds('GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE', maxAge)
  if (Object.keys(cache).length > 0) out.cache = cache
  const source = read('GATEHOUSE_TOKEN_SOURCE')
  if (source === 'jwt')
    bad('GATEHOUSE_TOKEN_SOURCE', 'introspection or auto with GATEHOUSE_CLIENT_ID set (or unset it)', source)
  return out
}

/** GATEHOUSE_RESOURCE: an https URL (http on loopback), no query or fragment (RFC 9728 §1.2). */
function resourceUrl(variable: string, text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return bad(variable, 'an absolute https URL such as https://api.example.com', text)
  }
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname)
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)))
    bad(variable, 'an https URL (http only on a loopback host)', text)
  if (url.search || url.hash || url.username)
    bad(variable, 'a URL without query, fragment or credentials', text)
  return text
}

/** The metadata members from their variables (read together whichever is set); undefined when none is. */
function resourceMetadata(read: Read): EnvOptions['resourceMetadata'] {
  const out: NonNullable<EnvOptions['resourceMetadata']> = {}
  const servers = read('GATEHOUSE_AUTHORIZATION_SERVERS')
  if (servers !== undefined)
    out.authorizationServers = [issuerUrls('GATEHOUSE_AUTHORIZATION_SERVERS', servers)].flat()
  const scopes = read('GATEHOUSE_SCOPES_SUPPORTED')
  if (scopes !== undefined) out.scopesSupported = list(scopes)
  const name = read('GATEHOUSE_RESOURCE_NAME')
  if (name !== undefined) out.resourceName = name
  const documentation = read('GATEHOUSE_RESOURCE_DOCUMENTATION')
  if (documentation !== undefined)
    out.resourceDocumentation = resourceUrl('GATEHOUSE_RESOURCE_DOCUMENTATION', documentation)
  if (Object.keys(out).length === 0) return undefined
  if (read('GATEHOUSE_RESOURCE') === undefined)
    throw new TypeError(
      'GATEHOUSE_RESOURCE: expected the resource identifier that the GATEHOUSE_AUTHORIZATION_SERVERS, _SCOPES_SUPPORTED and _RESOURCE_* variables describe, got nothing',
    )
  return out
}

/** GATEHOUSE_PUBLIC_URL: an absolute http(s) URL, an origin with an optional path. */
function publicUrl(variable: string, text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return bad(variable, 'an absolute URL such as https://api.example.com', text)
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username)
    bad(variable, 'an http(s) origin with an optional path (no query, fragment or credentials)', text)
  return text
}

/** Whether the environment configures a verifier at all (GATEHOUSE_ISSUER or GATEHOUSE_DOMAIN set). */
export function hasEnvConfig(env: Env = process.env): boolean {
  return Boolean(env.GATEHOUSE_ISSUER?.trim() || env.GATEHOUSE_DOMAIN?.trim())
}

/**
 * Read verifier options from the environment. Without GATEHOUSE_JWKS_URL it uses discovery `'auto'`:
 * the issuer's metadata when it publishes some, else `{issuer}/.well-known/jwks.json`.
 *
 * @example const gate = createGate(optionsFromEnv()) // DPoP and public URL variables are gate options
 * @throws TypeError naming the variable when a value is missing or invalid.
 */
export function optionsFromEnv(env: Env = process.env): EnvOptions {
  warnUnknownEnv(env)
  const read = reader(env)
  checkOneIssuerSource(read)
  const options: Record<string, unknown> = {} // each value typed by its row (envOption)
  for (const { variable, option, parse, unset } of ENV_OPTIONS) {
    const text = read(variable)
    const value = text === undefined ? unset?.(variable, read) : parse(variable, text, read)
    if (value !== undefined) options[option] = value
  }
  const claims = claimMapping(read)
  if (claims !== undefined) options.claims = claims
  checkAsTheVerifierWill(options)
  const proof = options.dpopProof as EnvOptions['dpopProof']
  if (proof !== undefined && (options.dpop ?? 'off') === 'off') {
    const unused = [
      ...(proof.store !== undefined && options.introspection === undefined ? ['GATEHOUSE_REDIS_URL'] : []),
      ...(proof.nonce !== undefined ? ['GATEHOUSE_DPOP_NONCE_SECRET'] : []),
    ]
    if (unused.length > 0)
      emitWarning(
        `${unused.join(' and ')} take${unused.length === 1 ? 's' : ''} effect only with GATEHOUSE_DPOP=allowed or required (or, for Redis, with introspection); DPoP is off`,
      )
  }
  return options
}

/** Blank counts as unset: `GATEHOUSE_X=` in a .env file or a compose file means "not given". */
function reader(env: Env): Read {
  return (variable) => {
    const value = env[variable]?.trim()
    return value === '' ? undefined : value
  }
}

/**
 * The issuer comes from exactly one of GATEHOUSE_ISSUER and GATEHOUSE_DOMAIN. Checked before any
 * value, so that with both set the conflict is what is reported.
 */
function checkOneIssuerSource(read: Read): void {
  const domain = read('GATEHOUSE_DOMAIN')
  if (read('GATEHOUSE_ISSUER') === undefined) {
    if (domain === undefined)
      throw new TypeError('GATEHOUSE_ISSUER: expected the issuer URL (or GATEHOUSE_DOMAIN), got nothing')
  } else if (domain !== undefined) {
    bad(
      'GATEHOUSE_DOMAIN',
      'to be unset when GATEHOUSE_ISSUER is set (the domain only derives the issuer)',
      domain,
    )
  }
}

/** The `claims` option from the GATEHOUSE_*_CLAIM variables; undefined when none is set (the defaults apply). */
function claimMapping(read: Read): ClaimMapping | undefined {
  const claims: ClaimMapping = {}
  for (const [variable, category] of CLAIM_VARIABLES) {
    const text = read(variable)
    if (text === undefined) continue
    // Spaces separate paths: claim names and JSON Pointers never contain one in practice.
    claims[category] = text.split(/\s+/).map((path) => {
      parseClaimPath(path, variable)
      return path
    })
  }
  return Object.keys(claims).length > 0 ? claims : undefined
}

/** The verifier's own validation, now, reported in the user's terms: the variable, not the option. */
function checkAsTheVerifierWill(options: EnvOptions): void {
  const {
    dpopProof: _proof,
    publicUrl: _url,
    trustForwardedHeaders: _trust,
    resource,
    resourceMetadata: _metadata,
    introspection: _introspection,
    ...issuer
  } = options
  try {
    normalizeIssuer({ ...issuer, audience: issuer.audience ?? resource }, '')
  } catch (error) {
    const message = (error as Error).message
    const option = /^(\w+):/.exec(message)?.[1]
    const variable = option === undefined ? undefined : VARIABLE_OF.get(option)
    const named = variable === undefined ? message : message.replace(/^\w+:/, `${variable}:`)
    throw new TypeError(named.replace(/\ballowInsecureRequests\b/, 'GATEHOUSE_ALLOW_INSECURE_REQUESTS=1'))
  }
}
