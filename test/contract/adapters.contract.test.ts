/**
 * The adapter contract: one set of expectations, run over real HTTP against every example in
 * examples.ts (each a real child process trusting a real dev issuer). Every adapter must answer every
 * case alike; one test asks every case of every adapter again and compares the answers, where any
 * difference is a bug. Each test stands alone (`-t` runs any one of them): the shared state is what
 * `beforeAll` builds, the running examples and the tokens.
 *
 * RFC 6750 §3 (challenges), §3.1 (error codes and their statuses); RFC 7519 §4.1 (iss, aud, exp).
 * Needs the built package: `npm run build` first (`npm test` does it).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type ExampleDescriptor, examples, type RunningExample } from './examples.js'
import { type Answer, bearer, call } from './http.js'
import { ROOT } from './process.js'

const MESSAGES = {
  public: 'This is a public message!',
  protected: 'This is a protected message!',
  apiPublic: "Hello from a public endpoint! You don't need to be authenticated to see this.",
  apiPrivate: 'Hello from a private endpoint! You need to be authenticated to see this.',
  apiScoped:
    'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
}

let issuer: DevIssuer
const running = new Map<string, RunningExample>()
type TokenName =
  | 'reader'
  | 'writer'
  | 'noScope'
  | 'badSignature'
  | 'expired'
  | 'wrongAudience'
  | 'wrongIssuer'
  | 'admin'
  | 'reportsWriter'
  | 'reportsAdmin'
const tokens = {} as Record<TokenName, string>

/** The examples with their names first, for `it.each` titles. */
const named = examples.map((example) => [example.name, example] as const)

/** One request of the contract: every adapter must answer it alike. */
interface Case {
  path: string
  method?: string
  /** `Authorization: Bearer` with this token. */
  token?: TokenName
  /** Raw headers (malformed credentials). */
  headers?: Record<string, string | string[]>
  /** Only for examples with two levels of rules. */
  levels?: true
}

const CASES = {
  public: { path: '/public' },
  'public-expired-token': { path: '/public', token: 'expired' },
  'api-public': { path: '/api/public' },
  valid: { path: '/protected', token: 'noScope' },
  'api-private': { path: '/api/private', token: 'noScope' },
  scoped: { path: '/api/private-scoped', token: 'reader' },
  'no-token': { path: '/protected' },
  'basic-scheme': { path: '/api/private', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } },
  'bad signature': { path: '/protected', token: 'badSignature' },
  expired: { path: '/protected', token: 'expired' },
  'wrong audience': { path: '/protected', token: 'wrongAudience' },
  'wrong issuer': { path: '/protected', token: 'wrongIssuer' },
  'missing-scope': { path: '/api/private-scoped', token: 'noScope' },
  'Bearer without a token': { path: '/protected', headers: { authorization: 'Bearer' } },
  'a token with a space': { path: '/protected', headers: { authorization: 'Bearer abc def' } },
  'a token with forbidden characters': { path: '/protected', headers: { authorization: 'Bearer abc$def' } },
  'two Authorization headers': {
    path: '/protected',
    headers: { authorization: [`Bearer ${'a'.repeat(10)}`, `Bearer ${'b'.repeat(10)}`] },
  },
  'optional-anonymous': { path: '/api/posts' },
  'optional-authenticated': { path: '/api/posts', token: 'noScope' },
  'optional-bad-token': { path: '/api/posts', token: 'badSignature' },
  'optional-post-no-token': { path: '/api/posts', method: 'POST' },
  'optional-post-no-scope': { path: '/api/posts', method: 'POST', token: 'reader' },
  'optional-post': { path: '/api/posts', method: 'POST', token: 'writer' },
  owner: { path: '/api/posts/alice', method: 'DELETE', token: 'noScope' },
  'not-owner': { path: '/api/posts/bob', method: 'DELETE', token: 'noScope' },
  'owner-no-token': { path: '/api/posts/alice', method: 'DELETE' },
  'levels-get-anonymous': { path: '/api/reports/admin', levels: true },
  'levels-get-no-admin': { path: '/api/reports/admin', token: 'reader', levels: true },
  'levels-get-admin': { path: '/api/reports/admin', token: 'admin', levels: true },
  'levels-delete-outer-only': {
    path: '/api/reports/admin',
    method: 'DELETE',
    token: 'reportsWriter',
    levels: true,
  },
  'levels-delete-inner-only': { path: '/api/reports/admin', method: 'DELETE', token: 'admin', levels: true },
  'levels-delete-both': { path: '/api/reports/admin', method: 'DELETE', token: 'reportsAdmin', levels: true },
} satisfies Record<string, Case>
type CaseName = keyof typeof CASES

