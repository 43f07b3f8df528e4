/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, §3; RFC 7521 §4.2): the client proves who it is
 * with a short-lived JWT signed by a key whose public half it registered in `clients.json` (`jwks`).
 *
 * The assertion is accepted when, in this order: it is a compact JWS with an asymmetric `alg`; its `iss`
 * names a client with registered keys (and equals `client_id` when that is sent too); the signature
 * verifies with one of those keys; `sub` equals `iss`; `aud` names this server (the issuer identifier, or
 * the URL of the endpoint the request went to, or the token endpoint); `exp` is present and not past;
 * `nbf`, when present, is past; the assertion lives at most {@link MAX_ASSERTION_LIFETIME} seconds (from
 * `iat`, and from now); and its `jti` was not used by that client before.
 *
 * Does NOT implement: `client_secret_jwt` (an HMAC assertion: a shared secret in disguise), a `jwks_uri`
 * for the client's keys, encrypted assertions, the JWT bearer grant (RFC 7523 §2.1).
 */
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose'
import type { MemoryStore } from '../core/store/memory.js'
import { ALL_ALGORITHMS } from '../core/types.js'
import type { DevClient } from './clients.js'

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT assertion. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The `alg` values accepted in an assertion: asymmetric only, as everywhere in Gatehouse. */
export const ASSERTION_ALGORITHMS = ALL_ALGORITHMS

/**
 * Longest lifetime of an assertion, in seconds. Five minutes covers clients that sign one per request
 * (oauth4webapi: one minute, the MCP SDK: five) and bounds how long a `jti` must be remembered.
 */
export const MAX_ASSERTION_LIFETIME = 300

/** Seconds of clock difference forgiven on `exp`, `nbf` and `iat`. */
export const ASSERTION_CLOCK_TOLERANCE = 30

/** Assertion `jti`s remembered at most; beyond, the oldest is forgotten first. */
export const MAX_REMEMBERED_ASSERTIONS = 10_000

export interface AssertionCheck {
  clients: readonly DevClient[]
  /** The `client_id` parameter, when the client sent one (optional with an assertion, RFC 7521 §4.2). */
  clientId: string | undefined
  /** The `aud` values that name this server at the endpoint the request went to. */
  audiences: readonly string[]
  /** Where used `jti`s are recorded until their assertion expires. */
  seen: Pick<MemoryStore, 'setIfAbsentSync'>
  /** Milliseconds since the epoch. */
  now: number
}

/** The authenticated client, or why the assertion is refused: `invalid_request` (400) or `invalid_client` (401). */
export type AssertionResult =
  | { client: DevClient }
  | { error: 'invalid_request' | 'invalid_client'; description: string }

const keySets = new WeakMap<DevClient, ReturnType<typeof createLocalJWKSet>>()

export async function verifyClientAssertion(
  assertion: string,
  check: AssertionCheck,
): Promise<AssertionResult> {
  const refuse = (description: string): AssertionResult => ({ error: 'invalid_client', description })
  let alg: unknown
  let iss: unknown
  try {
    alg = decodeProtectedHeader(assertion).alg
    iss = decodeJwt(assertion).iss
  } catch {
    return refuse('The client assertion is not a signed JWT')
  }
  // Before any key is looked up: HS256 with a public key as its secret, or `none`, never gets that far.
  if (typeof alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
    return refuse(`The client assertion must be signed with one of ${ASSERTION_ALGORITHMS.join(', ')}`)
  }
  if (typeof iss !== 'string' || iss === '') return refuse('The client assertion has no "iss" claim')
  if (check.clientId !== undefined && check.clientId !== iss) {
    return { error: 'invalid_request', description: 'client_id does not match the client assertion’s "iss"' }
  }
  const client = check.clients.find((c) => c.clientId === iss)
  if (client === undefined) return refuse('Client authentication failed')
  if (client.jwks === undefined) return refuse('The client has no registered keys (jwks) for private_key_jwt')

  const nowSeconds = Math.floor(check.now / 1000)
  const options: JWTVerifyOptions = {
    algorithms: [...ASSERTION_ALGORITHMS],
    issuer: iss,
    subject: iss, // RFC 7523 §3 item 2: the client is both
    audience: [...check.audiences],
    requiredClaims: ['exp', 'jti'],
    clockTolerance: ASSERTION_CLOCK_TOLERANCE,
    currentDate: new Date(check.now),
  }
  let claims: Record<string, unknown>
  try {
    claims = await verifyWithKeys(assertion, client, options)
  } catch (error) {
    if (error instanceof errors.JWTExpired) return refuse('The client assertion has expired')
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'aud') {
        return refuse('The client assertion’s "aud" must be the issuer identifier or this endpoint’s URL')
      }
      // jose's messages name the claim and never quote the assertion.
      return refuse(`The client assertion is refused: ${error.message}`)
    }
    if (error instanceof errors.JOSEError) {
      return refuse('The client assertion’s signature does not verify with the client’s registered keys')
    }
    throw error
  }

  const exp = claims.exp as number
  const iat = claims.iat
  if (typeof iat === 'number' && iat > nowSeconds + ASSERTION_CLOCK_TOLERANCE) {
    return refuse('The client assertion’s "iat" is in the future')
  }
  // RFC 7523 §3 item 4 lets the server bound the lifetime; a bound also bounds the replay memory below.
  const tooLong = `The client assertion must expire within ${MAX_ASSERTION_LIFETIME} seconds`
  if (exp > nowSeconds + MAX_ASSERTION_LIFETIME + ASSERTION_CLOCK_TOLERANCE) return refuse(tooLong)
  if (typeof iat === 'number' && exp - iat > MAX_ASSERTION_LIFETIME) return refuse(tooLong)
  const jti = claims.jti
  if (typeof jti !== 'string' || jti === '')
    return refuse('The client assertion’s "jti" must be a non-empty string')

  // RFC 7523 §3 item 7: one use per `jti` and client, remembered until the assertion could no longer pass.
  const ttl = Math.max(1, exp - nowSeconds + ASSERTION_CLOCK_TOLERANCE)
  if (!check.seen.setIfAbsentSync(`${client.clientId.length}:${client.clientId}:${jti}`, ttl)) {
    return refuse('The client assertion was used before (its "jti" is spent)')
  }
  return { client }
}

/**
 * The claims once the signature verifies with one of the client's keys. Clients often send no `kid` (the
 * MCP SDK's do not), so when several registered keys fit the `alg`, each is tried.
 */
async function verifyWithKeys(
  assertion: string,
  client: DevClient,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  let keys = keySets.get(client)
  if (keys === undefined) {
    keys = createLocalJWKSet(client.jwks!)
    keySets.set(client, keys)
  }
  try {
    return (await jwtVerify(assertion, keys, options)).payload
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error
    let last: unknown = error
    for await (const key of error) {
      try {
        return (await jwtVerify(assertion, key, options)).payload
      } catch (failure) {
        if (!(failure instanceof errors.JWSSignatureVerificationFailed)) throw failure
        last = failure
      }
    }
    throw last
  }
}
