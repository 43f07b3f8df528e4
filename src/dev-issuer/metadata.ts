/**
 * The authorization server metadata (RFC 8414 §2), served at both well-known paths. It says only what is
 * true of the dev issuer: client-credentials tokens from a token endpoint (DPoP-bound on request, RFC 9449
 * §5.1), clients authenticated by secret or by `private_key_jwt` (RFC 7523), introspection (RFC 7662,
 * signed responses of RFC 9701) and revocation (RFC 7009), and an authorization endpoint that supports no
 * response type.
 */
import { ASSERTION_ALGORITHMS } from './client-assertion.js'
import { CLIENT_AUTH_METHODS } from './client-auth.js'
import type { DevAlgorithm } from './options.js'

export const PATHS = {
  openidConfiguration: '/.well-known/openid-configuration',
  oauthMetadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
  authorize: '/oauth2/authorize',
  token: '/oauth2/token',
  m2mToken: '/oauth2/m2m/token',
  introspect: '/oauth2/introspect',
  revoke: '/oauth2/revoke',
  rotate: '/admin/rotate',
} as const

export interface MetadataInput {
  issuer: string
  /** Where the server listens, e.g. `http://127.0.0.1:9000` (may differ from `issuer` when it is overridden). */
  baseUrl: string
  scopes: readonly string[]
  algorithms: readonly DevAlgorithm[]
  /** The `alg` values the token endpoint accepts in DPoP proofs (the checker's `algorithms`). */
  dpopAlgorithms: readonly string[]
  /** The algorithm signed introspection responses use: the issuer's signing algorithm. */
  introspectionAlgorithm: DevAlgorithm
}

/**
 * The algorithms to advertise for DPoP proofs and client assertions: elliptic curves first (small, fast
 * signatures), then RSA. RFC 9864's `Ed25519`, which the DPoP checker accepts beside `EdDSA`, is left out:
 * it names the same signatures, and a client reading both may not know which to pick.
 */
export function advertisedAlgorithms(accepted: readonly string[]): string[] {
  const family = (alg: string) => ['ES', 'Ed', 'RS', 'PS'].indexOf(alg.slice(0, 2))
  return accepted.filter((alg) => alg !== 'Ed25519').sort((a, b) => family(a) - family(b))
}

/**
 * RFC 8414 §2 metadata.
 *
 * `authorization_endpoint` names an endpoint that refuses every request, and `response_types_supported` is
 * empty: RFC 8414 lets a server without interactive grants omit the endpoint, but OpenID Connect Discovery
 * requires it, and so does the MCP SDK's client (it rejects a document without it before reading
 * anything else). `code_challenge_methods_supported` is absent: there is no code flow, hence no PKCE.
 */
export function authorizationServerMetadata(input: MetadataInput): Record<string, unknown> {
  // RFC 8414 §2: the same client authentication at every endpoint, assertions signed with these.
  const assertionAlgorithms = advertisedAlgorithms(ASSERTION_ALGORITHMS)
  return {
    issuer: input.issuer,
    authorization_endpoint: `${input.baseUrl}${PATHS.authorize}`,
    token_endpoint: `${input.baseUrl}${PATHS.token}`,
    jwks_uri: `${input.baseUrl}${PATHS.jwks}`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    scopes_supported: [...input.scopes],
    dpop_signing_alg_values_supported: advertisedAlgorithms(input.dpopAlgorithms),
    // RFC 8414 §2 and RFC 9701 §6: where and how resource servers introspect, and clients revoke.
    introspection_endpoint: `${input.baseUrl}${PATHS.introspect}`,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    introspection_signing_alg_values_supported: [input.introspectionAlgorithm],
    revocation_endpoint: `${input.baseUrl}${PATHS.revoke}`,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
  }
}

/**
 * The same document at the OpenID Connect discovery path, which most libraries read first. The dev issuer
 * issues no ID tokens; `id_token_signing_alg_values_supported` is still listed because resource-server
 * libraries read it as "the algorithms this issuer signs JWTs with" (express-oauth2-jwt-bearer does), and
 * the algorithms listed are exactly the ones the published keys sign with.
 */
export function openidConfiguration(input: MetadataInput): Record<string, unknown> {
  return {
    ...authorizationServerMetadata(input),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...input.algorithms],
  }
}
