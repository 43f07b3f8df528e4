/**
 * Plain-words reasons for each check of `gatehouse inspect`. The verdicts come from the verifier (by
 * GatehouseError code); this module only puts them in words, using what the token and the
 * configuration say, so the reader sees what to change.
 */
import type { GatehouseError } from '../../core/errors.js'
import { ALL_ALGORITHMS, type Algorithm } from '../../core/types.js'
import { describeTime, relativeTime, show } from '../format.js'
import { explainNetworkError } from '../net-errors.js'

/** The checks, in the order the verifier runs them (src/core/verify/verifier.ts module comment), then policy. */
export const CHECK_ORDER = [
  'format',
  'iss',
  'alg',
  'typ',
  'kid',
  'signature',
  'exp',
  'nbf',
  'iat',
  'age',
  'aud',
  'claims',
  'scope',
] as const

export type CheckId = (typeof CHECK_ORDER)[number]

export const LABELS: Record<CheckId, string> = {
  format: 'format',
  iss: 'iss',
  alg: 'alg',
  typ: 'typ',
  kid: 'kid',
  signature: 'signature',
  exp: 'exp',
  nbf: 'nbf',
  iat: 'iat',
  age: 'max age',
  aud: 'aud',
  claims: 'claims',
  scope: 'scopes',
}

/** What the explanations may read: the untrusted token, the configuration, and the clock (seconds). */
export interface ExplainContext {
  header: Record<string, unknown>
  claims: Record<string, unknown>
  /** Configured issuers (exact strings), as the verifier uses them. */
  issuers: readonly string[]
  audiences: readonly string[] | null
  algorithms: readonly string[] | undefined
  typ: readonly string[] | undefined
  clockTolerance: number
  maxTokenAge: number | undefined
  requiredScopes: readonly string[]
  /** Kids of the key set the verifier fetched, when known. */
  jwksKids: readonly string[] | undefined
  timeoutMs: number | undefined
  now: number
}

/** The claim a CLAIM_MISSING / CLAIM_INVALID error is about, from its description (`"exp" claim is missing`). */
export function claimOf(error: GatehouseError): string | undefined {
  return /^"([^"]+)" claim/.exec(error.description)?.[1]
}

/** Which check an error belongs to. `maxTokenAge` tells a missing `iat` for max age from a required claim. */
export function checkOf(error: unknown, maxTokenAge: number | undefined): CheckId {
  const code = (error as GatehouseError)?.code
  switch (code) {
    case 'ERR_JWT_MALFORMED':
    case 'ERR_JWT_HEADER_INVALID':
      return 'format'
    case 'ERR_JWT_ISSUER_INVALID':
      return 'iss'
    case 'ERR_JWT_ALG_NOT_ALLOWED':
      return 'alg'
    case 'ERR_JWT_TYP_INVALID':
    case 'ERR_JWT_NOT_ACCESS_TOKEN':
      return 'typ'
    case 'ERR_JWS_SIGNATURE_INVALID':
      return 'signature'
    case 'ERR_JWT_EXPIRED':
      return 'exp'
    case 'ERR_JWT_NOT_YET_VALID':
      return 'nbf'
    case 'ERR_JWT_TOO_OLD':
      return 'age'
    case 'ERR_JWT_AUDIENCE_INVALID':
      return 'aud'
    case 'ERR_JWT_CLAIM_MISSING':
    case 'ERR_JWT_CLAIM_INVALID': {
      const claim = claimOf(error as GatehouseError)
      if (claim === 'iss' || claim === 'exp' || claim === 'nbf' || claim === 'aud') return claim
      // `iat` is only required by max age; an invalid one (not a number, in the future) is the iat check.
      if (claim === 'iat')
        return code === 'ERR_JWT_CLAIM_INVALID' ? 'iat' : maxTokenAge === undefined ? 'claims' : 'age'
      return 'claims'
    }
    case 'ERR_POLICY_SCOPE':
      return 'scope'
    default:
      // Key lookup and every provider failure (JWKS unavailable, timeout, discovery) stop at the key.
      return 'kid'
  }
}

