/**
 * Gatehouse's options in every benchmark app: the same policy the peers are given (RS256 only, exact
 * issuer, audience, keys from the local JWKS server). `exp` is always required by Gatehouse.
 */
export function gatehouseOptions({ issuer, audience, jwksUri }, cache, offload = false) {
  return { issuer, audience, jwksUri, algorithms: ['RS256'], cache, offload }
}
