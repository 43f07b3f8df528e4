/**
 * `gatehouse inspect` on tokens a gate would introspect (RFC 7662): a dev issuer issuing opaque tokens
 * and answering at /oauth2/introspect, asked by the built CLI with the client credentials of the
 * environment. Active, inactive, refused credentials, an endpoint that does not answer, and no
 * introspection configured at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { createTestKeys, mintToken } from '../../src/testing/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, type RunResult, runCli } from './run-cli.js'

let issuer: DevIssuer
let config: string[]
let env: Record<string, string>
let secret: string

beforeAll(async () => {
  assertBuilt()
  issuer = await startDevIssuer({ tokenFormat: 'opaque' })
  const client = issuer.clients[0]!
  secret = client.clientSecret!
  config = ['--issuer', issuer.issuer, '--audience', issuer.audience, '--client-id', client.clientId]
  env = { GATEHOUSE_CLIENT_SECRET: secret }
})
afterAll(async () => {
  await issuer?.close()
})

/** The check lines (`  ✓ name: reason`) of an output. */
function checks(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /^ {2}[✓✗·!] /.test(line))
}

/** No output of any run ever holds the client secret. */
function expectNoSecret(result: RunResult, ...secrets: string[]): void {
  for (const value of [secret, ...secrets]) {
    expect(result.stdout).not.toContain(value)
    expect(result.stderr).not.toContain(value)
  }
}