/** Why a check failed, in words. */
export function explainFailure(id: CheckId, error: unknown, c: ExplainContext): string {
  const e = error as GatehouseError
  const code = e?.code
  switch (id) {
    case 'format':
      return `${e.description ?? String(error)}: this is not a well-formed signed JWT`
    case 'iss':
      if (code === 'ERR_JWT_CLAIM_MISSING')
        return 'the token has no "iss" claim, so no issuer can vouch for it'
      return explainIssuer(c.claims.iss, c.issuers)
    case 'alg': {
      const alg = c.header.alg
      if (alg === 'none') return 'the token is unsigned (alg "none"); it is never accepted'
      if (typeof alg !== 'string' || !ALL_ALGORITHMS.includes(alg as Algorithm)) {
        return (
          `the token uses ${show(alg)}; Gatehouse accepts only asymmetric algorithms (${ALL_ALGORITHMS.join(', ')}), ` +
          'because a public key set cannot check HMAC (HS*) signatures'
        )
      }
      return `the token uses ${alg} but you allow ${(c.algorithms ?? ALL_ALGORITHMS).join(', ')}`
    }
    case 'typ': {
      if (code === 'ERR_JWT_NOT_ACCESS_TOKEN')
        return `${e.description}: send the access token, not the ID token`
      const typ = c.header.typ
      const required = (c.typ ?? []).map((t) => `"${t}"`).join(' or ')
      const said = typeof typ === 'string' ? `the token's typ is "${typ}"` : 'the token has no typ header'
      const idHint =
        'nonce' in c.claims || 'at_hash' in c.claims
          ? ' (it looks like an ID token: it has nonce/at_hash)'
          : ''
      return `${said} but you require ${required}${idHint}`
    }
    case 'kid':
      return explainKey(e, c)
    case 'signature': {
      const kid = typeof c.header.kid === 'string' ? `key "${c.header.kid}"` : 'the only fitting key'
      return `the signature does not match ${kid}: the token was changed after signing, or signed by another key that reuses this kid`
    }
    case 'exp': {
      if (code === 'ERR_JWT_CLAIM_MISSING')
        return 'the token has no "exp" claim; tokens without an expiry are refused'
      if (code === 'ERR_JWT_CLAIM_INVALID') return '"exp" is not a number (seconds since 1970)'
      return `expired ${describeTime(c.claims.exp, c.now)}; get a new token`
    }
    case 'nbf':
      if (code === 'ERR_JWT_CLAIM_INVALID') return '"nbf" is not a number (seconds since 1970)'
      return `not valid before ${describeTime(c.claims.nbf, c.now)}; if that surprises you, a clock is wrong (tolerance ${c.clockTolerance} s)`
    case 'iat':
      if (/future/.test(e.description ?? '')) {
        return (
          `issued in the future, ${describeTime(c.claims.iat, c.now)}: the issuer's clock or this machine's is off ` +
          `by more than the tolerance (${c.clockTolerance} s)`
        )
      }
      return '"iat" is not a number (seconds since 1970)'
    case 'age': {
      if (code === 'ERR_JWT_CLAIM_MISSING') return 'the token has no "iat" claim, which --max-token-age needs'
      const iat = c.claims.iat
      const when = typeof iat === 'number' ? relativeTime(iat, c.now) : 'at an unknown time'
      return `issued ${when}, longer ago than the maximum age of ${c.maxTokenAge} s`
    }
    case 'aud':
      if (code === 'ERR_JWT_CLAIM_MISSING') {
        return 'the token has no "aud" claim: request it with an audience parameter (Auth0 issues audience-less tokens otherwise)'
      }
      if (code === 'ERR_JWT_CLAIM_INVALID') return '"aud" is neither a string nor an array of strings'
      return explainAudience(c.claims.aud, c.audiences ?? [], c.claims)
    case 'claims':
      if (code === 'ERR_JWT_CLAIM_MISSING') return `required claim "${claimOf(e)}" is missing`
      return e.description ?? String(error)
    case 'scope': {
      const held =
        typeof c.claims.scope === 'string' && c.claims.scope !== '' ? `"${c.claims.scope}"` : 'no scope'
      return `needs ${c.requiredScopes.join(' ')}; the token has ${held}`
    }
  }
}

