/**
 * The token-type guard: reject ID tokens (and other JWTs from the same issuer) presented as access
 * tokens. Both are signed with the same keys, so signature, issuer and often audience checks pass; an
 * ID token says who logged in to a client, not what a client may do at an API (OpenID Connect Core
 * §2; RFC 9068 §4 asks resource servers to tell them apart). Most providers set no `typ` that would
 * (RFC 9068's `at+jwt`), so the guard looks for the signals ID tokens carry:
 *
 * | signal                                   | why it marks a non-access token                                    |
 * |------------------------------------------|---------------------------------------------------------------------|
 * | header `typ` other than `JWT` / `at+jwt` | `logout+jwt`, `secevent+jwt`, `dpop+jwt`… are other kinds of JWT (RFC 7515 §4.1.9) |
 * | claim `typ` = `ID`, `Refresh`, `Offline`, `Logout` | Keycloak's own token-kind claim (its access tokens say `Bearer`) |
 * | claim `token_use` other than `access`    | Cognito marks ID tokens `token_use: "id"`                           |
 * | claim `nonce`                            | OIDC Core §2: echoed into the ID token only (Keycloak < 25 also put it in access tokens: `allowNonce`) |
 * | claims `at_hash`, `c_hash`, `s_hash`     | OIDC Core §3.1.3.6, §3.3.2.11, FAPI: hashes bound into ID tokens     |
 * | `aud` names one of `clientIds`           | an ID token's audience is the client that logged the user in (OIDC Core §2) |
 *
 * What it does NOT catch: an ID token with none of these (no nonce requested, no access token issued
 * alongside, and its client id unknown to the guard). Configure `clientIds`, or require `typ: 'at+jwt'`
 * where the provider supports RFC 9068. Per-provider signals are listed in docs/presets.md.
 */

import { GatehouseError } from '../errors.js'
import { normalizeTyp } from '../lib/typ.js'
import { booleanOption, stringList } from '../lib/values.js'
import type { JWTClaims, ProtectedHeader } from '../types.js'

export interface IdTokenGuardOptions {
  /**
   * OAuth client ids of the applications that log users in. A token whose `aud` names one of them is an
   * ID token for that client. Never list your API's own audience here. Default: none.
   */
  clientIds?: readonly string[]
  /** Ignore the `nonce` claim: Keycloak before 25 copied it into access tokens. Default false. */
  allowNonce?: boolean
  /** Header `typ` values accepted besides none, `JWT` and `at+jwt` (case-insensitive, `application/` optional). */
  typ?: readonly string[]
}

const ACCESS_TYPS = ['jwt', 'at+jwt']
/** Keycloak's `typ` claim values for tokens that are not access tokens. */
const KEYCLOAK_OTHER_KINDS = new Set(['id', 'refresh', 'offline', 'logout'])
const ID_TOKEN_HASHES = ['at_hash', 'c_hash', 's_hash'] as const

function reject(why: string): GatehouseError {
  return new GatehouseError('ERR_JWT_NOT_ACCESS_TOKEN', `Token is not an access token (${why})`)
}

/** A list option of the guard: an array, possibly empty (nothing to add), or left out. */
function listOption(option: string, value: unknown): string[] {
  return value === undefined ? [] : stringList(option, value, { single: false, empty: true })
}

/**
 * Build the guard, for a verifier's `validate` option (presets compose it with their own checks).
 *
 * @throws TypeError naming the option when options are malformed.
 * @returns `(claims, header) => void`, throwing 401 `ERR_JWT_NOT_ACCESS_TOKEN` on the first signal found.
 * @example
 * createVerifier({ issuer, audience, validate: idTokenGuard({ clientIds: ['my-spa-client-id'] }) })
 */
export function idTokenGuard(
  options: IdTokenGuardOptions = {},
): (claims: JWTClaims, header: ProtectedHeader) => void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('idTokenGuard: expected an options object')
  const clientIds = new Set(listOption('idTokenGuard.clientIds', options.clientIds))
  const typs = new Set([...ACCESS_TYPS, ...listOption('idTokenGuard.typ', options.typ).map(normalizeTyp)])
  const checkNonce = !booleanOption('idTokenGuard.allowNonce', options.allowNonce)

  return (claims, header) => {
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !typs.has(normalizeTyp(header.typ)))) {
      throw reject('"typ" header')
    }
    const kind = claims.typ
    if (typeof kind === 'string' && KEYCLOAK_OTHER_KINDS.has(kind.toLowerCase())) throw reject('"typ" claim')
    if (claims.token_use !== undefined && claims.token_use !== 'access') throw reject('"token_use" claim')
    if (checkNonce && claims.nonce !== undefined) throw reject('"nonce" claim')
    for (const name of ID_TOKEN_HASHES) if (claims[name] !== undefined) throw reject(`"${name}" claim`)
    if (clientIds.size > 0) {
      const { aud } = claims
      const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
      if (audiences.some((value) => typeof value === 'string' && clientIds.has(value)))
        throw reject('audience is a client')
    }
  }
}
