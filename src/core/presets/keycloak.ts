/**
 * Keycloak. Issuer `{url}/realms/{realm}` (no trailing slash; Keycloak before 17 served under `/auth`:
 * then pass `url: 'https://kc.example.com/auth'`), keys at `{issuer}/protocol/openid-connect/certs` (or
 * from the metadata with `discovery: true`). The realm's signing algorithm is configurable (RS256 by
 * default, ES*, PS*, EdDSA), so every asymmetric algorithm is accepted and each key's own `alg` decides.
 *
 * Quirks:
 * - `aud` is often missing or just `account`: without an Audience mapper Keycloak does not name your
 *   API. Without `audience`, the preset switches the audience check off and requires `azp` (the client
 *   that requested the token) to equal `clientId` instead. With `audience`, `aud` is checked and `azp` is not.
 * - Realm roles are in `realm_access.roles`; client roles in `resource_access.{clientId}.roles`. The
 *   preset reads realm roles as `roles` and the client's roles as `permissions`: two sources are never
 *   merged (a realm `admin` and a client `admin` are different grants). Override with `claims`.
 * - `scope` is the usual space-delimited string; `groups` appears with a Group Membership mapper.
 *
 * ID-token signals: the `typ` claim, which Keycloak sets on every token it issues (`Bearer` for access
 * tokens, `ID`, `Refresh`, `Logout` for others): anything but `Bearer` is rejected; `at_hash`, `c_hash`;
 * `aud` = `clientId` (Keycloak never puts the requesting client in an access token's `aud`, but an ID
 * token's `aud` is exactly that client). `nonce` is NOT a signal here: Keycloak before 25 copied it into
 * access tokens (keycloak/keycloak#26893).
 *
 * A development container at `http://keycloak:8080` needs `allowInsecureRequests: true`: plain http is
 * otherwise accepted on loopback hosts only.
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { GatehouseError } from '../errors.js'
import { booleanOption } from '../lib/values.js'
import type { JWTClaims } from '../types.js'
import {
  algorithms,
  allOf,
  audience,
  audienceList,
  baseUrl,
  type ClientIdsOption,
  type CommonPresetOptions,
  claimInvalid,
  claimMapping,
  claimMissing,
  defined,
  guard,
  type InsecureRequestsOption,
  insecureKeySet,
  insecureRequests,
  nonEmptyString,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface KeycloakOptions extends CommonPresetOptions, ClientIdsOption, InsecureRequestsOption {
  /**
   * Keycloak's base URL, e.g. `https://kc.example.com` (append `/auth` for Keycloak < 17). https, or http
   * on a loopback host; elsewhere http needs `allowInsecureRequests`. Alias: `baseUrl`.
   */
  url?: string
  /** Alias of `url`. */
  baseUrl?: string
  /** Realm name. */
  realm: string
  /** The client whose tokens are accepted (`azp`) when `audience` is left out, and whose client roles are read. */
  clientId: string
  /** Accepted `aud` values (needs an Audience mapper in Keycloak). Default: none, `azp` is checked instead. */
  audience?: string | readonly string[]
  /** Read `jwks_uri` from the realm's metadata. Default false (the certs URL above). */
  discovery?: boolean
}

/**
 * @example createVerifier(presets.keycloak({ url: 'https://kc.example.com', realm: 'shop', clientId: 'shop-api' }))
 * @throws TypeError naming the option.
 */
export function keycloak(input: KeycloakOptions): PresetResult {
  const given = presetOptions('keycloak', input, [
    'url',
    'baseUrl',
    'realm',
    'clientId',
    'audience',
    'discovery',
    'allowInsecureRequests',
    'clientIds',
  ])
  if (given.url !== undefined && given.baseUrl !== undefined)
    throw new TypeError('keycloak.baseUrl: give url or baseUrl, not both')
  const option = given.url !== undefined ? 'keycloak.url' : 'keycloak.baseUrl'
  const insecure = insecureRequests('keycloak', given.allowInsecureRequests)
  const url = baseUrl(option, given.url ?? given.baseUrl, insecure)
  const realm = nonEmptyString('keycloak.realm', given.realm)
  if (realm.includes('/'))
    throw new TypeError(`keycloak.realm: expected a realm name, not a path, got ${JSON.stringify(realm)}`)
  const clientId = nonEmptyString('keycloak.clientId', given.clientId)
  const aud = given.audience === undefined ? null : audience('keycloak.audience', given.audience, false)
  const discovery = booleanOption('keycloak.discovery', given.discovery)

  const keycloakChecks = (claims: JWTClaims) => {
    if (claims.typ !== undefined && claims.typ !== 'Bearer') {
      throw new GatehouseError('ERR_JWT_NOT_ACCESS_TOKEN', 'Token is not an access token ("typ" claim)')
    }
    if (aud === null) {
      if (claims.azp === undefined) throw claimMissing('azp')
      if (claims.azp !== clientId) throw claimInvalid('azp', 'is not the configured client')
    }
  }

  const issuer = `${url}/realms/${encodeURIComponent(realm)}`
  const claims: ClaimMapping = {
    ...DEFAULT_CLAIM_MAPPING,
    scopes: ['scope'],
    roles: [['realm_access', 'roles']],
    permissions: [['resource_access', clientId, 'roles']],
    groups: ['groups'],
  }
  return defined({
    issuer,
    audience: aud,
    jwksUri: discovery ? undefined : `${issuer}/protocol/openid-connect/certs`,
    discovery: discovery ? true : undefined,
    keySet: insecureKeySet(insecure),
    algorithms: algorithms('keycloak', given.algorithms, undefined),
    validate: allOf(
      keycloakChecks,
      guard('keycloak', given.clientIds, { allowNonce: true, add: [clientId], exclude: audienceList(aud) }),
      userValidate('keycloak', given.validate),
    ),
    claims: claimMapping('keycloak', claims, given.claims),
  })
}