describe('gatehouse inspect, opaque tokens through introspection', () => {
  it('an active token: the answer’s members, every check ✓, exit 0', async () => {
    const token = await issuer.mint(
      { scope: 'read:messages write:messages', cnf: { jkt: 'dpop-key-thumbprint' } },
      { format: 'opaque' },
    )
    const result = await runCli(['inspect', token, ...config, '--scope', 'read:messages'], { env })
    const { code, stdout } = result
    expect(code, result.stderr).toBe(0)
    expect(stdout).toContain("Gatehouse asks the issuer's introspection endpoint about it (RFC 7662)")
    // The members, `active` first, then the ones a person looks for.
    const answer = stdout.slice(stdout.indexOf('Introspection answer'))
    const members = answer
      .split('\n')
      .slice(1)
      .map((line) => /^ {2}(\S+) /.exec(line)?.[1])
    expect(members.slice(0, 8)).toEqual(['active', 'iss', 'aud', 'exp', 'scope', 'client_id', 'sub', 'cnf'])
    expect(answer).toMatch(/exp +\d+ +\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59 min\)/)
    expect(answer).toContain('cnf         {"jkt":"dpop-key-thumbprint"}')
    expect(checks(stdout)).toEqual([
      `  ✓ introspection: ${issuer.introspectionEndpoint} (the issuer's introspection_endpoint) answered client "demo-client"`,
      '  ✓ active: the authorization server says the token is active',
      `  ✓ iss: "${issuer.issuer}" is a trusted issuer`,
      expect.stringMatching(/^ {2}✓ exp: expires \d{4}-.*\(in 59 min\)$/),
      '  · nbf: the answer has no "nbf" (optional in RFC 7662 §2.2)',
      expect.stringMatching(/^ {2}✓ iat: issued \d{4}-/),
      `  ✓ aud: "${issuer.audience}" is accepted`,
      '  ✓ scopes: has read:messages',
      '  · cnf: bound to a DPoP key (jkt "dpop-key-thumbprint"): the API accepts it only with a DPoP proof made with that key',
    ])
    expect(stdout).toContain('by token introspection')
    expect(stdout).toContain('Result: VALID')
    expect(stdout).not.toContain(token)
    expectNoSecret(result)
  })

  it('an opaque token that begins with "-" (one in 64 of them) is inspected like any other', async () => {
    let token = ''
    // 256 random bits, base64url: the first character is "-" with probability 1/64.
    for (let i = 0; i < 2000 && !token.startsWith('-'); i++)
      token = await issuer.mint({}, { format: 'opaque' })
    expect(token.startsWith('-')).toBe(true)
    const result = await runCli(['inspect', token, ...config], { env })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('Result: VALID')
  })

  it('a revoked token: "active": false explained in plain words, nothing else checked, exit 1', async () => {
    const token = await issuer.mint({}, { format: 'opaque' })
    expect(await issuer.revoke(token)).toBe(true)
    const result = await runCli(['inspect', token, ...config], { env })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/Introspection answer\n {2}active {2}false\n/)
    const lines = checks(result.stdout)
    expect(lines[0]).toMatch(/^ {2}✓ introspection: /)
    expect(lines[1]).toBe(
      '  ✗ active: the authorization server says this token is not active: it has expired, was revoked, was ' +
        'issued by another authorization server, or is not a token at all. The answer gives no reason and no ' +
        'claims (RFC 7662 §2.2): get a new token',
    )
    expect(lines.slice(2)).toEqual(
      ['iss', 'exp', 'nbf', 'iat', 'aud'].map(
        (name) => `  · ${name}: not checked: an inactive answer carries no claims`,
      ),
    )
    expect(result.stdout).toContain('Result: INVALID — 1 check failed.')
    expectNoSecret(result)
  })

  it('an active token for another API, with a trailing-slash issuer and a missing scope: all reported at once', async () => {
    const token = await issuer.mint(
      { aud: 'https://other-api.example', scope: 'read:messages' },
      { format: 'opaque' },
    )
    const { code, stdout } = await runCli(
      [
        'inspect',
        token,
        '--issuer',
        `${issuer.issuer}/`,
        '--audience',
        issuer.audience,
        '--client-id',
        'demo-client',
        '--introspection-url',
        issuer.introspectionEndpoint,
        '--scope',
        'write:messages',
      ],
      { env },
    )
    expect(code).toBe(1)
    expect(checks(stdout).filter((line) => line.includes('✗'))).toEqual([
      `  ✗ iss: token says "${issuer.issuer}" but you configured "${issuer.issuer}/" — the trailing slash differs`,
      `  ✗ aud: token is for "https://other-api.example" but you accept "${issuer.audience}"`,
      '  ✗ scopes: needs write:messages; the token has "read:messages"',
    ])
    expect(checks(stdout)[0]).toBe(
      `  ✓ introspection: ${issuer.introspectionEndpoint} answered client "demo-client"`,
    )
    expect(stdout).toContain('3 checks failed')
  })

  it('a wrong client secret: the endpoint’s refusal named, neither secret printed, exit 1', async () => {
    const token = await issuer.mint({}, { format: 'opaque' })
    const wrong = 'not-the-secret-of-demo-client'
    const result = await runCli(['inspect', token, ...config], { env: { GATEHOUSE_CLIENT_SECRET: wrong } })
    expect(result.code).toBe(1)
    expect(checks(result.stdout)[0]).toBe(
      '  ✗ introspection: the endpoint refused client "demo-client" (HTTP 401 invalid_client): check ' +
        '--client-id / GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET',
    )
    expect(checks(result.stdout)[1]).toBe('  · active: not checked: no answer from the endpoint')
    expect(result.stdout).not.toContain('Introspection answer')
    expectNoSecret(result, wrong)
  })

  it('an endpoint where nothing listens: explained, exit 1', async () => {
    const closed = await startJwksServer()
    const url = closed.url('/oauth2/introspect')
    await closed.close()
    const token = await issuer.mint({}, { format: 'opaque' })
    const { code, stdout } = await runCli(['inspect', token, ...config, '--introspection-url', url], { env })
    expect(code).toBe(1)
    expect(checks(stdout)[0]).toMatch(
      new RegExp(`^  ✗ introspection: ${url}: nothing listens at that address and port.*\\(ECONNREFUSED\\)$`),
    )
  })

  it('--json: the answer and the checks as data', async () => {
    const token = await issuer.mint({ scope: 'read:messages' }, { format: 'opaque' })
    const { code, stdout } = await runCli(['inspect', token, ...config, '--json'], { env })
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({
      kind: 'opaque',
      claims: null,
      verification: {
        performed: true,
        method: 'introspection',
        valid: true,
        endpoint: issuer.introspectionEndpoint,
        signed: false,
        answer: { active: true, iss: issuer.issuer, aud: issuer.audience, scope: 'read:messages' },
      },
    })
    expect(report.verification.checks.map((c: { id: string }) => c.id)).toEqual([
      'introspection',
      'active',
      'iss',
      'exp',
      'nbf',
      'iat',
      'aud',
    ])
  })

  it('token source introspection: a revoked JWT of this issuer is asked of the endpoint, not verified here', async () => {
    const jwtIssuer = await startDevIssuer()
    try {
      const token = await jwtIssuer.mint()
      await jwtIssuer.revoke(token)
      const client = jwtIssuer.clients[0]!
      const args = ['inspect', token, '--issuer', jwtIssuer.issuer, '--audience', jwtIssuer.audience]
      const clientEnv = {
        GATEHOUSE_CLIENT_ID: client.clientId,
        GATEHOUSE_CLIENT_SECRET: client.clientSecret!,
      }
      // auto (the default with a client id): a compact JWS is verified locally, and its signature holds.
      const auto = await runCli(args, { env: clientEnv })
      expect(auto.code).toBe(0)
      expect(auto.stdout).toContain('✓ signature: valid')
      const asked = await runCli([...args, '--token-source', 'introspection'], { env: clientEnv })
      expect(asked.code).toBe(1)
      expect(asked.stdout).toContain('The token source is introspection')
      expect(checks(asked.stdout)).toContainEqual(
        expect.stringMatching(/^ {2}✗ active: the authorization server says this token is not active/),
      )
      expectNoSecret(asked, client.clientSecret!)
    } finally {
      await jwtIssuer.close()
    }
  })

  it('a configured endpoint over plain http to a host that is not loopback: a usage error, nothing sent', async () => {
    const token = await issuer.mint({}, { format: 'opaque' })
    const { code, stdout, stderr } = await runCli(
      ['inspect', token, ...config, '--introspection-url', 'http://introspection.gatehouse.test/introspect'],
      { env },
    )
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(
      /^gatehouse inspect: --introspection-url \/ GATEHOUSE_INTROSPECTION_URL: http:\/\/introspection\.gatehouse\.test\/introspect is plain http to a host that is not loopback, which Gatehouse refuses: the client secret and the answers would cross the network in clear/,
    )
  })

  it('metadata without an introspection_endpoint: says to configure the URL', async () => {
    const server: JwksServer = await startJwksServer()
    try {
      server.set('/.well-known/openid-configuration', {
        json: { issuer: server.origin, jwks_uri: server.url('/jwks.json') },
      })
      const { code, stdout } = await runCli(
        ['inspect', 'an-opaque-token', '--issuer', server.origin, '--audience', 'x', '--client-id', 'api'],
        { env },
      )
      expect(code).toBe(1)
      expect(checks(stdout)[0]).toBe(
        `  ✗ introspection: the issuer's metadata has no valid "introspection_endpoint": set --introspection-url / GATEHOUSE_INTROSPECTION_URL`,
      )
    } finally {
      await server.close()
    }
  })
})

