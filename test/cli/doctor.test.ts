/**
 * `gatehouse doctor` against real servers: a healthy dev issuer, a slash-mismatched issuer, and the
 * failures people meet in practice (nothing listening, a hanging server, TLS problems, weak keys), each
 * explained in plain words.
 */
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { createTestKeys } from '../../src/testing/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, runCli } from './run-cli.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))

let issuer: DevIssuer
let plain: JwksServer

beforeAll(async () => {
  assertBuilt()
  issuer = await startDevIssuer()
  plain = await startJwksServer({ '/hang/.well-known/jwks.json': 'hang' })
})
afterAll(async () => {
  await issuer.close()
  await plain.close()
})

function lines(stdout: string, mark: '✓' | '✗' | '!' | '·'): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(`  ${mark} `))
}

/** An https server on 127.0.0.1 with one of the fixture certificates, serving a JWKS. */
async function httpsServer(cert: string, jwks: unknown): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(
    { key: readFileSync(fixture(`tls-${cert}.key`)), cert: readFileSync(fixture(`tls-${cert}.pem`)) },
    (_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(jwks))
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

describe('gatehouse doctor', () => {
  it('a healthy dev issuer: every line ✓, exit 0', async () => {
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(0)
    expect(lines(stdout, '✗')).toEqual([])
    const passed = lines(stdout, '✓').join('\n')
    expect(passed).toContain(`✓ discovery: ${issuer.url}/.well-known/openid-configuration answered`)
    expect(passed).toContain(`✓ metadata issuer: equals the configured issuer "${issuer.issuer}"`)
    expect(passed).toMatch(/✓ key ".+": RSA 2048 bits, usable for RS256/)
    expect(passed).toContain('✓ verifier: a Gatehouse verifier with this configuration loads the keys')
    expect(stdout).toContain('All checks passed.')
  })

  it('a trailing-slash mismatch: ✗ with the exact value to configure, exit 1', async () => {
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      `${issuer.issuer}/`,
      '--audience',
      issuer.audience,
    ])
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      `  ✗ metadata issuer: the metadata says "${issuer.issuer}" but you configured "${issuer.issuer}/" — the trailing slash differs. ` +
        `Configure issuer as "${issuer.issuer}" (the value its tokens carry in "iss")`,
    ])
  })

  it('reads GATEHOUSE_* variables; a missing audience is reported', async () => {
    const { code, stdout } = await runCli(['doctor'], { env: { GATEHOUSE_ISSUER: issuer.issuer } })
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(/^ {2}✗ audience: not configured: set --audience/),
    ])
  })

  it('nothing listening: explained, exit 1', async () => {
    const closed = await startJwksServer()
    const origin = closed.origin
    await closed.close()
    const { code, stdout } = await runCli(['doctor', '--issuer', origin, '--audience', 'x'])
    expect(code).toBe(1)
    expect(lines(stdout, '!')[0]).toMatch(
      /discovery: no metadata document .*nothing listens at that address and port/,
    )
    expect(lines(stdout, '✗')[0]).toMatch(
      /✗ jwks: .*nothing listens at that address and port.*\(ECONNREFUSED\)/,
    )
  })

  it('a server that never answers: a timeout in words', async () => {
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      plain.url('/hang'),
      '--audience',
      'x',
      '--jwks-url',
      plain.url('/hang/.well-known/jwks.json'),
      '--timeout',
      '300',
    ])
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(/✗ jwks: .*no complete answer within 300 ms.*--timeout/),
    ])
  })

  it('an RSA key under 2048 bits is refused, and nothing usable is left', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weak = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' }
    plain.set('/weak/jwks.json', { json: { keys: [weak, { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }] } })
    const { code, stdout } = await runCli([
      'doctor',
      '--issuer',
      plain.url('/weak'),
      '--audience',
      'x',
      '--jwks-url',
      plain.url('/weak/jwks.json'),
    ])
    expect(code).toBe(1)
    expect(lines(stdout, '✗')).toEqual([
      expect.stringMatching(/✗ key "weak": .*RSA key of 1024 bits is under the 2048-bit minimum/),
      expect.stringMatching(/✗ keys: no key can verify tokens/),
    ])
    expect(lines(stdout, '·')).toEqual([expect.stringMatching(/· key "hmac": oct: not a signing key/)])
  })

  describe('TLS', () => {
    let jwks: unknown
    beforeAll(async () => {
      jwks = (await createTestKeys('ES256')).jwks
    })

    async function doctorOver(cert: string, trust?: string) {
      const server = await httpsServer(cert, jwks)
      try {
        return await runCli(
          [
            'doctor',
            '--issuer',
            server.origin,
            '--audience',
            'x',
            '--jwks-url',
            `${server.origin}/jwks.json`,
          ],
          { env: trust === undefined ? {} : { NODE_EXTRA_CA_CERTS: fixture(`tls-${trust}.pem`) } },
        )
      } finally {
        await server.close()
      }
    }

    it('a self-signed certificate', async () => {
      const { code, stdout } = await doctorOver('self-signed')
      expect(code).toBe(1)
      expect(lines(stdout, '✗')[0]).toMatch(
        /self-signed TLS certificate; .*NODE_EXTRA_CA_CERTS.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      )
    })

    it('the same certificate, trusted: ✓', async () => {
      const { code, stdout } = await doctorOver('self-signed', 'self-signed')
      expect(lines(stdout, '✗')).toEqual([])
      expect(code).toBe(0)
    })

    it('a certificate for another host name', async () => {
      const { code, stdout } = await doctorOver('other', 'other')
      expect(code).toBe(1)
      expect(lines(stdout, '✗')[0]).toMatch(
        /certificate is for another host name .*\(ERR_TLS_CERT_ALTNAME_INVALID\)/,
      )
    })

    it('an expired certificate', async () => {
      const { code, stdout } = await doctorOver('expired', 'expired')
      expect(code).toBe(1)
      expect(lines(stdout, '✗')[0]).toMatch(/certificate has expired.*\(CERT_HAS_EXPIRED\)/)
    })

    it('https to a plain-http port', async () => {
      const origin = issuer.url.replace('http:', 'https:')
      const { code, stdout } = await runCli([
        'doctor',
        '--issuer',
        origin,
        '--audience',
        'x',
        '--jwks-url',
        `${origin}/.well-known/jwks.json`,
      ])
      expect(code).toBe(1)
      expect(lines(stdout, '✗')[0]).toMatch(/https URL pointing at a plain-http port/)
    })
  })

  it('no issuer configured is a usage error', async () => {
    const { code, stderr } = await runCli(['doctor'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/no issuer to check/)
  })
})
