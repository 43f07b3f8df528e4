/**
 * RFC 9728 on gatehouse/fastify, over real HTTP against a real dev issuer: the plugin serves the
 * document as a public route when the gate has a `resource` (every other route stays protected), the
 * challenges name it, and the audience is the resource (RFC 8707). An app's own route at that path is
 * left alone; under a prefix the plugin does not serve it, and says so.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { gatehouse } from '../../src/fastify/index.js'
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
const apps: FastifyInstance[] = []

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
})
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})
afterAll(async () => {
  await issuer?.close()
})

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app)
  return app.listen({ host: '127.0.0.1', port: 0 })
}

/** An app protecting everything (the plugin's default), with a read and a write route. */
async function app(resource: string | undefined): Promise<FastifyInstance> {
  const fastify = Fastify()
  await fastify.register(gatehouse, {
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    ...(resource === undefined ? { audience: issuer.audience } : { resource }),
  })
  fastify.get('/notes', async () => ({ ok: true }))
  fastify.get('/drafts', { config: { access: { scopes: 'notes:write' } } }, async () => ({ ok: true }))
  return fastify
}

describe('the plugin with a resource', () => {
  it('serves the document at the path-suffixed location, public, with its headers', async () => {
    const origin = await listen(await app(RESOURCE))
    await expectDocument(origin, METADATA_PATH, { resource: RESOURCE, authorizationServers: [issuer.issuer] })
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
  })

  it('for a bare origin, at the root location', async () => {
    const origin = await listen(await app(ORIGIN_RESOURCE))
    await expectDocument(origin, ROOT_PATH, {
      resource: ORIGIN_RESOURCE,
      authorizationServers: [issuer.issuer],
    })
  })

  it('every challenge names the document; the audience is the resource', async () => {
    const origin = await listen(await app(RESOURCE))
    await expectChallengesAndAudience(
      origin,
      issuer,
      { protectedPath: '/notes', scopedPath: '/drafts' },
      RESOURCE,
      METADATA_URL,
    )
  })

  it('leaves the app’s own route at that path alone', async () => {
    const fastify = Fastify()
    fastify.get(METADATA_PATH, { config: { access: 'public' } }, async () => ({ own: true }))
    await fastify.register(gatehouse, { issuer: issuer.issuer, jwksUri: issuer.jwksUri, resource: RESOURCE })
    const origin = await listen(fastify)
    expect(JSON.parse((await ask(origin, METADATA_PATH)).text)).toEqual({ own: true })
  })

  it('under a prefix, does not serve it (it would not be at the root) and says so in the log', async () => {
    const warnings: string[] = []
    const fastify = Fastify({
      logger: { level: 'warn', stream: { write: (line: string) => warnings.push(line) } },
    })
    const gate = createGate({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, resource: RESOURCE })
    await fastify.register(
      async (api) => {
        await api.register(gatehouse, { gate })
        api.get('/notes', async () => ({ ok: true }))
      },
      { prefix: '/api' },
    )
    const origin = await listen(fastify)
    gate.close()
    expect((await ask(origin, METADATA_PATH)).status).toBe(404)
    expect((await ask(origin, `/api${METADATA_PATH}`)).status).toBe(404)
    expect(warnings.join('')).toContain(`does not serve the Protected Resource Metadata at ${METADATA_PATH}`)
  })
})

describe('the plugin without a resource', () => {
  it('serves nothing: the path is an unknown URL, and challenges name nothing', async () => {
    const origin = await listen(await app(undefined))
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
    expect((await ask(origin, '/notes')).headers.get('www-authenticate')).toBe('Bearer')
  })
})
