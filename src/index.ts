/**
 * gatehouse: verify OAuth 2.0 / OpenID Connect JWT access tokens and authorize requests by their claims.
 * Framework adapters live in the subpaths `gatehouse/express`, `/fastify`, `/hono`, `/nestjs`, `/node`;
 * test helpers and the development issuer in `gatehouse/testing`.
 */

export type { BearerRequest, HeaderSource, TokenLocation } from './core/bearer.js'
export { extractBearer, parseAuthorization, readAuthorization } from './core/bearer.js'
export type { ChallengeParams, ErrorBody, ErrorResponse, ErrorResponseOptions } from './core/challenge.js'
export { errorResponse, formatChallenge } from './core/challenge.js'
export type { ClaimPath } from './core/claim-path.js'
export { readClaim } from './core/claim-path.js'
export type { ClaimMapping, ClaimSets } from './core/claims-reader.js'
export { createClaimsReader } from './core/claims-reader.js'
export type { AuthorizationServerMetadata, DiscoveryOptions } from './core/discovery.js'
export { discover, discoveryUrls, NoMetadataError } from './core/discovery.js'
export { hasEnvConfig, optionsFromEnv } from './core/env.js'
export type { BearerErrorCode, ErrorCode, GatehouseErrorOptions, Requirement } from './core/errors.js'
export { describeCode, errorCodes, GatehouseError, isGatehouseError } from './core/errors.js'
export type {
  Gate,
  GateOptions,
  GateRequest,
  PrincipalResolver,
  RejectedRequest,
  RejectionEvent,
} from './core/gate.js'
export { createGate, toCompiledRule } from './core/gate.js'
export { createLocalKeySet } from './core/jwks/local.js'
export type { RemoteKeySetOptions, RemoteKeyStore } from './core/jwks/remote.js'
export { createRemoteKeySet } from './core/jwks/remote.js'
export type { IssuerMatcher, IssuerOptions, VerifierOptions } from './core/options.js'
export * from './core/policy/index.js'
export * as presets from './core/presets/index.js'
export { idTokenGuard } from './core/token-guard.js'
export type * from './core/types.js'
export { ALL_ALGORITHMS } from './core/types.js'
export type { Trust, Verifier } from './core/verify.js'
export { createVerifier } from './core/verify.js'
export type { WebHandler, WithAuthOptions } from './web/index.js'
export { errorToResponse, handleWebRequest, withAuth } from './web/index.js'