/** Send one case to one running example. */
async function ask(example: ExampleDescriptor, caseName: CaseName): Promise<Answer> {
  const server = running.get(example.name)
  if (server === undefined) throw new Error(`${example.name} is not running`)
  const { path, method, token, headers } = CASES[caseName] as Case
  return call(server.url + path, { method, headers: token === undefined ? headers : bearer(tokens[token]) })
}

/** Flip one character in the middle of the signature: same header and claims, invalid signature. */
function breakSignature(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const i = Math.floor(signature.length / 2)
  const flipped = signature[i] === 'A' ? 'B' : 'A'
  return `${header}.${payload}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`
}

/** The attributes of a Bearer challenge, e.g. `{ error: 'invalid_token' }`. */
function challenge(answer: Answer): Record<string, string> {
  const value = answer.headers['www-authenticate']
  expect(typeof value).toBe('string')
  expect(value as string).toMatch(/^Bearer( |$)/)
  const attributes: Record<string, string> = {}
  for (const [, name, quoted] of (value as string).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    attributes[name!] = quoted!.replace(/\\(.)/g, '$1')
  }
  return attributes
}

function expectError(answer: Answer, status: number, code: string, error: string): void {
  expect({ status: answer.status, code: (answer.json as { code?: string })?.code }).toEqual({ status, code })
  expect((answer.json as { error?: string }).error).toBe(error)
  expect(answer.headers['content-type']).toMatch(/^application\/json/)
  expect(answer.headers['cache-control']).toBe('no-store')
  // The body never reflects a token back.
  for (const token of Object.values(tokens)) expect(answer.text).not.toContain(token.split('.')[2])
}

