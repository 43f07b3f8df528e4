/**
 * Protected Resource Metadata (RFC 9728) through every adapter, over real HTTP: the examples of
 * examples.ts started twice more with GATEHOUSE_RESOURCE and without GATEHOUSE_AUDIENCE, once with a
 * resource identifier that has a path (the document at the path-suffixed location, §3.1) and once with
 * a bare origin (the root location), each trusting a dev issuer as in adapters.contract.test.ts. Every
 * adapter must answer every case alike: the last test asks every case again and compares the answers.
 * Each test stands alone (`-t`).
 *
 * RFC 9728 §2 (the document), §3 (where and how it is served), §5.1 (`resource_metadata` in every
 * challenge); RFC 8707 §2 (the resource is the audience). Needs the built package: `npm run build` first
 * (`npm test` does it).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type ExampleDescriptor, examples, type RunningExample, startAll } from './examples.js'
import { type Answer, bearer, type CallOptions, call } from './http.js'
import { ROOT } from './process.js'

const HOST = 'https://api.gatehouse.test'
const WELL_KNOWN = '/.well-known/oauth-protected-resource'
/** A second authorization server to advertise (GATEHOUSE_AUTHORIZATION_SERVERS), besides the issuer. */
const OTHER_SERVER = 'https://login.gatehouse.test/'

/** Each set: the resource, where its document is, and the variables beside the issuer’s. */
const SETS = {
  // A resource with a path: the document at the path-suffixed location.
  path: {
    resource: `${HOST}/mcp`,
    path: `${WELL_KNOWN}/mcp`,
    env: (_issuer: string) => ({
      GATEHOUSE_RESOURCE: `${HOST}/mcp`,
      GATEHOUSE_SCOPES_SUPPORTED: 'read:messages write:messages',
      GATEHOUSE_RESOURCE_NAME: 'Gatehouse contract',
    }),
  },
  // A bare origin: the document at the root location.
  origin: {
    resource: HOST,
    path: WELL_KNOWN,
    env: (issuer: string) => ({
      GATEHOUSE_RESOURCE: HOST,
      GATEHOUSE_AUTHORIZATION_SERVERS: `${issuer} ${OTHER_SERVER}`,
    }),
  },
} as const
type SetName = keyof typeof SETS

/** The document each set must serve, byte for byte once parsed. */
function documentOf(set: SetName): Record<string, unknown> {
  return set === 'path'
    ? {
        resource: SETS.path.resource,
        authorization_servers: [issuer.issuer],
        scopes_supported: ['read:messages', 'write:messages'],
        bearer_methods_supported: ['header'],
        resource_name: 'Gatehouse contract',
      }
    : {
        resource: SETS.origin.resource,
        authorization_servers: [issuer.issuer, OTHER_SERVER],
        bearer_methods_supported: ['header'],
      }
}

let issuer: DevIssuer
const running = new Map<string, RunningExample>()
type TokenName =
  | 'resource'
  | 'resourceReader'
  | 'resourceAdminless'
  | 'otherResource'
  | 'issuerAudience'
  | 'noAudience'
  | 'trailingSlash'
/** Per set: tokens are minted for each set's resource. */
const tokens = { path: {}, origin: {} } as Record<SetName, Record<TokenName, string>>

/** One request; `path` may name the set's document (`document`). */
interface Sent {
  path: string | ((set: SetName) => string)
  method?: string
  token?: TokenName
  headers?: Record<string, string>
}

/** What the answer must be; `challenge` is matched, `error_description` aside. */
interface Expected {
  status: number
  /** A success's JSON body; `document` for the set's document. */
  body?: unknown
  /** A refusal's code and RFC 6750 error. */
  code?: string | RegExp
  error?: string
  /** Exact header values (`null`: absent), `undefined` members unchecked. */
  headers?: Record<string, string | null | ((set: SetName, answer: Answer) => void)>
  /** The challenge, from the set's metadata URL. */
  challenge?: (url: string) => RegExp
  /** The body is empty. */
  empty?: true
}

interface Case {
  request: Sent
  expected: Expected
  /** Only for examples with two levels of rules. */
  levels?: true
  /** Only for one set. */
  set?: SetName
}

const document = (set: SetName) => SETS[set].path
const exact = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`)
const described = (before: string, after: string) => (url: string) =>
  new RegExp(
    `^${exact(`Bearer ${before}`).source.slice(1, -1)}, error_description="[^"]*"${exact(`${after}, resource_metadata="${url}"`).source.slice(1, -1)}$`,
  )
const invalidToken = described('error="invalid_token"', '')
const DOCUMENT_HEADERS = {
  'content-type': (_set: SetName, answer: Answer) =>
    expect(String(answer.headers['content-type']).split(';')[0]).toBe('application/json'),
  'cache-control': 'public, max-age=3600',
  'access-control-allow-origin': '*',
}
const PRIVATE_MESSAGE = 'Hello from a private endpoint! You need to be authenticated to see this.'

