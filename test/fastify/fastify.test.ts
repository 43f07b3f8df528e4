/**
 * gatehouse/fastify over real HTTP (Fastify 5 on 127.0.0.1) against a real dev issuer: what the contract
 * suite cannot see — protectAll and public routes, the plugin's name and encapsulation, route rules
 * validated at start-up, where errors go, and closing the gate.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { type AuthContext, assertOwner } from '../../src/core/authz/index.js'
import { GatehouseError } from '../../src/core/errors.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import gatehouseDefault, {
  authOf,
  authorize,
  gatehouse,
  requireGroups,
  requirePermissions,
  requireRoles,
  requireScopes,
  sendError,
} from '../../src/fastify/index.js'

let issuer: DevIssuer
let options: { issuer: string; audience: string; jwksUri: string }
const apps: FastifyInstance[] = []

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
})
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})
afterAll(async () => {
  await issuer?.close()
})

/** Listen on a free loopback port; closed after each test. */
async function listen(
  app: FastifyInstance,
): Promise<(path: string, init?: { token?: string; method?: string }) => Promise<Answer>> {
  apps.push(app)
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  return async (path, init = {}) => {
    const headers: Record<string, string> = init.token ? { authorization: `Bearer ${init.token}` } : {}
    const response = await fetch(origin + path, { method: init.method ?? 'GET', headers })
    const text = await response.text()
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: text ? JSON.parse(text) : null,
    }
  }
}
interface Answer {
  status: number
  challenge: string | null
  // biome-ignore lint/suspicious/noExplicitAny: test bodies
  body: any
}

describe('plugin metadata', () => {
  it('is a fastify-plugin named "gatehouse" for Fastify 5, also the default export', () => {
    const meta = (gatehouse as unknown as Record<symbol, { name: string; fastify: string }>)[
      Symbol.for('plugin-meta')
    ]
    expect(meta).toMatchObject({ name: 'gatehouse', fastify: '5.x' })
    expect((gatehouse as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')]).toBe(true)
    expect(gatehouseDefault).toBe(gatehouse)
  })
})

describe('protectAll', () => {
  it('by default every route needs a valid token; config.access: "public" makes one public and ignores its token', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    app.get('/private', async (request) => {
      expectTypeOf(request.auth).toEqualTypeOf<AuthContext | null>()
      return { sub: request.auth?.claims.sub }
    })
    app.get('/public', { config: { access: 'public' } }, async (request) => ({ auth: request.auth }))
    const get = await listen(app)

    expect(await get('/private')).toMatchObject({
      status: 401,
      challenge: 'Bearer',
      body: { code: 'ERR_NO_TOKEN' },
    })
    expect(await get('/private', { token: await issuer.mint({}, { sub: 'alice' }) })).toMatchObject({
      status: 200,
      body: { sub: 'alice' },
    })
    expect(await get('/public')).toMatchObject({ status: 200, body: { auth: null } })
    // Gatehouse does not touch a public route: even a garbage token is not looked at.
    expect(await get('/public', { token: 'not-a-jwt' })).toMatchObject({ status: 200, body: { auth: null } })
  })

  it('unknown URLs answer 404, not 401', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    const get = await listen(app)
    expect((await get('/nowhere')).status).toBe(404)
  })

  it('protectAll: false leaves routes without config.access alone and enforces those with one', async () => {
    const app = Fastify()
    await app.register(gatehouse, { ...options, protectAll: false })
    app.get('/open', async (request) => ({ auth: request.auth }))
    app.get('/scoped', { config: { access: { scopes: 'read:messages' } } }, async () => ({ ok: true }))
    const get = await listen(app)
    expect(await get('/open')).toMatchObject({ status: 200, body: { auth: null } })
    expect((await get('/scoped')).status).toBe(401)
    const answer = await get('/scoped', { token: await issuer.mint({ scope: 'write:messages' }) })
    expect(answer).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_SCOPE' } })
    expect(answer.challenge).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="read:messages"',
    )
  })

  it('the plugin option `rule` is the rule of routes without config.access', async () => {
    const app = Fastify()
    await app.register(gatehouse, { ...options, rule: { optional: ['GET'] } })
    app.get('/posts', async (request) => ({ anonymous: request.auth === null }))
    app.post('/posts', async () => ({ ok: true }))
    const get = await listen(app)
    expect(await get('/posts')).toMatchObject({ status: 200, body: { anonymous: true } })
    expect((await get('/posts', { method: 'POST' })).status).toBe(401)
  })
})

