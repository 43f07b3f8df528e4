/**
 * Client authentication of the introspection request (RFC 7662 §2.1: the endpoint requires some
 * authorization). Three methods, named as in RFC 7591 §2:
 *
 * - `client_secret_basic` (RFC 6749 §2.3.1): `Authorization: Basic base64(id:secret)`, where id and secret
 *   are first form-encoded (application/x-www-form-urlencoded), so that a `:` or a non-ASCII character
 *   in either survives the trip;
 * - `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form;
 * - `private_key_jwt` (RFC 7523 §2.2, §3): a client assertion signed with the client's private key, new for
 *   every call: `iss` = `sub` = the client id, `aud` the endpoint (or the configured audience), a random
 *   `jti`, and a lifetime of {@link ASSERTION_LIFETIME} seconds.
 *
 * Nothing here ever reaches a log: the header and the form are built for the request only.
 */
import { createJwsSigner, randomId } from '../crypto/sign.js'
import type { ClientAuth } from './options.js'

/** What a call adds to its request. */
export interface ClientCredentials {
  headers: Record<string, string>
  params: Record<string, string>
}

/** Seconds a client assertion is valid: enough for the call's own timeout and some clock skew. */
export const ASSERTION_LIFETIME = 60

/** RFC 7523 §2.2. */
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The credentials of one call, at `nowMs` (milliseconds since the epoch). */
export type ClientAuthenticator = (nowMs: number) => Promise<ClientCredentials>

export function createClientAuthenticator(clientId: string, auth: ClientAuth): ClientAuthenticator {
  switch (auth.method) {
    case 'client_secret_basic': {
      const credentials = { headers: { authorization: basic(clientId, auth.secret) }, params: {} }
      return () => Promise.resolve(credentials)
    }
    case 'client_secret_post': {
      const credentials = { headers: {}, params: { client_id: clientId, client_secret: auth.secret } }
      return () => Promise.resolve(credentials)
    }
    case 'private_key_jwt': {
      const sign = createJwsSigner(auth.key)
      return async (nowMs) => {
        const iat = Math.floor(nowMs / 1000)
        const assertion = await sign({
          iss: clientId,
          sub: clientId,
          aud: auth.audience,
          jti: randomId(),
          iat,
          exp: iat + ASSERTION_LIFETIME,
        })
        return {
          headers: {},
          params: { client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: assertion },
        }
      }
    }
  }
}

/** RFC 6749 §2.3.1 (and RFC 7617 §2): each part form-encoded, then joined by `:`, then base64. */
export function basic(clientId: string, secret: string): string {
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}`
}

/** application/x-www-form-urlencoded (WHATWG URL §5.2): ASCII only, so `btoa` takes it. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1)
}
