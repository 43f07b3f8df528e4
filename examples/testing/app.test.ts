import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGate, type Gate } from 'gatehouse'
import { createTestKeys, type DevIssuer, mintToken, startDevIssuer } from 'gatehouse/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'

let issuer: DevIssuer // a real authorization server on 127.0.0.1, keys in memory
let gate: Gate
let server: Server
let api: string

beforeAll(async () => {
  issuer = await startDevIssuer()
  gate = createGate({ issuer: issuer.issuer, audience: issuer.audience }) // keys from the issuer's JWKS
  server = createApp(gate).listen(0, '127.0.0.1')
  await once(server, 'listening')
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  server?.close()
  gate?.close()
  await issuer?.close()
})

const call = (method: string, path: string, token?: string) =>
  fetch(`${api}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: method === 'POST' ? JSON.stringify({ text: 'hi' }) : undefined,
  })

describe('GET /api/messages', () => {
  it('answers 200 to a token with read:messages', async () => {
    const token = await issuer.mint({ scope: 'read:messages' }, { sub: 'alice' })
    const response = await call('GET', '/api/messages', token)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual([{ text: 'hello', to: 'alice' }])
  })

  it('answers 401 without a token, and says how to authenticate', async () => {
    const response = await call('GET', '/api/messages')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('answers 401 to an expired token', async () => {
    const token = await issuer.mint({ scope: 'read:messages' }, { expiresIn: -60 })
    const response = await call('GET', '/api/messages', token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('answers 401 to a token signed by keys the issuer never published', async () => {
    const stranger = await createTestKeys()
    const claims = { iss: issuer.issuer, aud: issuer.audience, scope: 'read:messages' }
    const response = await call('GET', '/api/messages', await mintToken(stranger, claims))
    expect(response.status).toBe(401)
  })

  it('answers 401 to a token for another API', async () => {
    const token = await issuer.mint({ aud: 'https://other-api.example', scope: 'read:messages' })
    expect((await call('GET', '/api/messages', token)).status).toBe(401)
  })
})

describe('POST /api/messages', () => {
  it('answers 403 insufficient_scope to a token without write:messages', async () => {
    const token = await issuer.mint({ scope: 'read:messages' })
    const response = await call('POST', '/api/messages', token)
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
  })

  it('answers 201 to a token with write:messages', async () => {
    const token = await issuer.mint({ scope: 'write:messages' }, { sub: 'bob' })
    const response = await call('POST', '/api/messages', token)
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ text: 'hi', from: 'bob' })
  })
})
