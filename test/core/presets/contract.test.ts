/**
 * What each preset must do, in one table: the verifier options it produces (issuer, key location,
 * audience, algorithms, claim mapping), the provider's access token it accepts (keys fetched over HTTP
 * from the path of that key location, on 127.0.0.1) with the claim sets it reads, and one token of the
 * same provider it must refuse. The per-preset files test the quirks; this file is the summary that a
 * change to any preset must keep true.
 */
import { describe, expect, it } from 'vitest'
import type { ClaimMapping } from '../../../src/core/authz/claims-reader.js'
import {
  auth0,
  authaction,
  cognito,
  entra,
  generic,
  google,
  keycloak,
  okta,
  type PresetResult,
  zitadel,
} from '../../../src/core/presets/index.js'
import type { JWK } from '../../../src/core/types.js'
import { rejection } from '../../helpers/tokens.js'
import { type Fixture, fixture, verify } from './helpers.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const ENTRA_API = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const GOOGLE_AUDIENCE = 'https://orders-api-abc123-ew.a.run.app'

interface Row {
  name: string
  preset: () => PresetResult
  produces: {
    issuer: PresetResult['issuer']
    /** The URL of the key set, or how the keys are found. */
    keys: { jwksUri: string } | { discovery: true | 'auto' }
    audience: string | readonly string[] | null
    algorithms: readonly string[] | undefined
    claims: ClaimMapping
  }
  accepts: {
    token: Fixture
    changes?: Record<string, unknown>
    /** Provider keys published without `alg` (Entra). */
    withoutAlg?: boolean
    sub: string
    scopes: string[]
    roles: string[]
    permissions: string[]
    groups: string[]
  }
  refuses: { because: string; changes: Record<string, unknown>; code: string }
}

