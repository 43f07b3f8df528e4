/**
 * DPoP proofs for tests, built byte by byte (test/helpers/tokens.ts `sign`) so that a test can make
 * exactly one thing wrong, and a checker on the frozen test clock.
 *
 * @example
 * ```ts
 * const key = await testKey('ES256')
 * const dpop = checkerAt()
 * await dpop.check(requestFor(await proof(key), await jktOf(key)))
 * const stale = await proof(key, { iat: NOW - 400 })
 * ```
 */
import { createHash, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { createDpopChecker, type DpopChecker, type DpopRequest } from '../../../src/core/dpop/checker.js'
import type { DpopOptions } from '../../../src/core/dpop/options.js'
import type { JWK } from '../../../src/core/types.js'
import { NOW, sign, type TestKey } from '../../helpers/tokens.js'

/** The URL the test requests are made to (with a query, which `htu` ignores). */
export const URL_WITH_QUERY = 'https://api.example.com/messages?page=2'
/** What a client puts in `htu` for it. */
export const HTU = 'https://api.example.com/messages'
/** The access token presented with the proofs (any string: the checker hashes it, never parses it). */
export const ACCESS_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.access-token-signature'

/** base64url(SHA-256(token)): the `ath` of a proof for `token`. */
export function athOf(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url')
}

/** The public members of a test key, as a client puts them in the `jwk` header. */
export function publicJwk(key: TestKey): JWK {
  const { kty, crv, x, y, n, e } = key.jwk
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined),
  ) as JWK
}

/** The RFC 7638 thumbprint of the key, by jose (an implementation other than the one under test). */
export function jktOf(key: TestKey): Promise<string> {
  return calculateJwkThumbprint(publicJwk(key) as Parameters<typeof calculateJwkThumbprint>[0])
}

/**
 * A proof signed by `key` for a GET of {@link HTU} at {@link NOW} with {@link ACCESS_TOKEN}; `claims` and
 * `header` override members (`undefined` removes one).
 */
export function proof(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const h = drop({ typ: 'dpop+jwt', alg: key.alg, jwk: publicJwk(key), ...header })
  const p = drop({
    jti: randomBytes(16).toString('base64url'),
    htm: 'GET',
    htu: HTU,
    iat: NOW,
    ath: athOf(ACCESS_TOKEN),
    ...claims,
  })
  return sign(h, p, key)
}

function drop(members: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined))
}

/** The request a proof made by {@link proof} matches, bound to `cnfJkt`; `overrides` replace members. */
export function requestFor(
  proofValue: DpopRequest['proof'],
  cnfJkt: string,
  overrides: Partial<DpopRequest> = {},
) {
  return {
    proof: proofValue,
    method: 'GET',
    url: URL_WITH_QUERY,
    accessToken: ACCESS_TOKEN,
    cnfJkt,
    ...overrides,
  }
}

/** A checker on a clock at `NOW` seconds (or the clock given), other options as given. */
export function checkerAt(
  options: DpopOptions = {},
  clock: { ms: number } = { ms: NOW * 1000 },
): DpopChecker {
  return createDpopChecker({ now: () => clock.ms, ...options })
}
