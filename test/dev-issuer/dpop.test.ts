/**
 * DPoP-bound tokens from the dev issuer (RFC 9449 §5): a token request with a valid proof gets a token
 * whose `cnf.jkt` names the proof key and `token_type` `DPoP`; a bad proof is a 400 `invalid_dpop_proof`;
 * no proof, a Bearer token as before. Proofs come from panva's `dpop` package and from oauth4webapi, over
 * real HTTP; thumbprints are checked against jose's.
 */
import * as dpopPackage from 'dpop'
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDpopChecker } from '../../src/core/dpop/checker.js'
import { boundThumbprint } from '../../src/core/dpop/proof.js'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { type DevClient, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

let issuer: DevIssuer
let client: DevClient

beforeAll(async () => {
  issuer = await startDevIssuer({
    clients: [{ clientId: 'dpop-client', clientSecret: 'dpop-secret', scopes: ['read:messages'] }],
  })
  client = issuer.clients[0]!
})
afterAll(() => issuer.close())

const FORM = '/oauth2/token'
const JSON_PATH = '/oauth2/m2m/token'

/** A client-credentials request on `path` (form or AuthAction's JSON), with these extra headers. */
function tokenRequest(path: string, headers: Record<string, string> = {}, secret = client.clientSecret!) {
  const params = { grant_type: 'client_credentials', client_id: client.clientId, client_secret: secret }
  return fetch(`${issuer.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': path === FORM ? 'application/x-www-form-urlencoded' : 'application/json',
      ...headers,
    },
    body: path === FORM ? new URLSearchParams(params).toString() : JSON.stringify(params),
  })
}

/** The reference thumbprint: jose's RFC 7638 SHA-256 thumbprint of the public key. */
async function thumbprintOf(publicKey: CryptoKey): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256')
}

async function expectProofRefused(response: Response) {
  expect(response.status).toBe(400)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const body = (await response.json()) as Record<string, unknown>
  expect(body).toEqual({ error: 'invalid_dpop_proof', error_description: expect.any(String) })
}

describe('metadata (RFC 9449 §5.1)', () => {
  it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])(
    '%s lists the proof algorithms once each',
    async (path) => {
      const body = (await (await fetch(`${issuer.url}${path}`)).json()) as Record<string, unknown>
      expect(body.dpop_signing_alg_values_supported).toEqual([
        'ES256',
        'ES384',
        'ES512',
        'EdDSA',
        'RS256',
        'RS384',
        'RS512',
        'PS256',
        'PS384',
        'PS512',
      ])
    },
  )
})

describe('a token request with a proof from the `dpop` package (§5)', () => {
  it.each([FORM, JSON_PATH])('%s: a DPoP token bound to the proof key', async (path) => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const proof = await dpopPackage.generateProof(keyPair, `${issuer.url}${path}`, 'POST')
    const response = await tokenRequest(path, { dpop: proof })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({ token_type: 'DPoP', expires_in: 3600, scope: 'read:messages' })
    const jkt = await thumbprintOf(keyPair.publicKey)
    expect(jkt).toBe(await dpopPackage.calculateThumbprint(keyPair.publicKey))

    // The token verifies as any other, names the key in cnf.jkt, and a resource proof with that key passes.
    const token = body.access_token as string
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
    })
    const checker = createDpopChecker()
    try {
      const { claims } = await verifier.verify(token)
      expect(claims.cnf).toEqual({ jkt })
      expect(boundThumbprint(claims)).toBe(jkt)
      const url = 'http://127.0.0.1:8000/api/messages'
      const resourceProof = await dpopPackage.generateProof(keyPair, url, 'GET', undefined, token)
      await expect(
        checker.check({ proof: resourceProof, method: 'GET', url, accessToken: token, cnfJkt: jkt }),
      ).resolves.toEqual({ jkt, tokenType: 'dpop' })
    } finally {
      verifier.close()
      await checker.close()
    }
  })

  it('Ed25519 and RSA proof keys are bound by their own thumbprints', async () => {
    for (const alg of ['Ed25519', 'RS256'] as const) {
      const keyPair = await dpopPackage.generateKeyPair(alg)
      const proof = await dpopPackage.generateProof(keyPair, `${issuer.url}${FORM}`, 'POST')
      const response = await tokenRequest(FORM, { dpop: proof })
      expect(response.status).toBe(200)
      const { access_token } = (await response.json()) as { access_token: string }
      expect(decodeJwt(access_token).cnf).toEqual({ jkt: await thumbprintOf(keyPair.publicKey) })
    }
  })

  it('a request refused for its client leaves the proof unused', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const proof = await dpopPackage.generateProof(keyPair, `${issuer.url}${FORM}`, 'POST')
    const refused = await tokenRequest(FORM, { dpop: proof }, 'wrong-secret')
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_client')
    expect((await tokenRequest(FORM, { dpop: proof })).status).toBe(200)
  })
})

describe('a token request through oauth4webapi with DPoP', () => {
  it.each([FORM, JSON_PATH])('%s: token_type DPoP, cnf.jkt the key’s thumbprint', async (path) => {
    const options = { [oauth.allowInsecureRequests]: true }
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer.issuer),
      await oauth.discoveryRequest(new URL(issuer.issuer), { ...options, algorithm: 'oauth2' }),
    )
    expect(as.token_endpoint).toBe(`${issuer.url}${FORM}`)
    const server = { ...as, token_endpoint: `${issuer.url}${path}` }
    const oauthClient: oauth.Client = { client_id: client.clientId }
    const keyPair = await oauth.generateKeyPair('ES256')
    const DPoP = oauth.DPoP(oauthClient, keyPair)
    const response = await oauth.clientCredentialsGrantRequest(
      server,
      oauthClient,
      oauth.ClientSecretPost(client.clientSecret!),
      new URLSearchParams({ audience: issuer.audience }),
      { ...options, DPoP },
    )
    const result = await oauth.processClientCredentialsResponse(server, oauthClient, response)
    expect(result.token_type).toBe('dpop')
    expect(decodeJwt(result.access_token).cnf).toEqual({ jkt: await thumbprintOf(keyPair.publicKey) })
  })
})

describe('bad proofs: 400 invalid_dpop_proof (§5, §4.3)', () => {
  it('a proof made for another URL (htu)', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    await expectProofRefused(
      await tokenRequest(FORM, {
        dpop: await dpopPackage.generateProof(keyPair, `${issuer.url}${JSON_PATH}`, 'POST'),
      }),
    )
    await expectProofRefused(
      await tokenRequest(JSON_PATH, {
        dpop: await dpopPackage.generateProof(keyPair, `https://as.example${JSON_PATH}`, 'POST'),
      }),
    )
  })

  it('a proof made for another method (htm)', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const proof = await dpopPackage.generateProof(keyPair, `${issuer.url}${FORM}`, 'GET')
    await expectProofRefused(await tokenRequest(FORM, { dpop: proof }))
  })

  it('a proof used twice, on either path', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const proof = await dpopPackage.generateProof(keyPair, `${issuer.url}${JSON_PATH}`, 'POST')
    expect((await tokenRequest(JSON_PATH, { dpop: proof })).status).toBe(200)
    await expectProofRefused(await tokenRequest(JSON_PATH, { dpop: proof }))
  })

  it('a proof too old, a malformed one, an empty header, two proofs', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const htu = `${issuer.url}${FORM}`
    // The `dpop` package always sets iat to now: an hour-old proof is signed by hand.
    const old = await new SignJWT({ jti: 'old-proof', htm: 'POST', htu })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keyPair.publicKey) })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .sign(keyPair.privateKey)
    const one = await dpopPackage.generateProof(keyPair, htu, 'POST')
    const two = await dpopPackage.generateProof(keyPair, htu, 'POST')
    for (const dpop of [old, 'not-a-proof', '', `${one}, ${two}`])
      await expectProofRefused(await tokenRequest(FORM, { dpop }))
  })
})

describe('no proof', () => {
  it.each([FORM, JSON_PATH])('%s: a Bearer token without cnf, as before', async (path) => {
    const response = await tokenRequest(path)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { token_type: string; access_token: string }
    expect(body.token_type).toBe('Bearer')
    expect(decodeJwt(body.access_token)).not.toHaveProperty('cnf')
  })
})