describe('rules', () => {
  it('a wrong route rule stops start-up with a TypeError naming it', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    expect(() => app.get('/x', { config: { access: { scope: 'read' } as never } }, async () => ({}))).toThrow(
      /rule\.scope: unknown option/,
    )
    await app.close()
  })

  it('preHandler helpers authorize after the plugin’s check', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    app.get('/roles', { preHandler: requireRoles({ any: ['admin', 'editor'] }) }, async () => ({ ok: true }))
    app.get('/permissions', { preHandler: requirePermissions('read:users') }, async () => ({ ok: true }))
    app.get('/groups', { preHandler: requireGroups('staff') }, async () => ({ ok: true }))
    app.post(
      '/drafts',
      { config: { access: { optional: true } }, preHandler: requireScopes('write:messages') },
      async () => ({ ok: true }),
    )
    app.get('/methods', { preHandler: authorize({ methods: { GET: { roles: 'admin' } } }) }, async () => ({
      ok: true,
    }))
    const get = await listen(app)

    expect((await get('/roles', { token: await issuer.mint({ roles: ['editor'] }) })).status).toBe(200)
    expect(await get('/roles', { token: await issuer.mint({ roles: ['viewer'] }) })).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_ROLE' },
    })
    expect(await get('/permissions', { token: await issuer.mint({}) })).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_PERMISSION' },
    })
    expect(await get('/groups', { token: await issuer.mint({ groups: ['staff'] }) })).toMatchObject({
      status: 200,
    })
    expect(await get('/drafts', { method: 'POST' })).toMatchObject({ status: 401, challenge: 'Bearer' })
    expect(
      (await get('/drafts', { method: 'POST', token: await issuer.mint({ scope: 'write:messages' }) }))
        .status,
    ).toBe(200)
    expect(await get('/methods', { token: await issuer.mint({}) })).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_ROLE' },
    })
  })

  it('a preHandler without the plugin registered is a wiring error (500), not a 401', async () => {
    const app = Fastify()
    app.get('/x', { preHandler: requireScopes('x') }, async () => ({ ok: true }))
    const get = await listen(app)
    const answer = await get('/x')
    expect(answer.status).toBe(500)
    expect(answer.body.message).toMatch(/register the gatehouse plugin/)
  })
})

