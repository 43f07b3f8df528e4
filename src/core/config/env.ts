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
 * | GATEHOUSE_ALLOW_INSECURE_REQUESTS | allowInsecureRequests | 1/true or 0/false: plain http to any host (development networks only) |
 * | GATEHOUSE_ALGORITHMS | algorithms | comma-separated, e.g. RS256,ES256 |
 * | GATEHOUSE_CLOCK_TOLERANCE | clockTolerance | seconds, non-negative |
 * | GATEHOUSE_MAX_TOKEN_AGE | maxTokenAge | seconds, non-negative |
 * | GATEHOUSE_TYP | typ | e.g. at+jwt |
 * | GATEHOUSE_STRICT | strict | 1/true or 0/false: RFC 9068's profile |
 * | GATEHOUSE_REQUIRED_CLAIMS | requiredClaims | comma-separated claim names |
 * | GATEHOUSE_SCOPES_CLAIM, _ROLES_CLAIM, _PERMISSIONS_CLAIM, _GROUPS_CLAIM | claims.scopes, .roles, … | space-separated claim paths in priority order: a name (`https://example.com/roles` is one name) or a JSON Pointer (`/realm_access/roles`) |
 */
import { parseClaimPath } from '../authz/claim-path.js'
import type { ClaimMapping } from '../authz/claims-reader.js'
import { ALL_ALGORITHMS, type Algorithm } from '../types.js'
import { normalizeIssuer, type VerifierOptions } from './options.js'

type Env = Record<string, string | undefined>

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

function bad(variable: string, expected: string, value: string): never {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value
  throw new TypeError(`${variable}: expected ${expected}, got ${JSON.stringify(shown)}`)
}

function list(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean)
}

/** A switch: `1`/`true` on, `0`/`false` off, any case. */
function flag(variable: string, value: string): boolean {
  const word = value.trim().toLowerCase()
  if (word === '1' || word === 'true') return true
  if (word === '0' || word === 'false') return false
  return bad(variable, '1, true, 0 or false', value)
}

function seconds(variable: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) bad(variable, 'a non-negative number of seconds', value)
  return Number(value)
}

/** Whether the environment configures a verifier at all (GATEHOUSE_ISSUER or GATEHOUSE_DOMAIN set). */
export function hasEnvConfig(env: Env = process.env): boolean {
  return Boolean(env.GATEHOUSE_ISSUER?.trim() || env.GATEHOUSE_DOMAIN?.trim())
}

/**
 * Read verifier options from the environment. Without GATEHOUSE_JWKS_URL it uses discovery `'auto'`:
 * the issuer's metadata when it publishes some, else `{issuer}/.well-known/jwks.json`.
 *
 * @example const verifier = createVerifier(optionsFromEnv())
 * @throws TypeError naming the variable when a value is missing or invalid.
 */
