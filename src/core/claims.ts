/**
 * The claim checks of a verified token (RFC 7519 §4.1, RFC 9068 §4), as a straight list of guard
 * clauses. Times are in seconds; `clockTolerance` widens every time window by the same amount.
 *
 * Not checked here: the issuer (the verifier routes on it before the signature check), the signature,
 * and anything an application policy decides (scopes, roles: see the policy module).
 */
import { GatehouseError } from './errors.js'
import type { JWTClaims, ProtectedHeader } from './types.js'

export interface ClaimRules {
  /** Accepted audiences, or null when the audience check is explicitly off. */
  audience: ReadonlySet<string> | null
  /** Seconds. */
  clockTolerance: number
  /** Seconds, or undefined for no limit. */
  maxTokenAge: number | undefined
  requiredClaims: readonly string[]
  /** Accepted `typ` values, normalized (lower case, without `application/`), or null for any. */
  typ: ReadonlySet<string> | null
}

const missing = (claim: string) => new GatehouseError('ERR_JWT_CLAIM_MISSING', `"${claim}" claim is missing`)
const invalid = (claim: string, why: string) =>
  new GatehouseError('ERR_JWT_CLAIM_INVALID', `"${claim}" claim ${why}`)

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** RFC 7515 §4.1.9: media types compare case-insensitively and `application/` may be omitted. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice(12) : lower
}

export function checkTyp(header: ProtectedHeader, accepted: ReadonlySet<string> | null): void {
  if (accepted === null) return
  if (header.typ === undefined || !accepted.has(normalizeTyp(header.typ))) {
    throw new GatehouseError('ERR_JWT_TYP_INVALID')
  }
}

/** @param now current time in seconds */
export function checkClaims(claims: JWTClaims, rules: ClaimRules, now: number): void {
  const { clockTolerance: tolerance } = rules

  const { exp, nbf, iat } = claims
  if (exp === undefined) throw missing('exp')
  if (!isNumericDate(exp)) throw invalid('exp', 'is not a number')
  // RFC 7519 §4.1.4: the current time MUST be before `exp`.
  if (exp <= now - tolerance) throw new GatehouseError('ERR_JWT_EXPIRED')

  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) throw invalid('nbf', 'is not a number')
    if (nbf > now + tolerance) throw new GatehouseError('ERR_JWT_NOT_YET_VALID')
  }

  if (iat !== undefined) {
    if (!isNumericDate(iat)) throw invalid('iat', 'is not a number')
    // A token issued in the future was minted by a clock we should not trust (stricter than jose).
    if (iat > now + tolerance) throw invalid('iat', 'is in the future')
  }
  if (rules.maxTokenAge !== undefined) {
    if (iat === undefined) throw missing('iat')
    if (now - (iat as number) > rules.maxTokenAge + tolerance) throw new GatehouseError('ERR_JWT_TOO_OLD')
  }

  if (rules.audience !== null) {
    const { aud } = claims
    if (aud === undefined) throw missing('aud')
    // RFC 7519 §4.1.3: a string or an array of strings, one of which must identify us.
    if (typeof aud === 'string') {
      if (!rules.audience.has(aud)) throw new GatehouseError('ERR_JWT_AUDIENCE_INVALID')
    } else if (Array.isArray(aud) && aud.every((value) => typeof value === 'string')) {
      if (!aud.some((value) => rules.audience!.has(value)))
        throw new GatehouseError('ERR_JWT_AUDIENCE_INVALID')
    } else {
      throw invalid('aud', 'is not a string or an array of strings')
    }
  }

  for (const name of ['sub', 'jti', 'client_id', 'scope'] as const) {
    const value = claims[name]
    if (value !== undefined && typeof value !== 'string') throw invalid(name, 'is not a string')
  }

  for (const name of rules.requiredClaims) {
    // Own members only: `constructor` or `__proto__` must not be "present" through the prototype.
    if (!Object.hasOwn(claims, name) || claims[name] === undefined) throw missing(name)
  }
}

/**
 * The window in which a verified token stays valid, for the verified-token cache: [from, until) in
 * seconds, derived from the same rules as `checkClaims`.
 */
export function validityWindow(claims: JWTClaims, rules: ClaimRules): { from: number; until: number } {
  const tolerance = rules.clockTolerance
  let until = (claims.exp as number) + tolerance
  if (rules.maxTokenAge !== undefined)
    until = Math.min(until, (claims.iat as number) + rules.maxTokenAge + tolerance)
  let from = Number.NEGATIVE_INFINITY
  if (typeof claims.nbf === 'number') from = claims.nbf - tolerance
  if (typeof claims.iat === 'number') from = Math.max(from, claims.iat - tolerance)
  return { from, until }
}
