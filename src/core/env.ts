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
 * | GATEHOUSE_ALGORITHMS | algorithms | comma-separated, e.g. RS256,ES256 |
 * | GATEHOUSE_CLOCK_TOLERANCE | clockTolerance | seconds, non-negative |
 * | GATEHOUSE_MAX_TOKEN_AGE | maxTokenAge | seconds, non-negative |
 * | GATEHOUSE_TYP | typ | e.g. at+jwt |
 * | GATEHOUSE_REQUIRED_CLAIMS | requiredClaims | comma-separated claim names |
 * | GATEHOUSE_SCOPES_CLAIM, _ROLES_CLAIM, _PERMISSIONS_CLAIM, _GROUPS_CLAIM | claims.scopes, .roles, … | space-separated claim paths in priority order: a name (`https://example.com/roles` is one name) or a JSON Pointer (`/realm_access/roles`) |
 */
import { parseClaimPath } from './claim-path.js'
import type { ClaimMapping } from './claims-reader.js'
import { normalizeIssuer, type VerifierOptions } from './options.js'
import { ALL_ALGORITHMS, type Algorithm } from './types.js'

type Env = Record<string, string | undefined>

function bad(variable: string, expected: string, value: string): never {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value
  throw new TypeError(`${variable}: expected ${expected}, got ${JSON.stringify(shown)}`)
}

function list(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean)
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
    throw new TypeError(variable === undefined ? message : message.replace(/^\w+:/, `${variable}:`))
  }
  return options
}

const VARIABLE_OF: Record<string, string> = {
  issuer: 'GATEHOUSE_ISSUER',
  domain: 'GATEHOUSE_DOMAIN',
  audience: 'GATEHOUSE_AUDIENCE',
  jwksUri: 'GATEHOUSE_JWKS_URL',
  discovery: 'GATEHOUSE_DISCOVERY',
  algorithms: 'GATEHOUSE_ALGORITHMS',
  clockTolerance: 'GATEHOUSE_CLOCK_TOLERANCE',
  maxTokenAge: 'GATEHOUSE_MAX_TOKEN_AGE',
  typ: 'GATEHOUSE_TYP',
  requiredClaims: 'GATEHOUSE_REQUIRED_CLAIMS',
}
