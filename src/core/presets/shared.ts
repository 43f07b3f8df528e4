/**
 * What every preset shares: the result type, input validation (TypeErrors naming the option), and the
 * composition of `validate` hooks. Private to the presets folder.
 */
import { type ClaimMapping, createClaimsReader } from '../authz/claims-reader.js'
import { idTokenGuard } from '../authz/token-guard.js'
import { type IssuerOptions, type KeySetOptions, parseHttpUrl } from '../config/options.js'
import { GatehouseError } from '../errors.js'
import { isHostName } from '../lib/hosts.js'
import { booleanOption, isPlainObject, stringList } from '../lib/values.js'
import type { Algorithm, JWTClaims, ProtectedHeader } from '../types.js'

type Validate = (claims: JWTClaims, header: ProtectedHeader) => void

/**
 * A preset's output: plain verifier options (spread them into `createVerifier`, or list them under
 * `issuers`) with the provider's claim mapping. `issuer`, `audience`, `validate` and `claims` are always set.
 */
export type PresetResult = Pick<
  IssuerOptions,
  'jwksUri' | 'discovery' | 'algorithms' | 'typ' | 'requiredClaims' | 'keySet'
> &
  Required<Pick<IssuerOptions, 'issuer' | 'validate'>> & {
    audience: string | readonly string[] | null
    claims: ClaimMapping
  }

/** Options every preset accepts besides its own. */
export interface CommonPresetOptions {
  /** Replace the preset's claim mapping per category (the other categories keep the preset's). */
  claims?: ClaimMapping
  /** Accepted `alg` values, replacing the preset's (which follow the provider's documentation). */
  algorithms?: readonly Algorithm[]
  /** Extra checks, run after the preset's own. Throw a GatehouseError to reject. */
  validate?: Validate
}

/** Options of presets whose ID-token guard can use the application's client ids. */
export interface ClientIdsOption {
  /**
   * OAuth client ids of the applications that sign users in. Tokens audienced to one of them are ID
   * tokens and are rejected (see token-guard.ts). Never list the API's own audience. Default: none.
   */
  clientIds?: readonly string[]
}

/** Options of presets that take a URL (Keycloak's `url`, an `issuer`, a `jwksUri`). */
export interface InsecureRequestsOption {
  /**
   * Accept a plain-http URL on any host, not only on loopback hosts: for a development network (a
   * Keycloak container at `http://keycloak:8080`) and nothing else, since keys fetched over http can be
   * replaced in transit by anyone on the way. Passed on to the verifier as `keySet.allowInsecureRequests`;
   * each such host is reported once per process with `process.emitWarning`. Default false: an http URL
   * off loopback is a TypeError.
   */
  allowInsecureRequests?: boolean
}

/** The members of {@link CommonPresetOptions}, which every preset accepts after its own. */
const COMMON_KEYS = ['claims', 'algorithms', 'validate'] as const

/**
 * A preset's input: an object whose members are all known, the preset's `own` then the common ones.
 * Unknown members are refused: a misspelt `clientId` must not silently switch a check off.
 */
export function presetOptions(
  preset: string,
  input: unknown,
  own: readonly string[],
): Record<string, unknown> {
  if (!isPlainObject(input)) throw new TypeError(`${preset}: expected an options object`)
  const known = [...own, ...COMMON_KEYS]
  for (const key of Object.keys(input)) {
    if (!known.includes(key))
      throw new TypeError(`${preset}.${key}: unknown option (expected ${known.join(', ')})`)
  }
  return input
}

/** A bare host name, e.g. `tenant.us.auth0.com` (no scheme, no path). */
export function hostName(option: string, value: unknown): string {
  if (typeof value === 'string' && /^[a-z]+:\/\//i.test(value)) {
    throw new TypeError(
      `${option}: expected a host name without scheme, e.g. "${value.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')}"`,
    )
  }
  if (!isHostName(value)) {
    throw new TypeError(
      `${option}: expected a host name such as "tenant.example.com" (no scheme, no path), got ${JSON.stringify(value)}`,
    )
  }
  return value.toLowerCase()
}

/**
 * An https base URL without query, fragment or trailing slash; http only on loopback, or anywhere with
 * `allowInsecureRequests` (then reported once per host, as the verifier does).
 */
