/** gatehouse/nestjs over real HTTP (NestJS 11, platform-express, 127.0.0.1) against a real dev issuer. */
import 'reflect-metadata'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  type INestApplication,
  Inject,
  Module,
  Param,
  Post,
  type Type,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuthContext, assertOwner } from '../../src/core/authz/index.js'
import type { Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import {
  Auth,
  Authorize,
  Claims,
  GATEHOUSE_GATE,
  GatehouseExceptionFilter,
  GatehouseGuard,
  GatehouseModule,
  Principal,
  Public,
  RequireRoles,
  RequireScopes,
} from '../../src/nestjs/index.js'

interface User {
  name: string
}

@Controller()
class SeedController {
  @Public()
  @Get('public')
  publicMessage() {
    return { message: 'This is a public message!' }
  }

  // No decorator: protected by the global guard.
  @Get('protected')
  protectedMessage(@Claims('sub') sub: string, @Principal() user: User, @Auth() auth: AuthContext) {
    return { message: 'This is a protected message!', sub, user, scopes: [...auth.scopes] }
  }
}

@Controller('scoped')
@RequireScopes('read:messages')
class ScopedController {
  @Get('inherited')
  inherited() {
    return { ok: 'inherited' }
  }

  @RequireScopes({ any: ['admin', 'write:messages'] })
  @Get('override')
  override() {
    return { ok: 'override' }
  }

  @RequireRoles('admin')
  @Get('roles')
  roles() {
    return { ok: 'roles' }
  }

  @RequireScopes(['a', 'b'])
  @Get('all')
  all() {
    return { ok: 'all' }
  }

  @Public()
  @Get('open')
  open(@Auth() auth: AuthContext | null) {
    return { auth }
  }
}

@Controller('open')
@Public()
class OpenController {
  @Get()
  open() {
    return { ok: 'open' }
  }

  @RequireScopes('admin')
  @Get('locked')
  locked() {
    return { ok: 'locked' }
  }
}

// A class that lets anyone read, and a handler that requires more: both levels must pass.
@Controller('reports')
@Authorize({ optional: ['GET'] })
class ReportsController {
  @Get()
  list(@Auth() auth: AuthContext | null) {
    return { anonymous: auth === null }
  }

  @RequireScopes('admin')
  @Get('admin')
  admin(@Claims('sub') sub: string) {
    return { admin: true, sub }
  }
}

@Controller('posts')
@Authorize({ optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
class PostsController {
  constructor(@Inject(GATEHOUSE_GATE) readonly gate: Gate) {}

  @Get()
  list(@Auth() auth: AuthContext | null) {
    return auth === null ? { anonymous: true } : { anonymous: false, sub: auth.claims.sub }
  }

  @Post()
  create() {
    return { created: true, gateInjected: typeof this.gate.check === 'function' }
  }

  @Delete(':owner')
  @HttpCode(204)
  remove(@Auth() auth: AuthContext, @Param('owner') owner: string) {
    assertOwner(auth, owner)
  }
}

const CONFIG = Symbol('config')

let issuer: DevIssuer
let app: INestApplication
let origin: string

beforeAll(async () => {
  // This file's transform emits decorator metadata; drop it so that the app below proves the adapter's
  // classes resolve from their explicit @Inject tokens alone, as in builds without emitDecoratorMetadata.
  for (const cls of [GatehouseGuard, GatehouseExceptionFilter, GatehouseModule, PostsController]) {
    Reflect.deleteMetadata('design:paramtypes', cls)
  }
  issuer = await startDevIssuer({ dataDir: null })

  @Module({
    providers: [
      {
        provide: CONFIG,
        useValue: { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri },
      },
    ],
    exports: [CONFIG],
  })
  class ConfigModule {}

  @Module({
    imports: [
      GatehouseModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { issuer: string; audience: string; jwksUri: string }) => ({
          ...config,
          principal: (auth: AuthContext): User => {
            if (auth.claims.sub === 'crash') throw new Error('principal store down')
            return { name: `user:${auth.claims.sub}` }
          },
        }),
      }),
    ],
    controllers: [SeedController, ScopedController, OpenController, PostsController, ReportsController],
  })
  class AppModule {}

  app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  origin = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
})

afterAll(async () => {
  await app?.close()
  await issuer?.close()
})

