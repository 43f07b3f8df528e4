import { createServer, type RequestListener } from 'node:http'
import { beforeAll, describe, expect, it } from 'vitest'
import type { JWTClaims } from '../../src/core/types.js'
import { authenticate, type NodeHandler, serveResourceMetadata, withAuth } from '../../src/node/index.js'
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

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener).listen(0, '127.0.0.1')
  return fixture.origin(server)
}

describe('withAuth', () => {
  let origin: string
  beforeAll(async () => {
    const gate = gateFor(RESOURCE)
    const ok: NodeHandler<unknown, JWTClaims> = (_req, res) => {
      res.end('{"ok":true}')
    }
    const handler = withAuth(gate, ok)
    const drafts = withAuth(gate, ok, { rule: { scopes: 'notes:write' } })
    origin = await listen((req, res) => (req.url === '/drafts' ? drafts : handler)(req, res))
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

describe('serveResourceMetadata(gate, req, res)', () => {
  it('answers the document and says so; any other request is left to the caller, untouched', async () => {
    const gate = gateFor(ORIGIN_RESOURCE)
    const origin = await listen(async (req, res) => {
      if (serveResourceMetadata(gate, req, res)) return
      if (res.headersSent) throw new Error('wrote to a request it did not answer')
      const auth = await authenticate(gate, req, res)
      if (auth) res.end('{"ok":true}')
    })
    await expectDocument(origin, ROOT_PATH, {
      resource: ORIGIN_RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
    const none = await ask(origin, '/notes')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${ORIGIN_RESOURCE}${ROOT_PATH}"`,
    )
  })

  it('without a resource, answers nothing', async () => {
    const gate = gateFor()
    const origin = await listen((req, res) => {
      if (!serveResourceMetadata(gate, req, res)) res.writeHead(404).end()
    })
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
  })
})
