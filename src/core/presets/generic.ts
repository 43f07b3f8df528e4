/**
 * Any OAuth 2.0 / OpenID Connect provider: the issuer, the audience, and where the keys are. Without
 * `jwksUri` or `discovery`, discovery is `'auto'`: the issuer's metadata (OpenID Connect Discovery, then
 * RFC 8414) when it publishes some, else `{issuer}/.well-known/jwks.json`.
 *
 * Claims: the defaults (`scope`/`scp`, `roles`, `permissions`, `groups`) unless `claims` says otherwise.
 * ID-token signals: `nonce`, `at_hash`/`c_hash`/`s_hash`, a `typ` header other than JWT/at+jwt (or `typ`
 * if given), Cognito's `token_use`, Keycloak's `typ` claim, and `aud` = one of `clientIds`.
 */
import { DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { idTokenGuard } from '../authz/token-guard.js'
import type { IssuerMatcher } from '../config/options.js'
import { isPlainObject } from '../lib/values.js'
import {
  algorithms,
  allOf,
  audience,
  audienceList,
  type ClientIdsOption,
  type CommonPresetOptions,
  claimMapping,
  defined,
  distinctStrings,
  type InsecureRequestsOption,
  insecureKeySet,
  insecureRequests,
  optionalStringList,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface GenericOptions extends CommonPresetOptions, ClientIdsOption, InsecureRequestsOption {
  /**
   * Exact issuer(s), or a matcher for issuers that cannot be listed. Keys are fetched from an issuer
   * without `jwksUri`: then http off loopback needs `allowInsecureRequests`.
   */
  issuer: string | readonly string[] | IssuerMatcher
  /** Accepted audience(s); `null` switches the check off (then check something else in `validate`). */
  audience: string | readonly string[] | null
  /** JWKS URL: https, or http on a loopback host; elsewhere http needs `allowInsecureRequests`. */
  jwksUri?: string
  /** Read `jwks_uri` from the issuer's metadata. Default `'auto'` when `jwksUri` is not given. */
  discovery?: boolean | 'auto'
  /** Accepted `typ` header values; these are also what the ID-token guard lets through. */
  typ?: string | readonly string[]
}

/**
 * @example createVerifier(presets.generic({ issuer: 'https://id.example.com', audience: 'https://api.example.com' }))
 * @throws TypeError naming the option (URLs are checked by the verifier).
 */
export function generic(input: GenericOptions): PresetResult {
  const given = presetOptions('generic', input, [
    'issuer',
    'audience',
    'jwksUri',
    'discovery',
    'allowInsecureRequests',
    'typ',
    'clientIds',
  ])
  const matcher = isPlainObject(given.issuer)
  const issuer = matcher ? (given.issuer as IssuerMatcher) : distinctStrings('generic.issuer', given.issuer)
  const aud = audience('generic.audience', given.audience, true)
  if (matcher && given.jwksUri === undefined) {
    throw new TypeError(
      'generic.jwksUri: required with an issuer matcher (there is no single issuer to discover)',
    )
  }
  const typ = given.typ === undefined ? undefined : distinctStrings('generic.typ', given.typ)
  const clientIds = optionalStringList('generic.clientIds', given.clientIds).filter(
    (id) => !audienceList(aud).includes(id),
  )
  const discovery =
    given.jwksUri === undefined && given.discovery === undefined
      ? 'auto'
      : (given.discovery as boolean | 'auto' | undefined)
  return defined({
    issuer: Array.isArray(issuer) && issuer.length === 1 ? issuer[0]! : issuer,
    audience: aud,
    jwksUri: given.jwksUri as string | undefined,
    discovery,
    keySet: insecureKeySet(insecureRequests('generic', given.allowInsecureRequests)),
    typ,
    algorithms: algorithms('generic', given.algorithms, undefined),
    validate: allOf(idTokenGuard({ clientIds, typ }), userValidate('generic', given.validate)),
    claims: claimMapping('generic', DEFAULT_CLAIM_MAPPING, given.claims),
  })
}
