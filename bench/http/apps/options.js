/**
 * Gatehouse's options in every benchmark app: the same policy the peers are given (RS256 only, exact
 * issuer, audience, keys from the local JWKS server). `exp` is always required by Gatehouse. With `dpop`,
 * DPoP is allowed beside Bearer (proofs of any algorithm, replay store in memory).
 */
export function gatehouseOptions({ issuer, audience, jwksUri }, cache, offload = false, dpop = false) {
  return {
    issuer,
    audience,
    jwksUri,
    algorithms: ['RS256'],
    cache,
    offload,
    ...(dpop ? { dpop: 'allowed' } : {}),
  }
}