describe('errors', () => {
  it('renders a GatehouseError thrown in a handler (assertOwner) and passes other errors on', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    app.delete<{ Params: { owner: string } }>('/posts/:owner', async (request, reply) => {
      assertOwner(authOf(request), request.params.owner)
      return reply.code(204).send()
    })
    app.get('/boom', async () => {
      throw new Error('handler bug')
    })
    const get = await listen(app)
    const token = await issuer.mint({}, { sub: 'alice' })
    expect((await get('/posts/alice', { method: 'DELETE', token })).status).toBe(204)
    expect(await get('/posts/bob', { method: 'DELETE', token })).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_OWNER', required: { owner: { claim: 'sub' } } },
    })
    expect(await get('/boom', { token })).toMatchObject({ status: 500, body: { message: 'handler bug' } })
  })

  it('errors of the principal hook reach the app’s error handler unchanged', async () => {
    const seen: unknown[] = []
    const app = Fastify()
    await app.register(gatehouse, {
      ...options,
      principal: (a) => {
        if (a.claims.sub === 'crash') throw new Error('user store down')
        return { name: a.claims.sub }
      },
    })
    await app.register(async (child) => {
      child.setErrorHandler((error, _request, reply) => {
        seen.push(error)
        return reply.code(500).send({ appError: (error as Error).message })
      })
      child.get('/me', async (request) => ({ principal: request.auth?.principal }))
    })
    const get = await listen(app)
    expect(await get('/me', { token: await issuer.mint({}, { sub: 'ann' }) })).toMatchObject({
      status: 200,
      body: { principal: { name: 'ann' } },
    })
    expect(await get('/me', { token: await issuer.mint({}, { sub: 'crash' }) })).toMatchObject({
      status: 500,
      body: { appError: 'user store down' },
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]).not.toBeInstanceOf(GatehouseError)
  })

  it.each([
    ['before', true],
    ['after', false],
  ] as const)(
    'leaves the app’s error handler alone, set %s the plugin, with allowErrorHandlerOverride: false',
    async (_when, before) => {
      const seen: unknown[] = []
      const app = Fastify({ allowErrorHandlerOverride: false })
      const appHandler = (error: Error, _request: unknown, reply: FastifyReply) => {
        seen.push(error)
        return reply.code(500).send({ appError: error.message })
      }
      if (before) app.setErrorHandler(appHandler)
      await app.register(gatehouse, options)
      if (!before) app.setErrorHandler(appHandler)
      app.get('/owner', async (request) => {
        assertOwner(authOf(request), 'someone-else')
        return {}
      })
      app.get('/boom', async () => {
        throw new Error('handler bug')
      })
      const get = await listen(app)
      const token = await issuer.mint({}, { sub: 'alice' })
      // The handler's GatehouseError is the gate's response; the app's handler never sees it.
      const owner = await get('/owner', { token })
      expect(owner).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_OWNER' } })
      expect(owner.challenge).toMatch(/^Bearer error="insufficient_scope"/)
      expect(await get('/boom', { token })).toMatchObject({ status: 500, body: { appError: 'handler bug' } })
      expect(seen).toHaveLength(1)
      expect(app.errorHandler.name).toBe(`bound ${appHandler.name}`)
    },
  )

  it('says once in the log when a route was added before the plugin finished loading', async () => {
    const warnings: string[] = []
    const stream = { write: (line: string) => void warnings.push(JSON.parse(line).msg) }
    const late = Fastify({ logger: { level: 'warn', stream } })
    void late.register(gatehouse, options) // not awaited: the route below misses the plugin's onRoute hook
    late.get('/late', async (request) => ({ sub: authOf(request).claims.sub }))
    const early = Fastify({ logger: { level: 'warn', stream } })
    await early.register(gatehouse, options)
    early.get('/early', async (request) => ({ sub: authOf(request).claims.sub }))
    const getLate = await listen(late)
    const getEarly = await listen(early)
    const token = await issuer.mint({}, { sub: 'alice' })
    expect(await getLate('/late', { token })).toMatchObject({ status: 200 })
    expect(await getLate('/late', { token })).toMatchObject({ status: 200 })
    expect(await getEarly('/early', { token })).toMatchObject({ status: 200 })
    expect(warnings).toEqual([
      expect.stringMatching(/^gatehouse: GET \/late was added before the plugin finished loading/),
    ])
  })

  it('a route’s own errorHandler gets every error but the GatehouseErrors', async () => {
    const app = Fastify()
    await app.register(gatehouse, options)
    const routeHandler = (error: Error, _request: unknown, reply: FastifyReply) =>
      reply.code(418).send({ routeError: error.message })
    app.get('/owner', { errorHandler: routeHandler }, async (request) => {
      assertOwner(authOf(request), 'someone-else')
      return {}
    })
    app.get('/boom', { errorHandler: routeHandler }, async () => {
      throw new Error('handler bug')
    })
    const get = await listen(app)
    const token = await issuer.mint({}, { sub: 'alice' })
    expect(await get('/owner', { token })).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_OWNER' } })
    expect(await get('/boom', { token })).toMatchObject({ status: 418, body: { routeError: 'handler bug' } })
  })

  it('errorHandler: false leaves GatehouseErrors to the app, which can render them with sendError', async () => {
    const seen: unknown[] = []
    const app = Fastify()
    await app.register(gatehouse, { ...options, errorHandler: false, realm: 'api' })
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error)
      if (error instanceof GatehouseError) return sendError(reply, error)
      return reply.code(500).send({ appError: true })
    })
    app.get('/owner', async (request) => {
      assertOwner(authOf(request), 'someone-else')
      return {}
    })
    const get = await listen(app)
    const answer = await get('/owner', { token: await issuer.mint({}, { sub: 'alice' }) })
    expect(answer).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_OWNER' } })
    expect(answer.challenge).toMatch(/^Bearer realm="api", error="insufficient_scope"/)
    expect(seen).toHaveLength(1)
  })

  it('errorHandler: false installs no handler: without one of the app’s, Fastify’s default answers', async () => {
    const app = Fastify()
    await app.register(gatehouse, { ...options, errorHandler: false })
    app.get('/owner', async (request) => {
      assertOwner(authOf(request), 'someone-else')
      return {}
    })
    const get = await listen(app)
    const answer = await get('/owner', { token: await issuer.mint({}, { sub: 'alice' }) })
    expect(answer.body).toHaveProperty('statusCode')
    expect(answer.body).not.toHaveProperty('error_description')
  })
})

