/**
 * Proofs made by software written elsewhere, checked by the checker: panva's `dpop` package (proofs and
 * thumbprints from WebCrypto keys) and `oauth4webapi`'s DPoP support, which sends protected-resource
 * requests over real HTTP to a server on 127.0.0.1 and follows the server's nonces (RFC 9449 §9) the way
 * a client library does.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import * as dpopPackage from 'dpop'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDpopChecker, type DpopChecker } from '../../../src/core/dpop/checker.js'
import { GatehouseError } from '../../../src/core/errors.js'

const SECRET = 'interop nonce secret of at least thirty-two bytes'

describe('proofs made by the `dpop` package', () => {
  const htu = 'https://rs.example.com/api/items'
  const accessToken = 'access-token-from-the-authorization-server'

  it.each(['ES256', 'Ed25519', 'RS256', 'PS256'] as const)('%s: accepted, thumbprints agree', async (alg) => {
    const keyPair = await dpopPackage.generateKeyPair(alg)
    const cnfJkt = await dpopPackage.calculateThumbprint(keyPair.publicKey)
    const dpop = createDpopChecker()
    const proof = await dpopPackage.generateProof(keyPair, htu, 'PATCH', undefined, accessToken)
    const request = { proof, method: 'PATCH', url: `${htu}?expand=1`, accessToken, cnfJkt }
    expect(await dpop.check(request)).toEqual({ jkt: cnfJkt, tokenType: 'dpop' })
    await expect(dpop.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
  })

  it('refused for another method, another URL, another token, another key', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const cnfJkt = await dpopPackage.calculateThumbprint(keyPair.publicKey)
    const otherJkt = await dpopPackage.calculateThumbprint(
      (await dpopPackage.generateKeyPair('ES256')).publicKey,
    )
    const cases: [Record<string, string>, string][] = [
      [{ method: 'DELETE' }, 'ERR_DPOP_PROOF_HTM_MISMATCH'],
      [{ url: 'https://rs.example.com/api/items/1' }, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
      [{ accessToken: 'another-token' }, 'ERR_DPOP_PROOF_ATH_MISMATCH'],
      [{ cnfJkt: otherJkt }, 'ERR_DPOP_BINDING_MISMATCH'],
    ]
    for (const [change, code] of cases) {
      const proof = await dpopPackage.generateProof(keyPair, htu, 'GET', undefined, accessToken)
      const request = { proof, method: 'GET', url: htu, accessToken, cnfJkt, ...change }
      await expect(createDpopChecker().check(request)).rejects.toMatchObject({ code })
    }
  })

  it('with a server nonce', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const cnfJkt = await dpopPackage.calculateThumbprint(keyPair.publicKey)
    const dpop = createDpopChecker({ nonce: { secret: SECRET } })
    const without = await dpopPackage.generateProof(keyPair, htu, 'GET', undefined, accessToken)
    const refusal = await dpop
      .check({ proof: without, method: 'GET', url: htu, accessToken, cnfJkt })
      .catch((e: GatehouseError) => e)
    expect(refusal).toMatchObject({ code: 'ERR_DPOP_NONCE_MISSING' })
    const nonce = (refusal as GatehouseError).dpopNonce
    const proof = await dpopPackage.generateProof(keyPair, htu, 'GET', nonce, accessToken)
    expect(await dpop.check({ proof, method: 'GET', url: htu, accessToken, cnfJkt })).toEqual({
      jkt: cnfJkt,
      tokenType: 'dpop',
    })
  })
})

describe('oauth4webapi protected-resource requests over HTTP', () => {
  let server: Server
  let base: string
  let checker: DpopChecker
  /** The `cnf.jkt` the authorization server bound each token to (the resource server reads it from the token). */
  const boundKeys = new Map<string, string>()
  const seen: { status: number; code?: string }[] = []

  /** A resource server in a few lines: the checker, and RFC 9449 §7.1 / §9 answers. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [scheme, token] = (req.headers.authorization ?? '').split(' ')
    try {
      if (scheme !== 'DPoP' || token === undefined) throw new GatehouseError('ERR_NO_TOKEN')
      const result = await checker.check({
        proof: req.headers.dpop,
        method: req.method as string,
        url: `${base}${req.url}`,
        accessToken: token,
        cnfJkt: boundKeys.get(token),
      })
      if (result.nonce !== undefined) res.setHeader('DPoP-Nonce', result.nonce)
      seen.push({ status: 200 })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jkt: result.jkt }))
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error
      seen.push({ status: error.status, code: error.code })
      if (error.dpopNonce !== undefined) res.setHeader('DPoP-Nonce', error.dpopNonce)
      const attributes = error.error === undefined ? '' : ` error="${error.error}"`
      res.writeHead(error.status, {
        'www-authenticate': `DPoP algs="${checker.algorithms.join(' ')}"${attributes}`,
      })
      res.end()
    }
  }

  beforeAll(async () => {
    checker = createDpopChecker({ nonce: { secret: SECRET } })
    server = createServer((req, res) => void handle(req, res))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  })

  async function client(alg: string) {
    const keyPair = await oauth.generateKeyPair(alg)
    const handle = oauth.DPoP({}, keyPair)
    const token = `token-${alg}-${Math.random()}`
    boundKeys.set(token, await handle.calculateThumbprint())
    /** A GET through oauth4webapi, retried once when the server asks for a nonce, as its docs show. */
    const get = async (path: string): Promise<Response> => {
      const url = new URL(path, base)
      const options = { DPoP: handle, [oauth.allowInsecureRequests]: true }
      try {
        return await oauth.protectedResourceRequest(token, 'GET', url, undefined, null, options)
      } catch (error) {
        if (!oauth.isDPoPNonceError(error)) throw error
        return oauth.protectedResourceRequest(token, 'GET', url, undefined, null, options)
      }
    }
    return { get, jkt: boundKeys.get(token) as string }
  }

  it.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('%s: asked for a nonce once, then accepted', async (alg) => {
    const { get, jkt } = await client(alg)
    seen.length = 0
    const response = await get('/items?limit=5')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ jkt })
    expect(seen).toEqual([{ status: 401, code: 'ERR_DPOP_NONCE_MISSING' }, { status: 200 }])
    // The nonce is cached by the client: the next request needs no second round trip.
    seen.length = 0
    expect((await get('/items/7')).status).toBe(200)
    expect(seen).toEqual([{ status: 200 }])
  })

  it('a token bound to another key is refused with invalid_token', async () => {
    const { get } = await client('ES256')
    for (const token of boundKeys.keys()) boundKeys.set(token, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
    const error = await get('/items').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
    expect((error as oauth.WWWAuthenticateChallengeError).cause[0]).toMatchObject({
      scheme: 'dpop',
      parameters: { error: 'invalid_token' },
    })
  })
})
