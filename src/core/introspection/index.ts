/**
 * Token introspection (RFC 7662, RFC 9701 signed answers, RFC 7523 client assertions): the framework-free
 * core. docs/introspection.md describes the options, the defaults and the cache rules.
 */
export type { CircuitState } from './circuit.js'
export { ASSERTION_LIFETIME } from './client-auth.js'
export {
  createIntrospector,
  type IntrospectionResult,
  type Introspector,
} from './introspector.js'
export {
  type CircuitBreakerOptions,
  type ClientAuthMethod,
  INTROSPECTOR_DEFAULTS,
  type IntrospectionCacheOptions,
  type IntrospectorOptions,
} from './options.js'
export type { IntrospectionClaims } from './response.js'
export { MAX_SIGNED_ANSWER_AGE, SIGNED_ANSWER_TYPE } from './signed-response.js'
