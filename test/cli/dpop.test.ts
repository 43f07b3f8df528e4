/**
 * `gatehouse token --dpop` and `gatehouse proof`: a token bound to the CLI's DPoP key and proofs made with
 * that key, checked by the core's DPoP checker against a token that verifies at a running dev issuer; the
 * key made once, kept beside the issuer's state with mode 0600; proofs for the dev issuer's token endpoint.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDpopChecker, type DpopChecker } from '../../src/core/dpop/checker.js'
import { boundThumbprint } from '../../src/core/dpop/proof.js'
import { createVerifier, type Verifier } from '../../src/core/verify/verifier.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { assertBuilt, runCli } from './run-cli.js'

let dir: string
let issuer: DevIssuer
let verifier: Verifier
let checker: DpopChecker

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-'))
  issuer = await startDevIssuer({ dataDir: dir, audience: 'https://api.test' })
  verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri })
  checker = createDpopChecker()
})
afterAll(async () => {
  verifier.close()
  await checker.close()
  await issuer.close()
  await rm(dir, { recursive: true, force: true })
})

const API = 'http://127.0.0.1:8000/api/messages'

/** jose's RFC 7638 thumbprint of the key kept in `folder`, the reference for `cnf.jkt`. */
async function keptThumbprint(folder: string): Promise<string> {
  const stored = JSON.parse(await readFile(join(folder, 'dpop-key.json'), 'utf8')) as { privateJwk: JWK }
  return calculateJwkThumbprint(stored.privateJwk, 'sha256')
}

