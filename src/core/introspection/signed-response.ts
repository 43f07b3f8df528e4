/**
 * Signed introspection answers (RFC 9701): the endpoint answers `application/token-introspection+jwt`, a
 * JWT signed by the authorization server whose `token_introspection` member holds the answer of RFC 7662.
 * The checks, in order, each failure a 503 `ERR_INTROSPECTION_INVALID` (the answer is at fault, not the
 * token), with the key store's 503 kept as `ERR_INTROSPECTION_UNAVAILABLE`:
 *
 * 1. a compact JWS (bounded, canonical base64url, no `crit`: verify/jws.ts); an encrypted answer (JWE) is
 *    not supported and fails here;
 * 2. `typ` is `token-introspection+jwt` (§5; `application/` prefix optional, RFC 7515 §4.1.9);
 * 3. the signature, with a key of the configured key store only (never `jku`, `jwk`, `x5u`, `x5c`);
 * 4. `iss` one of the configured issuers, `aud` the client id (§5: the answer is for this resource
 *    server), `iat` present, not in the future and at most {@link MAX_SIGNED_ANSWER_AGE} seconds old;
 *    `exp`, when present, not passed;
 * 5. `token_introspection` present: its shape is then read like a plain answer (response.ts).
 */
import { canVerifySync, verifyAsync, verifySync } from '../crypto/signature.js'
import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import { normalizeTyp } from '../lib/typ.js'
import { isPlainObject } from '../lib/values.js'
import type { KeyStore, VerificationKey } from '../types.js'
import { parseCompactJWS } from '../verify/jws.js'
import { invalidAnswer } from './response.js'

/** The media type of a signed answer (RFC 9701 §4, §5). */
export const SIGNED_ANSWER_TYPE = 'application/token-introspection+jwt'

/**
 * Seconds a signed answer may be old when it arrives. It was signed for this call: the allowance is for
 * clock skew between the two servers, on top of `clockTolerance`.
 */
export const MAX_SIGNED_ANSWER_AGE = 60

export interface SignedAnswerRules {
  keys: KeyStore
  /** The authorization server's issuer identifier(s): the answer's `iss`. */
  issuers: ReadonlySet<string>
  /** This resource server's client id: the answer's `aud`. */
  clientId: string
  /** Seconds. */
  clockTolerance: number
  /** Characters: the size cap of the answer. */
  maxLength: number
}

const refused = (claim: string, reason: string, received?: unknown) =>
  invalidAnswer(`is a signed answer whose "${claim}" ${reason}`, {
    claim,
    received: forLog(received),
    reason,
  } satisfies CheckCause)

/**
 * The `token_introspection` member of a signed answer, after every check above.
 * @param now the current time in seconds.
 */
export async function readSignedAnswer(
  text: string,
  rules: SignedAnswerRules,
  now: number,
): Promise<unknown> {
  let parsed: ReturnType<typeof parseCompactJWS>
  try {
    parsed = parseCompactJWS(text.trim(), rules.maxLength)
  } catch (cause) {
    throw invalidAnswer('is not a compact JWS', cause as Error)
  }
  const { header, payload, signingInput, signature } = parsed
  if (header.typ === undefined || normalizeTyp(header.typ) !== 'token-introspection+jwt')
    throw invalidAnswer('is a signed answer of the wrong typ', {
      header: 'typ',
      received: forLog(header.typ),
      expected: ['token-introspection+jwt'],
    })

  let key: VerificationKey
  try {
    key = rules.keys.peek(header) ?? (await rules.keys.get(header))
  } catch (cause) {
    if (cause instanceof GatehouseError && cause.status === 503)
      throw new GatehouseError('ERR_INTROSPECTION_UNAVAILABLE', undefined, { cause })
    throw invalidAnswer('is signed with no key of the key store', cause as Error)
  }
  const valid = canVerifySync
    ? verifySync(header.alg, key.handle, signingInput, signature)
    : await verifyAsync(header.alg, key.handle, signingInput, signature)
  if (!valid)
    throw invalidAnswer('has an invalid signature', {
      header: 'kid',
      received: forLog(header.kid),
      alg: header.alg,
    })

  const { iss, aud, iat, exp, token_introspection: answer } = payload
  const tolerance = rules.clockTolerance
  if (typeof iss !== 'string' || !rules.issuers.has(iss))
    throw refused('iss', 'is not a configured issuer', iss)
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
  if (!audiences.includes(rules.clientId)) throw refused('aud', 'does not name the client id', aud)
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw refused('iat', 'is not a number', iat)
  if (iat > now + tolerance) throw refused('iat', 'is in the future', iat)
  if (iat < now - tolerance - MAX_SIGNED_ANSWER_AGE) throw refused('iat', 'is too old', iat)
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now - tolerance))
    throw refused('exp', 'is not a number in the future', exp)
  if (!isPlainObject(answer)) throw refused('token_introspection', 'is not an object', answer)
  return answer
}