const CASES: Record<string, Case> = {
  'the document (GET)': {
    request: { path: document },
    expected: { status: 200, body: 'document', headers: DOCUMENT_HEADERS },
  },
  'the document with a query': {
    request: { path: (set) => `${document(set)}?from=contract` },
    expected: { status: 200, body: 'document', headers: DOCUMENT_HEADERS },
  },
  'HEAD: the headers, no body, no Content-Length but GET’s': {
    request: { path: document, method: 'HEAD' },
    expected: {
      status: 200,
      empty: true,
      headers: {
        ...DOCUMENT_HEADERS,
        'content-length': (set, answer) =>
          expect([undefined, String(Buffer.byteLength(JSON.stringify(documentOf(set))))]).toContain(
            answer.headers['content-length'],
          ),
      },
    },
  },
  'a CORS preflight: 204': {
    request: {
      path: document,
      method: 'OPTIONS',
      headers: { origin: 'https://app.gatehouse.test', 'access-control-request-method': 'GET' },
    },
    expected: {
      status: 204,
      empty: true,
      headers: {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-max-age': '86400',
      },
    },
  },
  'POST: 405 naming the methods': {
    request: { path: document, method: 'POST' },
    expected: { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } },
  },
  'a trailing slash is another path': {
    request: { path: (set) => `${document(set)}/` },
    expected: { status: 404 },
  },
  'the root location is not the document of a resource with a path': {
    set: 'path',
    request: { path: WELL_KNOWN },
    expected: { status: 404 },
  },
  'no token: the bare challenge names the document': {
    request: { path: '/api/private' },
    expected: {
      status: 401,
      code: 'ERR_NO_TOKEN',
      error: 'unauthorized',
      challenge: (url) => exact(`Bearer resource_metadata="${url}"`),
    },
  },
  'a token for this resource: 200': {
    request: { path: '/api/private', token: 'resource' },
    expected: { status: 200, body: { message: PRIVATE_MESSAGE, tokenType: 'bearer' } },
  },
  'a token for another resource: 401': {
    request: { path: '/api/private', token: 'otherResource' },
    expected: {
      status: 401,
      code: 'ERR_JWT_AUDIENCE_INVALID',
      error: 'invalid_token',
      challenge: invalidToken,
    },
  },
  'a token for the issuer’s default audience: 401': {
    request: { path: '/api/private', token: 'issuerAudience' },
    expected: {
      status: 401,
      code: 'ERR_JWT_AUDIENCE_INVALID',
      error: 'invalid_token',
      challenge: invalidToken,
    },
  },
  'a token without aud: 401': {
    request: { path: '/api/private', token: 'noAudience' },
    expected: {
      status: 401,
      code: /^ERR_JWT_(CLAIM_MISSING|AUDIENCE_INVALID)$/,
      error: 'invalid_token',
      challenge: invalidToken,
    },
  },
  'a token for the resource with a trailing slash added: 401': {
    request: { path: '/api/private', token: 'trailingSlash' },
    expected: {
      status: 401,
      code: 'ERR_JWT_AUDIENCE_INVALID',
      error: 'invalid_token',
      challenge: invalidToken,
    },
  },
  'a missing scope: 403 naming the scope and the document': {
    request: { path: '/api/private-scoped', token: 'resource' },
    expected: {
      status: 403,
      code: 'ERR_POLICY_SCOPE',
      error: 'insufficient_scope',
      challenge: described('error="insufficient_scope"', ', scope="read:messages"'),
    },
  },
  'a scoped route with its scope: 200': {
    request: { path: '/api/private-scoped', token: 'resourceReader' },
    expected: {
      status: 200,
      body: {
        message:
          'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      },
    },
  },
  'a handler’s refusal (assertOwner): 403 naming the document': {
    request: { path: '/api/posts/bob', method: 'DELETE', token: 'resource' },
    expected: {
      status: 403,
      code: 'ERR_POLICY_OWNER',
      error: 'insufficient_scope',
      challenge: described('error="insufficient_scope"', ''),
    },
  },
  'two levels: the inner level’s 403 names the document': {
    levels: true,
    request: { path: '/api/reports/admin', token: 'resourceAdminless' },
    expected: {
      status: 403,
      code: 'ERR_POLICY_SCOPE',
      error: 'insufficient_scope',
      challenge: described('error="insufficient_scope"', ', scope="admin"'),
    },
  },
  'malformed credentials: 400 naming the document': {
    request: { path: '/api/private', headers: { authorization: 'Bearer abc def' } },
    expected: {
      status: 400,
      code: 'ERR_INVALID_REQUEST',
      error: 'invalid_request',
      challenge: described('error="invalid_request"', ''),
    },
  },
}

const metadataUrl = (set: SetName) => HOST + SETS[set].path

function send(set: SetName, example: ExampleDescriptor, request: Sent): Promise<Answer> {
  const server = running.get(`${set} ${example.name}`)
  if (server === undefined) throw new Error(`${example.name} (${set}) is not running`)
  const path = typeof request.path === 'function' ? request.path(set) : request.path
  const options: CallOptions = { method: request.method, headers: { ...request.headers } }
  if (request.token !== undefined) Object.assign(options.headers!, bearer(tokens[set][request.token]))
  return call(server.url + path, options)
}

