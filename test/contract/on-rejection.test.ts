/**
 * The gate's `onRejection` is the one place where an application sees why requests were refused: every
 * adapter reports there every refusal it renders, the pipeline's (401 without a token) and the ones
 * handlers throw (403 from `assertOwner`), with the method and the path (never the query, never the token).
 * Each adapter runs in this process over real HTTP on 127.0.0.1.
 */
import 'reflect-metadata'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Controller, Delete, HttpCode, type INestApplication, Module, Param } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuthContext, assertOwner } from '../../src/core/authz/index.js'
import { createGate, type Gate, type RejectionEvent } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import * as ex from '../../src/express/index.js'
import fastifyGatehouse, { authOf as fastifyAuthOf } from '../../src/fastify/index.js'
import * as hono from '../../src/hono/index.js'
import { Auth, GatehouseModule } from '../../src/nestjs/index.js'
import * as node from '../../src/node/index.js'
import * as web from '../../src/web/index.js'
import { listening } from '../helpers/listening.js'

let issuer: DevIssuer
let token: string
const events: RejectionEvent[] = []
const closers: (() => Promise<unknown> | unknown)[] = []

function options() {
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
    onRejection: (event: RejectionEvent) => events.push(event),
  }
}

/**
 * Each adapter serves `DELETE /posts/:owner` (a valid token, then `assertOwner` in the handler) and
 * resolves with its origin.
 */
const adapters: Record<string, (gate: Gate) => Promise<string>> = {
  async express(gate) {
    const app = express()
    app.delete('/posts/:owner', ex.authenticate(gate), (req, res) => {
      assertOwner(ex.authOf(req), req.params.owner as string)
      res.status(204).end()
    })
    app.use(ex.errorHandler())
    return listening(app.listen(0, '127.0.0.1'), closers)
  },
  async fastify(gate) {
    const app = Fastify()
    await app.register(fastifyGatehouse, { gate })
    app.delete<{ Params: { owner: string } }>('/posts/:owner', async (request, reply) => {
      assertOwner(fastifyAuthOf(request), request.params.owner)
      return reply.code(204).send()
    })
    closers.push(() => app.close())
    return app.listen({ host: '127.0.0.1', port: 0 })
  },
  async hono(gate) {
    const app = new Hono()
    app.onError(hono.errorHandler())
    app.delete('/posts/:owner', hono.authenticate(gate), (c) => {
      assertOwner(hono.authOf(c), c.req.param('owner'))
      return c.body(null, 204)
    })
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
  async nestjs(gate) {
    @Controller('posts')
    class PostsController {
      @Delete(':owner')
      @HttpCode(204)
      remove(@Auth() auth: AuthContext, @Param('owner') owner: string) {
        assertOwner(auth, owner)
      }
    }
    @Module({ imports: [GatehouseModule.forRoot(gate)], controllers: [PostsController] })
    class AppModule {}
    const app: INestApplication = await NestFactory.create(AppModule, { logger: false })
    await app.listen(0, '127.0.0.1')
    closers.push(() => app.close())
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
  },
  async node(gate) {
    const handler = node.withAuth(gate, (req, res, auth) => {
      assertOwner(auth!, decodeURIComponent(req.url!.split('?')[0]!.split('/')[2]!))
      res.writeHead(204).end()
    })
    return listening(createServer(handler).listen(0, '127.0.0.1'), closers)
  },
  async web(gate) {
    const handle = web.withAuth(gate, (request, auth) => {
      assertOwner(auth!, new URL(request.url).pathname.split('/')[2]!)
      return new Response(null, { status: 204 })
    })
    const fetch = async (request: Request) => {
      try {
        return await handle(request)
      } catch (error) {
        return web.errorToResponse(gate, request, error as never)
      }
    }
    return listening(serve({ fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
}

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  token = await issuer.mint({}, { sub: 'alice' })
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await issuer?.close()
})

describe.each(Object.keys(adapters))('%s', (name) => {
  it('reports the pipeline’s 401 and a handler’s 403 to onRejection, with method and path only', async () => {
    const gate = createGate(options())
    closers.push(() => gate.close())
    const origin = await adapters[name]!(gate)
    events.length = 0

    const anonymous = await fetch(`${origin}/posts/alice?access_token=nope&x=1`, { method: 'DELETE' })
    expect(anonymous.status).toBe(401)
    const other = await fetch(`${origin}/posts/bob?trace=1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(other.status).toBe(403)
    const owner = await fetch(`${origin}/posts/alice`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(owner.status).toBe(204)

    expect(
      events.map(({ error, method, path }) => ({ code: error.code, status: error.status, method, path })),
    ).toEqual([
      { code: 'ERR_NO_TOKEN', status: 401, method: 'DELETE', path: '/posts/alice' },
      { code: 'ERR_POLICY_OWNER', status: 403, method: 'DELETE', path: '/posts/bob' },
    ])
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2])
  })
})