async function call(path: string, token?: string, method = 'GET') {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const response = await fetch(origin + path, { method, headers, signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  }
}

const mint = (claims: Record<string, unknown> = {}, sub = 'alice') => issuer.mint(claims, { sub })

describe('the global guard', () => {
  it('lets @Public() routes through without a token', async () => {
    expect(await call('/public')).toMatchObject({
      status: 200,
      body: { message: 'This is a public message!' },
    })
  })

  it('protects an undecorated route: 401, bare Bearer challenge on the wire, the gate body', async () => {
    const res = await call('/protected')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'Missing or invalid Authorization header',
      code: 'ERR_NO_TOKEN',
    })
  })

  it('hands @Claims, @Principal and @Auth to the handler', async () => {
    const res = await call('/protected', await mint({ scope: 'read:messages' }))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      message: 'This is a protected message!',
      sub: 'alice',
      user: { name: 'user:alice' },
      scopes: ['read:messages'],
    })
  })

  it('answers 401 invalid_token for an expired token with the challenge', async () => {
    const res = await call('/protected', await issuer.mint({}, { expiresIn: -120 }))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="Token has expired"',
    )
    expect(res.body.code).toBe('ERR_JWT_EXPIRED')
  })

  it('sees every repeated Authorization header (Node keeps only the first): 400 invalid_request', async () => {
    const token = await mint()
    // Node sends an array value as one header line per item (its types allow only a string for this one).
    const answer = await new Promise<{ status: number; challenge: unknown }>((resolve, reject) => {
      const req = httpRequest(
        `${origin}/protected`,
        {
          headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] as unknown as string },
          agent: false,
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] }),
          )
        },
      )
      req.setTimeout(5000, () => req.destroy(new Error('timeout')))
      req.on('error', reject)
      req.end()
    })
    expect(answer.status).toBe(400)
    expect(answer.challenge).toMatch(/^Bearer error="invalid_request"/)
  })

  it('lets an application error from the principal hook become a 500, not a 401', async () => {
    expect((await call('/protected', await mint({}, 'crash'))).status).toBe(500)
  })
})

describe('requirement decorators', () => {
  it('class-level scopes apply to handlers; 403 carries insufficient_scope with scope=', async () => {
    expect((await call('/scoped/inherited', await mint({ scope: 'read:messages' }))).status).toBe(200)
    const res = await call('/scoped/inherited', await mint({ scope: 'other' }))
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="read:messages"',
    )
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'Insufficient scope',
      code: 'ERR_POLICY_SCOPE',
      required: { scopes: { all: ['read:messages'] } },
    })
  })

  it('a handler @RequireScopes adds to the class one: both must pass', async () => {
    expect((await call('/scoped/override', await mint({ scope: 'read:messages admin' }))).status).toBe(200)
    expect(
      (await call('/scoped/override', await mint({ scope: 'read:messages write:messages' }))).status,
    ).toBe(200)
    const classOnly = await call('/scoped/override', await mint({ scope: 'read:messages' }))
    expect(classOnly.status).toBe(403)
    expect(classOnly.headers.get('www-authenticate')).toContain('scope="admin write:messages"')
    const handlerOnly = await call('/scoped/override', await mint({ scope: 'admin' }))
    expect(handlerOnly.status).toBe(403)
    expect(handlerOnly.headers.get('www-authenticate')).toContain('scope="read:messages"')
  })

  it('a handler requirement under a class that makes GET optional needs a token (both levels pass)', async () => {
    expect(await call('/reports')).toMatchObject({ status: 200, body: { anonymous: true } })
    expect(await call('/reports/admin')).toMatchObject({ status: 401, body: { code: 'ERR_NO_TOKEN' } })
    const weak = await call('/reports/admin', await mint({ scope: 'read:messages' }))
    expect(weak).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_SCOPE' } })
    expect(weak.headers.get('www-authenticate')).toContain('scope="admin"')
    expect(await call('/reports/admin', await mint({ scope: 'admin' }))).toMatchObject({
      status: 200,
      body: { admin: true, sub: 'alice' },
    })
  })

  it('scopes ALL: every one is needed', async () => {
    expect((await call('/scoped/all', await mint({ scope: 'read:messages a b' }))).status).toBe(200)
    expect((await call('/scoped/all', await mint({ scope: 'read:messages a' }))).status).toBe(403)
  })

  it('a handler @RequireRoles adds to the inherited class scopes (another kind)', async () => {
    expect(
      (await call('/scoped/roles', await mint({ scope: 'read:messages', roles: ['admin'] }))).status,
    ).toBe(200)
    expect((await call('/scoped/roles', await mint({ roles: ['admin'] }))).body.code).toBe('ERR_POLICY_SCOPE')
    expect((await call('/scoped/roles', await mint({ scope: 'read:messages' }))).body.code).toBe(
      'ERR_POLICY_ROLE',
    )
  })

  it('@Public() on a handler wins over class requirements, and reads no token', async () => {
    expect(await call('/scoped/open')).toMatchObject({ status: 200, body: { auth: null } })
    expect(await call('/scoped/open', 'garbage!')).toMatchObject({ status: 200, body: { auth: null } })
  })

  it('a handler requirement wins over @Public() on its class', async () => {
    expect((await call('/open')).status).toBe(200)
    expect((await call('/open/locked')).status).toBe(401)
    expect((await call('/open/locked', await mint({ scope: 'admin' }))).status).toBe(200)
  })

  it('validates requirements when the class is defined', () => {
    expect(() => RequireScopes({})).toThrow(TypeError)
    expect(() => Authorize({ optional: true, scopes: 'x' })).toThrow(TypeError)
  })
})

