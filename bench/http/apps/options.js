/**
 * Gatehouse's options in every benchmark app, from the setup's id: the same policy the peers are given
 * (RS256 only, exact issuer, audience, keys from the local JWKS server). `exp` is always required by
 * Gatehouse. `gatehouse-cache`: the verified-token cache on; `gatehouse-offload`: signatures on worker
 * threads; `gatehouse-dpop`: DPoP allowed beside Bearer (proofs of any algorithm, replay store in memory);
 * `gatehouse-opaque`: opaque tokens introspected at the benchmark's endpoint (tokenSource `auto`: JWTs
 * are still verified here), the answers kept in memory with the default cache options.
 */
import { CLIENT_ID, CLIENT_SECRET } from '../../lib/introspection-endpoint.js'

export function gatehouseOptions({ issuer, audience, jwksUri, introspectionUrl }, setup) {
  return {
    issuer,
    audience,
    jwksUri,
    algorithms: ['RS256'],
    cache: setup === 'gatehouse-cache',
    offload: setup === 'gatehouse-offload',
    ...(setup === 'gatehouse-dpop' ? { dpop: 'allowed' } : {}),
    ...(setup === 'gatehouse-opaque'
      ? { introspection: { url: introspectionUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } }
      : {}),
  }
}
