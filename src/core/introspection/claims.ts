/**
 * The checks of an active answer (RFC 7662 §2.2, §4), as a straight list of guard clauses, run on every
 * answer, cached ones included: an answer is the authorization server's word that the token was active
 * when it answered; whether it is still acceptable now, and for this resource server, is decided here.
 * The codes and log causes are the JWT verifier's (verify/claims.ts), so that a policy or a log reader
 * sees one vocabulary for both kinds of token. Times are in seconds.
 *
 * Not checked here: the answer's shape (response.ts), scopes and other policies (authz), `cnf` binding
 * (the DPoP checks).
 */
import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import type { IntrospectionClaims } from './response.js'

export interface ActiveRules {
  /** Accepted `iss` values, or null when the check is explicitly off. */
  issuers: ReadonlySet<string> | null
  /** Accepted audiences, or null when the check is explicitly off. */
  audience: ReadonlySet<string> | null
  /** Seconds. */
  clockTolerance: number
}

const missing = (claim: string) =>
  new GatehouseError('ERR_JWT_CLAIM_MISSING', `"${claim}" claim is missing`, {
    cause: { claim } satisfies CheckCause,
  })

/**
 * @param now the current time in seconds.
 * @throws GatehouseError (401 `invalid_token`) naming the claim.
 */
export function checkActiveClaims(
  claims: Readonly<IntrospectionClaims>,
  rules: ActiveRules,
  now: number,
): void {
  const { clockTolerance } = rules

  // RFC 7662 §4: a resource server must not take a token from another authorization server for its own.
  if (rules.issuers !== null) {
    if (claims.iss === undefined) throw missing('iss')
    if (!rules.issuers.has(claims.iss))
      throw new GatehouseError('ERR_JWT_ISSUER_INVALID', undefined, {
        cause: {
          claim: 'iss',
          received: forLog(claims.iss),
          expected: [...rules.issuers],
        } satisfies CheckCause,
      })
  }

  // `exp` is optional in an answer (RFC 7662 §2.2); when present it is enforced here, whatever the cache.
  const { exp, nbf, iat } = claims
  if (exp !== undefined && exp <= now - clockTolerance)
    throw new GatehouseError('ERR_JWT_EXPIRED', undefined, {
      cause: { claim: 'exp', received: exp, now, clockTolerance } satisfies CheckCause,
    })
  if (nbf !== undefined && nbf > now + clockTolerance)
    throw new GatehouseError('ERR_JWT_NOT_YET_VALID', undefined, {
      cause: { claim: 'nbf', received: nbf, now, clockTolerance } satisfies CheckCause,
    })
  if (iat !== undefined && iat > now + clockTolerance)
    throw new GatehouseError('ERR_JWT_CLAIM_INVALID', '"iat" claim is in the future', {
      cause: {
        claim: 'iat',
        received: iat,
        now,
        clockTolerance,
        reason: 'is in the future',
      } satisfies CheckCause,
    })

  if (rules.audience !== null) {
    const { aud } = claims
    if (aud === undefined) throw missing('aud')
    const accepted = rules.audience
    const ours = typeof aud === 'string' ? accepted.has(aud) : aud.some((value) => accepted.has(value))
    if (!ours)
      throw new GatehouseError('ERR_JWT_AUDIENCE_INVALID', undefined, {
        cause: { claim: 'aud', received: forLog(aud), expected: [...accepted] } satisfies CheckCause,
      })
  }
}

/**
 * Until when (milliseconds since the epoch) an active answer fetched at `fetchedAt` may be reused: at most
 * `maxAge` seconds, and never past the token's `exp`.
 */
export function activeUntil(
  claims: Readonly<IntrospectionClaims>,
  fetchedAt: number,
  maxAge: number,
): number {
  const until = fetchedAt + maxAge * 1000
  return claims.exp === undefined ? until : Math.min(until, claims.exp * 1000)
}
