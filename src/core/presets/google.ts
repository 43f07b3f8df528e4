/**
 * Google-signed OpenID Connect ID tokens, for service-to-service calls: a caller on Cloud Run, GKE or
 * Compute Engine gets an ID token for your audience from the metadata server (or `generateIdToken`) and
 * sends it as a bearer token; IAP's programmatic access accepts the same tokens.
 *
 * Be clear about what this is: Google's OAuth ACCESS tokens (`ya29.…`) are opaque, not JWTs, and cannot
 * be verified locally at all (only through Google's tokeninfo endpoint). This preset verifies ID tokens,
 * so the ID-token guard is off by design.
 *
 * Issuer `https://accounts.google.com` or `accounts.google.com` (Google issues both forms), keys at
 * `https://www.googleapis.com/oauth2/v3/certs`, RS256.
 *
 * Quirk, and why an allow-list is required: ANY Google account or service account can mint an ID token
 * for ANY audience. Signature, issuer and audience prove only that Google issued it, not that the caller
 * may call you. So the preset requires `emails` (checked with `email_verified: true`), `subjects` (the
 * stable numeric `sub`), `hostedDomains` (the Workspace `hd` claim) or an explicit `allowAnyAccount: true`.
 * A caller matching any one list passes. There are no scopes or roles in these tokens.
 */
import { DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { GatehouseError } from '../errors.js'
import { booleanOption } from '../lib/values.js'
import type { JWTClaims } from '../types.js'
import {
  algorithms,
  allOf,
  audience,
  type CommonPresetOptions,
  claimMapping,
  defined,
  optionalStringList,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface GoogleOptions extends CommonPresetOptions {
  /** The audience callers request their ID token for: your service URL or OAuth client id. */
  audience: string | readonly string[]
  /** Accepted caller emails (service accounts: `name@project.iam.gserviceaccount.com`). */
  emails?: readonly string[]
  /** Accepted `sub` values (stable account ids). */
  subjects?: readonly string[]
  /** Accepted Google Workspace domains (`hd` claim). */
  hostedDomains?: readonly string[]
  /** Accept any Google account: you authorize callers yourself. Must be explicit. Default false. */
  allowAnyAccount?: boolean
}

/**
 * @example createVerifier(presets.google({ audience: 'https://api.example.com', emails: ['caller@proj.iam.gserviceaccount.com'] }))
 * @throws TypeError naming the option.
 */
export function google(input: GoogleOptions): PresetResult {
  const given = presetOptions('google', input, [
    'audience',
    'emails',
    'subjects',
    'hostedDomains',
    'allowAnyAccount',
  ])
  const emails = new Set(
    optionalStringList('google.emails', given.emails).map((email) => email.toLowerCase()),
  )
  const subjects = new Set(optionalStringList('google.subjects', given.subjects))
  const domains = new Set(
    optionalStringList('google.hostedDomains', given.hostedDomains).map((domain) => domain.toLowerCase()),
  )
  const anyAccount = booleanOption('google.allowAnyAccount', given.allowAnyAccount)
  const lists = emails.size + subjects.size + domains.size > 0
  if (anyAccount === lists) {
    throw new TypeError(
      'google.emails: any Google account can mint an ID token for your audience; give emails, subjects or hostedDomains, or set allowAnyAccount: true (not both)',
    )
  }

  const accountCheck = (claims: JWTClaims) => {
    if (anyAccount) return
    const { email, email_verified: verified, sub, hd } = claims
    if (typeof sub === 'string' && subjects.has(sub)) return
    if (typeof email === 'string' && verified === true && emails.has(email.toLowerCase())) return
    if (typeof hd === 'string' && domains.has(hd.toLowerCase())) return
    throw new GatehouseError('ERR_JWT_CLAIM_INVALID', 'Token account is not allowed')
  }

  return defined({
    issuer: ['https://accounts.google.com', 'accounts.google.com'],
    audience: audience('google.audience', given.audience, false),
    jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
    algorithms: algorithms('google', given.algorithms, ['RS256']),
    validate: allOf(accountCheck, userValidate('google', given.validate)),
    claims: claimMapping('google', DEFAULT_CLAIM_MAPPING, given.claims),
  })
}
