/**
 * `gatehouse inspect`: decodes without trusting, then prints the real verifier's verdict per check, with
 * the reason in plain words; exit 0 valid, 1 invalid, 2 usage.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { assertBuilt, runCli } from './run-cli.js'

let dir: string
let issuer: DevIssuer
let config: string[]

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-inspect-'))
  issuer = await startDevIssuer({ dataDir: dir })
  config = ['--issuer', issuer.issuer, '--audience', issuer.audience]
})
afterAll(async () => {
  await issuer.close()
  await rm(dir, { recursive: true, force: true })
})

/** The check lines (`  ✓ name: reason`) of an output. */
function checks(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /^ {2}[✓✗·!] /.test(line))
}

describe('gatehouse inspect', () => {
  it('a good token: every check ✓ (or · when not configured), exit 0', async () => {
    const token = await issuer.mint({ scope: 'read:messages' })
    const { code, stdout } = await runCli([
      'inspect',
      token,
      ...config,
      '--scope',
      'read:messages',
      '--typ',
      'at+jwt',
    ])
    expect(code).toBe(0)
    const lines = checks(stdout)
    expect(lines.filter((l) => l.includes('✗'))).toEqual([])
    for (const name of [
      'format',
      'iss',
      'alg',
      'typ',
      'kid',
      'signature',
      'exp',
      'iat',
      'aud',
      'claims',
      'scopes',
    ]) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ✓ ${name}: `)))
    }
    expect(stdout).toContain('Result: VALID')
    // Times are shown as ISO dates with a relative hint.
    expect(stdout).toMatch(/exp +\d+ +\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59 min\)/)
    // The token itself is never echoed.
    expect(stdout).not.toContain(token)
  })

  it('an expired token: ✗ exp with how long ago, exit 1', async () => {
    const token = await issuer.mint({}, { expiresIn: -3 * 3600 })
    const { code, stdout } = await runCli(['inspect', token, ...config])
    expect(code).toBe(1)
    expect(checks(stdout)).toContainEqual(
      expect.stringMatching(/^ {2}✗ exp: expired \d{4}-.*\(3 h ago\); get a new token$/),
    )
    expect(checks(stdout).filter((l) => l.includes('✗'))).toHaveLength(1)
    expect(stdout).toContain('Result: INVALID — 1 check failed.')
  })

  it('a wrong audience: ✗ aud naming both audiences, exit 1', async () => {
    const token = await issuer.mint({ aud: 'https://other-api.example' })
    const { code, stdout } = await runCli(['inspect', token, ...config])
    expect(code).toBe(1)
    expect(checks(stdout)).toContainEqual(
      `  ✗ aud: token is for "https://other-api.example" but you accept "${issuer.audience}"`,
    )
  })

  it('expired AND wrong audience AND an issuer with a trailing slash: all three reported at once', async () => {
    const token = await issuer.mint({ aud: 'https://other-api.example' }, { expiresIn: -60 })
    const { code, stdout } = await runCli([
      'inspect',
      token,
      '--issuer',
      `${issuer.issuer}/`,
      '--audience',
      issuer.audience,
      '--jwks-url',
      issuer.jwksUri,
    ])
    expect(code).toBe(1)
    const failed = checks(stdout).filter((l) => l.includes('✗'))
    expect(failed).toEqual([
      `  ✗ iss: token says "${issuer.issuer}" but you configured "${issuer.issuer}/" — the trailing slash differs`,
      expect.stringMatching(/^ {2}✗ exp: expired /),
      expect.stringMatching(/^ {2}✗ aud: token is for "https:\/\/other-api.example"/),
    ])
    // The signature was still checked, with the configured issuer's keys.
    expect(checks(stdout)).toContainEqual("  ✓ signature: valid (checked with the configured issuer's keys)")
    expect(stdout).toContain('3 checks failed')
  })

  it('with discovery, a slash-mismatched issuer also stops the key lookup, and says why', async () => {
    const token = await issuer.mint()
    const { code, stdout } = await runCli([
      'inspect',
      token,
      '--issuer',
      `${issuer.issuer}/`,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(1)
    const failed = checks(stdout).filter((l) => l.includes('✗'))
    expect(failed).toEqual([
      expect.stringMatching(/^ {2}✗ iss: .* — the trailing slash differs$/),
      expect.stringMatching(/^ {2}✗ kid: could not .*: the metadata names .* must match exactly/),
    ])
  })

  it('an unknown kid lists the kids the issuer publishes; later checks are not checked', async () => {
    const token = await issuer.mint({}, { header: { kid: 'rotated-away' } })
    const { code, stdout } = await runCli(['inspect', token, ...config])
    expect(code).toBe(1)
    const [kid] = (await issuer.jwks()).keys.map((k) => k.kid)
    expect(checks(stdout)).toContainEqual(
      expect.stringMatching(new RegExp(`^  ✗ kid: no key .* has kid "rotated-away" \\(it has "${kid}"\\)`)),
    )
    expect(checks(stdout)).toContainEqual('  · signature: not checked: verification stopped before it')
  })

  it('a tampered payload fails the signature', async () => {
    const [h, , s] = (await issuer.mint()).split('.')
    const payload = Buffer.from(
      JSON.stringify({ iss: issuer.issuer, aud: issuer.audience, exp: 4102444800, sub: 'admin' }),
    ).toString('base64url')
    const { code, stdout } = await runCli(['inspect', `${h}.${payload}.${s}`, ...config])
    expect(code).toBe(1)
    expect(checks(stdout)).toContainEqual(
      expect.stringMatching(/^ {2}✗ signature: the signature does not match key /),
    )
  })

  it('a missing required scope is ✗ scopes', async () => {
    const token = await issuer.mint({ scope: 'read:messages' })
    const { code, stdout } = await runCli(['inspect', token, ...config, '--scope', 'write:messages'])
    expect(code).toBe(1)
    expect(checks(stdout)).toContainEqual('  ✗ scopes: needs write:messages; the token has "read:messages"')
  })

  it('reads the configuration from GATEHOUSE_* variables and the token from stdin', async () => {
    const token = await issuer.mint()
    const { code, stdout } = await runCli(['inspect', '-'], {
      input: `Bearer ${token}\n`,
      env: { GATEHOUSE_ISSUER: issuer.issuer, GATEHOUSE_AUDIENCE: 'https://someone-else.example' },
    })
    expect(code).toBe(1)
    expect(checks(stdout)).toContainEqual(expect.stringMatching(/^ {2}✗ aud: /))
  })

  it('--json gives the same verdict as data', async () => {
    const token = await issuer.mint({}, { expiresIn: -60 })
    const { code, stdout } = await runCli(['inspect', token, ...config, '--json'])
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report.claims.iss).toBe(issuer.issuer)
    expect(report.verification.valid).toBe(false)
    const exp = report.verification.checks.find((c: { id: string }) => c.id === 'exp')
    expect(exp).toMatchObject({ status: 'fail', code: 'ERR_JWT_EXPIRED' })
  })

  it('without configuration: decodes only and says verification was skipped, exit 0', async () => {
    const { code, stdout } = await runCli(['inspect', await issuer.mint()])
    expect(code).toBe(0)
    expect(stdout).toContain('Verification skipped: no issuer configured')
    expect(checks(stdout)).toEqual([])
  })

  it('an opaque token is explained, exit 1', async () => {
    const { code, stdout } = await runCli(['inspect', 'abcdef0123456789'])
    expect(code).toBe(1)
    expect(stdout).toMatch(/not a JWT .*opaque access token/)
  })

  it('an opaque token that begins with "-" is the token, not an option, before or after the flags', async () => {
    const token = '-Xb3k9_QzP0-7mVt1sLwq8yNcRfHdJ2aE4uKoGiY5B6'
    for (const args of [
      ['inspect', token, ...config],
      ['inspect', ...config, token],
      ['inspect', '--', token],
    ]) {
      const { code, stdout, stderr } = await runCli(args)
      expect(stderr, args.join(' ')).not.toMatch(/unknown option/)
      expect(code, stderr).toBe(1)
      expect(stdout).toMatch(/not a JWT .*opaque access token/)
    }
    // A misspelled option is still one, however long.
    const { code, stderr } = await runCli(['inspect', token, '--allow-insecure-request'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/unknown option --allow-insecure-request\b/)
  })

  it('no token is a usage error, exit 2', async () => {
    const { code, stderr } = await runCli(['inspect'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/^gatehouse inspect: missing the token/)
  })
})