beforeAll(async () => {
  for (const file of ['dist/index.js', ...examples.map((example) => example.script)]) {
    if (!existsSync(join(ROOT, file))) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm test does it).`)
    }
  }
  issuer = await startDevIssuer({ dataDir: null })
  const env = {
    GATEHOUSE_ISSUER: issuer.issuer,
    GATEHOUSE_AUDIENCE: issuer.audience,
    GATEHOUSE_JWKS_URL: issuer.jwksUri,
  }
  // In parallel: starting Node processes is most of this suite's time.
  const started = await Promise.allSettled(examples.map((example) => example.start(env)))
  started.forEach((result, i) => {
    if (result.status === 'fulfilled') running.set(examples[i]!.name, result.value)
  })
  const failed = started.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []))
  if (failed.length > 0) throw new Error(`examples failed to start:\n${failed.join('\n')}`)

  const reader = await issuer.mint({ scope: 'read:messages' }, { sub: 'alice' })
  Object.assign(tokens, {
    reader,
    writer: await issuer.mint({ scope: 'read:messages write:messages' }, { sub: 'alice' }),
    noScope: await issuer.mint({}, { sub: 'alice' }),
    badSignature: breakSignature(reader),
    expired: await issuer.mint({ scope: 'read:messages' }, { sub: 'alice', expiresIn: -60 }),
    wrongAudience: await issuer.mint({ aud: 'https://another-api.example.com' }, { sub: 'alice' }),
    wrongIssuer: await issuer.mint({ iss: 'https://attacker.example.com' }, { sub: 'alice' }),
    admin: await issuer.mint({ scope: 'admin' }, { sub: 'alice' }),
    reportsWriter: await issuer.mint({ scope: 'write:reports' }, { sub: 'alice' }),
    reportsAdmin: await issuer.mint({ scope: 'admin write:reports' }, { sub: 'alice' }),
  })
}, 60_000)

afterAll(async () => {
  await Promise.all([...running.values()].map((server) => server.stop()))
  await issuer?.close()
}, 20_000)

describe.each(examples)('$name example', (example) => {
  describe('the sample endpoints', () => {
    it('GET /public answers without a token', async () => {
      const answer = await ask(example, 'public')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.public },
      })
    })

    it("GET /public does not read the token ('public'): an expired one still answers 200", async () => {
      const answer = await ask(example, 'public-expired-token')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.public },
      })
    })

    it('GET /api/public answers without a token', async () => {
      const answer = await ask(example, 'api-public')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.apiPublic },
      })
    })

    it('GET /protected with a valid token answers with its sub', async () => {
      const answer = await ask(example, 'valid')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.protected, sub: 'alice' },
      })
    })

    it('GET /api/private with a valid token, which the handler sees came as Bearer', async () => {
      const answer = await ask(example, 'api-private')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.apiPrivate, tokenType: 'bearer' },
      })
    })

    it('GET /api/private-scoped with read:messages', async () => {
      const answer = await ask(example, 'scoped')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { message: MESSAGES.apiScoped },
      })
    })
  })

  describe('RFC 6750 §3.1: no token', () => {
    it('answers 401 with a bare Bearer challenge', async () => {
      const answer = await ask(example, 'no-token')
      expectError(answer, 401, 'ERR_NO_TOKEN', 'unauthorized')
      expect(answer.headers['www-authenticate']).toBe('Bearer')
    })

    it('treats another scheme as no bearer token', async () => {
      const answer = await ask(example, 'basic-scheme')
      expectError(answer, 401, 'ERR_NO_TOKEN', 'unauthorized')
      expect(answer.headers['www-authenticate']).toBe('Bearer')
    })
  })

  describe('RFC 6750 §3.1: invalid_token', () => {
    it.each([
      ['bad signature', 'ERR_JWS_SIGNATURE_INVALID'],
      ['expired', 'ERR_JWT_EXPIRED'],
      ['wrong audience', 'ERR_JWT_AUDIENCE_INVALID'],
      ['wrong issuer', 'ERR_JWT_ISSUER_INVALID'],
    ] as const)('%s: 401 invalid_token', async (caseName, code) => {
      const answer = await ask(example, caseName)
      expectError(answer, 401, code, 'invalid_token')
      expect(challenge(answer).error).toBe('invalid_token')
      expect(challenge(answer).scope).toBeUndefined()
    })
  })

  describe('RFC 6750 §3.1: insufficient_scope', () => {
    it('answers 403 naming the required scope in the challenge and the body', async () => {
      const answer = await ask(example, 'missing-scope')
      expectError(answer, 403, 'ERR_POLICY_SCOPE', 'insufficient_scope')
      expect(challenge(answer)).toMatchObject({ error: 'insufficient_scope', scope: 'read:messages' })
      expect((answer.json as { required?: unknown }).required).toEqual({ scopes: { all: ['read:messages'] } })
    })
  })

  describe('RFC 6750 §3.1: invalid_request (malformed credentials)', () => {
    it.each([
      'Bearer without a token',
      'a token with a space',
      'a token with forbidden characters',
      'two Authorization headers',
    ] as const)('%s: 400 invalid_request', async (caseName) => {
      const answer = await ask(example, caseName)
      expectError(answer, 400, 'ERR_INVALID_REQUEST', 'invalid_request')
      expect(challenge(answer).error).toBe('invalid_request')
    })
  })

  describe('optional authentication per method (GET anonymous, POST needs write:messages)', () => {
    it('GET without a token is anonymous', async () => {
      const answer = await ask(example, 'optional-anonymous')
      expect({ status: answer.status, body: answer.json }).toEqual({ status: 200, body: { anonymous: true } })
    })

    it('GET with a valid token is authenticated', async () => {
      const answer = await ask(example, 'optional-authenticated')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { anonymous: false, sub: 'alice' },
      })
    })

    it('GET with a bad token is 401, not anonymous', async () => {
      const answer = await ask(example, 'optional-bad-token')
      expectError(answer, 401, 'ERR_JWS_SIGNATURE_INVALID', 'invalid_token')
    })

    it('POST without a token is 401', async () => {
      const answer = await ask(example, 'optional-post-no-token')
      expectError(answer, 401, 'ERR_NO_TOKEN', 'unauthorized')
      expect(answer.headers['www-authenticate']).toBe('Bearer')
    })

    it('POST without write:messages is 403', async () => {
      const answer = await ask(example, 'optional-post-no-scope')
      expectError(answer, 403, 'ERR_POLICY_SCOPE', 'insufficient_scope')
      expect(challenge(answer).scope).toBe('write:messages')
    })

    it('POST with write:messages is 201', async () => {
      const answer = await ask(example, 'optional-post')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 201,
        body: { created: true, sub: 'alice' },
      })
    })
  })

  describe('owner rule (assertOwner in a handler)', () => {
    it('the owner may delete: 204', async () => {
      const answer = await ask(example, 'owner')
      expect({ status: answer.status, text: answer.text }).toEqual({ status: 204, text: '' })
    })

    it('anyone else gets 403 ERR_POLICY_OWNER', async () => {
      const answer = await ask(example, 'not-owner')
      expectError(answer, 403, 'ERR_POLICY_OWNER', 'insufficient_scope')
      expect((answer.json as { required?: unknown }).required).toEqual({ owner: { claim: 'sub' } })
    })

    it('without a token: 401', async () => {
      const answer = await ask(example, 'owner-no-token')
      expectError(answer, 401, 'ERR_NO_TOKEN', 'unauthorized')
    })
  })

  // Router or class rule `{ optional: ['GET'], methods: { DELETE: { scopes: 'write:reports' } } }`, then a
  // route or handler rule `{ scopes: 'admin' }`: both must pass, whatever each lets through alone.
  describe.runIf(example.levels)('two levels of rules (router or class, then route or handler)', () => {
    it('GET without a token: 401, although the outer level makes GET optional', async () => {
      const answer = await ask(example, 'levels-get-anonymous')
      expectError(answer, 401, 'ERR_NO_TOKEN', 'unauthorized')
      expect(answer.headers['www-authenticate']).toBe('Bearer')
    })

    it('GET without admin: 403 naming admin', async () => {
      const answer = await ask(example, 'levels-get-no-admin')
      expectError(answer, 403, 'ERR_POLICY_SCOPE', 'insufficient_scope')
      expect(challenge(answer).scope).toBe('admin')
    })

    it('GET with admin: 200', async () => {
      const answer = await ask(example, 'levels-get-admin')
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 200,
        body: { admin: true, sub: 'alice' },
      })
    })

    it('DELETE with the outer level’s scope only: 403 naming admin', async () => {
      const answer = await ask(example, 'levels-delete-outer-only')
      expectError(answer, 403, 'ERR_POLICY_SCOPE', 'insufficient_scope')
      expect(challenge(answer).scope).toBe('admin')
    })

    it('DELETE with the inner level’s scope only: 403 naming write:reports', async () => {
      const answer = await ask(example, 'levels-delete-inner-only')
      expectError(answer, 403, 'ERR_POLICY_SCOPE', 'insufficient_scope')
      expect(challenge(answer).scope).toBe('write:reports')
    })

    it('DELETE with both: 204', async () => {
      const answer = await ask(example, 'levels-delete-both')
      expect({ status: answer.status, text: answer.text }).toEqual({ status: 204, text: '' })
    })
  })
})

describe('start-up', () => {
  it.each(named)(
    '%s refuses to start when the key set cannot be loaded (JWKS URL answers 404)',
    async (_name, example) => {
      const jwksUri = new URL('/no-such/jwks.json', issuer.jwksUri).href
      const env = {
        GATEHOUSE_ISSUER: issuer.issuer,
        GATEHOUSE_AUDIENCE: issuer.audience,
        GATEHOUSE_JWKS_URL: jwksUri,
      }
      const started = example.start(env)
      const error = await started.then(
        async (server) => {
          await server.stop()
          return undefined
        },
        (reason: unknown) => reason as Error,
      )
      expect(error?.message).toMatch(/exited before it was ready \(code [1-9]/)
      expect(error?.message).toContain(`${jwksUri} answered HTTP 404`)
    },
    50_000, // an example may take its descriptor's whole ready timeout (workerd: 45 s) on a busy machine
  )
})

describe('key rotation, picked up without a restart', () => {
  let oldToken: string
  let newToken: string

  beforeAll(async () => {
    oldToken = tokens.noScope
    const { kid } = await issuer.rotate()
    newToken = await issuer.mint({}, { sub: 'alice' })
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).toBe(kid)
  })

  it.each(named)('%s accepts a token signed with the new key', async (_name, example) => {
    // The key store refetches on an unknown kid at most once per cooldown (5 s by default), and a request
    // refused during it schedules the fetch at its end: so poll, bounded, rather than sleep.
    const deadline = Date.now() + 8_000
    const url = `${running.get(example.name)?.url}/protected`
    let answer = await call(url, { headers: bearer(newToken) })
    while (answer.status !== 200 && Date.now() < deadline) {
      expect(answer.status).toBe(401)
      await new Promise((resolve) => setTimeout(resolve, 200))
      answer = await call(url, { headers: bearer(newToken) })
    }
    expect({ status: answer.status, body: answer.json }).toEqual({
      status: 200,
      body: { message: MESSAGES.protected, sub: 'alice' },
    })
  })

  it.each(named)(
    '%s still accepts a token signed with the retired key (grace period)',
    async (_name, example) => {
      const answer = await call(`${running.get(example.name)?.url}/protected`, { headers: bearer(oldToken) })
      expect(answer.status).toBe(200)
    },
  )
})

describe('every adapter answers alike', () => {
  /**
   * What must not differ: status, the challenge, the caching header, the media type and the body. The media
   * type of an empty body (204) is left out: there is no content to describe (RFC 9110 §8.3), and
   * @hono/node-server adds `text/plain` to every response that has none.
   */
  const shape = (answer: Answer) => ({
    status: answer.status,
    'www-authenticate': answer.headers['www-authenticate'],
    'cache-control': answer.status >= 400 ? answer.headers['cache-control'] : undefined,
    'content-type':
      answer.text === '' ? undefined : String(answer.headers['content-type'] ?? '').split(';')[0],
    // Error bodies byte for byte; success bodies as JSON (frameworks order nothing differently, but may space).
    body: answer.status >= 400 ? answer.text : answer.json,
  })

  // Asks every case again itself, so that it does not depend on the tests above having run.
  it('on every case', async () => {
    const differences: string[] = []
    for (const [caseName, { levels }] of Object.entries(CASES) as [CaseName, Case][]) {
      const askable = examples.filter((example) => levels === undefined || example.levels)
      const answered = await Promise.all(askable.map((example) => ask(example, caseName)))
      const [first, ...rest] = answered.map((answer, i) => [askable[i]!.name, answer] as const)
      for (const [name, answer] of rest) {
        try {
          expect(shape(answer)).toEqual(shape(first![1]))
        } catch {
          differences.push(
            `${caseName}: ${name} ${JSON.stringify(shape(answer))} ≠ ${first![0]} ${JSON.stringify(shape(first![1]))}`,
          )
        }
      }
    }
    expect(differences).toEqual([])
  })
})

// Declared last, so it runs after every other case of this file.
describe('every example stops cleanly', () => {
  it.each(examples.map((example) => example.name))('%s exits 0 on SIGTERM', async (name) => {
    const server = running.get(name)
    expect(server).toBeDefined()
    running.delete(name)
    expect(await server!.stop()).toEqual({ code: 0, signal: null })
  })
})
