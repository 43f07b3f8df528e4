/**
 * `doctor` and `inspect` follow the core's transport rule: plain http to a host that is not loopback is
 * refused (doctor: a ✗ line naming GATEHOUSE_ALLOW_INSECURE_REQUESTS; inspect: a usage error), and with
 * the opt-out it is checked, under a ! line saying the requests are not protected by TLS.
 *
 * The CLI runs as a child process with a preload (fixtures/resolve-test-hosts.mjs) that resolves
 * `*.gatehouse.test` to 127.0.0.1: a real http server on loopback, reached through a non-loopback name.
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKeys, mintToken } from '../../src/testing/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, type RunOptions, runCli } from './run-cli.js'

const PRELOAD = pathToFileURL(fileURLToPath(new URL('fixtures/resolve-test-hosts.mjs', import.meta.url))).href
const AUDIENCE = 'https://api.example.com'

let server: JwksServer
/** `idp.gatehouse.test:{port}`: the server above, under a name that is not loopback. */
let host: string
/** `http://{host}/realms/dev`: publishes metadata and keys on the server above. */
let issuer: string
let token: string

beforeAll(async () => {
  assertBuilt()
  server = await startJwksServer()
  host = `idp.gatehouse.test:${new URL(server.origin).port}`
  issuer = `http://${host}/realms/dev`
  const keys = await createTestKeys('ES256')
  server.set('/realms/dev/.well-known/openid-configuration', {
    json: { issuer, jwks_uri: `${issuer}/certs` },
  })
  server.set('/realms/dev/certs', { json: keys.jwks })
  // A loopback issuer whose metadata sends the key lookup to the non-loopback name.
  server.set('/loop/.well-known/openid-configuration', {
    json: { issuer: server.url('/loop'), jwks_uri: `${issuer}/certs` },
  })
  token = await mintToken(keys, { iss: issuer, aud: AUDIENCE, sub: 'alice' }, { expiresIn: 3600 })
})
afterAll(async () => {
  await server?.close()
})

/** Run the CLI with `*.gatehouse.test` resolving to 127.0.0.1. */
function run(args: string[], env: Record<string, string> = {}, options: RunOptions = {}) {
  return runCli(args, { ...options, env: { NODE_OPTIONS: `--import=${PRELOAD}`, ...env } })
}

function lines(stdout: string, mark: '✓' | '✗' | '!'): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(`  ${mark} `))
}

const OPT_IN = { GATEHOUSE_ALLOW_INSECURE_REQUESTS: '1' }

