/**
 * AuthAction (authaction.com). Tenants live at `{tenant}.{region}.authaction.com`; tokens are RS256,
 * keys at `https://{domain}/.well-known/jwks.json`; scopes in the space-delimited `scope` claim.
 *
 * Issuer quirk: AuthAction's own material disagrees on the trailing slash. Its Express, NestJS and MCP
 * examples verify `iss` = `https://{domain}/`; its Go and PHP SDKs and the Django/Flask guides verify `https://{domain}`. Only one can be what a tenant issues, and a wrong guess rejects
 * every token, so the preset accepts exactly these two strings. That widens nothing an attacker can
 * use: both name the same host, whose keys are the only ones trusted.
 *
 * ID-token signals: `nonce`, `at_hash`, `aud` = one of `clientIds` (AuthAction ID tokens are audienced
 * to the application's client id, access tokens to the API's identifier).
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

export interface AuthActionOptions extends CommonPresetOptions, ClientIdsOption {
  /** Tenant host, e.g. `acme.eu.authaction.com`. */
  domain: string
  /** The API identifier (`aud`) configured in AuthAction. */
  audience: string | readonly string[]
}

const CLAIMS: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, scopes: ['scope'] }

/**
 * @example createVerifier(presets.authaction({ domain: 'acme.eu.authaction.com', audience: 'https://api.example.com' }))
 * @throws TypeError naming the option.
 */
export function authaction(input: AuthActionOptions): PresetResult {
  const given = presetOptions('authaction', input, ['domain', 'audience', 'clientIds'])
  const domain = hostName('authaction.domain', given.domain)
  const aud = audience('authaction.audience', given.audience, false)
  return defined({
    issuer: [`https://${domain}/`, `https://${domain}`],
    audience: aud,
    jwksUri: `https://${domain}/.well-known/jwks.json`,
    algorithms: algorithms('authaction', given.algorithms, ['RS256']),
    validate: allOf(
      guard('authaction', given.clientIds, { exclude: audienceList(aud) }),
      userValidate('authaction', given.validate),
    ),
    claims: claimMapping('authaction', CLAIMS, given.claims),
  })
}
