/** Shared by the policy tests: an auth context from claims, and the 403 a rule throws. */
import { expect } from 'vitest'
import { createClaimsReader } from '../../../src/core/authz/claims-reader.js'
import type { AuthContext } from '../../../src/core/authz/context.js'
import { GatehouseError } from '../../../src/core/errors.js'
import type { JWTClaims } from '../../../src/core/types.js'

/** An auth context as the gate builds it, with the default claim mapping. */
export function auth(claims: JWTClaims): AuthContext {
  return {
    token: 'secret-token',
    claims,
    header: { alg: 'RS256' },
    principal: undefined,
    tokenType: 'bearer',
    jkt: undefined,
    dpopNonce: undefined,
    ...createClaimsReader()(claims),
  }
}

/** The GatehouseError `fn` throws; fails the test when it throws nothing or something else. */
export function denial(fn: () => void): GatehouseError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return error as GatehouseError
  }
  throw new Error('expected a denial')
}
