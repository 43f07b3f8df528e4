/**
 * DPoP (RFC 9449) in the reference API as it is deployed: copies of the built `dist/server.js` as separate
 * processes, configured by GATEHOUSE_DPOP, GATEHOUSE_REDIS_URL, GATEHOUSE_DPOP_NONCE_SECRET and
 * GATEHOUSE_PUBLIC_URL, behind one public URL the way a load balancer puts them. Two instances that
 * share a real redis-server refuse a proof the other one accepted; two that keep replay records in
 * their own memory do not, which is why several instances need GATEHOUSE_REDIS_URL. A Redis that cannot
 * be reached is a 503 with Retry-After for DPoP requests, never an accepted replay.
 *
 * Tokens come from a dev issuer in this process (bound with `cnf.jkt`), proofs from panva's `dpop`.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateThumbprint, generateKeyPair, generateProof, type KeyPair } from 'dpop'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, call, type LogRecord } from './helpers/api-server.js'
import { type BuiltApp, copyBuiltApp } from './helpers/built-app.js'
import { READY, type Spawned, spawnNode, stopAll, stopStrays, waitFor } from './helpers/process.js'
import { redisServerAvailable, startRedis, type TestRedis } from './helpers/redis-server.js'
import { STEP_MS, timeoutFor } from './helpers/timeouts.js'

const withRedis = redisServerAvailable()

/** The URL clients use, shared by every instance behind it: what their proofs' `htu` names. */
const PUBLIC_URL = 'https://api.example.com'
const NONCE_SECRET = 'reference-api-test-nonce-secret-of-48-characters'

/** One reference API process. */
interface Instance {
  /** Where it listens, from its ready line: `http://127.0.0.1:{port}`. */
  url: string
  proc: Spawned
}

let built: BuiltApp
let issuer: DevIssuer
let root: string
let redis: TestRedis | undefined
/** An initialised, migrated data folder, copied for each instance: a first PGlite open is the slow part. */
let template: string
/** Each instance: `shared*` share Redis and a nonce secret, `memory*` keep replay records in memory. */
const api: Record<string, Instance> = {}

let client: KeyPair
/** A token bound to `client`'s key (`cnf.jkt`, RFC 9449 §6.1), and one bound to no key. */
let bound: string
let unbound: string

const server = (env: Record<string, string>) => spawnNode([join(built.dir, 'dist/server.js')], env, root)
const trust = () => ({
  GATEHOUSE_ISSUER: issuer.issuer,
  GATEHOUSE_AUDIENCE: issuer.audience,
  GATEHOUSE_JWKS_URL: issuer.jwksUri,
})

async function startInstance(name: string, env: Record<string, string>): Promise<void> {
  const dataDir = join(root, name)
  await cp(template, dataDir, { recursive: true })
  const proc = server({ ...trust(), PORT: '0', DATA_DIR: dataDir, ...env })
  api[name] = { url: await waitFor(proc, READY, STEP_MS.pgliteReopen), proc }
}

beforeAll(
  async () => {
    ;[built, issuer, root] = await Promise.all([
      copyBuiltApp(),
      startDevIssuer({ dataDir: null }),
      mkdtemp(join(tmpdir(), 'gatehouse-refapi-dpop-')),
    ])
    client = await generateKeyPair('ES256')
    const jkt = await calculateThumbprint(client.publicKey)
    bound = await issuer.mint({ scope: 'read:messages', cnf: { jkt } }, { sub: 'auth0|dpop' })
    unbound = await issuer.mint({ scope: 'read:messages' }, { sub: 'auth0|bearer' })

    template = join(root, 'template')
    const first = server({ ...trust(), PORT: '0', DATA_DIR: template })
    await waitFor(first, READY)
    first.child.kill('SIGTERM')
    expect(await first.exit()).toEqual({ code: 0, signal: null })

    if (withRedis) redis = await startRedis()
    const allowed = { GATEHOUSE_DPOP: 'allowed', GATEHOUSE_PUBLIC_URL: PUBLIC_URL }
    const shared = { ...allowed, GATEHOUSE_DPOP_NONCE_SECRET: NONCE_SECRET }
    await Promise.all([
      ...(redis === undefined
        ? []
        : [
            startInstance('sharedA', { ...shared, GATEHOUSE_REDIS_URL: redis.url }),
            startInstance('sharedB', { ...shared, GATEHOUSE_REDIS_URL: redis.url }),
          ]),
      startInstance('memoryA', allowed),
      startInstance('memoryB', allowed),
      startInstance('required', { GATEHOUSE_DPOP: 'required' }),
      // Nothing listens on port 1: every connection is refused.
      startInstance('noRedis', { GATEHOUSE_DPOP: 'allowed', GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:1' }),
    ])
  },
  timeoutFor('pgliteOpen', 'pgliteReopen'),
)

afterAll(async () => {
  await stopStrays()
  await redis?.stop()
  await issuer?.close()
  await built?.remove()
  if (root) await rm(root, { recursive: true, force: true })
}, timeoutFor('exit'))

/** A proof by `client` for `GET htu`, bound to the token `bound` (`ath`), with the server's `nonce` if given. */
const proofFor = (htu: string, nonce?: string) => generateProof(client, htu, 'GET', nonce, bound)

/** `GET path` on `instance` with `Authorization: DPoP` and the token `bound`, and `proof` when given. */
function dpopCall(instance: Instance, path: string, proof: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `DPoP ${bound}` }
  if (proof !== undefined) headers.dpop = proof
  return call(instance.url, path, { headers })
}

/**
 * The `request refused` log lines an instance wrote with `code`, once there are at least `count`: the
 * process writes the line before it answers, but its output may reach this process after the answer.
 */
async function refusals(instance: Instance, code: string, count: number): Promise<LogRecord[]> {
  const deadline = Date.now() + STEP_MS.quick / 2
  for (;;) {
    const text = instance.proc.stdout()
    const found = text
      .slice(0, text.lastIndexOf('\n') + 1) // complete lines only
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogRecord)
      .filter((record) => record.msg === 'request refused' && record.code === code)
    if (found.length >= count || Date.now() > deadline) return found
    await sleep(50)
  }
}

