import { describe, expect, it } from 'vitest'
import { errorCodeOf, explainNetworkError } from '../../src/cli/net-errors.js'
import { GatehouseError } from '../../src/core/errors.js'

/** The shape fetch failures have: TypeError('fetch failed') with the system error as cause. */
function fetchFailure(code: string, message = code): GatehouseError {
  const system = Object.assign(new Error(message), { code })
  return new GatehouseError('ERR_JWKS_FETCH_FAILED', undefined, {
    cause: new TypeError('fetch failed', { cause: system }),
  })
}

describe('explainNetworkError', () => {
  it.each([
    ['CERT_HAS_EXPIRED', /certificate has expired.*renew/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /self-signed.*NODE_EXTRA_CA_CERTS/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /corporate proxy/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', /not trusted on this machine/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /another host name/],
    ['ENOTFOUND', /does not resolve \(DNS\)/],
    ['EAI_AGAIN', /DNS lookup failed temporarily/],
    ['ECONNREFUSED', /nothing listens/],
    ['UND_ERR_CONNECT_TIMEOUT', /connecting timed out/],
  ])('%s is explained and named', (code, pattern) => {
    const text = explainNetworkError(fetchFailure(code))
    expect(text).toMatch(pattern)
    expect(text).toContain(`(${code})`)
  })

  it('finds the code inside an AggregateError (discovery tries two URLs)', () => {
    const aggregate = new AggregateError([new Error('x'), fetchFailure('ENOTFOUND')], 'both failed')
    expect(errorCodeOf(new GatehouseError('ERR_DISCOVERY_FAILED', undefined, { cause: aggregate }))).toBe(
      'ENOTFOUND',
    )
  })

  it('a key-store timeout names the limit and the option to raise it', () => {
    const error = new GatehouseError('ERR_JWKS_TIMEOUT', undefined, {
      cause: new Error('no complete answer from x within 250 ms'),
    })
    expect(explainNetworkError(error, 250)).toBe(
      'no complete answer within 250 ms: the server is slow or unreachable (raise --timeout to wait longer)',
    )
  })

  it('otherwise gives the innermost message on one line', () => {
    const error = new GatehouseError('ERR_JWKS_FETCH_FAILED', undefined, {
      cause: new Error('https://x/jwks answered HTTP 404 (expected 200)\n'),
    })
    expect(explainNetworkError(error)).toBe('https://x/jwks answered HTTP 404 (expected 200)')
  })
})
