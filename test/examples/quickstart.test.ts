/** The README's quick-start example, run as written against a real dev issuer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

let issuer: DevIssuer
let protectedMessage: (
  authorization: string | undefined,
) => Promise<[number, Record<string, string>, Record<string, unknown>]>

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  process.env.GATEHOUSE_ISSUER = issuer.issuer
  process.env.GATEHOUSE_AUDIENCE = issuer.audience
  // @ts-expect-error: a plain JavaScript example
  ;({ protectedMessage } = await import('../../examples/quickstart/verify.js'))
})
afterAll(async () => {
  delete process.env.GATEHOUSE_ISSUER
  delete process.env.GATEHOUSE_AUDIENCE
  await issuer.close()
})

describe('README quick start (examples/quickstart/verify.js)', () => {
  it('answers 200 with the sub for a valid token', async () => {
    const token = await issuer.mint({ sub: 'client-id@clients' })
    const [status, , body] = await protectedMessage(`Bearer ${token}`)
    expect(status).toBe(200)
    expect(body).toEqual({ message: 'This is a protected message!', sub: 'client-id@clients' })
  })

  it('answers 401 with a bare challenge without a token', async () => {
    const [status, headers, body] = await protectedMessage(undefined)
    expect(status).toBe(401)
    expect(headers['www-authenticate']).toBe('Bearer')
    expect(body).toMatchObject({
      code: 'ERR_NO_TOKEN',
      error_description: 'Missing or invalid Authorization header',
    })
  })

  it('answers 401 "Token has expired" for an expired token', async () => {
    const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) - 60 })
    const [status, headers, body] = await protectedMessage(`Bearer ${token}`)
    expect(status).toBe(401)
    expect(headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="Token has expired"',
    )
    expect(body).toMatchObject({ code: 'ERR_JWT_EXPIRED', error_description: 'Token has expired' })
  })
})
