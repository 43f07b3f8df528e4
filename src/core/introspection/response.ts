/**
 * The shape of an introspection answer (RFC 7662 §2.2), before any claim is judged: a JSON object, at most
 * {@link MAX_JSON_DEPTH} levels deep, whose `active` is a boolean, and whose registered members, when
 * present, have their registered types. Anything else is the endpoint's fault, not the token's: a 503
 * `ERR_INTROSPECTION_INVALID`, never an accepted token and never a 401 that blames the client.
 *
 * Not checked here: whether the claims are acceptable (`iss`, `aud`, `exp`, `nbf`: see claims.ts).
 */
import { type CheckCause, GatehouseError } from '../errors.js'
import { isPlainObject } from '../lib/values.js'
import type { JWTClaims } from '../types.js'
import { deepFreeze, MAX_JSON_DEPTH } from '../verify/jws.js'

/** The members of an `active: true` answer (RFC 7662 §2.2), as the authorization server sent them. */
export interface IntrospectionClaims extends JWTClaims {
  active: true
  token_type?: string
  username?: string
  /** Confirmation (RFC 7800): `jkt` for a DPoP-bound token (RFC 9449 §6.2), `x5t#S256` for mTLS. */
  cnf?: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown }
}

/** What the endpoint said about a token, its shape checked. Claims are deep-frozen: cached answers share them. */
export type IntrospectionAnswer =
  | { readonly active: false }
  | { readonly active: true; readonly claims: Readonly<IntrospectionClaims> }

/** The one inactive answer: RFC 7662 §2.2 says nothing more about an inactive token. */
export const INACTIVE: IntrospectionAnswer = Object.freeze({ active: false })

const STRINGS = ['scope', 'client_id', 'username', 'token_type', 'sub', 'iss', 'jti'] as const
const NUMERIC_DATES = ['exp', 'iat', 'nbf'] as const

/** An invalid answer, with what was wrong for the log (never the answer's content: it may echo the token). */
export function invalidAnswer(reason: string, cause?: CheckCause | Error): GatehouseError {
  return new GatehouseError('ERR_INTROSPECTION_INVALID', undefined, {
    cause: cause ?? new Error(`the introspection answer ${reason}`),
  })
}

/**
 * Read a parsed answer.
 * @throws GatehouseError ERR_INTROSPECTION_INVALID with a CheckCause naming the member.
 */
export function readAnswer(value: unknown): IntrospectionAnswer {
  if (!isPlainObject(value)) throw invalidAnswer('is not a JSON object')
  if (nestsDeeper(value, MAX_JSON_DEPTH)) throw invalidAnswer(`nests deeper than ${MAX_JSON_DEPTH} levels`)
  const { active } = value
  if (typeof active !== 'boolean') throw wrongType('active', active, 'is not a boolean')
  if (!active) return INACTIVE
  for (const name of STRINGS) {
    const member = value[name]
    if (member !== undefined && typeof member !== 'string') throw wrongType(name, member, 'is not a string')
  }
  for (const name of NUMERIC_DATES) {
    const member = value[name]
    if (member !== undefined && (typeof member !== 'number' || !Number.isFinite(member)))
      throw wrongType(name, member, 'is not a number')
  }
  const { aud, cnf } = value
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((item) => typeof item === 'string'))
  )
    throw wrongType('aud', aud, 'is not a string or an array of strings')
  if (cnf !== undefined) {
    if (!isPlainObject(cnf)) throw wrongType('cnf', cnf, 'is not an object')
    if (cnf.jkt !== undefined && typeof cnf.jkt !== 'string')
      throw wrongType('cnf.jkt', cnf.jkt, 'is not a string')
  }
  return Object.freeze({ active: true, claims: deepFreeze(value as IntrospectionClaims) })
}

/**
 * The cause names the member and the kind of value it held, never the value: an endpoint that echoes
 * what it was sent could have put the token there.
 */
function wrongType(claim: string, received: unknown, reason: string): GatehouseError {
  return invalidAnswer(`"${claim}" ${reason}`, { claim, reason: `${reason} (${kindOf(received)})` })
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * Whether a parsed JSON value nests objects and arrays deeper than `max` (the top level counting as one).
 * Iterative, so that no nesting exhausts the stack; JSON values have no cycles.
 */
function nestsDeeper(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]]
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!
    if (typeof item !== 'object' || item === null) continue
    if (depth > max) return true
    for (const member of Object.values(item)) pending.push([member, depth + 1])
  }
  return false
}
