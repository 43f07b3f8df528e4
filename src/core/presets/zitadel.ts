/**
 * ZITADEL. Issuer `https://{domain}` (no trailing slash; a self-hosted instance may be given as
 * `issuer`, http on loopback only unless `allowInsecureRequests`), keys at `{issuer}/oauth/v2/keys` (or from the metadata with
 * `discovery: true`). Access tokens are JWTs when the application's token type is set to JWT;
 * opaque tokens are introspected with the gate's `introspection` option, not by the preset.
 *
 * Quirks:
 * - `aud` holds the project id AND the client ids of the project's applications: use the project id.
 * - Roles are an OBJECT keyed by role, `{ "admin": { "<orgId>": "<orgDomain>" } }`, under
 *   `urn:zitadel:iam:org:project:roles` (the project the client belongs to) and, when requested,
 *   `urn:zitadel:iam:org:project:{projectId}:roles`. The claims reader turns such an object into its
 *   role names. With `projectId`, that project's claim is read first. Organization ids are not checked:
 *   use a `check` on `auth.claims` for per-organization authorization.
 * - Roles are only asserted when "Assert Roles on Authentication" is on or the client asks for them.
 *
 * ID-token signals: `nonce`, `at_hash`, `c_hash`. `aud` cannot tell them apart (both carry the client
 * ids), so `clientIds` is not offered; consider `typ` if your instance sets one.
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { booleanOption } from '../lib/values.js'
import {
  algorithms,
  allOf,
  audience,
  baseUrl,
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

export interface ZitadelOptions extends CommonPresetOptions, InsecureRequestsOption {
  /** Instance host, e.g. `my-instance-abc123.zitadel.cloud` or a custom domain. Give this or `issuer`. */
  domain?: string
  /**
   * The full issuer, for self-hosted instances (e.g. `http://localhost:8080`). https, or http on a
   * loopback host; elsewhere http needs `allowInsecureRequests`.
   */
  issuer?: string
  /** The project id (and/or client ids) expected in `aud`. */
  audience: string | readonly string[]
  /** Read that project's role claim first. */
  projectId?: string
  /** Read `jwks_uri` from the metadata. Default false. */
  discovery?: boolean
}

const PROJECT_ROLES = 'urn:zitadel:iam:org:project:roles'

/**
 * @example createVerifier(presets.zitadel({ domain: 'my-instance-abc123.zitadel.cloud', audience: '263928437372190123' }))
 * @throws TypeError naming the option.
 */
export function zitadel(input: ZitadelOptions): PresetResult {
  const given = presetOptions('zitadel', input, [
    'domain',
    'issuer',
    'audience',
    'projectId',
    'discovery',
    'allowInsecureRequests',
  ])
  if ((given.domain === undefined) === (given.issuer === undefined))
    throw new TypeError('zitadel.domain: give exactly one of domain or issuer')
  const insecure = insecureRequests('zitadel', given.allowInsecureRequests)
  if (given.domain !== undefined && insecure === true) throw httpsOnly('zitadel')
  const issuer =
    given.domain !== undefined
      ? `https://${hostName('zitadel.domain', given.domain)}`
      : baseUrl('zitadel.issuer', given.issuer, insecure)
  if (
    given.projectId !== undefined &&
    (typeof given.projectId !== 'string' || !/^[0-9A-Za-z]+$/.test(given.projectId))
  ) {
    throw new TypeError(
      `zitadel.projectId: expected a project id such as "263928437372190123", got ${JSON.stringify(given.projectId)}`,
    )
  }
  const discovery = booleanOption('zitadel.discovery', given.discovery)
  const roles =
    given.projectId === undefined
      ? [PROJECT_ROLES]
      : [`urn:zitadel:iam:org:project:${given.projectId}:roles`, PROJECT_ROLES]
  const claims: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, scopes: ['scope'], roles }
  return defined({
    issuer,
    audience: audience('zitadel.audience', given.audience, false),
    jwksUri: discovery ? undefined : `${issuer}/oauth/v2/keys`,
    discovery: discovery ? true : undefined,
    keySet: insecureKeySet(insecure),
    algorithms: algorithms('zitadel', given.algorithms, undefined),
    validate: allOf(guard('zitadel', undefined), userValidate('zitadel', given.validate)),
    claims: claimMapping('zitadel', claims, given.claims),
  })
}