function explainKey(e: GatehouseError, c: ExplainContext): string {
  const kid = c.header.kid
  switch (e?.code) {
    case 'ERR_JWKS_NO_MATCHING_KEY': {
      const unusable =
        e.cause instanceof Error && /unusable/.test(e.cause.message) ? `: ${e.cause.message}` : ''
      if (unusable) return `the key for this token cannot be used${unusable}`
      const listed =
        c.jwksKids === undefined
          ? ''
          : ` (it has ${c.jwksKids.length === 0 ? 'no keys' : c.jwksKids.map((k) => `"${k}"`).join(', ')})`
      if (typeof kid !== 'string')
        return `the token has no kid and no key in the issuer's key set fits ${show(c.header.alg)}${listed}`
      return (
        `no key in the issuer's key set has kid "${kid}"${listed}: the token comes from another issuer, tenant or ` +
        'environment, or its key was rotated out'
      )
    }
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'the token has no kid and several keys fit; the issuer must put a kid in the header'
    default: {
      const what =
        e?.code === 'ERR_DISCOVERY_FAILED'
          ? "could not read the issuer's metadata"
          : "could not load the issuer's keys"
      return `${what}: ${explainNetworkError(e, c.timeoutMs)}. Run "gatehouse doctor" with the same configuration`
    }
  }
}

/** Why two issuers differ, the way a person would spot it. */
export function issuerDifference(actual: string, expected: string): string {
  const strip = (s: string) => s.replace(/\/+$/, '')
  if (strip(actual) === strip(expected)) return 'the trailing slash differs'
  if (actual.toLowerCase() === expected.toLowerCase()) return 'the letter case differs'
  const a = URL.canParse(actual) ? new URL(actual) : undefined
  const b = URL.canParse(expected) ? new URL(expected) : undefined
  if (a && b) {
    if (a.host === b.host && a.protocol !== b.protocol)
      return `the scheme differs (${a.protocol.slice(0, -1)} vs ${b.protocol.slice(0, -1)})`
    if (a.host === b.host) return 'the path differs'
    if (a.hostname === b.hostname) return 'the port differs'
  }
  return 'it is a different issuer'
}

function explainIssuer(iss: unknown, configured: readonly string[]): string {
  if (typeof iss !== 'string') return '"iss" is not a string'
  const list = configured.map((i) => `"${i}"`).join(' or ')
  const closest = configured[0]
  const why = closest === undefined ? '' : ` — ${issuerDifference(iss, closest)}`
  return `token says "${iss}" but you configured ${list}${why}`
}

function explainAudience(aud: unknown, accepted: readonly string[], claims: Record<string, unknown>): string {
  const list = accepted.map((a) => `"${a}"`).join(' or ')
  const auds =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud)
        ? aud.filter((a): a is string => typeof a === 'string')
        : []
  let hint = ''
  const strip = (s: string) => s.replace(/\/+$/, '')
  if (auds.some((a) => accepted.some((x) => strip(x) === strip(a)))) hint = ' — the trailing slash differs'
  else if (auds.some((a) => /\/api\/v2\/?$/.test(a))) {
    hint =
      ' — this is a token for the Auth0 Management API: request it with audience set to your API identifier'
  } else if (auds.some((a) => a === claims.azp || a === claims.client_id)) {
    hint = ' — the audience is a client id, as in an ID token: send the access token instead'
  }
  return `token is for ${show(aud)} but you accept ${list}${hint}`
}
