/**
 * The claim checks of a verified token (RFC 7519 §4.1, RFC 9068 §4), as a straight list of guard
 * clauses. Times are in seconds; `clockTolerance` widens every time window by the same amount.
 *
 * Not checked here: the issuer (the verifier routes on it before the signature check), the signature,
 * and anything an application policy decides (scopes, roles: see the policy module).
 */
import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import { normalizeTyp } from '../lib/typ.js'
import type { JWTClaims, ProtectedHeader } from '../types.js'

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

// Every rejection carries a CheckCause for the server's log: the claim, what the token held, what was
// expected. The message and description stay generic: they reach the client.
const missing = (claim: string) =>
  new GatehouseError('ERR_JWT_CLAIM_MISSING', `"${claim}" claim is missing`, {
    cause: { claim } satisfies CheckCause,
  })
const invalid = (claim: string, why: string, received: unknown) =>
  new GatehouseError('ERR_JWT_CLAIM_INVALID', `"${claim}" claim ${why}`, {
    cause: { claim, received: forLog(received), reason: why } satisfies CheckCause,
  })
const refused = (code: 'ERR_JWT_EXPIRED' | 'ERR_JWT_NOT_YET_VALID' | 'ERR_JWT_TOO_OLD', cause: CheckCause) =>
  new GatehouseError(code, undefined, { cause })

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

export function checkTyp(header: ProtectedHeader, accepted: ReadonlySet<string> | null): void {
  if (accepted === null) return
  if (header.typ === undefined || !accepted.has(normalizeTyp(header.typ))) {
    throw new GatehouseError('ERR_JWT_TYP_INVALID', undefined, {
      cause: { header: 'typ', received: forLog(header.typ), expected: [...accepted] } satisfies CheckCause,
    })
  }
}

/** @param now current time in seconds */
export function checkClaims(claims: JWTClaims, rules: ClaimRules, now: number): void {
  const { clockTolerance } = rules

  const { exp, nbf, iat } = claims
  if (exp === undefined) throw missing('exp')
  if (!isNumericDate(exp)) throw invalid('exp', 'is not a number', exp)
  // RFC 7519 §4.1.4: the current time MUST be before `exp`.
  if (exp <= now - clockTolerance)
    throw refused('ERR_JWT_EXPIRED', { claim: 'exp', received: exp, now, clockTolerance })

  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) throw invalid('nbf', 'is not a number', nbf)
    if (nbf > now + clockTolerance)
      throw refused('ERR_JWT_NOT_YET_VALID', { claim: 'nbf', received: nbf, now, clockTolerance })
  }

  if (iat !== undefined) {
    if (!isNumericDate(iat)) throw invalid('iat', 'is not a number', iat)
    // A token issued in the future was minted by a clock we should not trust (stricter than jose).
    if (iat > now + clockTolerance) {
      throw new GatehouseError('ERR_JWT_CLAIM_INVALID', '"iat" claim is in the future', {
        cause: { claim: 'iat', received: iat, now, clockTolerance, reason: 'is in the future' },
      })
    }
  }
  const { maxTokenAge } = rules
  if (maxTokenAge !== undefined) {
    if (iat === undefined) throw missing('iat')
    if (now - (iat as number) > maxTokenAge + clockTolerance)
      throw refused('ERR_JWT_TOO_OLD', { claim: 'iat', received: iat, now, maxTokenAge, clockTolerance })
  }

  if (rules.audience !== null) {
    const { aud } = claims
    if (aud === undefined) throw missing('aud')
    // RFC 7519 §4.1.3: a string or an array of strings, one of which must identify us.
    const accepted = rules.audience
    const ours =
      typeof aud === 'string'
        ? accepted.has(aud)
        : Array.isArray(aud) && aud.every((value) => typeof value === 'string')
          ? aud.some((value) => accepted.has(value))
          : undefined
    if (ours === undefined) throw invalid('aud', 'is not a string or an array of strings', aud)
    if (!ours) {
      throw new GatehouseError('ERR_JWT_AUDIENCE_INVALID', undefined, {
        cause: { claim: 'aud', received: forLog(aud), expected: [...accepted] } satisfies CheckCause,
      })
    }
  }

  for (const name of ['sub', 'jti', 'client_id', 'scope'] as const) {
    const value = claims[name]
    if (value !== undefined && typeof value !== 'string') throw invalid(name, 'is not a string', value)
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
