/**
 * Identity-provider presets: one call that returns verifier options (issuer, keys, algorithms, checks)
 * and the provider's claim mapping. The full list, with each provider's quirks and ID-token signals, is
 * in docs/presets.md.
 *
 * @example
 * ```ts
 * import { createVerifier, presets } from 'gatehouse'
 * const verifier = createVerifier(presets.auth0({ domain: 'tenant.us.auth0.com', audience: 'https://api.example.com' }))
 * // several providers: the token's `iss` picks one
 * createVerifier({ issuers: [presets.auth0({ ... }), presets.entra({ ... })] })
 * ```
 */
export { type Auth0Options, auth0 } from './auth0.js'
export { type AuthActionOptions, authaction } from './authaction.js'
export { type CognitoOptions, cognito } from './cognito.js'
export { type EntraOptions, entra } from './entra.js'
export { type GenericOptions, generic } from './generic.js'
export { type GoogleOptions, google } from './google.js'
export { type KeycloakOptions, keycloak } from './keycloak.js'
export { type OktaOptions, okta } from './okta.js'
export type { ClientIdsOption, CommonPresetOptions, InsecureRequestsOption, PresetResult } from './shared.js'
export { type ZitadelOptions, zitadel } from './zitadel.js'