describe('gatehouse inspect, signed answers (RFC 9701)', () => {
  let server: JwksServer
  let signed: string

  beforeAll(async () => {
    server = await startJwksServer()
    const keys = await createTestKeys('ES256')
    server.set('/.well-known/openid-configuration', {
      json: {
        issuer: server.origin,
        jwks_uri: server.url('/jwks.json'),
        introspection_endpoint: server.url('/introspect'),
      },
    })
    server.set('/jwks.json', { json: keys.jwks })
    const now = Math.floor(Date.now() / 1000)
    signed = await mintToken(
      keys,
      {
        iss: server.origin,
        aud: 'orders-api',
        token_introspection: {
          active: true,
          iss: server.origin,
          aud: 'https://orders.example.com',
          exp: now + 600,
          scope: 'orders:read',
          client_id: 'shop',
          sub: 'alice',
        },
      },
      { header: { typ: 'token-introspection+jwt' } },
    )
  })
  afterAll(async () => {
    await server?.close()
  })

  const run = () =>
    runCli(
      ['inspect', 'an-opaque-token', '--issuer', server.origin, '--audience', 'https://orders.example.com'],
      { env: { GATEHOUSE_CLIENT_ID: 'orders-api', GATEHOUSE_CLIENT_SECRET: 's' } },
    )

  it('the members of token_introspection, the signature checked with the issuer’s keys', async () => {
    server.set('/introspect', {
      body: signed,
      headers: { 'content-type': 'application/token-introspection+jwt' },
    })
    const { code, stdout } = await run()
    expect(code).toBe(0)
    expect(stdout).toMatch(/Introspection answer \(signed, RFC 9701\)\n {2}active +true\n {2}iss +"/)
    expect(stdout).toMatch(/ {2}client_id +"shop"\n {2}sub +"alice"/)
    expect(checks(stdout)[0]).toBe(
      `  ✓ introspection: ${server.url('/introspect')} (the issuer's introspection_endpoint) answered client "orders-api", signed (RFC 9701) and checked with the issuer’s keys`,
    )
  })

  it('a signed answer with a broken signature: the endpoint’s fault, not the token’s', async () => {
    const [h, p, sig] = signed.split('.')
    const broken = `${h}.${p}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`
    server.set('/introspect', {
      body: broken,
      headers: { 'content-type': 'application/token-introspection+jwt' },
    })
    const { code, stdout } = await run()
    expect(code).toBe(1)
    expect(checks(stdout)[0]).toBe(
      `  ✗ introspection: ${server.url('/introspect')} answered, but not with an introspection answer (RFC 7662 §2.2): a signed answer whose signature does not verify with the issuer's keys`,
    )
    expect(stdout).not.toContain('Introspection answer')
  })
})

describe('gatehouse inspect, opaque tokens without introspection', () => {
  it('with an issuer: ✗ format "not a JWT: configure introspection to check it", exit 1', async () => {
    const token = await issuer.mint({}, { format: 'opaque' })
    const { code, stdout } = await runCli([
      'inspect',
      token,
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(1)
    expect(checks(stdout)).toEqual([
      expect.stringMatching(/^ {2}✗ format: not a JWT: configure introspection to check it\. Set --issuer/),
    ])
    expect(stdout).toContain('Result: INVALID — 1 check failed.')
  })

  it('without any configuration: the same words, exit 1', async () => {
    const { code, stdout } = await runCli(['inspect', 'an-opaque-token'])
    expect(code).toBe(1)
    expect(stdout).toContain('Not a JWT: configure introspection to check it.')
    const json = await runCli(['inspect', 'an-opaque-token', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'opaque',
      problem: 'not a JWT: configure introspection to check it',
      verification: { performed: false },
    })
  })

  it('a token source that needs introspection, without credentials: a usage error, as the gate refuses it', async () => {
    const { code, stdout, stderr } = await runCli([
      'inspect',
      'an-opaque-token',
      '--issuer',
      issuer.issuer,
      '--token-source',
      'introspection',
    ])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(
      /^gatehouse inspect: .*--client-id \/ GATEHOUSE_CLIENT_ID.*--token-source \/ GATEHOUSE_TOKEN_SOURCE/,
    )
  })
})