function check(set: SetName, answer: Answer, want: Expected): void {
  expect(answer.status).toBe(want.status)
  if (want.body !== undefined)
    expect(answer.json).toEqual(want.body === 'document' ? documentOf(set) : want.body)
  if (want.empty) expect(answer.text).toBe('')
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    if (typeof value === 'function') value(set, answer)
    else expect(answer.headers[name] ?? null, name).toBe(value)
  }
  if (want.code !== undefined) {
    const body = answer.json as { code?: string; error?: string }
    expect(body.code).toMatch(want.code)
    expect(body.error).toBe(want.error)
    expect(String(answer.headers['content-type'])).toMatch(/^application\/json/)
    expect(answer.headers['cache-control']).toBe('no-store')
    for (const token of Object.values(tokens[set])) expect(answer.text).not.toContain(token.split('.')[2])
  }
  if (want.challenge !== undefined)
    expect(answer.headers['www-authenticate']).toMatch(want.challenge(metadataUrl(set)))
}

/** The cases of one example and one set, with their names. */
const askable = (example: ExampleDescriptor, set: SetName) =>
  Object.keys(CASES).filter((name) => {
    const { levels, set: only } = CASES[name]!
    return (levels === undefined || example.levels) && (only === undefined || only === set)
  })

beforeAll(async () => {
  for (const file of ['dist/index.js', ...examples.map((example) => example.script)]) {
    if (!existsSync(join(ROOT, file))) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm test does it).`)
    }
  }
  issuer = await startDevIssuer({ dataDir: null })
  // No GATEHOUSE_AUDIENCE: the audience is the resource identifier (RFC 8707 §2).
  const env = { GATEHOUSE_ISSUER: issuer.issuer, GATEHOUSE_JWKS_URL: issuer.jwksUri }
  // A few at a time, as in dpop.contract.test.ts: start-up is CPU-bound and runs beside the other suites'.
  const starts = (Object.keys(SETS) as SetName[]).flatMap((set) =>
    examples.map((example) => ({
      key: `${set} ${example.name}`,
      start: () => example.start({ ...env, ...SETS[set].env(issuer.issuer) }),
    })),
  )
  await startAll(starts, running)

  for (const set of Object.keys(SETS) as SetName[]) {
    const { resource } = SETS[set]
    const mint = (claims: Record<string, unknown>) => issuer.mint(claims, { sub: 'alice' })
    tokens[set] = {
      resource: await mint({ aud: resource }),
      resourceReader: await mint({ aud: resource, scope: 'read:messages' }),
      resourceAdminless: await mint({ aud: resource, scope: 'read:messages write:reports' }),
      otherResource: await mint({ aud: `${HOST}/other` }),
      issuerAudience: await mint({}),
      noAudience: await mint({ aud: undefined }),
      trailingSlash: await mint({ aud: `${resource}/` }),
    }
  }
}, 180_000)

afterAll(async () => {
  await Promise.all([...running.values()].map((server) => server.stop()))
  await issuer?.close()
}, 20_000)

describe.each(Object.keys(SETS) as SetName[])('resource %s', (set) => {
  describe.each(examples)('$name example', (example) => {
    it.each(askable(example, set))('%s', async (name) => {
      const { request, expected } = CASES[name]!
      check(set, await send(set, example, request), expected)
    })
  })
})

describe('every adapter answers alike', () => {
  /**
   * What must not differ: status, the challenge, the headers of the document, the media type and the
   * body. A 404 is the framework's own (its body and media type differ; only its status is the
   * contract's), and an empty body has no media type (@hono/node-server adds `text/plain`).
   */
  const shape = (answer: Answer) => ({
    status: answer.status,
    'www-authenticate': answer.headers['www-authenticate'],
    'cache-control': answer.status === 404 ? undefined : answer.headers['cache-control'],
    'access-control-allow-origin': answer.headers['access-control-allow-origin'],
    'access-control-allow-methods': answer.headers['access-control-allow-methods'],
    allow: answer.headers.allow,
    'content-type':
      answer.text === '' || answer.status === 404
        ? undefined
        : String(answer.headers['content-type'] ?? '').split(';')[0],
    body: answer.status === 404 ? undefined : answer.status >= 400 ? answer.text : answer.json,
  })

  it.each(Object.keys(SETS) as SetName[])('on every case, resource %s', async (set) => {
    const differences: string[] = []
    for (const [name, { levels, set: only, request }] of Object.entries(CASES)) {
      if (only !== undefined && only !== set) continue
      const asked = examples.filter((example) => levels === undefined || example.levels)
      const answered = await Promise.all(asked.map((example) => send(set, example, request)))
      const [first, ...rest] = answered.map((answer, i) => [asked[i]!.name, shape(answer)] as const)
      for (const [example, got] of rest) {
        try {
          expect(got).toEqual(first![1])
        } catch {
          differences.push(
            `${name}: ${example} ${JSON.stringify(got)} ≠ ${first![0]} ${JSON.stringify(first![1])}`,
          )
        }
      }
    }
    expect(differences).toEqual([])
  })
})
