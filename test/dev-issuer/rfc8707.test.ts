/**
 * Resource indicators (RFC 8707 §2) at both token endpoints of a real dev issuer: the token's `aud` is the
 * requested resource, exactly as sent; a client with an `audiences` list gets only those; a malformed, a
 * repeated or a contradicted resource is refused.
 */
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { type DevClient, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

const NOTES = 'http://127.0.0.1:4000/mcp'
const OTHER = 'https://other.example/api'

const OPEN = { clientId: 'open', clientSecret: 'open-secret', scopes: ['notes:read'] } satisfies DevClient
const BOUND = {
  clientId: 'bound',
  clientSecret: 'bound-secret',
  scopes: ['notes:read'],
  audiences: [NOTES, 'https://api.gatehouse.local'],
} satisfies DevClient
const OPAQUE = { ...BOUND, clientId: 'bound-opaque', tokenFormat: 'opaque' } satisfies DevClient

let issuer: DevIssuer

beforeAll(async () => {
  issuer = await startDevIssuer({ clients: [OPEN, BOUND, OPAQUE] })
})
afterAll(() => issuer.close())

function basic(client: { clientId: string; clientSecret: string }): string {
  return `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
}

/** A form request; `body` may repeat a parameter. */
function postForm(
  body: string | Record<string, string>,
  client: { clientId: string; clientSecret: string } = BOUND,
  path = '/oauth2/token',
) {
  return fetch(`${issuer.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body:
      typeof body === 'string'
        ? body
        : new URLSearchParams({ grant_type: 'client_credentials', ...body }).toString(),
  })
}

function postJson(body: Record<string, unknown>, client: { clientId: string; clientSecret: string } = BOUND) {
  return fetch(`${issuer.url}/oauth2/m2m/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...body,
    }),
  })
}

async function audienceOf(response: Response): Promise<unknown> {
  const body = (await response.json()) as { access_token?: string }
  expect(response.status, JSON.stringify(body)).toBe(200)
  return decodeJwt(body.access_token!).aud
}

async function expectError(response: Response, error: string, description: RegExp) {
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, JSON.stringify(body)).toBe(400)
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(body.error).toBe(error)
  expect(body.error_description).toMatch(description)
}

describe('the token’s audience is the resource (§2)', () => {
  it('on both token paths, form and JSON', async () => {
    expect(await audienceOf(await postForm({ resource: NOTES }))).toBe(NOTES)
    expect(await audienceOf(await postForm({ resource: NOTES }, BOUND, '/oauth2/m2m/token'))).toBe(NOTES)
    expect(await audienceOf(await postJson({ resource: NOTES }))).toBe(NOTES)
  })

  it('exactly as sent: no trailing slash added or removed, a query kept', async () => {
    for (const resource of [
      'https://api.example',
      'https://api.example/',
      'https://api.example/v1?tenant=a',
    ]) {
      expect(await audienceOf(await postForm({ resource }, OPEN))).toBe(resource)
    }
  })

  it('without resource, audience or the default as before; both naming one target is fine', async () => {
    expect(await audienceOf(await postForm({}, OPEN))).toBe(issuer.audience)
    expect(await audienceOf(await postForm({ audience: OTHER }, OPEN))).toBe(OTHER)
    expect(await audienceOf(await postJson({ audience: NOTES, resource: NOTES }))).toBe(NOTES)
  })

  it('an opaque token keeps the resource as its aud, which introspection reports', async () => {
    const response = await postForm({ resource: NOTES }, OPAQUE)
    const { access_token } = (await response.json()) as { access_token: string }
    const introspected = await fetch(issuer.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(OPEN) },
      body: new URLSearchParams({ token: access_token }).toString(),
    })
    expect(await introspected.json()).toMatchObject({ active: true, aud: NOTES, client_id: 'bound-opaque' })
  })

  it('a verifier for that resource accepts the token, one for another refuses it', async () => {
    const { access_token } = (await (await postForm({ resource: NOTES })).json()) as { access_token: string }
    const forNotes = createVerifier({ issuer: issuer.issuer, audience: NOTES })
    await expect(forNotes.verify(access_token)).resolves.toMatchObject({ claims: { aud: NOTES } })
    const forOther = createVerifier({ issuer: issuer.issuer, audience: OTHER })
    await expect(forOther.verify(access_token)).rejects.toMatchObject({ code: 'ERR_JWT_AUDIENCE_INVALID' })
  })

  it('oauth4webapi’s client credentials grant with a resource parameter', async () => {
    const options = { [oauth.allowInsecureRequests]: true }
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer.issuer),
      await oauth.discoveryRequest(new URL(issuer.issuer), { ...options, algorithm: 'oauth2' }),
    )
    const client: oauth.Client = { client_id: BOUND.clientId }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(BOUND.clientSecret),
      new URLSearchParams({ resource: NOTES }),
      options,
    )
    const result = await oauth.processClientCredentialsResponse(as, client, response)
    expect(decodeJwt(result.access_token).aud).toBe(NOTES)
  })
})

describe('refused targets', () => {
  it('a resource outside the client’s audiences is invalid_target, on both paths', async () => {
    await expectError(
      await postForm({ resource: OTHER }),
      'invalid_target',
      /may not request tokens for this resource/,
    )
    await expectError(await postJson({ resource: OTHER }), 'invalid_target', /this resource/)
    // A trailing slash is another resource.
    await expectError(await postForm({ resource: `${NOTES}/` }), 'invalid_target', /this resource/)
    await expectError(await postForm({ audience: OTHER }), 'invalid_target', /this audience/)
  })

  it('a resource that is not an absolute URI without fragment is invalid_target', async () => {
    for (const resource of ['', '/mcp', 'notes', `${NOTES}#tools`, 'http://']) {
      await expectError(
        await postForm({ resource }, OPEN),
        'invalid_target',
        /absolute URI without a fragment/,
      )
    }
  })

  it('two resources are invalid_target, even when the client may have both', async () => {
    const body = `grant_type=client_credentials&resource=${encodeURIComponent(NOTES)}&resource=${encodeURIComponent('https://api.gatehouse.local')}`
    await expectError(await postForm(body), 'invalid_target', /one resource per token request/)
  })

  it('audience and resource naming different targets is invalid_request', async () => {
    await expectError(
      await postForm({ resource: NOTES, audience: 'https://api.gatehouse.local' }),
      'invalid_request',
      /different targets/,
    )
  })

  it('a resource that is not a string in JSON is invalid_request', async () => {
    await expectError(
      await postJson({ resource: [NOTES] }),
      'invalid_request',
      /resource parameter must be a string/,
    )
  })
})
