/**
 * Protected Resource Metadata (RFC 9728) from the gate: the document, where it is served (§3.1), the
 * `resource_metadata` parameter of every challenge (§5.1), and the audience it binds (RFC 8707 §2).
 */
import { describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate, type GateOptions } from '../../../src/core/http/gate.js'
import { AUDIENCE, ISSUER, mint, NOW, testKey } from '../../helpers/tokens.js'

const clock = () => NOW * 1000

async function gateWith(options: Partial<GateOptions>) {
  const signer = await testKey('ES256')
  const gate = createGate({
    issuer: ISSUER,
    keys: { keys: [signer.jwk] },
    now: clock,
    ...options,
  } as GateOptions)
  return { gate, signer }
}

async function refusal(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('the document and where it is served', () => {
  it('for a resource with a path: the path-suffixed well-known location, the issuers, the token methods', async () => {
    const { gate } = await gateWith({
      resource: 'https://api.example.com/mcp',
      resourceMetadata: { scopesSupported: ['notes:read', 'notes:write'], resourceName: 'Notes' },
    })
    const metadata = gate.resourceMetadata!
    expect(metadata.path).toBe('/.well-known/oauth-protected-resource/mcp')
    expect(metadata.url).toBe('https://api.example.com/.well-known/oauth-protected-resource/mcp')
    expect(metadata.document).toEqual({
      resource: 'https://api.example.com/mcp',
      authorization_servers: [ISSUER],
      scopes_supported: ['notes:read', 'notes:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'Notes',
    })
    const { status, headers, body } = metadata.respond('GET')
    expect(status).toBe(200)
    expect(headers['content-type']).toBe('application/json')
    expect(headers['access-control-allow-origin']).toBe('*')
    expect(headers['cache-control']).toMatch(/^public, max-age=\d+$/)
    expect(JSON.parse(body)).toEqual(metadata.document)
    expect(metadata.respond('OPTIONS').status).toBe(204)
    expect(metadata.respond('POST')).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } })
  })

  it('for a bare origin: the root location, and `resource` without a trailing slash added', async () => {
    const { gate } = await gateWith({ resource: 'https://api.example.com' })
    expect(gate.resourceMetadata?.path).toBe('/.well-known/oauth-protected-resource')
    expect(gate.resourceMetadata?.document.resource).toBe('https://api.example.com')
  })

  it('states DPoP when an issuer accepts it, and that it is required when every issuer requires it', async () => {
    const { gate } = await gateWith({ resource: 'https://api.example.com', dpop: 'required' })
    expect(gate.resourceMetadata?.document).toMatchObject({
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256', 'EdDSA']),
      dpop_bound_access_tokens_required: true,
    })
    const off = await gateWith({ resource: 'https://api.example.com' })
    expect(off.gate.resourceMetadata?.document).not.toHaveProperty('dpop_signing_alg_values_supported')
  })

  it('refuses a resource that is not an https URL, or has a query or fragment, naming the option', async () => {
    for (const resource of [
      'http://api.example.com',
      'api.example.com',
      'https://a.example/?x=1',
      'https://a.example/#f',
    ])
      await expect(gateWith({ resource })).rejects.toThrow(/^resource:/)
    await expect(gateWith({ audience: AUDIENCE, resourceMetadata: { resourceName: 'x' } })).rejects.toThrow(
      /^resourceMetadata:/,
    )
    await expect(
      gateWith({ resource: 'https://a.example', resourceMetadata: { unknown: 1 } as never }),
    ).rejects.toThrow(/^resourceMetadata\.unknown:/)
  })
})

describe('challenges and audience', () => {
  it('every challenge names the metadata: 401 without a token, 401 invalid_token, 403', async () => {
    const { gate, signer } = await gateWith({ resource: 'https://api.example.com/mcp' })
    const url = 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
    const none = await refusal(gate.check({ method: 'GET', headers: {} }))
    expect(gate.reject(none).headers['www-authenticate']).toBe(`Bearer resource_metadata="${url}"`)
    const other = await mint({ aud: 'https://api.example.com/other' }, {}, signer)
    const wrong = await refusal(gate.check({ method: 'GET', headers: { authorization: `Bearer ${other}` } }))
    expect(wrong.code).toBe('ERR_JWT_AUDIENCE_INVALID')
    expect(gate.reject(wrong).headers['www-authenticate']).toMatch(
      new RegExp(`^Bearer error="invalid_token", .*resource_metadata="${url}"$`),
    )
    const token = await mint({ aud: 'https://api.example.com/mcp', scope: 'notes:read' }, {}, signer)
    const scoped = await refusal(
      gate.check({ method: 'GET', headers: { authorization: `Bearer ${token}` } }, { scopes: 'notes:write' }),
    )
    expect(gate.reject(scoped).headers['www-authenticate']).toMatch(
      /^Bearer error="insufficient_scope", .*scope="notes:write", resource_metadata="/,
    )
  })

  it('without an explicit audience, accepts exactly the resource identifier in aud (RFC 8707)', async () => {
    const { gate, signer } = await gateWith({ resource: 'https://api.example.com/mcp' })
    const check = async (aud: unknown) =>
      gate.check({ method: 'GET', headers: { authorization: `Bearer ${await mint({ aud }, {}, signer)}` } })
    expect(await check('https://api.example.com/mcp')).not.toBeNull()
    expect((await refusal(check('https://api.example.com/mcp/'))).code).toBe('ERR_JWT_AUDIENCE_INVALID')
    expect((await refusal(check(undefined))).code).toMatch(/^ERR_JWT_(CLAIM_MISSING|AUDIENCE_INVALID)$/)
  })

  it('an explicit audience stays the one accepted', async () => {
    const { gate, signer } = await gateWith({ resource: 'https://api.example.com/mcp', audience: AUDIENCE })
    const token = await mint({ aud: AUDIENCE }, {}, signer)
    expect(await gate.check({ method: 'GET', headers: { authorization: `Bearer ${token}` } })).not.toBeNull()
  })
})
