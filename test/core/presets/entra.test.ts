import { describe, expect, it } from 'vitest'
import { entra } from '../../../src/core/presets/index.js'
import type { JWK } from '../../../src/core/types.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

const v2 = fixture('entra-v2')
const v1 = fixture('entra-v1')
const idToken = fixture('entra-id-token')
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const OTHER = 'b6a6d3e1-0f4c-4a8e-9d2b-5c7e8f9a0b1c'
const API = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
// Entra publishes its keys without "alg".
const withoutAlg = { jwk: (jwk: JWK) => ({ ...jwk, alg: undefined }) as JWK }

describe('entra preset', () => {
  it('sets the v2 issuer of the tenant, its key set, RS256', () => {
    const preset = entra({ tenantId: TENANT, audience: API })
    expect(preset.issuer).toEqual([`https://login.microsoftonline.com/${TENANT}/v2.0`])
    expect(preset.jwksUri).toBe(`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`)
    expect(preset.algorithms).toEqual(['RS256'])
  })

  it('accepts a realistic v2 token signed by a key without alg; reads the scp STRING and roles', async () => {
    const result = await verify(entra({ tenantId: TENANT, audience: API }), v2, {}, withoutAlg)
    expect([...result.scopes]).toEqual(['access_as_user', 'Orders.Read'])
    expect([...result.roles]).toEqual(['Orders.Admin'])
    expect(result.keyRequests).toEqual([`/${TENANT}/discovery/v2.0/keys`])
  })

  it('keeps working when the API is its own client (aud = azp) and listed in clientIds', async () => {
    const result = await verify(
      entra({ tenantId: TENANT, audience: API, clientIds: [API] }),
      v2,
      {},
      withoutAlg,
    )
    expect(result.claims).toMatchObject({ aud: API, azp: API })
    expect([...result.roles]).toEqual(['Orders.Admin'])
  })

  it('rejects v1 tokens under the default version 2, accepts them with version 1 or both', async () => {
    expect(
      await rejection(verify(entra({ tenantId: TENANT, audience: 'api://orders-api' }), v1)),
    ).toMatchObject({
      code: 'ERR_JWT_ISSUER_INVALID',
    })
    const v1Result = await verify(entra({ tenantId: TENANT, audience: 'api://orders-api', version: 1 }), v1)
    expect([...v1Result.scopes]).toEqual(['Orders.Read'])
    const both = entra({ tenantId: TENANT, audience: [API, 'api://orders-api'], version: 'both' })
    expect(both.issuer).toEqual([
      `https://login.microsoftonline.com/${TENANT}/v2.0`,
      `https://sts.windows.net/${TENANT}/`,
    ])
    expect((await verify(both, v1)).claims).toMatchObject({
      iss: `https://sts.windows.net/${TENANT}/`,
      ver: '1.0',
    })
    expect((await verify(both, v2)).claims).toMatchObject({
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      ver: '2.0',
    })
  })

  it('expands a tenant allow-list into exact issuers and the common key set', async () => {
    const preset = entra({ tenants: [TENANT, OTHER.toUpperCase()], audience: API })
    expect(preset.issuer).toEqual([
      `https://login.microsoftonline.com/${TENANT}/v2.0`,
      `https://login.microsoftonline.com/${OTHER}/v2.0`,
    ])
    expect(preset.jwksUri).toBe('https://login.microsoftonline.com/common/discovery/v2.0/keys')
    const other = { iss: `https://login.microsoftonline.com/${OTHER}/v2.0`, tid: OTHER }
    const fromOther = await verify(preset, v2, other, withoutAlg)
    expect(fromOther.claims.tid).toBe(OTHER)
    expect(fromOther.keyRequests).toEqual(['/common/discovery/v2.0/keys'])
  })

  it('rejects a tenant that is not allowed', async () => {
    const stranger = 'd0d0d0d0-1111-4222-8333-444455556666'
    const changes = { iss: `https://login.microsoftonline.com/${stranger}/v2.0`, tid: stranger }
    expect(
      await rejection(verify(entra({ tenants: [TENANT, OTHER], audience: API }), v2, changes)),
    ).toMatchObject({
      code: 'ERR_JWT_ISSUER_INVALID',
    })
  })

  it('accepts any tenant only when asked, and then requires tid to match the issuer', async () => {
    const preset = entra({ allowAnyTenant: true, audience: API })
    expect(String(preset.issuer)).toBe('https://login.microsoftonline.com/{tenantid}/v2.0')
    const stranger = 'd0d0d0d0-1111-4222-8333-444455556666'
    const fromStranger = await verify(preset, v2, {
      iss: `https://login.microsoftonline.com/${stranger}/v2.0`,
      tid: stranger,
    })
    expect(fromStranger.claims.tid).toBe(stranger)
    expect(fromStranger.keyRequests).toEqual(['/common/discovery/v2.0/keys'])
    expect(
      await rejection(verify(preset, v2, { iss: `https://login.microsoftonline.com/${stranger}/v2.0` })),
    ).toMatchObject({
      code: 'ERR_JWT_ISSUER_INVALID',
      description: '"tid" claim does not match the issuer',
    })
    for (const iss of [
      'https://login.microsoftonline.com/common/v2.0',
      'https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
    ]) {
      expect(await rejection(verify(preset, v2, { iss }))).toMatchObject({ code: 'ERR_JWT_ISSUER_INVALID' })
    }
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['tid of another tenant', { tid: OTHER }, 'ERR_JWT_ISSUER_INVALID'],
    ['no tid', { tid: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['no azp/appid (an ID token shape)', { azp: undefined }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['a nonce', { nonce: 'n' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['another API', { aud: 'f0f0f0f0-1111-4222-8333-444455556666' }, 'ERR_JWT_AUDIENCE_INVALID'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(
      await rejection(verify(entra({ tenantId: TENANT, audience: API }), v2, changes, withoutAlg)),
    ).toMatchObject({ code })
  })

  it('rejects the ID token of an app that is its own API (same aud)', async () => {
    expect(
      await rejection(verify(entra({ tenantId: TENANT, audience: API }), idToken, {}, withoutAlg)),
    ).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
  })

  it.each<[unknown, RegExp]>([
    [{ tenantId: 'common', audience: API }, /^entra\.tenantId: "common" is a sign-in audience, not a tenant/],
    [
      { tenantId: 'contoso.onmicrosoft.com', audience: API },
      /^entra\.tenantId: expected a tenant id \(a GUID/,
    ],
    [{ tenants: [TENANT, 'organizations'], audience: API }, /^entra\.tenants\[1\]: /],
    [{ tenants: [], audience: API }, /^entra\.tenants: expected a non-empty array/],
    [{ audience: API }, /^entra\.tenantId: give exactly one of tenantId, tenants/],
    [{ allowAnyTenant: false, audience: API }, /^entra\.tenantId: give exactly one/],
    [{ tenantId: TENANT, tenants: [TENANT], audience: API }, /^entra\.tenantId: give exactly one/],
    [{ tenantId: TENANT, allowAnyTenant: true, audience: API }, /^entra\.tenantId: give exactly one/],
    [{ allowAnyTenant: 'yes', audience: API }, /^entra\.allowAnyTenant: /],
    [{ tenantId: TENANT, audience: API, version: '2.0' }, /^entra\.version: /],
    [{ tenantId: TENANT }, /^entra\.audience: /],
  ])('validates its input: %#', (input, message) => {
    expect(() => entra(input as Parameters<typeof entra>[0])).toThrow(message)
  })
})
