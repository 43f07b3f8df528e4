/**
 * The reference API end to end over real HTTP: a real dev issuer, real tokens, the app on 127.0.0.1, on
 * PGlite always and on PostgreSQL when DATABASE_URL is set. Every endpoint with the right and the wrong
 * tokens, the tables of bad input (never a 500), concurrency, key rotation, logs, the OpenAPI document.
 */
import { request as httpRequest } from 'node:http'
import { asc } from 'drizzle-orm'
import { type AuthContext, assertOwner, errorResponse, GatehouseError } from 'gatehouse'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  DEFAULT_PAGE_SIZE,
  deleteMessage,
  getOrCreateUser,
  MESSAGE_TEXT_MAX_LENGTH,
} from '../src/db/index.js'
import { messages, users } from '../src/db/schema.js'
import { BODY_LIMIT, buildApp, openApiDocument, openApiFor } from '../src/index.js'
import {
  type Answer,
  BACKENDS,
  type Backend,
  call,
  LogCapture,
  startTestApi,
  type TestApi,
} from './helpers/api-server.js'
import { STEP_MS, timeoutFor } from './helpers/timeouts.js'

const ALICE = 'auth0|alice'
const BOB = 'auth0|bob'
const READ_WRITE = 'read:messages write:messages'

/** What Gatehouse's own error bodies look like, for the API's errors too. */
function expectErrorShape(answer: Answer, status: number, error: string): void {
  expect(answer.status).toBe(status)
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
  expect(answer.body).toMatchObject({ error, error_description: expect.any(String) })
}

/** The target of the `rel="next"` link of a `Link` header (RFC 8288 §3), resolved against `base`. */
function nextOf(link: string | null, base: string): string | undefined {
  if (link === null) return undefined
  for (const value of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(value)
    const rels =
      /;\s*rel="?([^";]*)"?/i
        .exec(match?.[2] ?? '')?.[1]
        ?.toLowerCase()
        .split(/\s+/) ?? []
    if (match && rels.includes('next')) {
      const url = new URL(match[1]!, base)
      return url.pathname + url.search
    }
  }
  return undefined
}

/**
 * Follows `next` links from `path` to the last page; returns the ids of every page, in order. `between`
 * runs after each page, to change the table while a client is paging through it.
 */
async function followPages(
  api: TestApi,
  path: string,
  token: string,
  pageSize: number,
  between: (pageIndex: number) => Promise<void> = async () => {},
): Promise<number[][]> {
  const pages: number[][] = []
  for (let next: string | undefined = path; next !== undefined; ) {
    expect(pages.length, 'more pages than rows: the links loop').toBeLessThan(1000)
    const page = await api.call(next, { token })
    expect(page.status, next).toBe(200)
    expect(Array.isArray(page.body)).toBe(true)
    expect(page.body.length).toBeLessThanOrEqual(pageSize)
    pages.push(page.body.map((row: { id: number }) => row.id))
    next = nextOf(page.headers.get('link'), `${api.url}${next}`)
    if (next !== undefined) expect(page.body).toHaveLength(pageSize)
    await between(pages.length - 1)
  }
  return pages
}

/** Every message id in the database, in id order. */
async function messageIds(api: TestApi): Promise<number[]> {
  const rows = await api.db.orm.select({ id: messages.id }).from(messages).orderBy(asc(messages.id))
  return rows.map((row) => row.id)
}

/** Sends `path` byte for byte (fetch would normalise some of it), for the log redaction cases. */
function rawGet(base: string, path: string): Promise<number> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

