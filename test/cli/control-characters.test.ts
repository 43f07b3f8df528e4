/**
 * `inspect` and `doctor` print what a token or a remote document says: control characters in it (ESC,
 * BEL, CR, C1, DEL, bidi overrides) are printed as `\u001b`-style escapes, never acted on by the terminal.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliContext } from '../../src/cli/context.js'
import { run } from '../../src/cli/run.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, rawControls, runCli } from './run-cli.js'

/** A window title, a bell, a carriage return and a fake green ✓ line, a C1 CSI, a right-to-left override, DEL. */
const EVIL = '\u001b]0;pwned\u0007\r  \u001b[32m✓\u001b[0m signature: fine\u009b2J\u202eevil\u007f'

let dir: string
let issuer: DevIssuer
let remote: JwksServer

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-controls-'))
  issuer = await startDevIssuer({ dataDir: dir })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  remote = await startJwksServer({
    '/jwks.json': {
      json: {
        keys: [
          { ...rsa, kid: EVIL, alg: 'RS256', use: 'sig' },
          { ...ec, kid: 'other', use: `enc${EVIL}` },
        ],
      },
    },
  })
  remote.set('/.well-known/openid-configuration', {
    json: { issuer: `${remote.origin}${EVIL}`, jwks_uri: remote.url('/jwks.json') },
  })
})
afterAll(async () => {
  await issuer.close()
  await remote.close()
  await rm(dir, { recursive: true, force: true })
})

/** A token with the evil string in its kid, in a claim name and in a claim value. */
function evilToken(): Promise<string> {
  return issuer.mint({ [`name${EVIL}`]: 1, note: EVIL, scope: 'read' }, { header: { kid: EVIL } })
}

describe('gatehouse inspect: control characters from the token', () => {
  it('text: kid, claim names and values are escaped in the decoded part and in the checks', async () => {
    const { code, stdout } = await runCli([
      'inspect',
      await evilToken(),
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(1)
    expect(rawControls(stdout)).toEqual([])
    // The claim name, escaped character by character.
    expect(stdout).toContain('name\\u001b]0;pwned\\u0007\\u000d  \\u001b[32m✓\\u001b[0m signature: fine')
    // The claim value: JSON escapes C0, the rest is escaped after it.
    expect(stdout).toContain(
      '"\\u001b]0;pwned\\u0007\\r  \\u001b[32m✓\\u001b[0m signature: fine\\u009b2J\\u202eevil\\u007f"',
    )
    // The kid in the verdict line, which stays one line.
    const kid = stdout.split('\n').find((line) => line.startsWith('  ✗ kid: '))
    expect(kid).toContain('has kid "\\u001b]0;pwned\\u0007\\u000d  \\u001b[32m✓')
  })

  it('--json: no raw control character, and the JSON still says exactly what the token says', async () => {
    const { stdout } = await runCli([
      'inspect',
      await evilToken(),
      '--json',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
    ])
    expect(rawControls(stdout)).toEqual([])
    const report = JSON.parse(stdout)
    expect(report.header.kid).toBe(EVIL)
    expect(report.claims[`name${EVIL}`]).toBe(1)
    expect(report.claims.note).toBe(EVIL)
  })

  it('in colour, the only escape sequences left are the CLI own colours', async () => {
    const lines: string[] = []
    const ctx: CliContext = {
      env: {},
      cwd: dir,
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
      color: true,
      readStdin: async () => '',
      waitForShutdown: () => new Promise(() => {}),
    }
    const code = await run(
      ['inspect', await evilToken(), '--issuer', issuer.issuer, '--audience', issuer.audience],
      ctx,
    )
    expect(code).toBe(1)
    const output = lines.join('\n')
    expect(output).toContain('\u001b[31m✗\u001b[0m kid: ')
    // Remove our own SGR sequences: nothing that acts on a terminal may remain.
    const ours = ['\u001b[0m', '\u001b[1m', '\u001b[31m', '\u001b[32m', '\u001b[33m', '\u001b[90m']
    expect(rawControls(ours.reduce((text, sgr) => text.replaceAll(sgr, ''), output))).toEqual([])
    expect(output).not.toContain('\u001b[32m✓\u001b[0m signature: fine')
  })
})

describe('gatehouse doctor: control characters from remote documents', () => {
  it("the metadata's issuer is escaped in the mismatch line", async () => {
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      remote.origin,
      '--audience',
      'https://api.example.com',
    ])
    expect(code).toBe(1)
    expect(rawControls(stdout)).toEqual([])
    const line = stdout.split('\n').find((l) => l.startsWith('  ✗ metadata issuer: '))
    expect(line).toContain(`the metadata says "${remote.origin}\\u001b]0;pwned\\u0007\\u000d  \\u001b[32m✓`)
    expect(line).toContain('\\u009b2J\\u202eevil\\u007f"')
  })

  it('key ids and key members from the JWKS are escaped, in text and in --json', async () => {
    const args = [
      'doctor',
      '--issuer',
      remote.origin,
      '--audience',
      'api',
      '--jwks-url',
      remote.url('/jwks.json'),
    ]
    const text = await runCli(args)
    expect(rawControls(text.stdout)).toEqual([])
    expect(text.stdout).toMatch(
      / {2}✓ key "\\u001b\]0;pwned\\u0007\\r .*\\u009b2J\\u202eevil\\u007f": RSA 2048 bits/,
    )
    expect(text.stdout).toContain('use enc\\u001b]0;pwned\\u0007\\u000d')

    const json = await runCli([...args, '--json'])
    expect(rawControls(json.stdout)).toEqual([])
    const report = JSON.parse(json.stdout) as { checks: { name: string; reason: string }[] }
    expect(report.checks.map((check) => check.name)).toContain(`key ${JSON.stringify(EVIL)}`)
    expect(report.checks.map((check) => check.reason)).toContainEqual(
      expect.stringContaining(`use enc${EVIL}`),
    )
  })
})
