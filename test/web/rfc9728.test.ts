/**
 * RFC 9728 on gatehouse/web, over real HTTP (a fetch handler served on 127.0.0.1) against a real dev
 * issuer: `withAuth` answers the document before it authenticates, `resourceMetadataResponse` does for
 * apps that call `authenticate` themselves, the challenges name it, and the audience is the resource
 * (RFC 8707).
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { authenticate, resourceMetadataResponse, withAuth } from '../../src/web/index.js'
import {
  ask,
  expectChallengesAndAudience,
  expectDocument,
  METADATA_PATH,
  METADATA_URL,
  ORIGIN_RESOURCE,
  RESOURCE,
  ROOT_PATH,
} from '../helpers/resource-metadata.js'

let issuer: DevIssuer
const gates: Gate[] = []
const servers: Server[] = []

async function listen(fetch: (request: Request) => Promise<Response>): Promise<string> {
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }) as Server
  servers.push(server)
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function gateFor(resource?: string): Gate {
  const gate = createGate({
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    ...(resource === undefined ? { audience: issuer.audience } : { resource }),
  })
  gates.push(gate)
  return gate
}

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

describe('withAuth', () => {
  let origin: string
  beforeAll(async () => {
    const gate = gateFor(RESOURCE)
    const notes = withAuth(gate, () => Response.json({ ok: true }))
    const drafts = withAuth(gate, () => Response.json({ ok: true }), { rule: { scopes: 'notes:write' } })
    origin = await listen((request) =>
      (new URL(request.url).pathname === '/drafts' ? drafts : notes)(request),
    )
  })

  it('answers the document before authenticating, at the path-suffixed location', async () => {
    await expectDocument(origin, METADATA_PATH, { resource: RESOURCE, authorizationServers: [issuer.issuer] })
    expect((await ask(origin, ROOT_PATH)).status).toBe(401)
  })

  it('every challenge names the document; the audience is the resource', async () => {
    await expectChallengesAndAudience(
      origin,
      issuer,
      { protectedPath: '/notes', scopedPath: '/drafts' },
      RESOURCE,
      METADATA_URL,
    )
  })
})

describe('resourceMetadataResponse(gate, request)', () => {
  it('the document for its path, undefined for any other request', async () => {
    const gate = gateFor(ORIGIN_RESOURCE)
    const origin = await listen(async (request) => {
      const metadata = resourceMetadataResponse(gate, request)
      if (metadata) return metadata
      const { auth, response } = await authenticate(gate, request)
      return response ?? Response.json({ sub: auth?.claims.sub })
    })
    await expectDocument(origin, ROOT_PATH, {
      resource: ORIGIN_RESOURCE,
      authorizationServers: [issuer.issuer],
    })
    const none = await ask(origin, `/notes${ROOT_PATH}`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${ORIGIN_RESOURCE}${ROOT_PATH}"`,
    )
  })

  it('without a resource, undefined', () => {
    const request = new Request(`https://api.gatehouse.test${ROOT_PATH}`)
    expect(resourceMetadataResponse(gateFor(), request)).toBeUndefined()
  })
})
