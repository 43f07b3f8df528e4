/**
 * Auth0. Issuer `https://{domain}/` WITH the trailing slash (Auth0 issues it so; `https://{domain}`
 * never matches), keys at `https://{domain}/.well-known/jwks.json`, RS256 by default (PS256 on request).
 *
 * Claims: `scope` (space-delimited), `permissions` (an array, when RBAC "Add Permissions in the Access
 * Token" is on). Roles are not in access tokens by default: an Action adds them under a namespaced
 * name, e.g. `https://example.com/roles`; pass `claims: { roles: ['https://example.com/roles'] }` (a
 * claim name with dots and slashes is one name, see claim-path.ts).
 *
 * `aud` quirk: when the client asked for `openid`, `aud` is an array with the API identifier AND
 * `https://{domain}/userinfo`; the verifier accepts it because one member is ours. Never configure the
 * userinfo URL as your audience.
 *
 * With a custom domain, tokens carry the custom domain in `iss`: pass that as `domain`.
 *
 * ID-token signals: `nonce`, `at_hash`/`c_hash`, `aud` = one of `clientIds`. Auth0's RFC 9068 profile
 * sets `typ: at+jwt`; then pass `typ: 'at+jwt'` to the verifier for the strictest check.
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import {
  algorithms,
  allOf,
  audience,
  audienceList,
  type ClientIdsOption,
  type CommonPresetOptions,
  claimMapping,
  defined,
  guard,
  hostName,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface Auth0Options extends CommonPresetOptions, ClientIdsOption {
  /** Tenant or custom domain, e.g. `tenant.us.auth0.com`. */
  domain: string
  /** The API identifier configured in Auth0 (its `aud`), e.g. `https://api.example.com`. */
  audience: string | readonly string[]
}

const CLAIMS: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, scopes: ['scope'], permissions: ['permissions'] }

/**
 * @example createVerifier(presets.auth0({ domain: 'tenant.us.auth0.com', audience: 'https://api.example.com' }))
 * @throws TypeError naming the option.
 */
export function auth0(input: Auth0Options): PresetResult {
  const given = presetOptions('auth0', input, ['domain', 'audience', 'clientIds'])
  const domain = hostName('auth0.domain', given.domain)
  const aud = audience('auth0.audience', given.audience, false)
  for (const value of typeof aud === 'string' ? [aud] : (aud ?? [])) {
    if (value === `https://${domain}/userinfo`) {
      throw new TypeError(
        'auth0.audience: the userinfo URL is in every openid token; use your API identifier',
      )
    }
  }
  return defined({
    issuer: `https://${domain}/`,
    audience: aud,
    jwksUri: `https://${domain}/.well-known/jwks.json`,
    algorithms: algorithms('auth0', given.algorithms, ['RS256', 'PS256']),
    validate: allOf(
      guard('auth0', given.clientIds, { exclude: audienceList(aud) }),
      userValidate('auth0', given.validate),
    ),
    claims: claimMapping('auth0', CLAIMS, given.claims),
  })
}
