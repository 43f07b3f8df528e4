import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { beforeAll, describe, expect, it } from 'vitest'
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
  resourceFixture,
} from '../helpers/resource-metadata.js'

const fixture = resourceFixture()
const { gateFor } = fixture

async function listen(fetch: (request: Request) => Promise<Response>): Promise<string> {
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }) as Server
  return fixture.origin(server)
}

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
    await expectDocument(origin, METADATA_PATH, {
      resource: RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
    expect((await ask(origin, ROOT_PATH)).status).toBe(401)
  })

  it('every challenge names the document; the audience is the resource', async () => {
    await expectChallengesAndAudience(
      origin,
      fixture.issuer(),
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
      authorizationServers: [fixture.issuer().issuer],
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
