import express, { type Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { authenticate, protectedResourceMetadata, requireScopes } from '../../src/express/index.js'
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

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1')
  return fixture.origin(server)
}

describe('protectedResourceMetadata(gate) at the root, the API under /api', () => {
  let origin: string
  beforeAll(async () => {
    const gate = gateFor(RESOURCE)
    const app = express()
    app.use(protectedResourceMetadata(gate))
    const api = express.Router()
    api.use(authenticate(gate))
    api.get('/notes', (_req, res) => res.json({ ok: true }))
    api.get('/drafts', requireScopes('notes:write'), (_req, res) => res.json({ ok: true }))
    app.use('/api', api)
    origin = await listen(app)
  })

  it('serves the document at the path-suffixed location, with its headers', async () => {
    await expectDocument(origin, METADATA_PATH, {
      resource: RESOURCE,
      authorizationServers: [fixture.issuer().issuer],
    })
  })

  it('serves only that path: the root location and a trailing slash are not it', async () => {
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
    expect((await ask(origin, `${METADATA_PATH}/`)).status).toBe(404)
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
})

describe('authenticate() mounted at the root', () => {
  it('serves the document itself, for a bare-origin resource at the root location', async () => {
    const gate = gateFor(ORIGIN_RESOURCE)
    const app = express()
    app.use(authenticate(gate))
    app.get('/notes', (_req, res) => res.json({ ok: true }))
    const origin = await listen(app)
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
})

describe('a gate without a resource', () => {
  it('serves nothing and names nothing: the middleware passes every request on', async () => {
    const gate = gateFor()
    const app = express()
    app.use(protectedResourceMetadata(gate))
    app.use(authenticate(gate))
    const origin = await listen(app)
    const answer = await ask(origin, ROOT_PATH)
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe('Bearer')
  })
})
