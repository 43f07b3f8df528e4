/**
 * Property: whatever an introspection endpoint answers (any status, any content type, any bytes, any JSON,
 * answers that are almost right), `introspect` either accepts a token the answer really vouches for
 * (`active: true` and every claim acceptable) or rejects with a GatehouseError. Never an accepted token
 * from anything else, never another kind of error. A real endpoint on 127.0.0.1 sends each answer.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { createIntrospector, type Introspector } from '../../../src/core/introspection/index.js'
import { type IntrospectionServer, startIntrospectionServer, testClock } from './helpers.js'

const ISSUER = 'https://id.example.com/'
const AUDIENCE = 'https://orders.example.com'
const TOLERANCE = 5
const clock = testClock()
const NOW = clock.now() / 1000

let server: IntrospectionServer
let introspector: Introspector
/** What the endpoint answers next. */
let reply = { status: 200, contentType: 'application/json', body: '' as string | Uint8Array }

beforeAll(async () => {
  server = await startIntrospectionServer((_, res) => {
    res.writeHead(reply.status, { 'content-type': reply.contentType })
    res.end(reply.body)
  })
  introspector = createIntrospector({
    url: server.url,
    clientId: 'orders-api',
    clientSecret: 'correct horse',
    issuer: ISSUER,
    audience: AUDIENCE,
    clockTolerance: TOLERANCE,
    now: clock.now,
    // Every run asks the endpoint: nothing cached, the circuit never opens.
    cache: { maxAge: 0, inactiveMaxAge: 0 },
    circuitBreaker: { failureThreshold: Number.MAX_SAFE_INTEGER },
  })
})

afterAll(async () => {
  introspector?.close()
  await server?.close()
})

/** A value that is right, or anything JSON can hold. */
const either = <T>(right: fc.Arbitrary<T>) => fc.oneof(right, fc.jsonValue())

const nearlyRight = fc.record(
  {
    active: either(fc.constant(true)),
    iss: either(fc.constantFrom(ISSUER, 'https://other.example.com/', `${ISSUER} `)),
    aud: either(fc.constantFrom(AUDIENCE, [AUDIENCE], ['x', AUDIENCE], 'x', [], [AUDIENCE, 1])),
    exp: either(fc.integer({ min: NOW - 100, max: NOW + 100 })),
    nbf: either(fc.integer({ min: NOW - 100, max: NOW + 100 })),
    iat: either(fc.integer({ min: NOW - 100, max: NOW + 100 })),
    sub: either(fc.string()),
    scope: either(fc.string()),
    client_id: either(fc.string()),
    cnf: either(fc.record({ jkt: either(fc.string()) }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
)

const isDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const optional = (value: unknown, check: (value: unknown) => boolean) => value === undefined || check(value)

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  return 1 + Math.max(0, ...Object.values(value).map(depth))
}

/** The oracle: whether an answer (parsed JSON) vouches for an acceptable token, by RFC 7662 and the options. */
function vouches(answer: unknown): boolean {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return false
  const a = answer as Record<string, unknown>
  const cnf = a.cnf as Record<string, unknown> | undefined
  return (
    a.active === true &&
    depth(a) <= 32 &&
    a.iss === ISSUER &&
    (a.aud === AUDIENCE ||
      (Array.isArray(a.aud) &&
        a.aud.every((item) => typeof item === 'string') &&
        a.aud.includes(AUDIENCE))) &&
    optional(a.exp, (exp) => isDate(exp) && exp > NOW - TOLERANCE) &&
    optional(a.nbf, (nbf) => isDate(nbf) && nbf <= NOW + TOLERANCE) &&
    optional(a.iat, (iat) => isDate(iat) && iat <= NOW + TOLERANCE) &&
    ['sub', 'scope', 'client_id', 'username', 'token_type', 'jti'].every((name) =>
      optional(a[name], (value) => typeof value === 'string'),
    ) &&
    optional(
      cnf,
      () =>
        typeof cnf === 'object' &&
        cnf !== null &&
        !Array.isArray(cnf) &&
        optional(cnf.jkt, (j) => typeof j === 'string'),
    )
  )
}

/** Introspect once against `body`; the outcome, having checked that a refusal is a GatehouseError. */
async function outcome(): Promise<'accepted' | 'refused'> {
  try {
    await introspector.introspect('opaque-token')
    return 'accepted'
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return 'refused'
  }
}

describe('hostile introspection answers', () => {
  it('an answer is accepted exactly when it vouches for the token (nearly right answers)', async () => {
    await fc.assert(
      fc.asyncProperty(nearlyRight, async (answer) => {
        reply = { status: 200, contentType: 'application/json', body: JSON.stringify(answer) }
        expect(await outcome()).toBe(vouches(JSON.parse(reply.body as string)) ? 'accepted' : 'refused')
      }),
      { numRuns: 300 },
    )
  }, 60_000)

  it('anything else: accepted only when it vouches, otherwise a GatehouseError', async () => {
    const body = fc.oneof(
      nearlyRight.map((answer) => JSON.stringify(answer)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      nearlyRight.chain((answer) => {
        const text = JSON.stringify(answer)
        return fc.nat({ max: text.length }).map((cut) => text.slice(0, cut))
      }),
      fc.string(),
      fc.uint8Array({ maxLength: 200 }),
    )
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom(200, 200, 200, 201, 204, 302, 400, 401, 500, 503),
        fc.constantFrom('application/json', 'text/plain', 'application/token-introspection+jwt', 'text/html'),
        async (text, status, contentType) => {
          reply = { status, contentType, body: text }
          const result = await outcome()
          if (result === 'accepted') {
            expect(status).toBe(200)
            expect(contentType).not.toBe('application/token-introspection+jwt')
            expect(typeof text).toBe('string')
            expect(vouches(JSON.parse(text as string))).toBe(true)
          }
        },
      ),
      { numRuns: 300 },
    )
  }, 60_000)
})
