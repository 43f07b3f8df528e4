/**
 * Microsoft Entra ID (Azure AD), work and school accounts. RS256; keys published WITHOUT `alg`
 * (the key set matches them by `kty`); `typ: JWT`.
 *
 * Issuers, by token version (the API's app manifest `accessTokenAcceptedVersion` decides, not the
 * client: `null`/1 gives v1 tokens, 2 gives v2):
 * - v2: `https://login.microsoftonline.com/{tenantId}/v2.0`; `aud` is the API's client id (a GUID);
 * - v1: `https://sts.windows.net/{tenantId}/` (trailing slash); `aud` may be the App ID URI (`api://…`).
 * `version` defaults to 2; `'both'` accepts either (list both audiences then).
 *
 * Multi-tenant: Entra's common metadata names the issuer `https://login.microsoftonline.com/{tenantid}/v2.0`,
 * a template, not an issuer. Validating against the template accepts ANY Entra tenant in the world, so
 * the preset expands it against an allow-list (`tenants`) into exact strings. Only `allowAnyTenant: true`
 * matches every tenant, and then the tenant in `iss` must equal the `tid` claim (checked for every mode).
 *
 * Keys: `https://login.microsoftonline.com/{tenantId}/discovery/v2.0/keys` for one tenant, the `common`
 * key set otherwise (v1 and v2 tokens are signed with the same keys). Apps with custom signing keys
 * (claims-mapping policies) need `?appid={clientId}` on that URL: use `generic` with that `jwksUri`.
 *
 * Claims: `scp` is a space-delimited STRING (delegated tokens); `roles` holds app roles of users AND the
 * application permissions of app-only (client credentials) tokens; `groups` holds group object ids
 * (absent past 200 groups: the overage claim points to Graph instead).
 *
 * ID-token signals: no `azp` (v2) / `appid` (v1), which every access token carries; `nonce`; `at_hash`,
 * `c_hash`; `aud` = one of `clientIds`. Not supported: national clouds, Entra External ID / B2C
 * (other issuer hosts): use `generic`.
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import type { IssuerMatcher } from '../config/options.js'
import { GatehouseError } from '../errors.js'
import { booleanOption } from '../lib/values.js'
import type { JWTClaims } from '../types.js'
import {
  algorithms,
  allOf,
  audience,
  audienceList,
  type ClientIdsOption,
  type CommonPresetOptions,
  claimMapping,
  claimMissing,
  defined,
  guard,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface EntraOptions extends CommonPresetOptions, ClientIdsOption {
  /** The one tenant (directory) id, a GUID. Give exactly one of `tenantId`, `tenants`, `allowAnyTenant`. */
  tenantId?: string
  /** Multi-tenant apps: the tenant ids allowed to call the API. */
  tenants?: readonly string[]
  /** Accept tokens from every Entra tenant (then authorize by `tid` yourself). Must be explicit. Default false. */
  allowAnyTenant?: boolean
  /** The API's client id (v2) and/or App ID URI (v1). */
  audience: string | readonly string[]
  /** Accepted token versions. Default 2. */
  version?: 1 | 2 | 'both'
}

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const ISSUER_PATTERNS = {
  2: new RegExp(`^https://login\\.microsoftonline\\.com/(${GUID})/v2\\.0$`),
  1: new RegExp(`^https://sts\\.windows\\.net/(${GUID})/$`),
} as const
const ISSUER_TEMPLATES = {
  2: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  1: 'https://sts.windows.net/{tenantid}/',
} as const
const issuerFor = {
  2: (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`,
  1: (tid: string) => `https://sts.windows.net/${tid}/`,
}
const CLAIMS: ClaimMapping = {
  ...DEFAULT_CLAIM_MAPPING,
  scopes: ['scp'],
  roles: ['roles'],
  groups: ['groups'],
}

function tenantId(option: string, value: unknown): string {
  if (typeof value === 'string' && ['common', 'organizations', 'consumers'].includes(value.toLowerCase())) {
    throw new TypeError(
      `${option}: "${value}" is a sign-in audience, not a tenant; list tenant ids in \`tenants\`, or set allowAnyTenant: true`,
    )
  }
  if (typeof value !== 'string' || !new RegExp(`^${GUID}$`, 'i').test(value)) {
    throw new TypeError(
      `${option}: expected a tenant id (a GUID, as in the "tid" claim; not a domain name), got ${JSON.stringify(value)}`,
    )
  }
  return value.toLowerCase()
}

/**
 * @example createVerifier(presets.entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' }))
 * @throws TypeError naming the option.
 */
export function entra(input: EntraOptions): PresetResult {
  const given = presetOptions('entra', input, [
    'tenantId',
    'tenants',
    'allowAnyTenant',
    'audience',
    'version',
    'clientIds',
  ])
  const version = given.version ?? 2
  if (version !== 1 && version !== 2 && version !== 'both')
    throw new TypeError(`entra.version: expected 1, 2 or 'both', got ${JSON.stringify(version)}`)
  const versions: (1 | 2)[] = version === 'both' ? [2, 1] : [version]
  const anyTenant = booleanOption('entra.allowAnyTenant', given.allowAnyTenant)
  const modes = [given.tenantId !== undefined, given.tenants !== undefined, anyTenant].filter(Boolean).length
  if (modes !== 1)
    throw new TypeError(
      'entra.tenantId: give exactly one of tenantId, tenants (an allow-list) or allowAnyTenant: true',
    )

  let issuer: string[] | IssuerMatcher
  let jwksTenant = 'common'
  if (anyTenant) {
    issuer = {
      test: (iss: string) => versions.some((v) => ISSUER_PATTERNS[v].test(iss)),
      toString: () => versions.map((v) => ISSUER_TEMPLATES[v]).join(' or '),
    }
  } else {
    const tenants =
      given.tenantId !== undefined
        ? [tenantId('entra.tenantId', given.tenantId)]
        : (() => {
            if (!Array.isArray(given.tenants) || given.tenants.length === 0)
              throw new TypeError('entra.tenants: expected a non-empty array of tenant ids')
            return [...new Set(given.tenants.map((t, i) => tenantId(`entra.tenants[${i}]`, t)))]
          })()
    if (tenants.length === 1) jwksTenant = tenants[0]!
    issuer = tenants.flatMap((tid) => versions.map((v) => issuerFor[v](tid)))
  }

  const entraChecks = (claims: JWTClaims) => {
    const { tid, iss } = claims
    if (tid === undefined) throw claimMissing('tid')
    const inIssuer =
      typeof iss === 'string'
        ? versions.map((v) => ISSUER_PATTERNS[v].exec(iss)?.[1]).find(Boolean)
        : undefined
    if (typeof tid !== 'string' || inIssuer === undefined || tid.toLowerCase() !== inIssuer) {
      throw new GatehouseError('ERR_JWT_ISSUER_INVALID', '"tid" claim does not match the issuer')
    }
    // Every Entra access token names its client (`azp` in v2, `appid` in v1); ID tokens do not.
    if (claims.azp === undefined && claims.appid === undefined) {
      throw new GatehouseError(
        'ERR_JWT_NOT_ACCESS_TOKEN',
        'Token is not an access token (no "azp" or "appid" claim)',
      )
    }
  }

  const aud = audience('entra.audience', given.audience, false)
  return defined({
    issuer,
    audience: aud,
    jwksUri: `https://login.microsoftonline.com/${jwksTenant}/discovery/v2.0/keys`,
    algorithms: algorithms('entra', given.algorithms, ['RS256']),
    validate: allOf(
      entraChecks,
      guard('entra', given.clientIds, { exclude: audienceList(aud) }),
      userValidate('entra', given.validate),
    ),
    claims: claimMapping('entra', CLAIMS, given.claims),
  })
}