function apiSuite(backend: Backend) {
  let api: TestApi
  let alice: string
  let bob: string
  let reader: string
  let plain: string

  beforeAll(async () => {
    api = await startTestApi(backend)
    const { issuer } = api
    alice = await issuer.mint({ scope: READ_WRITE, roles: ['admin'] }, { sub: ALICE })
    bob = await issuer.mint({ scope: READ_WRITE }, { sub: BOB })
    reader = await issuer.mint({ scope: 'read:messages' }, { sub: 'reader' })
    plain = await issuer.mint({}, { sub: 'plain' })
  }, timeoutFor('pgliteOpen'))
  afterAll(async () => {
    await api?.close()
  }, timeoutFor())

  describe('sample endpoints', () => {
    it('answers the public routes without a token, and ignores a bad one there', async () => {
      for (const token of [undefined, 'not-a-jwt']) {
        expect(await api.call('/public', { token })).toMatchObject({
          status: 200,
          body: { message: 'This is a public message!' },
        })
        expect(await api.call('/api/public', { token })).toMatchObject({
          status: 200,
          body: { message: "Hello from a public endpoint! You don't need to be authenticated to see this." },
        })
      }
    })

    it('answers /protected with the sub of a valid token (AuthAction’s Django sample)', async () => {
      const answer = await api.call('/protected', { token: alice })
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({ message: 'This is a protected message!', sub: ALICE })
    })

    it('answers /api/private to any valid token and /api/private-scoped to read:messages only (Auth0’s Django API sample)', async () => {
      expect((await api.call('/api/private', { token: plain })).body).toEqual({
        message: 'Hello from a private endpoint! You need to be authenticated to see this.',
      })
      expect((await api.call('/api/private-scoped', { token: reader })).body).toEqual({
        message:
          'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      })
      const denied = await api.call('/api/private-scoped', { token: plain })
      expectErrorShape(denied, 403, 'insufficient_scope')
      expect(denied.body.code).toBe('ERR_POLICY_SCOPE')
      expect(denied.headers.get('www-authenticate')).toContain('scope="read:messages"')
    })

    it('refuses protected routes without a token or with a bad one, with the RFC 6750 challenge', async () => {
      const { issuer } = api
      const cases: [string, string | undefined, string][] = [
        ['no token', undefined, 'ERR_NO_TOKEN'],
        ['expired', await issuer.mint({}, { sub: ALICE, expiresIn: -120 }), 'ERR_JWT_EXPIRED'],
        [
          'wrong audience',
          await issuer.mint({ aud: 'https://other.example' }, { sub: ALICE }),
          'ERR_JWT_AUDIENCE_INVALID',
        ],
        [
          'wrong issuer',
          await issuer.mint({ iss: 'https://evil.example' }, { sub: ALICE }),
          'ERR_JWT_ISSUER_INVALID',
        ],
        ['garbage', 'abc.def.ghi', 'ERR_JWT_MALFORMED'],
      ]
      for (const path of ['/protected', '/api/private', '/api/users/me', '/api/messages']) {
        for (const [name, token, code] of cases) {
          const answer = await api.call(path, { token })
          expect(answer.status, `${path} ${name}`).toBe(401)
          expect(answer.body.code, `${path} ${name}`).toBe(code)
          expect(answer.headers.get('www-authenticate'), `${path} ${name}`).toMatch(/^Bearer/)
        }
      }
    })

    it('refuses a token without a usable sub as invalid_token, never a 500', async () => {
      const noSub = await api.issuer.mint({ sub: undefined })
      const longSub = await api.issuer.mint({}, { sub: 'x'.repeat(1025) })
      for (const token of [noSub, longSub]) {
        const answer = await api.call('/protected', { token })
        expectErrorShape(answer, 401, 'invalid_token')
      }
    })
  })

  describe('users (the Auth0 DRF guide)', () => {
    it('creates the caller on first sight with the username derived from sub, once', async () => {
      const first = await api.call('/api/users/me', { token: alice })
      expect(first.status).toBe(200)
      expect(first.body).toEqual({
        id: expect.any(Number),
        sub: ALICE,
        username: 'auth0.alice',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      })
      expect((await api.call('/api/users/me', { token: alice })).body).toEqual(first.body)
    })

    it('lists users for the admin role only', async () => {
      await api.call('/protected', { token: bob }) // every authenticated caller gets a row
      const list = await api.call('/api/users', { token: alice })
      expect(list.status).toBe(200)
      expect(list.body.map((user: { sub: string }) => user.sub)).toEqual(expect.arrayContaining([ALICE, BOB]))
      const denied = await api.call('/api/users', { token: bob })
      expectErrorShape(denied, 403, 'insufficient_scope')
      expect(denied.body.code).toBe('ERR_POLICY_ROLE')
      expect((await api.call('/api/users?limit=1', { token: alice })).body).toHaveLength(1)
    })

    it('pages users with Link rel="next" until every user is seen exactly once', async () => {
      for (let i = 0; i < 60; i++) await getOrCreateUser(api.db, `auth0|listed-${i}`)
      const all = (await api.db.orm.select({ id: users.id }).from(users).orderBy(asc(users.id))).map(
        (row) => row.id,
      )
      expect(all.length).toBeGreaterThan(DEFAULT_PAGE_SIZE)
      const pages = await followPages(api, '/api/users?limit=25', alice, 25)
      expect(pages.flat()).toEqual(all)
      expect(pages).toHaveLength(Math.ceil(all.length / 25))
      // The first page without a limit holds the default page size, and links on.
      const first = await api.call('/api/users', { token: alice })
      expect(first.body).toHaveLength(DEFAULT_PAGE_SIZE)
      expect(first.headers.get('link')).toBe(
        `</api/users?limit=${DEFAULT_PAGE_SIZE}&after=${all[DEFAULT_PAGE_SIZE - 1]}>; rel="next"`,
      )
    })
  })

  describe('messages', () => {
    const post = (token: string, body: unknown) =>
      api.call('/api/messages', {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })

    it('creates, reads, updates and deletes a message, owner-only for writes', async () => {
      const created = await post(alice, { text: 'hello' })
      expect(created.status).toBe(201)
      expect(created.body).toEqual({
        id: expect.any(Number),
        text: 'hello',
        owner: ALICE,
        created_at: expect.stringMatching(/Z$/),
      })
      const path = `/api/messages/${created.body.id}`
      expect(created.headers.get('location')).toBe(path)
      expect((await api.call(path, { token: reader })).body).toEqual(created.body)
      const list = await api.call('/api/messages', { token: reader })
      expect(list.body).toContainEqual(created.body)

      const patch = (token: string, text: string) =>
        api.call(path, {
          method: 'PATCH',
          token,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        })
      const stolen = await patch(bob, 'mine now')
      expectErrorShape(stolen, 403, 'insufficient_scope')
      expect(stolen.body.code).toBe('ERR_POLICY_OWNER')
      const deleted = await api.call(path, { method: 'DELETE', token: bob })
      expect(deleted.status).toBe(403)
      expect((await patch(reader, 'x')).body.code).toBe('ERR_POLICY_SCOPE')

      const updated = await patch(alice, 'hello again')
      expect(updated.status).toBe(200)
      expect(updated.body).toEqual({ ...created.body, text: 'hello again' })
      expect((await api.call(path, { token: bob })).body.text).toBe('hello again')

      const gone = await api.call(path, { method: 'DELETE', token: alice })
      expect(gone.status).toBe(204)
      expect(gone.body).toBeUndefined()
      expectErrorShape(await api.call(path, { token: alice }), 404, 'not_found')
      expectErrorShape(await api.call(path, { method: 'DELETE', token: alice }), 404, 'not_found')
      expectErrorShape(await patch(alice, 'x'), 404, 'not_found')
    })

    it("renders the owner refusal exactly as the core's assertOwner does", async () => {
      const created = await post(alice, { text: 'owned' })
      const refused = await api.call(`/api/messages/${created.body.id}`, { method: 'DELETE', token: bob })
      let thrown: unknown
      try {
        assertOwner({ claims: { sub: BOB } } as unknown as AuthContext, ALICE)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(GatehouseError)
      const expected = errorResponse(thrown as GatehouseError)
      expect(refused.status).toBe(expected.status)
      expect(refused.body).toEqual(JSON.parse(JSON.stringify(expected.body)))
      expect(refused.headers.get('www-authenticate')).toBe(expected.headers['www-authenticate'])
    })

    it('requires read:messages to read and write:messages to post', async () => {
      expect((await api.call('/api/messages', { token: plain })).body.code).toBe('ERR_POLICY_SCOPE')
      const denied = await post(reader, { text: 'denied' })
      expectErrorShape(denied, 403, 'insufficient_scope')
      expect(denied.headers.get('www-authenticate')).toContain('scope="write:messages"')
    })

    it('answers 400, 413 or 415 with a JSON error for every bad body, never a 500', async () => {
      const raw = (body: string, type: string | undefined = 'application/json') =>
        api.call('/api/messages', {
          method: 'POST',
          token: alice,
          headers: type === undefined ? {} : { 'content-type': type },
          body,
        })
      const cases: [string, () => Promise<Answer>, number][] = [
        ['invalid JSON', () => raw('{"text":'), 400],
        ['not JSON at all', () => raw('hello'), 400],
        ['empty body', () => raw(''), 400],
        ['array', () => raw('[]'), 400],
        ['string', () => raw('"text"'), 400],
        ['number', () => raw('42'), 400],
        ['null', () => raw('null'), 400],
        ['no text', () => raw('{"message":"hi"}'), 400],
        ['text null', () => raw('{"text":null}'), 400],
        ['text number', () => raw('{"text":5}'), 400],
        ['text array', () => raw('{"text":["a"]}'), 400],
        ['text object', () => raw('{"text":{"a":1}}'), 400],
        ['text empty', () => raw('{"text":""}'), 400],
        ['text too long', () => raw(JSON.stringify({ text: 'x'.repeat(MESSAGE_TEXT_MAX_LENGTH + 1) })), 400],
        ['text with NUL', () => raw('{"text":"a\\u0000b"}'), 400],
        ['text with a lone surrogate', () => raw('{"text":"a\\ud800b"}'), 400],
        ['prototype poisoning', () => raw('{"text":"a","__proto__":{"x":1}}'), 400],
        ['text/plain', () => raw('{"text":"hi"}', 'text/plain'), 415],
        ['form', () => raw('text=hi', 'application/x-www-form-urlencoded'), 415],
        ['body over the limit', () => raw(JSON.stringify({ text: 'x'.repeat(BODY_LIMIT) })), 413],
      ]
      for (const [name, send, status] of cases) {
        const answer = await send()
        expect(answer.status, name).toBe(status)
        expect(answer.body, name).toMatchObject({
          error: 'invalid_request',
          error_description: expect.any(String),
        })
      }
      // The longest text fits, even fully escaped: the body limit is not a tighter text limit.
      const longest = JSON.stringify({ text: '\u{1F600}'.repeat(MESSAGE_TEXT_MAX_LENGTH) }).replace(
        /[\u{10000}-\u{10FFFF}]/gu,
        (c) => `\\u${c.charCodeAt(0).toString(16)}\\u${c.charCodeAt(1).toString(16)}`,
      )
      expect(longest.length).toBeLessThan(BODY_LIMIT)
      expect((await raw(longest)).status).toBe(201)
    })

    it('answers 404 for every id that cannot exist, on every method', async () => {
      const ids = [
        'abc',
        '1e3',
        '-1',
        '0',
        '007',
        '1.5',
        '99999999999',
        '2147483648',
        '%00',
        '%20',
        '%2F',
        'x'.repeat(200),
      ]
      for (const id of ids) {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          const answer = await api.call(`/api/messages/${id}`, {
            method,
            token: alice,
            ...(method === 'PATCH'
              ? { headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' }
              : {}),
          })
          expectErrorShape(answer, 404, 'not_found')
        }
      }
    })

    it('pages the list with Link rel="next" until every message is seen exactly once', async () => {
      // More rows than a page holds, written straight to the database.
      for (let i = 0; i < 2 * DEFAULT_PAGE_SIZE + 20; i++) {
        await createMessage(api.db, { text: `paged ${i}`, owner: 'auth0|pager' })
      }
      const all = await messageIds(api)
      const pages = await followPages(api, '/api/messages', reader, DEFAULT_PAGE_SIZE)
      expect(pages.flat()).toEqual(all)
      expect(pages).toHaveLength(Math.ceil(all.length / DEFAULT_PAGE_SIZE))
      expect(new Set(pages.flat()).size).toBe(all.length)

      // A page that ends exactly on the last row has no next link; one row earlier, it has one.
      const tail = await api.call(`/api/messages?limit=3&after=${all.at(-4)}`, { token: reader })
      expect(tail.body.map((m: { id: number }) => m.id)).toEqual(all.slice(-3))
      expect(tail.headers.get('link')).toBeNull()
      const before = await api.call(`/api/messages?limit=3&after=${all.at(-5)}`, { token: reader })
      expect(before.headers.get('link')).toBe(`</api/messages?limit=3&after=${all.at(-2)}>; rel="next"`)
    })

    it('pages by cursor: a row deleted from a page already read skips nothing, a new row is seen', async () => {
      const start = await messageIds(api)
      let added: number | undefined
      const pages = await followPages(api, '/api/messages?limit=10', reader, 10, async (index) => {
        if (index !== 0) return
        // Offset paging would now shift every later row one place back, and skip one.
        const firstRead = start[0]!
        expect(await deleteMessage(api.db, firstRead)).toBe(true)
        added = (await createMessage(api.db, { text: 'added while paging', owner: 'auth0|pager' })).id
      })
      const seen = pages.flat()
      expect(seen).toEqual([...start, added])
      expect(new Set(seen).size).toBe(seen.length)
    })

    it('answers 400 for malformed paging and a broken URL', async () => {
      for (const query of [
        'limit=abc',
        'limit=-1',
        'limit=0',
        'offset=1.5',
        'limit=1&limit=2',
        'limit=99999999999',
        'after=abc',
        'after=-1',
        'after=1.5',
        'after=',
        'after=1&after=2',
        'after=2147483648',
        'after=99999999999',
      ]) {
        expectErrorShape(await api.call(`/api/messages?${query}`, { token: alice }), 400, 'invalid_request')
        expectErrorShape(await api.call(`/api/users?${query}`, { token: alice }), 400, 'invalid_request')
      }
      expectErrorShape(await api.call('/api/messages/%E0%A4%A', { token: alice }), 400, 'invalid_request')
    })

    it('keeps every one of 50 concurrent posts, and creates their author once', async () => {
      const token = await api.issuer.mint({ scope: READ_WRITE }, { sub: 'auth0|burst' })
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => post(token, { text: `burst ${i}` })),
      )
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201))
      const ids = new Set(answers.map((a) => a.body.id))
      expect(ids.size).toBe(50)
      const stored: { id: number; owner: string }[] = []
      for (let offset = 0; ; offset += 100) {
        const page = await api.call(`/api/messages?limit=100&offset=${offset}`, { token })
        stored.push(...page.body)
        if (page.body.length < 100) break
      }
      expect(
        stored
          .filter((m) => m.owner === 'auth0|burst')
          .map((m) => m.id)
          .sort(),
      ).toEqual([...ids].sort())
      const users = await api.call('/api/users?limit=100', { token: alice })
      expect(users.body.filter((u: { sub: string }) => u.sub === 'auth0|burst')).toHaveLength(1)
    })
  })

  describe('routing', () => {
    it('answers 401 before reading the body of a request without a token', async () => {
      const url = new URL(`${api.url}/api/messages`)
      const status = await new Promise<number>((resolve, reject) => {
        const headers = { 'content-type': 'application/json', 'content-length': '1000000' }
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
            req.destroy()
          },
        )
        req.on('error', reject)
        req.write('{"text":"') // and never the rest
      })
      expect(status).toBe(401)
    })

    it('answers unknown routes 404 and known paths with a wrong method 405 with Allow, as JSON', async () => {
      expectErrorShape(await api.call('/nope', { token: alice }), 404, 'not_found')
      expectErrorShape(await api.call('/nope'), 404, 'not_found')
      const put = await api.call('/api/messages', { method: 'PUT', token: alice })
      expectErrorShape(put, 405, 'method_not_allowed')
      expect(put.headers.get('allow')).toBe('GET, HEAD, POST')
      const onItem = await api.call('/api/messages/1', { method: 'POST' })
      expect(onItem.status).toBe(405)
      expect(onItem.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH')
    })

    it('returns a request id, keeping a sane x-request-id and replacing any other', async () => {
      const kept = await api.call('/public', { headers: { 'x-request-id': 'edge-42.a' } })
      expect(kept.headers.get('x-request-id')).toBe('edge-42.a')
      const replaced = await api.call('/public', { headers: { 'x-request-id': 'a b "c"' } })
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
      const records = api.logs.records.filter((r) => r.reqId === 'edge-42.a')
      expect(records.map((r) => r.msg)).toEqual(
        expect.arrayContaining(['incoming request', 'request completed']),
      )
    })
  })

  describe('key rotation', () => {
    it(
      'accepts a token signed with a key published after start, without a restart',
      async () => {
        const before = await api.issuer.mint({}, { sub: ALICE })
        expect((await api.call('/protected', { token: before })).status).toBe(200)
        const { kid } = await api.issuer.rotate()
        const after = await api.issuer.mint({}, { sub: ALICE })
        expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(kid)
        // The key store refetches on an unknown kid; allow for its (50 ms) cooldown, on a busy machine.
        let status = 0
        for (const deadline = Date.now() + STEP_MS.quick; Date.now() < deadline; ) {
          status = (await api.call('/protected', { token: after })).status
          if (status === 200) break
          await new Promise((resolve) => setTimeout(resolve, 60))
        }
        expect(status).toBe(200)
        // The old key stays published for the grace period.
        expect((await api.call('/protected', { token: before })).status).toBe(200)
        expect(api.logs.records.some((r) => r.msg === 'signing keys changed')).toBe(true)
      },
      timeoutFor('quick'),
    )
  })

  describe('logs', () => {
    it('are JSON lines, and never contain a token, even one sent in the query string', async () => {
      await api.call(`/public?access_token=${alice}&x=1`)
      await api.call('/protected', { token: alice, headers: { cookie: 'session=s3cret' } })
      const records = api.logs.records
      expect(records.length).toBeGreaterThan(10)
      const incoming = records.find((r) => r.msg === 'incoming request' && r.req?.url?.startsWith('/public?'))
      expect(incoming?.req?.url).toBe('/public?access_token=[Redacted]&x=1')
      for (const token of [alice, bob, reader, plain]) {
        expect(api.logs.text).not.toContain(token.split('.')[2])
      }
      expect(api.logs.text).not.toContain('s3cret')
    })

    it('redact a query token however its name is encoded, cased or repeated, and survive malformed escapes', async () => {
      const token = alice
      const cases: [sent: string, logged: string][] = [
        [`access%5Ftoken=${token}`, 'access%5Ftoken=[Redacted]'],
        [`access%5ftoken=${token}&x=1`, 'access%5ftoken=[Redacted]&x=1'],
        [`%61ccess_token=${token}`, '%61ccess_token=[Redacted]'],
        [`%61%63%63%65%73%73%5F%74%6F%6B%65%6E=${token}`, '%61%63%63%65%73%73%5F%74%6F%6B%65%6E=[Redacted]'],
        [`access%255Ftoken=${token}`, 'access%255Ftoken=[Redacted]'],
        [`ACCESS_TOKEN=${token}`, 'ACCESS_TOKEN=[Redacted]'],
        [`Access%5FToken=${token}`, 'Access%5FToken=[Redacted]'],
        [`access_token+=${token}`, 'access_token+=[Redacted]'],
        [`+access%5Ftoken=${token}`, '+access%5Ftoken=[Redacted]'],
        [`access_token=${token}&access_token=${bob}`, 'access_token=[Redacted]&access_token=[Redacted]'],
        [
          `a=1&access%5Ftoken=${token}&access_token=${bob}`,
          'a=1&access%5Ftoken=[Redacted]&access_token=[Redacted]',
        ],
        [`x=1;access_token=${token}`, 'x=1;access_token=[Redacted]'],
        [`%E0%A4%A=1&access%5Ftoken=${token}&%zz=2`, '%E0%A4%A=1&access%5Ftoken=[Redacted]&%zz=2'],
        [`access%5Ftoken=${token}&%=&=&&%`, 'access%5Ftoken=[Redacted]&%=&=&&%'],
        [`%FF%FE=1&access%5Ftoken=${token}`, '%FF%FE=1&access%5Ftoken=[Redacted]'],
        [`refresh%5Ftoken=${token}&id_token=${bob}`, 'refresh%5Ftoken=[Redacted]&id_token=[Redacted]'],
      ]
      for (const [index, [sent]] of cases.entries()) {
        const status = await rawGet(api.url, `/public?case=${index}&${sent}`)
        expect(status, sent).toBeLessThan(500)
      }
      const incoming = api.logs.records.filter((r) => r.msg === 'incoming request')
      for (const [index, [sent, logged]] of cases.entries()) {
        const record = incoming.find((r) => r.req?.url?.startsWith(`/public?case=${index}&`))
        expect(record?.req?.url, sent).toBe(`/public?case=${index}&${logged}`)
      }
      for (const sent of [alice, bob]) expect(api.logs.text).not.toContain(sent.split('.')[2])
    })

    it('replace the authorization and cookie headers that a handler logs by mistake', async () => {
      const logs = new LogCapture()
      const auth = { issuer: api.issuer.issuer, audience: api.issuer.audience, jwksUri: api.issuer.jwksUri }
      const app = await buildApp({ db: api.db, auth, logLevel: 'info', logStream: logs })
      app.get('/debug/headers', { config: { access: 'public' } }, async (request) => {
        request.log.info({ headers: request.headers }, 'headers as received')
        return { ok: true }
      })
      const url = await app.listen({ port: 0, host: '127.0.0.1' })
      try {
        await call(url, '/debug/headers', { token: alice, headers: { cookie: 'session=s3cret' } })
      } finally {
        await app.close()
      }
      const [logged] = logs.records.filter((r) => r.msg === 'headers as received')
      expect(logged?.headers).toMatchObject({ authorization: '[Redacted]', cookie: '[Redacted]' })
      expect(logs.text).not.toContain(alice.split('.')[2])
      expect(logs.text).not.toContain('s3cret')
    })
  })

  describe('OpenAPI', () => {
    it('serves the document publicly, with the bearer scheme', async () => {
      const answer = await api.call('/openapi.json')
      expect(answer.status).toBe(200)
      expect(answer.body.openapi).toBe('3.1.0')
      expect(answer.body.components.securitySchemes.bearerAuth).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      })
      expect(answer.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)))
    })

    it('follows the configuration: DPoP beside or instead of Bearer, the same scopes; opaque tokens not said to be JWTs', () => {
      type Security = Record<string, string[]>[] | undefined
      const operations = (document: typeof openApiDocument) =>
        Object.entries(
          document.paths as unknown as Record<string, Record<string, { security?: Security }>>,
        ).flatMap(([path, item]) =>
          Object.entries(item).map(([method, op]) => [`${method} ${path}`, op.security] as const),
        )
      const plain = new Map<string, Security>(operations(openApiDocument))
      const scopesOf = (name: string) => plain.get(name)?.[0]?.bearerAuth
      expect(openApiFor({})).toBe(openApiDocument)
      expect(openApiFor({ dpop: 'off', introspection: {}, tokenSource: 'jwt' })).toBe(openApiDocument)
      const cases = [
        { auth: { dpop: 'allowed' }, schemes: ['bearerAuth', 'dpopAuth'] },
        { auth: { dpop: 'required' }, schemes: ['dpopAuth'] },
        { auth: { introspection: {} }, schemes: ['bearerAuth'] },
      ] as const
      for (const { auth, schemes } of cases) {
        const document = openApiFor(auth)
        const label = JSON.stringify(auth)
        expect(Object.keys(document.components.securitySchemes).sort(), label).toEqual(schemes)
        expect(document.security, label).toEqual(schemes.map((scheme) => ({ [scheme]: [] })))
        for (const [name, security] of operations(document)) {
          const scopes = scopesOf(name)
          if (scopes === undefined) expect(security, `${label} ${name}`).toEqual(plain.get(name))
          else expect(security, `${label} ${name}`).toEqual(schemes.map((scheme) => ({ [scheme]: scopes })))
        }
      }
      expect(openApiFor({ dpop: 'allowed' }).components.securitySchemes.bearerAuth).toEqual(
        openApiDocument.components.securitySchemes.bearerAuth,
      )
      const opaque = openApiFor({ introspection: {} }).components.securitySchemes.bearerAuth
      expect(opaque).not.toHaveProperty('bearerFormat')
      expect(opaque.description).toMatch(/opaque token .*RFC 7662/)
      // The document every test above compares with is left as it was.
      expect(openApiDocument.components.securitySchemes).toEqual({
        bearerAuth: expect.objectContaining({ bearerFormat: 'JWT' }),
      })
    })

    it('documents the paging of both lists: limit, after, offset, the Link header, the 400', () => {
      for (const path of ['/api/messages', '/api/users'] as const) {
        const operation = openApiDocument.paths[path].get
        expect(operation.parameters.map((p) => p.name).sort(), path).toEqual(['after', 'limit', 'offset'])
        expect(operation.responses['200'].headers.Link.description, path).toMatch(/rel="next"/)
        expect(operation.responses['400'].description, path).toMatch(/`after`/)
      }
    })

    it('lists every registered route, with the security its config.access says, and nothing else', () => {
      type Operation = { security?: unknown; 'x-required-roles'?: unknown }
      const paths = openApiDocument.paths as unknown as Record<string, Record<string, Operation>>
      const registered = api.app.routeTable.routes.filter((r) => r.method !== 'HEAD')
      expect(registered.length).toBeGreaterThanOrEqual(12)
      for (const route of registered) {
        const path = route.url.replace(/:(\w+)/g, '{$1}')
        const operation = paths[path]?.[route.method.toLowerCase()]
        expect(operation, `${route.method} ${route.url}`).toBeDefined()
        const access = route.access
        if (access === 'public') {
          expect(operation?.security, route.url).toEqual([])
        } else {
          const rule = (access ?? {}) as { scopes?: string; roles?: string }
          expect(operation?.security, route.url).toEqual([
            { bearerAuth: rule.scopes === undefined ? [] : [rule.scopes] },
          ])
          expect(operation?.['x-required-roles'], route.url).toEqual(
            rule.roles === undefined ? undefined : [rule.roles],
          )
        }
      }
      const documented = Object.entries(paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((key) => key !== 'parameters')
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      const routes = registered.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      expect(documented.sort()).toEqual(routes.sort())
    })
  })
}

for (const backend of BACKENDS) describe(backend.name, () => apiSuite(backend))
