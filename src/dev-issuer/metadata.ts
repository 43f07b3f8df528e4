/**
 * The authorization server metadata (RFC 8414 §2), served at both well-known paths. It says only what is
 * true of the dev issuer: client-credentials tokens from a token endpoint (DPoP-bound on request, RFC 9449
 * §5.1), introspection (RFC 7662, signed responses of RFC 9701) and revocation (RFC 7009), no
 * authorization endpoint.
 */
import { CLIENT_AUTH_METHODS } from './client-auth.js'
import type { DevAlgorithm } from './options.js'

export const PATHS = {
  openidConfiguration: '/.well-known/openid-configuration',
  oauthMetadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
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
 * The DPoP proof algorithms to advertise: elliptic curves first (small, fast proofs), then RSA. RFC
 * 9864's `Ed25519`, which the checker accepts beside `EdDSA`, is left out: it names the same proofs, and
 * a client reading both may not know which to pick.
 */
export function dpopSigningAlgorithms(accepted: readonly string[]): string[] {
  const family = (alg: string) => ['ES', 'Ed', 'RS', 'PS'].indexOf(alg.slice(0, 2))
  return accepted.filter((alg) => alg !== 'Ed25519').sort((a, b) => family(a) - family(b))
}

/** RFC 8414 §2 metadata. */
export function authorizationServerMetadata(input: MetadataInput): Record<string, unknown> {
  return {
    issuer: input.issuer,
    token_endpoint: `${input.baseUrl}${PATHS.token}`,
    jwks_uri: `${input.baseUrl}${PATHS.jwks}`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    scopes_supported: [...input.scopes],
    dpop_signing_alg_values_supported: dpopSigningAlgorithms(input.dpopAlgorithms),
    // RFC 8414 §2 and RFC 9701 §6: where and how resource servers introspect, and clients revoke.
    introspection_endpoint: `${input.baseUrl}${PATHS.introspect}`,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_signing_alg_values_supported: [input.introspectionAlgorithm],
    revocation_endpoint: `${input.baseUrl}${PATHS.revoke}`,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    // No authorization endpoint, hence no response type (RFC 8414 §2 allows an empty list to be true).
    response_types_supported: [],
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
