/**
 * The core with Web APIs only, on workerd: a Worker bundled from src/ (esbuild, Workers' conditions, no
 * `node:` modules, no nodejs_compat flag) runs in Miniflare and verifies real dev-issuer tokens, its keys
 * fetched over real HTTP on 127.0.0.1: through a JWKS URL and through discovery (RFC 8414 / OIDC
 * Discovery), for RS256, ES256 and EdDSA, with WebCrypto. The contract suite runs the web example there
 * too (`web-workerd`); this covers what it does not: discovery, every key family, a redirect refused by
 * workerd's own fetch, and a Worker with the `nodejs_compat` flag, whose `node:crypto` refuses the call
 * made for ECDSA (so Gatehouse stays on WebCrypto there too).
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'

/** The Worker: POST `{ options, token }`, answered with the claims' `sub` or the error's code and causes. */
const WORKER = `
import { createVerifier, isGatehouseError } from './src/index.ts'
import { cryptoRuntime } from './src/core/crypto/signature.ts'

const verifiers = new Map()
function causes(error) {
  const messages = []
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message)
  return messages.join(' / ')
}
export default {
  async fetch(request) {
    const { options, token } = await request.json()
    const key = JSON.stringify(options)
    if (!verifiers.has(key)) verifiers.set(key, createVerifier(options))
    const runtime = { crypto: cryptoRuntime, process: typeof globalThis.process }
    try {
      const { claims } = await verifiers.get(key).verify(token)
      return Response.json({ ...runtime, sub: claims.sub })
    } catch (error) {
      if (!isGatehouseError(error)) throw error
      return Response.json({ ...runtime, code: error.code, causes: causes(error) })
    }
  },
}`

interface Answer {
  crypto: string
  process: string
  sub?: string
  code?: string
  causes?: string
}

const ALGS = ['RS256', 'ES256', 'EdDSA'] as const
let mf: Miniflare
const issuers = new Map<string, DevIssuer>()
let moved: JwksServer

/** The same Worker twice: with no flag (Web APIs only), and with `nodejs_compat` (`process`, `node:*`). */
const WORKERS = { web: [], 'nodejs-compat': ['nodejs_compat'] } as const

async function ask(
  options: Record<string, unknown>,
  token: string,
  worker: keyof typeof WORKERS = 'web',
): Promise<Answer> {
  // Miniflare types the Worker's fetch with workers-types' Request; at run time it takes a plain init.
  const { fetch: send } = (await mf.getWorker(worker)) as unknown as { fetch: typeof fetch }
  const response = await send('http://127.0.0.1/', {
    method: 'POST',
    body: JSON.stringify({ options, token }),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as Answer
}

beforeAll(async () => {
  const { outputFiles } = await build({
    stdin: { contents: WORKER, resolveDir: fileURLToPath(new URL('../../', import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
  })
  mf = new Miniflare({
    workers: Object.entries(WORKERS).map(([name, compatibilityFlags]) => ({
      name,
      modules: true,
      script: outputFiles[0]!.text,
      compatibilityDate: '2026-04-01',
      compatibilityFlags: [...compatibilityFlags],
    })),
  })
  const started = await Promise.all([
    mf.ready,
    ...ALGS.map((alg) => startDevIssuer({ dataDir: null, alg })),
    startJwksServer(),
  ])
  for (const [i, alg] of ALGS.entries()) issuers.set(alg, started[i + 1] as DevIssuer)
  moved = started.at(-1) as JwksServer
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  await Promise.all([...issuers.values()].map((issuer) => issuer.close()))
  await moved?.close()
})

describe.each(ALGS)('%s on workerd', (alg) => {
  it('verifies a token with the key set at its JWKS URL, on WebCrypto, without `process`', async () => {
    const issuer = issuers.get(alg)!
    const token = await issuer.mint({}, { sub: `alice-${alg}` })
    const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
    expect(await ask(options, token)).toEqual({
      crypto: 'webcrypto',
      process: 'undefined',
      sub: `alice-${alg}`,
    })
  })

  it('verifies a token with the key set found by discovery', async () => {
    const issuer = issuers.get(alg)!
    const token = await issuer.mint({}, { sub: 'bob' })
    const options = { issuer: issuer.issuer, audience: issuer.audience, discovery: true }
    expect((await ask(options, token)).sub).toBe('bob')
  })

  it('refuses a token whose signature was changed', async () => {
    const issuer = issuers.get(alg)!
    const token = await issuer.mint({}, { sub: 'mallory' })
    const dot = token.lastIndexOf('.')
    const forged = `${token.slice(0, dot + 5)}${token[dot + 5] === 'A' ? 'B' : 'A'}${token.slice(dot + 6)}`
    const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
    expect((await ask(options, forged)).code).toBe('ERR_JWS_SIGNATURE_INVALID')
  })
})

describe.each(ALGS)('%s on workerd with nodejs_compat', (alg) => {
  it('verifies a token on WebCrypto: workerd’s node:crypto refuses a KeyObject in verify’s options', async () => {
    const issuer = issuers.get(alg)!
    const token = await issuer.mint({}, { sub: 'carol' })
    const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
    expect(await ask(options, token, 'nodejs-compat')).toEqual({
      crypto: 'webcrypto',
      process: 'object',
      sub: 'carol',
    })
  })
})

it('refuses a key set that redirects (workerd’s fetch, redirect: manual)', async () => {
  const issuer = issuers.get('ES256')!
  moved.set('/jwks', { status: 302, body: '', headers: { location: issuer.jwksUri } })
  const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: moved.url('/jwks') }
  const answer = await ask(options, await issuer.mint({}, { sub: 'alice' }))
  expect(answer.code).toBe('ERR_JWKS_UNAVAILABLE')
  expect(answer.causes).toContain(
    `${moved.url('/jwks')} answered HTTP 302, a redirect, which is not followed`,
  )
})
