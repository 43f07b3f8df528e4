/**
 * Shared by the preset tests: sign a provider's fixture payload and verify it under the preset, with the
 * keys served over HTTP by a real server on 127.0.0.1 at the path of the preset's key location.
 */
import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { createClaimsReader } from '../../../src/core/authz/claims-reader.js'
import type { IssuerOptions } from '../../../src/core/config/options.js'
import type { JWK } from '../../../src/core/types.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { startJwksServer } from '../../helpers/jwks-server.js'
import { testKey } from '../../helpers/tokens.js'

export type Fixture = { header: Record<string, unknown>; payload: Record<string, unknown> & { iat: number } }
export const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/presets/${name}.json`, import.meta.url), 'utf8'))

/** What a preset returns, or verifier options read from the environment. */
export type Configuration = IssuerOptions

/**
 * The fixture signed with a test key (`changes` applied; undefined removes a claim), the public key to
 * publish, and a clock at the fixture's iat + 60 s.
 */
export async function signed(
  { header, payload }: Fixture,
  changes: Record<string, unknown> = {},
  extra: { header?: Record<string, unknown>; jwk?: (jwk: JWK) => JWK } = {},
) {
  const key = await testKey('RS256')
  const claims: Record<string, unknown> = { ...payload, ...changes }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  const protectedHeader = { ...header, ...extra.header, alg: 'RS256', kid: key.kid }
  const token = await new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key.joseKey)
  const jwk = extra.jwk ? extra.jwk({ ...key.jwk }) : key.jwk
  return { token, jwk, now: () => (payload.iat + 60) * 1000 }
}

/**
 * Sign the fixture (see {@link signed}) and verify it under the configuration. The provider's host is not
 * reachable from a test, so the key set is served by a server on 127.0.0.1 at the path of the
 * configuration's `jwksUri` (`/jwks` for one that discovers its keys); `keyRequests` lists the paths the
 * verifier fetched.
 */
export async function verify(
  configuration: Configuration,
  fixture: Fixture,
  changes: Record<string, unknown> = {},
  extra: { header?: Record<string, unknown>; jwk?: (jwk: JWK) => JWK } = {},
) {
  const { token, jwk, now } = await signed(fixture, changes, extra)
  const { jwksUri, discovery: _discovery, ...options } = configuration
  const path = jwksUri === undefined ? '/jwks' : new URL(String(jwksUri)).pathname
  const server = await startJwksServer({ [path]: { json: { keys: [jwk] } } })
  const verifier = createVerifier({ ...options, jwksUri: server.url(path), now })
  try {
    const verified = await verifier.verify(token)
    return {
      ...verified,
      ...createClaimsReader(configuration.claims)(verified.claims),
      keyRequests: server.requests.map((request) => request.path),
    }
  } finally {
    verifier.close()
    await server.close()
  }
}
