/**
 * Okta, custom authorization servers. Issuer `https://{domain}/oauth2/{authorizationServerId}` (`default`
 * unless told), keys at `{issuer}/v1/keys` (or read from the metadata with `discovery: true`), RS256.
 *
 * Quirks:
 * - Scopes are in `scp`, a JSON ARRAY (not the `scope` string); the preset reads `scp` only.
 * - `groups` exists only when an admin adds a groups claim to the authorization server; it is read from
 *   `groups`, pass `claims: { groups: [...] }` if it was named otherwise.
 * - The org authorization server (issuer `https://{domain}`, no `/oauth2/…`) issues access tokens for
 *   Okta's own APIs, which Okta says not to validate yourself: the preset refuses that issuer.
 * - `aud` is the authorization server's audience, `api://default` for the default server.
 *
 * ID-token signals: `nonce`, `at_hash`, `aud` = one of `clientIds` (Okta ID tokens are audienced to the
 * client id, access tokens carry it in `cid`).
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { booleanOption } from '../lib/values.js'
import {
  algorithms,
  allOf,
  audience,
  audienceList,
  baseUrl,
  type ClientIdsOption,
  type CommonPresetOptions,
  claimMapping,
  defined,
  guard,
  hostName,
  httpsOnly,
  type InsecureRequestsOption,
  insecureKeySet,
  insecureRequests,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface OktaOptions extends CommonPresetOptions, ClientIdsOption, InsecureRequestsOption {
  /** Okta org host, e.g. `dev-123456.okta.com`. Give this or `issuer`. */
  domain?: string
  /** With `domain`: the custom authorization server's id. Default `'default'`. */
  authorizationServerId?: string
  /**
   * The full issuer, e.g. `https://login.example.com/oauth2/aus1a2b3c4d5e6f7g8h9`, for custom domains.
   * https, or http on a loopback host; elsewhere http needs `allowInsecureRequests`.
   */
  issuer?: string
  /** The authorization server's audience, e.g. `api://default`. */
  audience: string | readonly string[]
  /** Read `jwks_uri` from the issuer's metadata instead of using `{issuer}/v1/keys`. Default false. */
  discovery?: boolean
}

const SERVER_ID = /^[A-Za-z0-9]+$/
const CLAIMS: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, scopes: ['scp'], groups: ['groups'] }

/**
 * @example createVerifier(presets.okta({ domain: 'dev-123456.okta.com', audience: 'api://default' }))
 * @throws TypeError naming the option.
 */
export function okta(input: OktaOptions): PresetResult {
  const given = presetOptions('okta', input, [
    'domain',
    'authorizationServerId',
    'issuer',
    'audience',
    'discovery',
    'allowInsecureRequests',
    'clientIds',
  ])
  const insecure = insecureRequests('okta', given.allowInsecureRequests)
  let issuer: string
  if (given.issuer !== undefined) {
    if (given.domain !== undefined || given.authorizationServerId !== undefined) {
      throw new TypeError('okta.issuer: give either issuer, or domain (and authorizationServerId), not both')
    }
    issuer = baseUrl('okta.issuer', given.issuer, insecure)
    if (!/\/oauth2\/[A-Za-z0-9]+$/.test(new URL(issuer).pathname)) {
      throw new TypeError(
        'okta.issuer: expected a custom authorization server issuer ending in /oauth2/{id}; the org authorization server issues tokens for Okta APIs only',
      )
    }
  } else {
    if (insecure === true && given.domain !== undefined) throw httpsOnly('okta')
    const domain = hostName('okta.domain', given.domain)
    const server = given.authorizationServerId ?? 'default'
    if (typeof server !== 'string' || !SERVER_ID.test(server)) {
      throw new TypeError(
        `okta.authorizationServerId: expected an id such as "default" or "aus1a2b3c4d5e6f7g8h9", got ${JSON.stringify(server)}`,
      )
    }
    issuer = `https://${domain}/oauth2/${server}`
  }
  const discovery = booleanOption('okta.discovery', given.discovery)
  const aud = audience('okta.audience', given.audience, false)
  return defined({
    issuer,
    audience: aud,
    jwksUri: discovery ? undefined : `${issuer}/v1/keys`,
    discovery: discovery ? true : undefined,
    keySet: insecureKeySet(insecure),
    algorithms: algorithms('okta', given.algorithms, ['RS256']),
    validate: allOf(
      guard('okta', given.clientIds, { exclude: audienceList(aud) }),
      userValidate('okta', given.validate),
    ),
    claims: claimMapping('okta', CLAIMS, given.claims),
  })
}