describe('gatehouse doctor, plain http to a host that is not loopback', () => {
  it('without the opt-out: ✗ issuer naming GATEHOUSE_ALLOW_INSECURE_REQUESTS, exit 1, nothing fetched', async () => {
    const before = server.requests.length
    const { code, stdout, stderr } = await run(['doctor', '--issuer', issuer, '--audience', AUDIENCE])
    expect(stderr).toBe('')
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      `  ✗ issuer: ${issuer} is plain http to a host that is not loopback, which Gatehouse refuses: keys ` +
        'fetched without TLS can be replaced in transit. Use https, or on a development network only set ' +
        'GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 (or --allow-insecure-requests)',
    ])
    expect(stdout).toContain('1 problem found.')
    expect(server.requests.length).toBe(before)
  })

  it('an http --jwks-url off loopback: ✗ jwks_uri, exit 1', async () => {
    const { code, stdout } = await run([
      'doctor',
      '--issuer',
      issuer,
      '--jwks-url',
      `${issuer}/certs`,
      '--audience',
      AUDIENCE,
    ])
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(
        /^ {2}✗ jwks_uri: http:\/\/idp\.gatehouse\.test:\d+\/realms\/dev\/certs is plain http.*GATEHOUSE_ALLOW_INSECURE_REQUESTS=1/,
      ),
    ])
  })

  it('with GATEHOUSE_ALLOW_INSECURE_REQUESTS=1: checked end to end, with a ! line, exit 0', async () => {
    const before = server.requests.length
    const { code, stdout, stderr } = await run(['doctor', '--issuer', issuer, '--audience', AUDIENCE], OPT_IN)
    expect(lines(stdout, '✗')).toEqual([])
    expect(code).toBe(0)
    expect(lines(stdout, '!')).toEqual([
      `  ! plain http: requests to ${host} are not protected by TLS (GATEHOUSE_ALLOW_INSECURE_REQUESTS is on): ` +
        'anyone on that network can replace the keys and sign any token. Use it on a development network only',
    ])
    const passed = lines(stdout, '✓').join('\n')
    expect(passed).toContain(`✓ discovery: ${issuer}/.well-known/openid-configuration answered`)
    expect(passed).toContain(`✓ metadata issuer: equals the configured issuer "${issuer}"`)
    expect(passed).toContain(`✓ jwks_uri: ${issuer}/certs`)
    expect(passed).toMatch(/✓ key ".+": EC P-256/)
    expect(passed).toContain('✓ verifier: a Gatehouse verifier with this configuration loads the keys')
    // The core's own warning (process.emitWarning) still reaches stderr.
    expect(stderr).toContain('SecurityWarning')
    expect(server.requests.length).toBeGreaterThan(before)
  })

  it('--allow-insecure-requests does the same; --json carries the warning', async () => {
    const { code, stdout } = await run([
      'doctor',
      '--issuer',
      issuer,
      '--audience',
      AUDIENCE,
      '--allow-insecure-requests',
      '--json',
    ])
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as { ok: boolean; checks: { status: string; name: string }[] }
    expect(report.ok).toBe(true)
    expect(report.checks.filter((c) => c.status === 'warn')).toEqual([
      expect.objectContaining({
        name: 'plain http',
        reason: expect.stringContaining('not protected by TLS'),
      }),
    ])
  })

  it("a loopback issuer whose metadata's jwks_uri is plain http off loopback: ✗ without the opt-out, ! with it", async () => {
    const loop = server.url('/loop')
    const refused = await run(['doctor', '--issuer', loop, '--audience', AUDIENCE])
    expect(refused.code).toBe(1)
    expect(lines(refused.stdout, '✗')).toEqual([
      expect.stringMatching(
        /^ {2}✗ jwks_uri: http:\/\/idp\.gatehouse\.test:\d+\/realms\/dev\/certs is plain http.*GATEHOUSE_ALLOW_INSECURE_REQUESTS=1/,
      ),
    ])

    const allowed = await run(['doctor', '--issuer', loop, '--audience', AUDIENCE], OPT_IN)
    expect(lines(allowed.stdout, '✗')).toEqual([])
    expect(allowed.code).toBe(0)
    expect(lines(allowed.stdout, '!')).toEqual([
      expect.stringContaining(`requests to ${host} are not protected by TLS`),
    ])
  })
})

describe('gatehouse inspect, plain http to a host that is not loopback', () => {
  it('without the opt-out: a usage error naming the flag and the variable, nothing fetched', async () => {
    const before = server.requests.length
    const { code, stdout, stderr } = await run(['inspect', token, '--issuer', issuer, '--audience', AUDIENCE])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain(`gatehouse inspect: --issuer / GATEHOUSE_ISSUER: ${issuer} is plain http`)
    expect(stderr).toContain('GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 (or --allow-insecure-requests)')
    expect(server.requests.length).toBe(before)
  })

  it('with GATEHOUSE_ALLOW_INSECURE_REQUESTS=1: verified, with a ! line; --json lists the warning', async () => {
    const text = await run(['inspect', token, '--issuer', issuer, '--audience', AUDIENCE], OPT_IN)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('Result: VALID')
    expect(lines(text.stdout, '!')).toEqual([
      expect.stringContaining(`  ! plain http: requests to ${host} are not protected by TLS`),
    ])
    expect(lines(text.stdout, '✓')).toContainEqual('  ✓ signature: valid')

    const json = await run(['inspect', token, '--issuer', issuer, '--audience', AUDIENCE, '--json'], OPT_IN)
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as { verification: { valid: boolean; warnings: string[] } }
    expect(report.verification.valid).toBe(true)
    expect(report.verification.warnings).toEqual([expect.stringContaining('not protected by TLS')])
  })
})

describe('loopback stays as it was', () => {
  it('plain http on 127.0.0.1 needs no opt-out and gets no warning', async () => {
    const { code, stdout } = await run([
      'doctor',
      '--issuer',
      server.url('/loop'),
      '--jwks-url',
      server.url('/realms/dev/certs'),
      '--audience',
      AUDIENCE,
    ])
    expect(lines(stdout, '!')).toEqual([])
    expect(lines(stdout, '✗')).toEqual([])
    expect(code).toBe(0)
  })
})