const rows: Row[] = [
  {
    name: 'authaction',
    preset: () => authaction({ domain: 'acme.eu.authaction.com', audience: 'https://api.example.com' }),
    produces: {
      issuer: ['https://acme.eu.authaction.com/', 'https://acme.eu.authaction.com'],
      keys: { jwksUri: 'https://acme.eu.authaction.com/.well-known/jwks.json' },
      audience: 'https://api.example.com',
      algorithms: ['RS256'],
      claims: { scopes: ['scope'], roles: ['roles'], permissions: ['permissions'], groups: ['groups'] },
    },
    accepts: {
      token: fixture('authaction'),
      sub: 'c7eXmpl3M2MClient@clients',
      scopes: ['read:messages', 'write:messages'],
      roles: [],
      permissions: [],
      groups: [],
    },
    refuses: {
      because: 'a token for another API',
      changes: { aud: 'https://other.example.com' },
      code: 'ERR_JWT_AUDIENCE_INVALID',
    },
  },
  {
    name: 'auth0',
    preset: () => auth0({ domain: 'tenant.us.auth0.com', audience: 'https://api.example.com' }),
    produces: {
      issuer: 'https://tenant.us.auth0.com/',
      keys: { jwksUri: 'https://tenant.us.auth0.com/.well-known/jwks.json' },
      audience: 'https://api.example.com',
      algorithms: ['RS256', 'PS256'],
      claims: { scopes: ['scope'], roles: ['roles'], permissions: ['permissions'], groups: ['groups'] },
    },
    accepts: {
      token: fixture('auth0'),
      sub: 'auth0|6553da60a54af58e29493993',
      scopes: ['openid', 'profile', 'read:messages'],
      roles: [],
      permissions: ['read:messages', 'delete:messages'],
      groups: [],
    },
    refuses: {
      because: 'an issuer without the trailing slash Auth0 issues',
      changes: { iss: 'https://tenant.us.auth0.com' },
      code: 'ERR_JWT_ISSUER_INVALID',
    },
  },
  {
    name: 'cognito',
    preset: () =>
      cognito({ region: 'us-west-2', userPoolId: 'us-west-2_EXAMPLE1', clientId: '1example23456789' }),
    produces: {
      issuer: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE1',
      keys: {
        jwksUri: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE1/.well-known/jwks.json',
      },
      audience: null,
      algorithms: ['RS256'],
      claims: {
        scopes: ['scope'],
        roles: ['roles'],
        permissions: ['permissions'],
        groups: ['cognito:groups'],
      },
    },
    accepts: {
      token: fixture('cognito'),
      sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      scopes: ['aws.cognito.signin.user.admin', 'https://api.example.com/read'],
      roles: [],
      permissions: [],
      groups: ['admin', 'Sales Team'],
    },
    refuses: {
      because: 'a token of another app client of the pool',
      changes: { client_id: '9other87654321' },
      code: 'ERR_JWT_CLAIM_INVALID',
    },
  },
  {
    name: 'okta',
    preset: () => okta({ domain: 'dev-123456.okta.com', audience: 'api://default' }),
    produces: {
      issuer: 'https://dev-123456.okta.com/oauth2/default',
      keys: { jwksUri: 'https://dev-123456.okta.com/oauth2/default/v1/keys' },
      audience: 'api://default',
      algorithms: ['RS256'],
      claims: { scopes: ['scp'], roles: ['roles'], permissions: ['permissions'], groups: ['groups'] },
    },
    accepts: {
      token: fixture('okta'),
      sub: '00ujmkLgOxdJ9S4Pk0g3',
      scopes: ['openid', 'email', 'flights', 'custom'],
      roles: [],
      permissions: [],
      groups: ['Everyone', 'Travel Agents'],
    },
    refuses: {
      because: "a token of Okta's org authorization server",
      changes: { iss: 'https://dev-123456.okta.com' },
      code: 'ERR_JWT_ISSUER_INVALID',
    },
  },
  {
    name: 'entra',
    preset: () => entra({ tenantId: TENANT, audience: ENTRA_API }),
    produces: {
      issuer: [`https://login.microsoftonline.com/${TENANT}/v2.0`],
      keys: { jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` },
      audience: ENTRA_API,
      algorithms: ['RS256'],
      claims: { scopes: ['scp'], roles: ['roles'], permissions: ['permissions'], groups: ['groups'] },
    },
    accepts: {
      token: fixture('entra-v2'),
      withoutAlg: true,
      sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
      scopes: ['access_as_user', 'Orders.Read'],
      roles: ['Orders.Admin'],
      permissions: [],
      groups: [],
    },
    refuses: {
      because: 'a tid that is not the tenant of the issuer',
      changes: { tid: 'b6a6d3e1-0f4c-4a8e-9d2b-5c7e8f9a0b1c' },
      code: 'ERR_JWT_ISSUER_INVALID',
    },
  },
  {
    name: 'keycloak',
    preset: () => keycloak({ url: 'https://kc.example.com', realm: 'shop', clientId: 'shop-api' }),
    produces: {
      issuer: 'https://kc.example.com/realms/shop',
      keys: { jwksUri: 'https://kc.example.com/realms/shop/protocol/openid-connect/certs' },
      audience: null,
      algorithms: undefined,
      claims: {
        scopes: ['scope'],
        roles: [['realm_access', 'roles']],
        permissions: [['resource_access', 'shop-api', 'roles']],
        groups: ['groups'],
      },
    },
    accepts: {
      token: fixture('keycloak'),
      sub: 'f3a4b6c2-1d2e-4f5a-9b8c-7d6e5f4a3b2c',
      scopes: ['openid', 'profile', 'email'],
      roles: ['default-roles-shop', 'offline_access', 'uma_authorization', 'admin'],
      permissions: ['orders:write', 'orders:read'],
      groups: ['/staff', '/staff/Sales Team'],
    },
    refuses: {
      because: 'a token requested by another client (azp)',
      changes: { azp: 'other-client' },
      code: 'ERR_JWT_CLAIM_INVALID',
    },
  },
  {
    name: 'google',
    preset: () =>
      google({ audience: GOOGLE_AUDIENCE, emails: ['caller@my-project.iam.gserviceaccount.com'] }),
    produces: {
      issuer: ['https://accounts.google.com', 'accounts.google.com'],
      keys: { jwksUri: 'https://www.googleapis.com/oauth2/v3/certs' },
      audience: GOOGLE_AUDIENCE,
      algorithms: ['RS256'],
      claims: {
        scopes: ['scope', 'scp'],
        roles: ['roles'],
        permissions: ['permissions'],
        groups: ['groups'],
      },
    },
    accepts: {
      token: fixture('google'),
      sub: '112233445566778899001',
      scopes: [],
      roles: [],
      permissions: [],
      groups: [],
    },
    refuses: {
      because: 'an account that is not on the allow-list',
      changes: { email: 'someone@other-project.iam.gserviceaccount.com', sub: '1' },
      code: 'ERR_JWT_CLAIM_INVALID',
    },
  },
  {
    name: 'zitadel',
    preset: () => zitadel({ domain: 'my-instance-abc123.zitadel.cloud', audience: '263928437372190123' }),
    produces: {
      issuer: 'https://my-instance-abc123.zitadel.cloud',
      keys: { jwksUri: 'https://my-instance-abc123.zitadel.cloud/oauth/v2/keys' },
      audience: '263928437372190123',
      algorithms: undefined,
      claims: {
        scopes: ['scope'],
        roles: ['urn:zitadel:iam:org:project:roles'],
        permissions: ['permissions'],
        groups: ['groups'],
      },
    },
    accepts: {
      token: fixture('zitadel'),
      sub: '263928582046453764',
      scopes: [],
      roles: ['admin', 'reader'],
      permissions: [],
      groups: [],
    },
    refuses: {
      because: 'a token of another project',
      changes: { aud: ['999'] },
      code: 'ERR_JWT_AUDIENCE_INVALID',
    },
  },
  {
    name: 'generic',
    preset: () =>
      generic({ issuer: 'https://authorization-server.example.com/', audience: 'https://rs.example.com/' }),
    produces: {
      issuer: 'https://authorization-server.example.com/',
      keys: { discovery: 'auto' },
      audience: 'https://rs.example.com/',
      algorithms: undefined,
      claims: {
        scopes: ['scope', 'scp'],
        roles: ['roles'],
        permissions: ['permissions'],
        groups: ['groups'],
      },
    },
    accepts: {
      token: fixture('generic'),
      sub: '5ba552d67',
      scopes: ['openid', 'profile', 'reademail'],
      roles: ['reviewer'],
      permissions: [],
      groups: ['staff'],
    },
    refuses: {
      because: 'an ID token (nonce)',
      changes: { nonce: 'n-0S6_WzA2Mj' },
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    },
  },
]

const withoutAlg = { jwk: (jwk: JWK) => ({ ...jwk, alg: undefined }) as JWK }

describe.each(rows)('$name preset', ({ preset, produces, accepts, refuses }) => {
  it('produces its issuer, key location, audience, algorithms and claim mapping', () => {
    const { issuer, jwksUri, discovery, audience, algorithms, claims } = preset()
    expect(issuer).toEqual(produces.issuer)
    expect('jwksUri' in produces.keys ? { jwksUri } : { discovery }).toEqual(produces.keys)
    expect(jwksUri === undefined || discovery === undefined).toBe(true)
    expect(audience).toEqual(produces.audience)
    expect(algorithms).toEqual(produces.algorithms)
    expect(claims).toEqual(produces.claims)
  })

  it("accepts the provider's access token, with keys from its key location, and reads its claim sets", async () => {
    const result = await verify(
      preset(),
      accepts.token,
      accepts.changes,
      accepts.withoutAlg ? withoutAlg : {},
    )
    expect(result.claims.sub).toBe(accepts.sub)
    expect({
      scopes: [...result.scopes],
      roles: [...result.roles],
      permissions: [...result.permissions],
      groups: [...result.groups],
    }).toEqual({
      scopes: accepts.scopes,
      roles: accepts.roles,
      permissions: accepts.permissions,
      groups: accepts.groups,
    })
    const path = 'jwksUri' in produces.keys ? new URL(produces.keys.jwksUri).pathname : '/jwks'
    expect(result.keyRequests).toEqual([path])
  })

  it(`refuses ${refuses.because}`, async () => {
    const error = await rejection(
      verify(
        preset(),
        accepts.token,
        { ...accepts.changes, ...refuses.changes },
        accepts.withoutAlg ? withoutAlg : {},
      ),
    )
    expect(error).toMatchObject({ code: refuses.code })
  })
})
