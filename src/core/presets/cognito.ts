/**
 * Amazon Cognito user pools. Issuer `https://cognito-idp.{region}.amazonaws.com/{userPoolId}` (no
 * trailing slash), keys at `{issuer}/.well-known/jwks.json`, RS256, no `typ` header.
 *
 * Quirks:
 * - Access tokens carry NO `aud`: the app client is in `client_id`. So the audience check is off
 *   (`audience: null`) and replaced by `client_id` ∈ `clientId(s)`, which is therefore required.
 * - `token_use` must be `access`: ID tokens (`token_use: "id"`, `aud` = the client id) are signed by
 *   the same keys and would otherwise pass.
 * - Groups are in `cognito:groups`; scopes in `scope` (space-delimited, e.g.
 *   `aws.cognito.signin.user.admin` or resource-server scopes `https://api.example.com/read`).
 *
 * ID-token signals: `token_use` (checked first, always present), `at_hash`, `nonce`, `aud` = a client id.
 */
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../authz/claims-reader.js'
import { idTokenGuard } from '../authz/token-guard.js'
import { GatehouseError } from '../errors.js'
import type { JWTClaims } from '../types.js'
import {
  algorithms,
  allOf,
  type CommonPresetOptions,
  claimInvalid,
  claimMapping,
  claimMissing,
  defined,
  distinctStrings,
  type PresetResult,
  presetOptions,
  userValidate,
} from './shared.js'

export interface CognitoOptions extends CommonPresetOptions {
  /** AWS region of the user pool, e.g. `eu-west-1`. */
  region: string
  /** User pool id, e.g. `eu-west-1_AbCdEf123`. */
  userPoolId: string
  /** The app client whose access tokens are accepted. Give this or `clientIds`. */
  clientId?: string
  /** App clients whose access tokens are accepted. */
  clientIds?: readonly string[]
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/
const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/
const CLAIMS: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, scopes: ['scope'], groups: ['cognito:groups'] }

/**
 * @example createVerifier(presets.cognito({ region: 'eu-west-1', userPoolId: 'eu-west-1_AbCdEf123', clientId: '1example23456789' }))
 * @throws TypeError naming the option.
 */
export function cognito(input: CognitoOptions): PresetResult {
  const given = presetOptions('cognito', input, ['region', 'userPoolId', 'clientId', 'clientIds'])
  const { region, userPoolId } = given
  if (typeof region !== 'string' || !REGION.test(region)) {
    throw new TypeError(
      `cognito.region: expected an AWS region such as "eu-west-1", got ${JSON.stringify(region)}`,
    )
  }
  const pool = typeof userPoolId === 'string' ? POOL_ID.exec(userPoolId) : null
  if (pool === null)
    throw new TypeError(
      `cognito.userPoolId: expected an id such as "${region}_AbCdEf123", got ${JSON.stringify(userPoolId)}`,
    )
  if (pool[1] !== region)
    throw new TypeError(
      `cognito.userPoolId: the pool id's region "${pool[1]}" is not cognito.region "${region}"`,
    )
  if ((given.clientId === undefined) === (given.clientIds === undefined)) {
    throw new TypeError(
      'cognito.clientId: give exactly one of clientId or clientIds (access tokens have no "aud"; "client_id" is checked instead)',
    )
  }
  const clients = new Set(
    given.clientId !== undefined
      ? distinctStrings('cognito.clientId', given.clientId)
      : distinctStrings('cognito.clientIds', given.clientIds),
  )

  const cognitoChecks = (claims: JWTClaims) => {
    if (claims.token_use === undefined) throw claimMissing('token_use')
    if (claims.token_use !== 'access')
      throw new GatehouseError('ERR_JWT_NOT_ACCESS_TOKEN', 'Token is not an access token ("token_use" claim)')
    if (claims.client_id === undefined) throw claimMissing('client_id')
    if (typeof claims.client_id !== 'string' || !clients.has(claims.client_id))
      throw claimInvalid('client_id', 'is not an accepted app client')
  }

  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  return defined({
    issuer,
    audience: null,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: algorithms('cognito', given.algorithms, ['RS256']),
    validate: allOf(
      cognitoChecks,
      idTokenGuard({ clientIds: [...clients] }),
      userValidate('cognito', given.validate),
    ),
    claims: claimMapping('cognito', CLAIMS, given.claims),
  })
}