describe('token locations', () => {
  it("refuses tokenLocations: ['body'] at registration: the onRequest hook runs before the body is read", async () => {
    for (const tokenLocations of [['body'], ['header', 'body']] as const) {
      const app = Fastify()
      await expect(app.register(gatehouse, { ...options, tokenLocations })).rejects.toThrow(
        /tokenLocations: 'body' cannot work with gatehouse\/fastify, which verifies in an onRequest hook, before the body is read/,
      )
      await app.close()
    }
    const gate = createGate({ ...options, tokenLocations: ['body'] })
    const app = Fastify()
    await expect(app.register(gatehouse, { gate })).rejects.toThrow(TypeError)
    await app.close()
    gate.close()
  })

  it("accepts 'header' and 'query'", async () => {
    const app = Fastify()
    await app.register(gatehouse, { ...options, tokenLocations: ['header', 'query'] })
    app.get('/me', async (request) => ({ sub: authOf(request).claims.sub }))
    const get = await listen(app)
    const token = await issuer.mint({}, { sub: 'alice' })
    expect(await get(`/me?access_token=${token}`)).toMatchObject({ status: 200, body: { sub: 'alice' } })
  })
})

describe('encapsulation and lifecycle', () => {
  it('registered in a child context, it protects that context only', async () => {
    const app = Fastify()
    await app.register(async (child) => {
      await child.register(gatehouse, options)
      child.get('/inside', async () => ({ ok: true }))
    })
    app.get('/outside', async (request) => ({ auth: request.auth ?? 'undecorated' }))
    const get = await listen(app)
    expect((await get('/inside')).status).toBe(401)
    expect(await get('/outside')).toMatchObject({ status: 200, body: { auth: 'undecorated' } })
    expect(app.hasDecorator('gatehouse')).toBe(false)
  })

  it('decorates the instance with the gate, closes a gate it built, and leaves a given gate open', async () => {
    const built = Fastify()
    await built.register(gatehouse, options)
    await built.ready()
    let closed = 0
    const close = built.gatehouse.close
    built.gatehouse.close = () => {
      closed++
      close()
    }
    await built.close()
    expect(closed).toBe(1)

    const given: Gate = createGate(options)
    let givenClosed = 0
    const app = Fastify()
    await app.register(gatehouse, { gate: { ...given, close: () => givenClosed++ } })
    await app.ready()
    expect(typeof app.gatehouse.check).toBe('function')
    await app.close()
    expect(givenClosed).toBe(0)
    given.close()
  })
})
