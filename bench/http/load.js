/**
 * The load generator: autocannon, in this process, on loopback, HTTP/1.1 keep-alive, no pipelining.
 * Unique-token runs hand out the pool's tokens in order across all connections, one per request, so no
 * token comes back before the whole pool has been sent (the pool is larger than Gatehouse's token cache).
 */
import autocannon from 'autocannon'

/** Per server: the next token of the pool, continued from warm-up into the timed run. */
export function tokenCycle(tokens) {
  let next = 0
  return (request) => {
    request.headers.authorization = `Bearer ${tokens[next]}`
    next = (next + 1) % tokens.length
    return request
  }
}

/**
 * One autocannon run of `seconds` against `GET /protected`, with `authorization` from `cycle` (unique
 * tokens) or a fixed `token`. Resolves with counts, rates and latency percentiles (ms).
 */
export function load({ port, seconds, connections, cycle, token }) {
  const request = cycle
    ? { method: 'GET', path: '/protected', setupRequest: cycle }
    : { method: 'GET', path: '/protected', headers: { authorization: `Bearer ${token}` } }
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        pipelining: 1,
        duration: seconds,
        requests: [request],
      },
      (error, result) => {
        if (error) return reject(error)
        resolve({
          seconds: result.duration,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          // Only 2xx answers count: a server that fails fast must not look fast.
          rps: result['2xx'] / result.duration,
          latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
        })
      },
    )
  })
}
