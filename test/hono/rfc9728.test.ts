import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Gate } from '../../src/core/http/gate.js'
import { authenticate, protectedResourceMetadata, requireScopes } from '../../src/hono/index.js'
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

async function listen(app: Hono): Promise<string> {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server
  return fixture.origin(server)
}

/** The API under /api, protected by one `authenticate()`. */
function api(app: Hono, gate: Gate): Hono {
  app.use('/api/*', authenticate(gate))
  app.get('/api/notes', (c) => c.json({ ok: true }))
  app.get('/api/drafts', requireScopes('notes:write'), (c) => c.json({ ok: true }))
  return app
}

describe('protectedResourceMetadata(gate)', () => {
  let origin: string
  beforeAll(async () => {
    const gate = gateFor(RESOURCE)
    const app = new Hono()
    app.use(protectedResourceMetadata(gate))
    origin = await listen(api(app, gate))
  })

  it('as a middleware for every path: the document at the path-suffixed location, with its headers', async () => {
    await expectDocument(origin, METADATA_PATH, {
      resource: RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
  })

  it('every challenge names the document; the audience is the resource', async () => {
    await expectChallengesAndAudience(
      origin,
      fixture.issuer(),
      { protectedPath: '/api/notes', scopedPath: '/api/drafts' },
      RESOURCE,
      METADATA_URL,
    )
  })

  it('as the handler of the path itself', async () => {
    const gate = gateFor(ORIGIN_RESOURCE)
    const app = new Hono()
    app.on(['GET', 'HEAD', 'OPTIONS', 'POST'], ROOT_PATH, protectedResourceMetadata(gate))
    const origin = await listen(api(app, gate))
    await expectDocument(origin, ROOT_PATH, {
      resource: ORIGIN_RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
  })
})

describe('authenticate() for every path', () => {
  it('serves the document itself, and refuses the rest without a token', async () => {
    const gate = gateFor(RESOURCE)
    const app = new Hono()
    app.use(authenticate(gate))
    app.get('/notes', (c) => c.json({ ok: true }))
    const origin = await listen(app)
    await expectDocument(origin, METADATA_PATH, {
      resource: RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
    const none = await ask(origin, '/notes')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${METADATA_URL}"`)
  })
})

describe('a gate without a resource', () => {
  it('serves nothing and names nothing: the middleware passes every request on', async () => {
    const gate = gateFor()
    const app = new Hono()
    app.use(protectedResourceMetadata(gate))
    app.use(authenticate(gate))
    const origin = await listen(app)
    const answer = await ask(origin, ROOT_PATH)
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe('Bearer')
  })
})
