/**
 * The issuer's key endpoint for every server in the benchmark: a JWK Set over plain http on 127.0.0.1
 * (loopback only; every peer accepts an http JWKS URL there). It counts requests, so the report can show
 * which setups fetch keys per request rather than once.
 */
import { createServer } from 'node:http'

export const JWKS_PATH = '/.well-known/jwks.json'

/** Resolves with `{ url, fetches(), close() }` once listening. */
export async function startJwksServer(jwks) {
  const body = JSON.stringify(jwks)
  let fetches = 0
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== JWKS_PATH) return res.writeHead(404).end()
    fetches++
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' })
      .end(body)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    url: `http://127.0.0.1:${server.address().port}${JWKS_PATH}`,
    fetches: () => fetches,
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}
