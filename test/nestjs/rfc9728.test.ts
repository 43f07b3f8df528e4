/**
 * RFC 9728 on gatehouse/nestjs, over real HTTP (NestJS 11, platform-express, 127.0.0.1) against a real
 * dev issuer: the module serves the document when its gate has a `resource`, at the root of the host
 * whatever the global prefix and outside the guard; the challenges name it; the audience is the
 * resource (RFC 8707).
 */
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { Controller, Get, type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { GatehouseModule, RequireScopes } from '../../src/nestjs/index.js'
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

@Controller()
class NotesController {
  @Get('notes')
  notes() {
    return { ok: true }
  }

  @RequireScopes('notes:write')
  @Get('drafts')
  drafts() {
    return { ok: true }
  }
}

let issuer: DevIssuer
const apps: INestApplication[] = []

async function start(imports: Parameters<typeof Module>[0]['imports'], prefix?: string): Promise<string> {
  @Module({ imports, controllers: [NotesController] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false })
  apps.push(app)
  if (prefix !== undefined) app.setGlobalPrefix(prefix)
  await app.listen(0, '127.0.0.1')
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
}

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await issuer?.close()
})

describe('GatehouseModule.forRoot with a resource, under a global prefix', () => {
  let origin: string
  beforeAll(async () => {
    origin = await start(
      [GatehouseModule.forRoot({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, resource: RESOURCE })],
      'api',
    )
  })

  it('serves the document at the root of the host, path-suffixed, without a token', async () => {
    await expectDocument(origin, METADATA_PATH, { resource: RESOURCE, authorizationServers: [issuer.issuer] })
    expect((await ask(origin, `/api${METADATA_PATH}`)).status).toBe(404)
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
  })

  it('every challenge names the document; the audience is the resource', async () => {
    await expectChallengesAndAudience(
      origin,
      issuer,
      { protectedPath: '/api/notes', scopedPath: '/api/drafts' },
      RESOURCE,
      METADATA_URL,
    )
  })
})

describe('GatehouseModule.forRootAsync', () => {
  it('serves the document of the gate its factory makes, at the root location for a bare origin', async () => {
    const origin = await start([
      GatehouseModule.forRootAsync({
        useFactory: async () => ({
          issuer: issuer.issuer,
          jwksUri: issuer.jwksUri,
          resource: ORIGIN_RESOURCE,
        }),
      }),
    ])
    await expectDocument(origin, ROOT_PATH, {
      resource: ORIGIN_RESOURCE,
      authorizationServers: [issuer.issuer],
    })
  })
})

describe('without a resource', () => {
  it('serves nothing: the path is an unknown route', async () => {
    const origin = await start([
      GatehouseModule.forRoot({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience }),
    ])
    expect((await ask(origin, ROOT_PATH)).status).toBe(404)
    expect((await ask(origin, '/notes')).headers.get('www-authenticate')).toBe('Bearer')
  })
})