export function optionsFromEnv(env: Env = process.env): VerifierOptions {
  warnUnknownEnv(env)
  const get = (name: string) => {
    const value = env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }
  const options: VerifierOptions = {}
  const issuer = get('GATEHOUSE_ISSUER')
  const domain = get('GATEHOUSE_DOMAIN')
  if (issuer !== undefined && domain !== undefined) {
    bad(
      'GATEHOUSE_DOMAIN',
      'to be unset when GATEHOUSE_ISSUER is set (the domain only derives the issuer)',
      domain,
    )
  }
  if (issuer !== undefined) {
    const issuers = issuer.split(/\s+/)
    for (const value of issuers) {
      try {
        new URL(value)
      } catch {
        bad('GATEHOUSE_ISSUER', 'the issuer URL, e.g. https://tenant.example.com/', value)
      }
    }
    options.issuer = issuers.length === 1 ? issuers[0] : issuers
  } else if (domain !== undefined) {
    if (/[/:]/.test(domain.replace(/:\d+$/, '')) || /\s/.test(domain)) {
      bad('GATEHOUSE_DOMAIN', 'a host name such as tenant.example.com (no https://, no path)', domain)
    }
    options.domain = domain
  } else {
    throw new TypeError('GATEHOUSE_ISSUER: expected the issuer URL (or GATEHOUSE_DOMAIN), got nothing')
  }

  const audience = get('GATEHOUSE_AUDIENCE')
  if (audience === undefined)
    throw new TypeError(
      'GATEHOUSE_AUDIENCE: expected the API identifier your tokens are issued for, got nothing',
    )
  const audiences = list(audience)
  options.audience = audiences.length === 1 ? audiences[0] : audiences

  const jwksUrl = get('GATEHOUSE_JWKS_URL')
  if (jwksUrl !== undefined) {
    try {
      const url = new URL(jwksUrl)
      if (!/^https?:$/.test(url.protocol)) throw new Error()
    } catch {
      bad('GATEHOUSE_JWKS_URL', 'an absolute https URL', jwksUrl)
    }
    options.jwksUri = jwksUrl
  }

  const discovery = get('GATEHOUSE_DISCOVERY')
  if (discovery !== undefined) {
    const value = discovery.toLowerCase()
    if (value !== 'true' && value !== 'false' && value !== 'auto')
      bad('GATEHOUSE_DISCOVERY', 'true, false or auto', discovery)
    options.discovery = value === 'auto' ? 'auto' : value === 'true'
  }
  if (jwksUrl === undefined && options.discovery === undefined) options.discovery = 'auto'
  if (jwksUrl !== undefined && options.discovery)
    bad('GATEHOUSE_DISCOVERY', 'false or unset when GATEHOUSE_JWKS_URL is set', discovery ?? '')
  if (jwksUrl !== undefined) delete options.discovery

  const insecure = get('GATEHOUSE_ALLOW_INSECURE_REQUESTS')
  if (insecure !== undefined)
    options.allowInsecureRequests = flag('GATEHOUSE_ALLOW_INSECURE_REQUESTS', insecure)

  const algorithms = get('GATEHOUSE_ALGORITHMS')
  if (algorithms !== undefined) {
    const algs = list(algorithms)
    for (const alg of algs) {
      if (!ALL_ALGORITHMS.includes(alg as Algorithm))
        bad('GATEHOUSE_ALGORITHMS', `a comma-separated list of ${ALL_ALGORITHMS.join(', ')}`, alg)
    }
    if (algs.length === 0) bad('GATEHOUSE_ALGORITHMS', 'at least one algorithm', algorithms)
    options.algorithms = algs as Algorithm[]
  }

  const tolerance = get('GATEHOUSE_CLOCK_TOLERANCE')
  if (tolerance !== undefined) options.clockTolerance = seconds('GATEHOUSE_CLOCK_TOLERANCE', tolerance)
  const maxAge = get('GATEHOUSE_MAX_TOKEN_AGE')
  if (maxAge !== undefined) options.maxTokenAge = seconds('GATEHOUSE_MAX_TOKEN_AGE', maxAge)
  const typ = get('GATEHOUSE_TYP')
  if (typ !== undefined) options.typ = typ
  const strict = get('GATEHOUSE_STRICT')
  if (strict !== undefined) options.strict = flag('GATEHOUSE_STRICT', strict)
  const required = get('GATEHOUSE_REQUIRED_CLAIMS')
  if (required !== undefined) options.requiredClaims = list(required)

  const claims: ClaimMapping = {}
  for (const [variable, member] of [
    ['GATEHOUSE_SCOPES_CLAIM', 'scopes'],
    ['GATEHOUSE_ROLES_CLAIM', 'roles'],
    ['GATEHOUSE_PERMISSIONS_CLAIM', 'permissions'],
    ['GATEHOUSE_GROUPS_CLAIM', 'groups'],
  ] as const) {
    const value = get(variable)
    if (value === undefined) continue
    // Spaces separate paths: claim names and JSON Pointers never contain one in practice.
    claims[member] = value.split(/\s+/).map((path) => {
      parseClaimPath(path, variable)
      return path
    })
  }
  if (Object.keys(claims).length > 0) options.claims = claims

  // The verifier's own validation, reported in the user's terms: the variable, not the option.
  try {
    normalizeIssuer(options, '')
  } catch (error) {
    const message = (error as Error).message
    const option = /^(\w+):/.exec(message)?.[1]
    const variable = option === undefined ? undefined : VARIABLE_OF[option]
    const named = variable === undefined ? message : message.replace(/^\w+:/, `${variable}:`)
    throw new TypeError(named.replace(/\ballowInsecureRequests\b/, 'GATEHOUSE_ALLOW_INSECURE_REQUESTS=1'))
  }
  return options
}

const VARIABLE_OF: Record<string, string> = {
  issuer: 'GATEHOUSE_ISSUER',
  domain: 'GATEHOUSE_DOMAIN',
  audience: 'GATEHOUSE_AUDIENCE',
  jwksUri: 'GATEHOUSE_JWKS_URL',
  discovery: 'GATEHOUSE_DISCOVERY',
  allowInsecureRequests: 'GATEHOUSE_ALLOW_INSECURE_REQUESTS',
  algorithms: 'GATEHOUSE_ALGORITHMS',
  clockTolerance: 'GATEHOUSE_CLOCK_TOLERANCE',
  maxTokenAge: 'GATEHOUSE_MAX_TOKEN_AGE',
  typ: 'GATEHOUSE_TYP',
  strict: 'GATEHOUSE_STRICT',
  requiredClaims: 'GATEHOUSE_REQUIRED_CLAIMS',
}