describe('@Authorize (per-method, optional) and owner checks', () => {
  it('GET is optional: anonymous, authenticated, and a bad token still 401', async () => {
    expect(await call('/posts')).toMatchObject({ status: 200, body: { anonymous: true } })
    expect(await call('/posts', await mint({}, 'bob'))).toMatchObject({
      status: 200,
      body: { anonymous: false, sub: 'bob' },
    })
    const bad = await call('/posts', await issuer.mint({}, { expiresIn: -120 }))
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('POST needs write:messages', async () => {
    expect((await call('/posts', undefined, 'POST')).status).toBe(401)
    const weak = await call('/posts', await mint({ scope: 'read:messages' }), 'POST')
    expect(weak.status).toBe(403)
    expect(weak.headers.get('www-authenticate')).toContain('scope="write:messages"')
    expect(await call('/posts', await mint({ scope: 'write:messages' }), 'POST')).toMatchObject({
      status: 201,
      body: { created: true, gateInjected: true },
    })
  })

  it('DELETE /posts/:owner: 204 for the owner; assertOwner in a handler is a 403 ERR_POLICY_OWNER', async () => {
    const token = await mint({}, 'carol')
    expect((await call('/posts/carol', token, 'DELETE')).status).toBe(204)
    const res = await call('/posts/dave', token, 'DELETE')
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ code: 'ERR_POLICY_OWNER', required: { owner: { claim: 'sub' } } })
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="Only the owner may do this"',
    )
  })
})

describe('combinations refused when the application starts', () => {
  /** Start an app with these controllers: resolves with what `app.init()` threw (the app is closed). */
  async function startWith(...controllers: Type[]): Promise<unknown> {
    @Module({
      imports: [
        GatehouseModule.forRoot({
          issuer: issuer.issuer,
          audience: issuer.audience,
          jwksUri: issuer.jwksUri,
        }),
      ],
      controllers,
    })
    class RefusedModule {}
    const refused = await NestFactory.create(RefusedModule, { logger: false })
    try {
      await refused.init()
      return undefined
    } catch (error) {
      return error
    } finally {
      await refused.close()
    }
  }

  it('@Public() with a requirement on the same handler', async () => {
    @Controller('ambiguous')
    class AmbiguousController {
      @RequireScopes('admin')
      @Public()
      @Get()
      ambiguous() {
        return {}
      }
    }
    const error = await startWith(AmbiguousController)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(
      /AmbiguousController\.ambiguous: @Public\(\) together with a requirement/,
    )
  })

  it('@RequireScopes with @Authorize({ scopes }) on one class', async () => {
    @Controller('twice')
    @RequireScopes('a')
    @Authorize({ scopes: 'b' })
    class TwiceController {
      @Get()
      twice() {
        return {}
      }
    }
    expect(String(await startWith(TwiceController))).toMatch(/TypeError: TwiceController: .*both set scopes/)
  })

  it('a handler that lets anonymous requests through under a class that requires a token', async () => {
    @Controller('dead')
    @RequireScopes('read:messages')
    class DeadController {
      @Authorize({ optional: true })
      @Get()
      anyone() {
        return {}
      }
    }
    @Controller('dead-get')
    @Authorize({ methods: { POST: { scopes: 'write:messages' } } })
    class DeadGetController {
      @Authorize({ methods: { GET: 'public' } })
      @Get()
      anyone() {
        return {}
      }
    }
    const error = await startWith(DeadController)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(
      /^DeadController\.anyone: its rule lets every other method through without a token, but DeadController requires one/,
    )
    expect(String(await startWith(DeadGetController))).toMatch(
      /DeadGetController\.anyone: its rule lets GET, HEAD through/,
    )
  })

  it('starts with every combination whose meaning is plain', async () => {
    expect(
      await startWith(SeedController, ScopedController, OpenController, ReportsController),
    ).toBeUndefined()
  })
})