describe('gatehouse token --dpop', () => {
  it('prints a bound token that verifies, then a proof the checker accepts once', async () => {
    const { code, stdout, stderr } = await runCli([
      'token',
      '--dpop',
      '--url',
      `${API}?page=2`,
      '--data-dir',
      dir,
      '--scope',
      'read:messages',
    ])
    expect(code).toBe(0)
    const lines = stdout.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe('')
    const [token, proof] = lines as [string, string]

    const jkt = await keptThumbprint(dir)
    expect(stderr).toContain(`gatehouse token: created a new DPoP key in ${join(dir, 'dpop-key.json')}`)
    expect(stderr).toContain(`bound to the DPoP key in ${join(dir, 'dpop-key.json')} (cnf.jkt ${jkt})`)
    expect(stderr).not.toContain(token)
    expect(stderr).not.toContain(proof)
    // Private key beside the issuer's state, readable by the owner only.
    expect((await stat(join(dir, 'dpop-key.json'))).mode & 0o777).toBe(0o600)

    const { claims } = await verifier.verify(token)
    expect(claims).toMatchObject({ scope: 'read:messages', cnf: { jkt } })
    const header = decodeProtectedHeader(proof)
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    expect(header.jwk).not.toHaveProperty('d')
    expect(await calculateJwkThumbprint(header.jwk as JWK, 'sha256')).toBe(jkt)
    expect(decodeJwt(proof)).toMatchObject({ htm: 'GET', htu: API }) // the query is not part of htu

    const request = { proof, method: 'GET', url: API, accessToken: token, cnfJkt: boundThumbprint(claims) }
    await expect(checker.check(request)).resolves.toEqual({ jkt, tokenType: 'dpop' })
    await expect(checker.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
  })

  it('keeps its key: a second token is bound to the same one, and says nothing of creating it', async () => {
    const jkt = await keptThumbprint(dir)
    const again = await runCli(['token', '--dpop', '--url', API, '--method', 'delete', '--data-dir', dir])
    expect(again.code).toBe(0)
    expect(again.stderr).not.toContain('created a new DPoP key')
    const [token, proof] = again.stdout.split('\n') as [string, string]
    expect(decodeJwt(token).cnf).toEqual({ jkt })
    expect(decodeJwt(proof).htm).toBe('DELETE')
    await expect(
      checker.check({ proof, method: 'DELETE', url: API, accessToken: token, cnfJkt: jkt }),
    ).resolves.toMatchObject({ jkt })
  })

  it('refuses what it cannot do, before making a key', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-usage-'))
    try {
      const cases: [string[], RegExp][] = [
        [['token', '--dpop'], /--dpop needs --url/],
        [['token', '--url', API], /--url and --method go with --dpop/],
        [['token', '--dpop', '--url', 'ftp://example.com/x'], /--url must be an absolute http\(s\) URL/],
        [['token', '--dpop', '--url', API, '--claim', 'cnf={}'], /--claim cannot set "cnf"/],
        [['proof'], /--url is required/],
        [['proof', '--url', API, '--method', 'GE T'], /--method must be an HTTP method/],
      ]
      for (const [args, message] of cases) {
        const { code, stderr } = await runCli([...args, '--data-dir', empty])
        expect(code, args.join(' ')).toBe(2)
        expect(stderr).toMatch(message)
      }
      await expect(stat(join(empty, 'dpop-key.json'))).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})

describe('gatehouse proof', () => {
  it('prints one fresh proof with ath for the token given, or read from standard input', async () => {
    const jkt = await keptThumbprint(dir)
    const token = (await runCli(['token', '--dpop', '--url', API, '--data-dir', dir])).stdout.split('\n')[0]!
    const { claims } = await verifier.verify(token)
    const url = 'http://127.0.0.1:8000/api/messages/7'
    const byArgument = await runCli([
      'proof',
      '--url',
      url,
      '--method',
      'PATCH',
      '--token',
      token,
      '--data-dir',
      dir,
    ])
    const byStdin = await runCli(
      ['proof', '--url', url, '--method', 'PATCH', '--token', '-', '--data-dir', dir],
      {
        input: `${token}\n`,
      },
    )
    for (const { code, stdout, stderr } of [byArgument, byStdin]) {
      expect(code).toBe(0)
      expect(stderr).toBe('')
      expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
      const request = {
        proof: stdout.trim(),
        method: 'PATCH',
        url,
        accessToken: token,
        cnfJkt: boundThumbprint(claims),
      }
      await expect(checker.check(request)).resolves.toEqual({ jkt, tokenType: 'dpop' })
    }
    // Two proofs, two jti: each good for its own request.
    expect(decodeJwt(byArgument.stdout.trim()).jti).not.toBe(decodeJwt(byStdin.stdout.trim()).jti)
  })

  it('an opaque token and a nonce that begin with "-" are taken as the values of --token and --nonce', async () => {
    const token = '-Xb3k9_QzP0-7mVt1sLwq8yNcRfHdJ2aE4uKoGiY5B6'
    const { code, stdout, stderr } = await runCli([
      'proof',
      '--url',
      API,
      '--token',
      token,
      '--nonce',
      '-n0Nc3_v4lu3',
      '--data-dir',
      dir,
    ])
    expect(code, stderr).toBe(0)
    const claims = decodeJwt(stdout.trim())
    expect(claims.ath).toBe(createHash('sha256').update(token).digest('base64url'))
    expect(claims.nonce).toBe('-n0Nc3_v4lu3')
  })

  it('a proof without a token gets a DPoP-bound token from the dev issuer’s token endpoint', async () => {
    const client = issuer.clients[0]!
    const { stdout } = await runCli([
      'proof',
      '--method',
      'POST',
      '--url',
      issuer.tokenEndpoint,
      '--data-dir',
      dir,
    ])
    expect(decodeJwt(stdout.trim())).not.toHaveProperty('ath')
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: stdout.trim() },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret!,
      }),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { token_type: string; access_token: string }
    expect(body.token_type).toBe('DPoP')
    const { claims } = await verifier.verify(body.access_token)
    expect(claims.cnf).toEqual({ jkt: await keptThumbprint(dir) })
  })

  it('warns when the token is not bound to its key', async () => {
    const bearer = (await runCli(['token', '--data-dir', dir])).stdout.trim()
    const { code, stdout, stderr } = await runCli([
      'proof',
      '--url',
      API,
      '--token',
      bearer,
      '--data-dir',
      dir,
    ])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(stderr).toMatch(/^gatehouse proof: warning: the token is not DPoP-bound/)
  })

  it('two first runs at once make one key between them', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-race-'))
    try {
      const runs = await Promise.all(
        [1, 2, 3].map(() => runCli(['proof', '--url', API, '--data-dir', empty])),
      )
      const jkt = await keptThumbprint(empty)
      for (const { code, stdout } of runs) {
        expect(code).toBe(0)
        const { jwk } = decodeProtectedHeader(stdout.trim())
        expect(await calculateJwkThumbprint(jwk as JWK, 'sha256')).toBe(jkt)
      }
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})
