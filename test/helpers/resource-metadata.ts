/**
 * What every adapter's Protected Resource Metadata (RFC 9728) must look like on the wire, for the
 * adapters' own tests: the document at its well-known path with its headers (§3, CORS for browser
 * clients), `resource_metadata` in every challenge (§5.1), and the audience the resource binds
 * (RFC 8707 §2). Each adapter's test starts a real server on 127.0.0.1 and calls these.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect } from 'vitest'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

/** A resource identifier with a path: served at the path-suffixed location (§3.1). */
export const RESOURCE = 'https://api.gatehouse.test/mcp'
export const METADATA_PATH = '/.well-known/oauth-protected-resource/mcp'
export const METADATA_URL = `https://api.gatehouse.test${METADATA_PATH}`
/** A bare origin: served at the root location. */
export const ORIGIN_RESOURCE = 'https://api.gatehouse.test'
export const ROOT_PATH = '/.well-known/oauth-protected-resource'

export interface Answer {
  status: number
  headers: Headers
  text: string
}

export async function ask(
  origin: string,
  path: string,
  init: { method?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  const response = await fetch(origin + path, { method: init.method ?? 'GET', headers })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
const mediaType = (headers: Headers) => headers.get('content-type')?.split(';')[0]

/**
 * The document at `path` of `origin`: GET (with a query too) 200 JSON whose `resource` is `resource`
 * exactly, public caching, readable from any origin; HEAD the same headers and no body (and no
 * `Content-Length` other than GET's); a CORS preflight 204; any other method 405 naming the allowed ones.
 */
export async function expectDocument(
  origin: string,
  path: string,
  expected: { resource: string; authorizationServers: string[] },
): Promise<void> {
  const got = await ask(origin, path)
  expect(got.status).toBe(200)
  expect(mediaType(got.headers)).toBe('application/json')
  expect(got.headers.get('cache-control')).toBe('public, max-age=3600')
  expect(got.headers.get('access-control-allow-origin')).toBe('*')
  const document = JSON.parse(got.text) as Record<string, unknown>
  expect(document.resource).toBe(expected.resource)
  expect(document.authorization_servers).toEqual(expected.authorizationServers)
  expect(document.bearer_methods_supported).toEqual(['header'])

  expect((await ask(origin, `${path}?from=test`)).text).toBe(got.text)

  const head = await ask(origin, path, { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(head.text).toBe('')
  expect(mediaType(head.headers)).toBe('application/json')
  expect(head.headers.get('cache-control')).toBe('public, max-age=3600')
  expect(head.headers.get('access-control-allow-origin')).toBe('*')
  // RFC 9110 §8.6: a HEAD answer states GET's length or none.
  expect([null, String(Buffer.byteLength(got.text))]).toContain(head.headers.get('content-length'))

  const preflight = await ask(origin, path, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
  })
  expect(preflight.status).toBe(204)
  expect(preflight.text).toBe('')
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
  expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS')

  const post = await ask(origin, path, { method: 'POST' })
  expect(post.status).toBe(405)
  expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
}

/**
 * On a route that needs a valid token (`protectedPath`) and one that needs scope `notes:write`
 * (`scopedPath`), behind a gate whose resource is `resource` and which has no explicit audience: every
 * challenge names `metadataUrl`; a token for the resource passes, one for another resource or without
 * `aud` is a 401.
 */
export async function expectChallengesAndAudience(
  origin: string,
  issuer: DevIssuer,
  paths: { protectedPath: string; scopedPath: string },
  resource: string,
  metadataUrl: string,
): Promise<void> {
  const { protectedPath, scopedPath } = paths
  const named = literal(`resource_metadata="${metadataUrl}"`)

  const none = await ask(origin, protectedPath)
  expect(none.status).toBe(401)
  expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`)

  const forUs = await issuer.mint({ aud: resource, scope: 'notes:read' })
  expect((await ask(origin, protectedPath, { token: forUs })).status).toBe(200)

  const scoped = await ask(origin, scopedPath, { token: forUs })
  expect(scoped.status).toBe(403)
  expect(scoped.headers.get('www-authenticate')).toMatch(
    new RegExp(`^Bearer error="insufficient_scope", .*scope="notes:write", ${named}$`),
  )
  const writer = await issuer.mint({ aud: resource, scope: 'notes:write' })
  expect((await ask(origin, scopedPath, { token: writer })).status).toBe(200)

  for (const aud of [`${ORIGIN_RESOURCE}/other`, issuer.audience, undefined]) {
    const refused = await ask(origin, protectedPath, { token: await issuer.mint({ aud }) })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(
      new RegExp(`^Bearer error="invalid_token", .*${named}$`),
    )
    expect(JSON.parse(refused.text).code).toMatch(/^ERR_JWT_(AUDIENCE_INVALID|CLAIM_MISSING)$/)
  }
}

/**
 * What every adapter's RFC 9728 test needs: a dev issuer, gates on it (with `resource`, or its own
 * audience without one), and servers on 127.0.0.1, all closed after the file. Call once, at the top.
 */
export function resourceFixture() {
  let issuer: DevIssuer | undefined
  const gates: Gate[] = []
  const servers: Server[] = []
  beforeAll(async () => {
    issuer = await startDevIssuer({ dataDir: null })
  })
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    for (const gate of gates) gate.close()
    await issuer?.close()
  })
  return {
    issuer: () => issuer!,
    /** The origin of `server` once it listens; closed with the file. */
    async origin(server: Server): Promise<string> {
      servers.push(server)
      if (!server.listening) await once(server, 'listening')
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    gateFor(resource?: string): Gate {
      const { issuer: iss, jwksUri, audience } = issuer!
      const gate = createGate({
        issuer: iss,
        jwksUri,
        ...(resource === undefined ? { audience } : { resource }),
      })
      gates.push(gate)
      return gate
    },
  }
}
