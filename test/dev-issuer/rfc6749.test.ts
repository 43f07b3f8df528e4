/**
 * The token endpoint against RFC 6749: client-credentials grant (§4.4), client authentication (§2.3.1),
 * successful responses (§5.1) and error responses (§5.2); and AuthAction's JSON request verbatim.
 */
import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevClient, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

// A secret with every character §2.3.1's form-encoding exists for.
const TRICKY = {
  clientId: 'tricky client:1',
  clientSecret: 'p@ss:word+with%20spaces &=',
  scopes: ['read:messages'],
} satisfies DevClient
const RESTRICTED = {
  clientId: 'restricted',
  clientSecret: 'restricted-secret',
  scopes: ['read:messages'],
  audiences: ['https://only.example'],
} satisfies DevClient

let issuer: DevIssuer
let demo: DevClient

beforeAll(async () => {
  issuer = await startDevIssuer({
    clients: [
      {
        clientId: 'demo-client',
        clientSecret: 'demo-secret',
        scopes: ['read:messages', 'write:messages'],
        roles: ['admin'],
        permissions: ['read:messages'],
      },
      TRICKY,
      RESTRICTED,
    ],
  })
  demo = issuer.clients[0]!
})
afterAll(() => issuer.close())

function postJson(body: unknown, path = '/oauth2/m2m/token') {
  return fetch(`${issuer.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

function postForm(params: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${issuer.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  })
}

/** RFC 6749 §2.3.1: each part form-urlencoded, then base64 of `id:secret`. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => new URLSearchParams({ v: s }).toString().slice(2)
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const body = (await response.json()) as Record<string, unknown>
  expect(body.error).toBe(error)
  expect(typeof body.error_description).toBe('string')
  return body
}

describe('successful requests (§4.4, §5.1)', () => {
  it("accepts AuthAction's JSON request verbatim on /oauth2/m2m/token", async () => {
    const response = await postJson({
      client_id: demo.clientId,
      client_secret: demo.clientSecret!,
      audience: issuer.audience,
      grant_type: 'client_credentials',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('pragma')).toBe('no-cache')
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read:messages write:messages',
    })
    expect(claimsOf(body.access_token as string)).toMatchObject({
      sub: 'demo-client@clients',
      aud: issuer.audience,
    })
  })

  it('accepts client_secret_basic with form-urlencoded id and secret (§2.3.1)', async () => {
    const response = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basic(TRICKY.clientId, TRICKY.clientSecret) },
    )
    expect(response.status).toBe(200)
    const { access_token } = (await response.json()) as { access_token: string }
    expect(claimsOf(access_token)).toMatchObject({
      client_id: TRICKY.clientId,
      sub: `${TRICKY.clientId}@clients`,
    })
  })

  it('accepts client_secret_post', async () => {
    const response = await postForm({
      grant_type: 'client_credentials',
      client_id: TRICKY.clientId,
      client_secret: TRICKY.clientSecret,
    })
    expect(response.status).toBe(200)
  })

  it('narrows to the requested scopes, and gives all allowed scopes without a scope parameter (§3.3)', async () => {
    const narrowed = await postForm({
      grant_type: 'client_credentials',
      client_id: demo.clientId,
      client_secret: demo.clientSecret!,
      scope: 'read:messages',
    })
    const body = (await narrowed.json()) as { access_token: string; scope: string }
    expect(body.scope).toBe('read:messages')
    expect(claimsOf(body.access_token).scope).toBe('read:messages')
  })

  it('uses the requested audience, or the default one', async () => {
    const custom = await postJson({
      client_id: 'demo-client',
      client_secret: 'demo-secret',
      audience: 'https://x.example',
      grant_type: 'client_credentials',
    })
    expect(claimsOf(((await custom.json()) as { access_token: string }).access_token).aud).toBe(
      'https://x.example',
    )
    const none = await postJson({
      client_id: 'demo-client',
      client_secret: 'demo-secret',
      grant_type: 'client_credentials',
    })
    expect(claimsOf(((await none.json()) as { access_token: string }).access_token).aud).toBe(issuer.audience)
  })
})

describe('errors (§5.2)', () => {
  it('a wrong secret is invalid_client, 401, without a challenge when the body carried it', async () => {
    const response = await postJson({
      client_id: 'demo-client',
      client_secret: 'wrong',
      grant_type: 'client_credentials',
    })
    const body = await expectError(response, 401, 'invalid_client')
    expect(response.headers.get('www-authenticate')).toBeNull()
    expect(JSON.stringify(body)).not.toContain('wrong')
  })

  it('a wrong secret over Basic is invalid_client with a Basic challenge', async () => {
    const response = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basic('demo-client', 'nope') },
    )
    await expectError(response, 401, 'invalid_client')
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
  })

  it('an unknown client is invalid_client, like a wrong secret', async () => {
    await expectError(
      await postJson({ client_id: 'ghost', client_secret: 'x', grant_type: 'client_credentials' }),
      401,
      'invalid_client',
    )
  })

  it('missing credentials are invalid_client', async () => {
    await expectError(await postForm({ grant_type: 'client_credentials' }), 401, 'invalid_client')
  })

  it('two authentication methods at once are invalid_request (§2.3)', async () => {
    const response = await postForm(
      { grant_type: 'client_credentials', client_secret: 'demo-secret' },
      { authorization: basic('demo-client', 'demo-secret') },
    )
    await expectError(response, 400, 'invalid_request')
  })

  it('a missing grant_type is invalid_request; another grant is unsupported_grant_type', async () => {
    await expectError(
      await postJson({ client_id: 'demo-client', client_secret: 'demo-secret' }),
      400,
      'invalid_request',
    )
    await expectError(
      await postJson({ client_id: 'demo-client', client_secret: 'demo-secret', grant_type: 'password' }),
      400,
      'unsupported_grant_type',
    )
  })

  it('a scope the client may not have is invalid_scope', async () => {
    const response = await postJson({
      client_id: TRICKY.clientId,
      client_secret: TRICKY.clientSecret,
      grant_type: 'client_credentials',
      scope: 'read:messages write:messages',
    })
    const body = await expectError(response, 400, 'invalid_scope')
    expect(body.error_description).toContain('write:messages')
  })

  it("an audience outside the client's list is invalid_target", async () => {
    const response = await postJson({
      client_id: 'restricted',
      client_secret: 'restricted-secret',
      grant_type: 'client_credentials',
      audience: 'https://elsewhere.example',
    })
    await expectError(response, 400, 'invalid_target')
  })

  it('bad JSON, a JSON array and non-string parameters are 400 invalid_request', async () => {
    await expectError(await postJson('{"client_id":'), 400, 'invalid_request')
    await expectError(await postJson('[]'), 400, 'invalid_request')
    await expectError(
      await postJson({ client_id: 1, client_secret: 'x', grant_type: 'client_credentials' }),
      400,
      'invalid_request',
    )
  })

  it('a repeated form parameter is invalid_request (§3.2)', async () => {
    const response = await fetch(`${issuer.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=demo-client&client_id=other&client_secret=demo-secret',
    })
    await expectError(response, 400, 'invalid_request')
  })

  it('an unsupported content type is invalid_request', async () => {
    const response = await fetch(`${issuer.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'grant_type=client_credentials',
    })
    await expectError(response, 400, 'invalid_request')
  })

  it('a body over 64 KiB is 413', async () => {
    const response = await postJson({ grant_type: 'client_credentials', padding: 'x'.repeat(70 * 1024) })
    await expectError(response, 413, 'invalid_request')
  })

  it('GET on the token endpoint is 405 with Allow: POST', async () => {
    const response = await fetch(`${issuer.url}/oauth2/token`)
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('POST')
  })
})

describe('robustness', () => {
  it('never answers 5xx, whatever the body and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', ''),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        async (body, contentType, authorization) => {
          const headers: Record<string, string> = {}
          if (contentType) headers['content-type'] = contentType
          // Header values must be ByteStrings for fetch; keep what is sendable.
          if (authorization !== undefined && /^[\x20-\x7e]*$/.test(authorization))
            headers.authorization = authorization
          const response = await fetch(`${issuer.url}/oauth2/m2m/token`, { method: 'POST', headers, body })
          expect(response.status).toBeLessThan(500)
          await response.arrayBuffer()
        },
      ),
      { numRuns: 60 },
    )
  })

  it('a malformed request line gets 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(issuer.url).port), '127.0.0.1', () =>
        socket.write('NOT HTTP\r\n\r\n'),
      )
      let data = ''
      socket.on('data', (chunk) => {
        data += chunk.toString()
      })
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
      socket.setTimeout(2000, () => socket.destroy())
    })
    expect(reply).toMatch(/^HTTP\/1\.1 400/)
    expect((await fetch(`${issuer.url}/.well-known/jwks.json`)).status).toBe(200)
  })
})
