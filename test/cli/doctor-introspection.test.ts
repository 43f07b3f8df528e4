/**
 * `gatehouse doctor` with client credentials: the introspection endpoint is found (metadata or
 * configured), follows the https rule, answers, and accepts the credentials; the metadata's word on it is
 * reported. Against a dev issuer issuing opaque tokens, and a controllable server for what the dev issuer
 * never does.
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { createTestKeys } from '../../src/testing/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, runCli } from './run-cli.js'

let issuer: DevIssuer
let secret: string
let server: JwksServer

beforeAll(async () => {
  assertBuilt()
  issuer = await startDevIssuer({ tokenFormat: 'opaque' })
  secret = issuer.clients[0]!.clientSecret!
  server = await startJwksServer()
  server.set('/jwks.json', { json: (await createTestKeys('ES256')).jwks })
  server.set('/introspect', { json: { active: false } })
  server.set('/credulous', { json: { active: true, iss: server.origin, aud: 'x' } })
})
afterAll(async () => {
  await issuer?.close()
  await server?.close()
})

/** Resolves `*.gatehouse.test` to 127.0.0.1 in the CLI: loopback reached through a name that is not. */
const PRELOAD = pathToFileURL(fileURLToPath(new URL('fixtures/resolve-test-hosts.mjs', import.meta.url))).href

function lines(stdout: string, mark: '✓' | '✗' | '!' | '·'): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(`  ${mark} `))
}

function doctor(extra: string[], clientSecret = secret) {
  return runCli(
    [
      'doctor',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
      '--client-id',
      'demo-client',
      ...extra,
    ],
    { env: { GATEHOUSE_CLIENT_SECRET: clientSecret } },
  )
}