/**
 * Send fresh proofs until one is not a 503, and expect a 200. An instance opens its Redis connection
 * before listening (warmUp), but a Redis that was just restarted may take a moment to accept it again.
 */
async function untilStoreAnswers(instance: Instance, nonce: string): Promise<void> {
  const deadline = Date.now() + STEP_MS.quick / 2
  for (;;) {
    const answer = await dpopCall(instance, '/protected', await proofFor(`${PUBLIC_URL}/protected`, nonce))
    if (answer.status !== 503 || Date.now() > deadline) {
      expect(answer.status).toBe(200)
      return
    }
    await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The accepted answer of /protected, for the token's `sub`. */
const PROTECTED = { message: 'This is a protected message!', sub: 'auth0|dpop' }

describe.runIf(withRedis)('two instances sharing Redis and a nonce secret', () => {
  let nonce: string
  /** A proof instance sharedA accepted. */
  let accepted: string

  beforeAll(async () => {
    const first = await dpopCall(api.sharedA!, '/protected', await proofFor(`${PUBLIC_URL}/protected`))
    expect(first.status).toBe(401)
    expect(first.body).toMatchObject({ error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_MISSING' })
    expect(first.headers.get('www-authenticate')).toMatch(/DPoP error="use_dpop_nonce"/)
    nonce = first.headers.get('dpop-nonce') ?? ''
    expect(nonce).not.toBe('')
    await Promise.all([untilStoreAnswers(api.sharedA!, nonce), untilStoreAnswers(api.sharedB!, nonce)])
  }, timeoutFor())

  it('one instance’s nonce is good at the other (the same GATEHOUSE_DPOP_NONCE_SECRET)', async () => {
    const atB = await dpopCall(api.sharedB!, '/protected', await proofFor(`${PUBLIC_URL}/protected`, nonce))
    expect(atB.status).toBe(200)
    expect(atB.body).toEqual(PROTECTED)
    // A nonce made with another secret is not one.
    const other = `${nonce.slice(0, -4)}${nonce.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
    const forged = await dpopCall(
      api.sharedB!,
      '/protected',
      await proofFor(`${PUBLIC_URL}/protected`, other),
    )
    expect(forged.body).toMatchObject({ error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_INVALID' })
    expect(forged.headers.get('dpop-nonce')).toMatch(/^[\w-]+$/)
  })

  it('a proof accepted by one instance is refused by the other: 401 invalid_dpop_proof', async () => {
    const { sharedA, sharedB } = api
    accepted = await proofFor(`${PUBLIC_URL}/protected`, nonce)
    const once = await dpopCall(sharedA!, '/protected', accepted)
    expect(once.status).toBe(200)
    expect(once.body).toEqual(PROTECTED)

    const replayed = await dpopCall(sharedB!, '/protected', accepted)
    expect(replayed.status).toBe(401)
    expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_PROOF_REPLAYED' })
    expect(replayed.headers.get('www-authenticate')).toMatch(
      /^Bearer, DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256[^"]*"$/,
    )
    expect((await dpopCall(sharedA!, '/protected', accepted)).body.code).toBe('ERR_DPOP_PROOF_REPLAYED')
    expect(await refusals(sharedB!, 'ERR_DPOP_PROOF_REPLAYED', 1)).toHaveLength(1)
  })

  it('one proof sent to both instances at once is accepted exactly once', async () => {
    const { sharedA, sharedB } = api
    const proof = await proofFor(`${PUBLIC_URL}/protected`, nonce)
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => dpopCall(i % 2 ? sharedA! : sharedB!, '/protected', proof)),
    )
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1)
    for (const answer of answers.filter((each) => each.status !== 200))
      expect(answer.body.code).toBe('ERR_DPOP_PROOF_REPLAYED')
  })

  it('Redis stopped: DPoP requests answer 503 with Retry-After, a replay is still not accepted, Bearer goes on', async () => {
    const { sharedA, sharedB } = api
    const before = (await refusals(sharedA!, 'ERR_STORE_UNAVAILABLE', 0)).length
    await redis!.stop()
    const fresh = await dpopCall(sharedA!, '/protected', await proofFor(`${PUBLIC_URL}/protected`, nonce))
    expect(fresh.status).toBe(503)
    expect(fresh.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(fresh.headers.get('www-authenticate')).toBeNull()
    expect(fresh.body).toMatchObject({ error: 'temporarily_unavailable', code: 'ERR_STORE_UNAVAILABLE' })

    const replay = await dpopCall(sharedB!, '/protected', accepted)
    expect(replay.status).toBe(503)
    expect(replay.body.code).toBe('ERR_STORE_UNAVAILABLE')
    // Bearer needs no replay record.
    expect((await call(sharedB!.url, '/protected', { token: unbound })).status).toBe(200)
    // Logged at warn: an operator's problem, not the client's.
    expect((await refusals(sharedA!, 'ERR_STORE_UNAVAILABLE', before + 1)).slice(before)).toEqual([
      expect.objectContaining({ level: 40, status: 503, path: '/protected' }),
    ])
  })
})

describe('two instances keeping replay records in their own memory (no GATEHOUSE_REDIS_URL)', () => {
  it('each refuses a proof it saw, but accepts one the other saw: several instances need Redis', async () => {
    const { memoryA, memoryB } = api
    const proof = await proofFor(`${PUBLIC_URL}/protected`)
    expect((await dpopCall(memoryA!, '/protected', proof)).status).toBe(200)
    expect((await dpopCall(memoryA!, '/protected', proof)).body.code).toBe('ERR_DPOP_PROOF_REPLAYED')
    // The replay RFC 9449 §11.1 asks servers to stop; only a store both instances share stops it.
    const replayed = await dpopCall(memoryB!, '/protected', proof)
    expect(replayed.status).toBe(200)
    expect(replayed.body).toEqual(PROTECTED)
  })

  it('GATEHOUSE_PUBLIC_URL: the proof names the public URL, not the one the instance listens on', async () => {
    const { memoryA } = api
    const direct = await dpopCall(memoryA!, '/protected', await proofFor(`${memoryA!.url}/protected`))
    expect(direct.status).toBe(401)
    expect(direct.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_PROOF_HTU_MISMATCH' })
    const path = '/api/private-scoped?page=1'
    // htu has no query (RFC 9449 §4.2); the path is the request's.
    const viaPublic = await dpopCall(memoryA!, path, await proofFor(`${PUBLIC_URL}/api/private-scoped`))
    expect(viaPublic.status).toBe(200)
    const elsewhere = await dpopCall(memoryA!, '/protected', await proofFor(`${PUBLIC_URL}/api/private`))
    expect(elsewhere.body.code).toBe('ERR_DPOP_PROOF_HTU_MISMATCH')
  })

  it('allowed: its OpenAPI document offers Bearer or DPoP for each protected operation', async () => {
    const { body } = await call(api.memoryA!.url, '/openapi.json')
    expect(Object.keys(body.components.securitySchemes).sort()).toEqual(['bearerAuth', 'dpopAuth'])
    expect(body.paths['/api/messages'].post.security).toEqual([
      { bearerAuth: ['write:messages'] },
      { dpopAuth: ['write:messages'] },
    ])
  })

  it('allowed: an unbound token as Bearer passes, a bound one as Bearer is refused', async () => {
    const { memoryA } = api
    expect((await call(memoryA!.url, '/protected', { token: unbound })).status).toBe(200)
    const asBearer = await call(memoryA!.url, '/protected', { token: bound })
    expect(asBearer.status).toBe(401)
    expect(asBearer.body).toMatchObject({ error: 'invalid_token', code: 'ERR_DPOP_BOUND_TOKEN_AS_BEARER' })
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", .*, DPoP algs="/)
  })
})

describe('GATEHOUSE_DPOP=required, no GATEHOUSE_PUBLIC_URL', () => {
  it('refuses Bearer with a DPoP challenge only', async () => {
    const { required } = api
    const bearer = await call(required!.url, '/protected', { token: unbound })
    expect(bearer.status).toBe(401)
    expect(bearer.body).toMatchObject({ error: 'invalid_token', code: 'ERR_DPOP_REQUIRED' })
    expect(bearer.headers.get('www-authenticate')).toMatch(
      /^DPoP error="invalid_token", error_description="[^"]+", algs="ES256( [\w-]+)*"$/,
    )
    const anonymous = await call(required!.url, '/protected')
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256( [\w-]+)*"$/)
  })

  it('its OpenAPI document names the DPoP scheme alone, with each operation’s scopes', async () => {
    const { required } = api
    const { status, body } = await call(required!.url, '/openapi.json')
    expect(status).toBe(200)
    expect(Object.keys(body.components.securitySchemes)).toEqual(['dpopAuth'])
    expect(body.components.securitySchemes.dpopAuth).toMatchObject({ type: 'http', scheme: 'DPoP' })
    expect(body.paths['/api/messages'].post.security).toEqual([{ dpopAuth: ['write:messages'] }])
    expect(body.paths['/public'].get.security).toEqual([])
  })

  it('checks htu against the URL as the server received it: http://127.0.0.1:{port}', async () => {
    const { required } = api
    expect(required!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const asReceived = await dpopCall(required!, '/protected', await proofFor(`${required!.url}/protected`))
    expect(asReceived.status).toBe(200)
    expect(asReceived.body).toEqual(PROTECTED)
    const port = new URL(required!.url).port
    for (const htu of [`${PUBLIC_URL}/protected`, `https://127.0.0.1:${port}/protected`]) {
      const other = await dpopCall(required!, '/protected', await proofFor(htu))
      expect(other.body.code, htu).toBe('ERR_DPOP_PROOF_HTU_MISMATCH')
    }
  })
})

describe('GATEHOUSE_REDIS_URL that cannot be reached', () => {
  it('starts, answers DPoP requests 503 with Retry-After, and Bearer requests as usual', async () => {
    const { noRedis } = api
    for (let i = 0; i < 2; i++) {
      const answer = await dpopCall(noRedis!, '/protected', await proofFor(`${noRedis!.url}/protected`))
      expect(answer.status).toBe(503)
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(answer.body).toMatchObject({ error: 'temporarily_unavailable', code: 'ERR_STORE_UNAVAILABLE' })
    }
    expect((await call(noRedis!.url, '/protected', { token: unbound })).status).toBe(200)
  })
})

describe('stopping', () => {
  it(
    'every instance exits 0 on SIGTERM, its Redis gone or never there',
    async () => {
      const clean = { code: 0, signal: null }
      expect(await stopAll(api)).toEqual(Object.fromEntries(Object.keys(api).map((name) => [name, clean])))
    },
    timeoutFor('exit'),
  )
})

describe('invalid DPoP settings', () => {
  it(
    'exit 2 with one line naming the variable, never printing the secret',
    async () => {
      const cases: [Record<string, string>, string][] = [
        [{ GATEHOUSE_DPOP: 'maybe' }, 'GATEHOUSE_DPOP'],
        [{ GATEHOUSE_DPOP_NONCE_SECRET: 'short-nonce-secret' }, 'GATEHOUSE_DPOP_NONCE_SECRET'],
        [{ GATEHOUSE_REDIS_URL: 'http://127.0.0.1:6379' }, 'GATEHOUSE_REDIS_URL'],
        [{ GATEHOUSE_REDIS_URL: '127.0.0.1:6379' }, 'GATEHOUSE_REDIS_URL'],
        [{ GATEHOUSE_PUBLIC_URL: 'api.example.com' }, 'GATEHOUSE_PUBLIC_URL'],
        [{ GATEHOUSE_PUBLIC_URL: 'https://api.example.com/?v=1' }, 'GATEHOUSE_PUBLIC_URL'],
        [{ GATEHOUSE_TRUST_FORWARDED_HEADERS: 'perhaps' }, 'GATEHOUSE_TRUST_FORWARDED_HEADERS'],
      ]
      await Promise.all(
        cases.map(async ([env, variable]) => {
          const proc = server({ ...trust(), GATEHOUSE_DPOP: 'allowed', ...env })
          expect(await proc.exit(), variable).toEqual({ code: 2, signal: null })
          const lines = proc.stderr().trim().split('\n')
          expect(lines, variable).toHaveLength(1)
          expect(lines[0], variable).toMatch(new RegExp(`^reference-api: ${variable}: expected `))
          expect(proc.stdout(), variable).toBe('')
        }),
      )
      const short = server({ ...trust(), GATEHOUSE_DPOP_NONCE_SECRET: 'short-nonce-secret' })
      await short.exit()
      expect(short.stderr()).not.toContain('short-nonce-secret')
    },
    timeoutFor('exit'),
  )
})
