/**
 * gatehouse: verify OAuth 2.0 / OpenID Connect JWT access tokens and authorize requests by their claims.
 * Framework adapters live in the subpaths `gatehouse/express`, `/fastify`, `/hono`, `/nestjs`, `/node`, `/web`;
 * test helpers and the development issuer in `gatehouse/testing`.
 */

export type { ClaimPath } from './core/authz/claim-path.js'
export { readClaim } from './core/authz/claim-path.js'
export type { ClaimMapping, ClaimSets } from './core/authz/claims-reader.js'
export { createClaimsReader } from './core/authz/claims-reader.js'
export * from './core/authz/index.js'
export { idTokenGuard } from './core/authz/token-guard.js'
export type { EnvOptions } from './core/config/env.js'
export { hasEnvConfig, optionsFromEnv } from './core/config/env.js'
export type {
  DpopMode,
  IssuerMatcher,
  IssuerOptions,
  KeySetOptions,
  TokenSource,
  VerifierOptions,
} from './core/config/options.js'
export type {
  DpopChecker,
  DpopOptions,
  DpopRequest,
  DpopResult,
} from './core/dpop/checker.js'
export { createDpopChecker } from './core/dpop/checker.js'
export type { DpopNonceOptions } from './core/dpop/nonce.js'
export { boundThumbprint } from './core/dpop/proof.js'
export { jwkThumbprint } from './core/dpop/thumbprint.js'
export type {
  BearerErrorCode,
  DpopErrorCode,
  ErrorCode,
  GatehouseErrorOptions,
  RequirementSummary,
} from './core/errors.js'
export { describeCode, errorCodes, GatehouseError, isGatehouseError } from './core/errors.js'
export type { BearerRequest, HeaderSource, TokenLocation } from './core/http/bearer.js'
export { extractBearer, parseAuthorization, readAuthorization } from './core/http/bearer.js'
export type {
  ChallengeParams,
  ErrorBody,
  ErrorResponse,
  ErrorResponseOptions,
} from './core/http/challenge.js'
export { errorResponse, formatChallenge } from './core/http/challenge.js'
export type {
  DpopProofOptions,
  Gate,
  GateOptions,
  GateRequest,
  PrincipalResolver,
  RejectedRequest,
  RejectionEvent,
} from './core/http/gate.js'
export { createGate } from './core/http/gate.js'
export type { ResourceMetadata, ResourceMetadataOptions } from './core/http/resource-metadata.js'
export type { GateIntrospectionOptions } from './core/http/token-source.js'
export type {
  CircuitBreakerOptions,
  CircuitState,
  ClientAuthMethod,
  IntrospectionCacheOptions,
  IntrospectionClaims,
  IntrospectionResult,
  Introspector,
  IntrospectorOptions,
} from './core/introspection/index.js'
export { createIntrospector } from './core/introspection/index.js'
export type {
  AuthorizationServerMetadata,
  DiscoveredKeySetOptions,
  DiscoveryOptions,
} from './core/keys/discovery.js'
export { discover, discoverKeySet, discoveryUrls, NoMetadataError } from './core/keys/discovery.js'
export { createLocalKeySet } from './core/keys/local.js'
export type { RemoteKeySetOptions, RemoteKeyStore } from './core/keys/remote.js'
export { createRemoteKeySet } from './core/keys/remote.js'
export * as presets from './core/presets/index.js'
export type { MemoryStore, MemoryStoreOptions } from './core/store/memory.js'
export { createMemoryStore } from './core/store/memory.js'
export type { RedisClientLike, RedisStoreOptions } from './core/store/redis.js'
export { createRedisStore } from './core/store/redis.js'
export type { Store } from './core/store/store.js'
export type * from './core/types.js'
export { ALL_ALGORITHMS } from './core/types.js'
export type { Pending, Trust, Verifier } from './core/verify/verifier.js'
export { createVerifier, PENDING } from './core/verify/verifier.js'