describe('gatehouse doctor, token introspection', () => {
  it('the dev issuer: endpoint from the metadata, credentials accepted, signed answers advertised, exit 0', async () => {
    const result = await doctor([])
    expect(result.code).toBe(0)
    expect(lines(result.stdout, '✗')).toEqual([])
    expect(lines(result.stdout, '✓').slice(-4)).toEqual([
      `  ✓ introspection_endpoint: ${issuer.introspectionEndpoint} (from the issuer's metadata)`,
      `  ✓ introspection: ${issuer.introspectionEndpoint} answers`,
      '  ✓ client credentials: client "demo-client" accepted: a made-up token came back "active": false (RFC 7662 §2.2)',
      `  ✓ signed answers: the metadata advertises signed answers (RFC 9701) with ${issuer.alg}: a signed answer is verified with the issuer's keys`,
    ])
    expect(result.stdout).toContain('All checks passed.')
    expect(result.stdout + result.stderr).not.toContain(secret)
  })

  it('a wrong secret: the credentials are refused (401 invalid_client), exit 1, no secret printed', async () => {
    const wrong = 'not-the-secret-of-demo-client'
    const result = await doctor([], wrong)
    expect(result.code).toBe(1)
    expect(lines(result.stdout, '✗')).toEqual([
      '  ✗ client credentials: the endpoint refused client "demo-client" (HTTP 401 invalid_client): check ' +
        '--client-id / GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET',
    ])
    expect(lines(result.stdout, '✓')).toContainEqual(
      `  ✓ introspection: ${issuer.introspectionEndpoint} answers`,
    )
    for (const value of [wrong, secret]) expect(result.stdout + result.stderr).not.toContain(value)
  })

  it('a configured endpoint where nothing listens: explained, credentials not checked, exit 1', async () => {
    const closed = await startJwksServer()
    const url = closed.url('/oauth2/introspect')
    await closed.close()
    const { code, stdout } = await doctor(['--introspection-url', url])
    expect(code).toBe(1)
    expect(lines(stdout, '✓')).toContainEqual(`  ✓ introspection_endpoint: ${url} (configured)`)
    expect(lines(stdout, '!')).toEqual([
      `  ! introspection_endpoint: the issuer's metadata advertises ${issuer.introspectionEndpoint}, not the configured URL: check which one the authorization server means`,
    ])
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^  ✗ introspection: ${url}: nothing listens at that address and port.*\\(ECONNREFUSED\\)$`,
        ),
      ),
    ])
    expect(lines(stdout, '·')).toEqual(['  · client credentials: not checked: no answer from the endpoint'])
  })

  it('the configured endpoint equal to the metadata’s: said so', async () => {
    const { code, stdout } = await doctor(['--introspection-url', issuer.introspectionEndpoint])
    expect(code).toBe(0)
    expect(lines(stdout, '✓')).toContainEqual(
      `  ✓ introspection_endpoint: ${issuer.introspectionEndpoint} (configured; the metadata says the same)`,
    )
  })

  it('plain http to a host that is not loopback: ✗ naming the opt-out, nothing sent', async () => {
    const { code, stdout, stderr } = await doctor([
      '--introspection-url',
      'http://introspection.gatehouse.test/x',
    ])
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(
        /^ {2}✗ introspection_endpoint: http:\/\/introspection\.gatehouse\.test\/x is plain http to a host that is not loopback, which Gatehouse refuses: .* set GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 \(or --allow-insecure-requests\)$/,
      ),
    ])
    // Refused before DNS: no "does not resolve".
    expect(stdout).not.toContain('ENOTFOUND')
    expect(stderr).toBe('')
  })

  it('plain http off loopback with the opt-out: checked under a ! line naming what crosses in clear', async () => {
    const url = `http://idp.gatehouse.test:${new URL(server.origin).port}/introspect`
    const before = server.requests.length
    const { code, stdout } = await runCli(
      [
        'doctor',
        '--issuer',
        issuer.issuer,
        '--audience',
        issuer.audience,
        '--client-id',
        'api',
        '--introspection-url',
        url,
        '--allow-insecure-requests',
      ],
      { env: { GATEHOUSE_CLIENT_SECRET: 's', NODE_OPTIONS: `--import=${PRELOAD}` } },
    )
    expect(code).toBe(0)
    expect(lines(stdout, '!')).toContainEqual(
      '  ! plain http: requests to ' +
        `idp.gatehouse.test:${new URL(server.origin).port} are not protected by TLS (GATEHOUSE_ALLOW_INSECURE_REQUESTS is on): ` +
        'anyone on that network can read the client secret and answer that any token is active. Use it on a development network only',
    )
    expect(lines(stdout, '✓')).toContainEqual(
      '  ✓ client credentials: client "api" accepted: a made-up token came back "active": false (RFC 7662 §2.2)',
    )
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/introspect'])
  })

  it('metadata without introspection_endpoint: ✗ saying to configure it', async () => {
    server.set('/bare/.well-known/openid-configuration', {
      json: { issuer: server.url('/bare'), jwks_uri: server.url('/jwks.json') },
    })
    const { code, stdout } = await runCli(
      ['doctor', '--issuer', server.url('/bare'), '--audience', 'x', '--client-id', 'api'],
      { env: { GATEHOUSE_CLIENT_SECRET: 's' } },
    )
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      `  ✗ introspection_endpoint: the issuer's metadata has no valid "introspection_endpoint": set --introspection-url / GATEHOUSE_INTROSPECTION_URL`,
    ])
  })

  it('metadata without signed answers nor client_secret_basic: · and ! lines; the credentials go in a Basic header', async () => {
    server.set('/plain/.well-known/openid-configuration', {
      json: {
        issuer: server.url('/plain'),
        jwks_uri: server.url('/jwks.json'),
        introspection_endpoint: server.url('/introspect'),
        introspection_endpoint_auth_methods_supported: ['private_key_jwt'],
      },
    })
    const before = server.requests.length
    const { code, stdout } = await runCli(
      ['doctor', '--issuer', server.url('/plain'), '--audience', 'x', '--client-id', 'api'],
      { env: { GATEHOUSE_CLIENT_SECRET: 'the secret' } },
    )
    expect(code).toBe(0)
    expect(lines(stdout, '✓')).toContainEqual(
      '  ✓ client credentials: client "api" accepted: a made-up token came back "active": false (RFC 7662 §2.2)',
    )
    expect(lines(stdout, '!')).toEqual([
      `  ! client authentication: the metadata lists "private_key_jwt"; Gatehouse sends client_secret_basic (an Authorization: Basic header)`,
    ])
    expect(lines(stdout, '·')).toEqual([
      '  · signed answers: not advertised (no introspection_signing_alg_values_supported): answers are plain JSON, protected by TLS only',
    ])
    const posted = server.requests.slice(before).filter((r) => r.path === '/introspect')
    expect(posted).toHaveLength(1)
    expect(posted[0]!.method).toBe('POST')
    expect(posted[0]!.headers.authorization).toBe(`Basic ${Buffer.from('api:the+secret').toString('base64')}`)
  })

  it('an endpoint that says a made-up token is active: ✗', async () => {
    server.set('/credulous-issuer/.well-known/openid-configuration', {
      json: {
        issuer: server.url('/credulous-issuer'),
        jwks_uri: server.url('/jwks.json'),
        introspection_endpoint: server.url('/credulous'),
      },
    })
    const { code, stdout } = await runCli(
      ['doctor', '--issuer', server.url('/credulous-issuer'), '--audience', 'x', '--client-id', 'api'],
      { env: { GATEHOUSE_CLIENT_SECRET: 's' } },
    )
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      `  ✗ introspection: ${server.url('/credulous')} says a made-up token is active: it does not check tokens, and an API relying on it accepts anything`,
    ])
  })

  it('without client credentials: no introspection line at all', async () => {
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(0)
    expect(stdout).not.toContain('introspection')
  })
})