export function baseUrl(option: string, value: unknown, allowInsecureRequests = false): string {
  if (typeof value !== 'string' && !(value instanceof URL))
    throw new TypeError(`${option}: expected an https URL, got ${typeof value}`)
  const url = parseHttpUrl(option, value, allowInsecureRequests)
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError(`${option}: expected a URL without query, fragment or credentials`)
  }
  return url.href.replace(/\/+$/, '')
}

/** The `allowInsecureRequests` option: a boolean, or undefined when left out. */
export function insecureRequests(preset: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : booleanOption(`${preset}.allowInsecureRequests`, value)
}

/** The preset's `keySet`: only the opt-out, and only when it is on (transport is otherwise the caller's). */
export function insecureKeySet(allowInsecureRequests: boolean | undefined): KeySetOptions | undefined {
  return allowInsecureRequests === true ? { allowInsecureRequests } : undefined
}

/** `allowInsecureRequests: true` beside a `domain`, which always gives an https issuer: it would do nothing. */
export function httpsOnly(preset: string): TypeError {
  return new TypeError(
    `${preset}.allowInsecureRequests: a domain always gives an https issuer; pass an http issuer as \`issuer\``,
  )
}

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`${option}: expected a non-empty string, got ${JSON.stringify(value)}`)
  return value
}

/** A string or a non-empty list of strings ({@link stringList}), each value once: a preset's output repeats nothing. */
export function distinctStrings(option: string, value: unknown): string[] {
  return [...new Set(stringList(option, value))]
}

/** `audience` is required: a string, a list, or explicit `null` only where the preset allows it. */
export function audience(option: string, value: unknown, allowNull: boolean): string | string[] | null {
  if (value === null && allowNull) return null
  if (value === undefined || value === null) {
    throw new TypeError(`${option}: expected your API's identifier (the "aud" its access tokens carry)`)
  }
  const list = distinctStrings(option, value)
  return list.length === 1 ? list[0]! : list
}

export function optionalStringList(option: string, value: unknown): string[] {
  return value === undefined ? [] : distinctStrings(option, value)
}

/** The preset's mapping with the caller's categories replacing the preset's. */
export function claimMapping(preset: string, defaults: ClaimMapping, overrides: unknown): ClaimMapping {
  if (overrides === undefined) return defaults
  if (!isPlainObject(overrides)) throw new TypeError(`${preset}.claims: expected a claim mapping object`)
  const mapping = { ...defaults, ...(overrides as ClaimMapping) }
  createClaimsReader(mapping) // validates now, not at the first request
  return mapping
}

/** Run the checks in order; undefined entries are skipped. */
export function allOf(...checks: (Validate | undefined)[]): Validate {
  const list = checks.filter((check): check is Validate => check !== undefined)
  return (claims, header) => {
    for (const check of list) check(claims, header)
  }
}

export function userValidate(preset: string, value: unknown): Validate | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw new TypeError(`${preset}.validate: expected a function`)
  return value as Validate | undefined
}

export function algorithms(
  preset: string,
  value: unknown,
  defaults: readonly Algorithm[] | undefined,
): readonly Algorithm[] | undefined {
  if (value === undefined) return defaults
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${preset}.algorithms: expected a non-empty array`)
  return value as Algorithm[] // checked against the allow-list by the verifier
}

/**
 * The ID-token guard for the preset's `clientIds` option plus `add`, minus `exclude` (the API's own
 * audiences: a token audienced to the API is what we want, whatever else it names).
 */
export function guard(
  preset: string,
  clientIds: unknown,
  extra: { allowNonce?: boolean; add?: readonly string[]; exclude?: readonly string[] } = {},
): Validate {
  const ids = [...optionalStringList(`${preset}.clientIds`, clientIds), ...(extra.add ?? [])].filter(
    (id) => !extra.exclude?.includes(id),
  )
  return idTokenGuard({ clientIds: ids, allowNonce: extra.allowNonce })
}

/** An audience option as a list (empty for null). */
export function audienceList(value: string | readonly string[] | null): readonly string[] {
  return value === null ? [] : typeof value === 'string' ? [value] : value
}

/** Drop undefined members, so a preset's output lists only what it sets. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

export const claimMissing = (claim: string) =>
  new GatehouseError('ERR_JWT_CLAIM_MISSING', `"${claim}" claim is missing`)
export const claimInvalid = (claim: string, why: string) =>
  new GatehouseError('ERR_JWT_CLAIM_INVALID', `"${claim}" claim ${why}`)
