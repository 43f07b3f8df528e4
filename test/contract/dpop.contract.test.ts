/**
 * DPoP through every adapter, over real HTTP: the examples of examples.ts started twice more, with
 * GATEHOUSE_DPOP=allowed, and with GATEHOUSE_DPOP=required plus server nonces
 * (GATEHOUSE_DPOP_NONCE_SECRET) and a public URL (GATEHOUSE_PUBLIC_URL), each trusting a dev issuer as in
 * adapters.contract.test.ts. Proofs come from panva's `dpop` package, so that neither the proofs nor their
 * thumbprints are made by the code under test; jose signs the few that `dpop` will not make (an old
 * `iat`, a forbidden `alg`, a private key in the header). Every adapter must answer every case alike: the
 * last test asks every case again and compares the answers. Each test stands alone (`-t`).
 *
 * RFC 9449 §4.3 (the proof checks), §7.1 (the DPoP scheme and challenge), §7.2 (Bearer refused), §8–9
 * (server nonces), §11.1 (replay). Needs the built package: `npm run build` first (`npm test` does it).
 */
import { createHash, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { calculateThumbprint, generateKeyPair, generateProof, type KeyPair } from 'dpop'
import { exportJWK, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNonceSource } from '../../src/core/dpop/nonce.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type ExampleDescriptor, examples, type RunningExample, startAll } from './examples.js'
import { type Answer, type CallOptions, call } from './http.js'
import { ROOT } from './process.js'

const NONCE_SECRET = 'the contract suite’s DPoP nonce secret, 32 bytes or more'
/** Where a proxy publishes the API, stripping `/v1`: the `htu` of every proof to the `required` set. */
const PUBLIC_URL = 'https://api.gatehouse.test/v1'

/** The variables each set of examples starts with, beside the issuer’s. */
const SETS = {
  // Bearer and DPoP; a proof names the URL the request was sent to, as the example received it.
  allowed: { GATEHOUSE_DPOP: 'allowed' },
  required: {
    GATEHOUSE_DPOP: 'required',
    GATEHOUSE_DPOP_NONCE_SECRET: NONCE_SECRET,
    GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
  },
} as const
type SetName = keyof typeof SETS

/** The `algs` of every DPoP challenge: the checker’s default algorithms, elliptic curves first. */
const ALGS = 'ES256 ES384 ES512 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512'
const PRIVATE = '/api/private'
const PRIVATE_MESSAGE = 'Hello from a private endpoint! You need to be authenticated to see this.'

// The client's key, extractable so that one case can put its private half in a proof's header.
const client: KeyPair = await generateKeyPair('ES256', { extractable: true })
const jkt = await calculateThumbprint(client.publicKey)
const another: KeyPair = await generateKeyPair('ES256')

let issuer: DevIssuer
const running = new Map<string, RunningExample>()
const tokens = {} as Record<'bound' | 'boundWriter' | 'boundAdmin' | 'boundToAnother' | 'plain', string>

/** One running example of one set, as a case sees it. */
interface Target {
  /** Where the example listens: `http://127.0.0.1:<port>`. */
  origin: string
  /** The `htu` of a proof for `path`: the URL requested, or GATEHOUSE_PUBLIC_URL + `path` where it is set. */
  htu(path: string): string
  send(path: string, options?: CallOptions): Promise<Answer>
}

function target(set: SetName, example: ExampleDescriptor): Target {
  const server = running.get(`${set} ${example.name}`)
  if (server === undefined) throw new Error(`${example.name} (${set}) is not running`)
  const base = set === 'required' ? PUBLIC_URL : server.url
  return {
    origin: server.url,
    htu: (path) => base + path,
    send: (path, options) => call(server.url + path, options),
  }
}

/** What a request's proof is made with; each member replaces what a valid proof would hold. */
interface ProofOptions {
  method?: string
  /** The token sent with `Authorization: DPoP`. Default: the token bound to the client's key. */
  token?: string
  key?: KeyPair
  htu?: string
  htm?: string
  nonce?: string
  /** The token the proof's `ath` is the hash of; `null` for no `ath`. Default: `token`. */
  ath?: string | null
}

/** A fresh proof by `dpop` for `path` (no query: `htu` has none). */
function proofFor(t: Target, path: string, options: ProofOptions = {}): Promise<string> {
  const { method = 'GET', token = tokens.bound, key = client, htu = t.htu(path), htm = method } = options
  const ath = options.ath === null ? undefined : (options.ath ?? token)
  return generateProof(key, htu, htm, options.nonce, ath)
}

/** `Authorization: DPoP <token>` and a fresh proof for `path`. */
async function proven(t: Target, path: string, options: ProofOptions = {}): Promise<CallOptions> {
  const { method = 'GET', token = tokens.bound } = options
  return { method, headers: { authorization: `DPoP ${token}`, dpop: await proofFor(t, path, options) } }
}

const clientJwk = await exportJWK(client.publicKey).then(({ kty, crv, x, y }) => ({ kty, crv, x, y }))
const privateJwk = await exportJWK(client.privateKey).then(({ kty, crv, x, y, d }) => ({ kty, crv, x, y, d }))
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * A proof `dpop` would not make, built with jose from a valid one's members for a GET of `path` with the
 * bound token: `claims` and `header` replace some; `alg: 'none'` leaves the signature empty, HS256 signs
 * with a shared secret.
 */
async function crafted(
  t: Target,
  path: string,
  { claims = {}, header = {} }: { claims?: Record<string, unknown>; header?: Record<string, unknown> },
): Promise<CallOptions> {
  const payload = {
    jti: randomUUID(),
    htm: 'GET',
    htu: t.htu(path),
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(tokens.bound).digest('base64url'),
    ...claims,
  }
  const protectedHeader = { alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk as JWK, ...header }
  const proof =
    protectedHeader.alg === 'none'
      ? `${b64(protectedHeader)}.${b64(payload)}.`
      : await new SignJWT(payload)
          .setProtectedHeader(protectedHeader)
          .sign(protectedHeader.alg === 'HS256' ? new Uint8Array(32).fill(7) : client.privateKey)
  return { headers: { authorization: `DPoP ${tokens.bound}`, dpop: proof } }
}

/** What an answer must be: a success's status and JSON body, or a refusal's status, code and challenge. */
interface Expected {
  status: number
  body?: unknown
  code?: string
  error?: string
  /** `WWW-Authenticate`, exactly but for `error_description` (the comparison test checks that one). */
  challenge?: RegExp
  /**
   * Whether a `DPoP-Nonce` header comes with it; `'current'`: the one the first answer handed out;
   * undefined: not checked.
   */
  nonce?: boolean | 'current'
}

const ok = (body: unknown, more: Partial<Expected> = {}): Expected => ({
  status: 200,
  body,
  nonce: false,
  ...more,
})
const refused = (code: string, error: string, challenge: RegExp, more: Partial<Expected> = {}): Expected => ({
  status: 401,
  code,
  error,
  challenge,
  nonce: false,
  ...more,
})

/**
 * The `WWW-Authenticate` a set's examples send: `Bearer` and `DPoP` (allowed) or `DPoP` alone (required),
 * the error on the challenge of the scheme `on`.
 */
function challenge(set: SetName, on?: { scheme: 'Bearer' | 'DPoP'; error: string; scope?: string }): RegExp {
  const detail =
    on === undefined
      ? undefined
      : `error="${on.error}", error_description="[^"]+"${on.scope === undefined ? '' : `, scope="${on.scope}"`}`
  const bearer = on?.scheme === 'Bearer' ? `Bearer ${detail}` : 'Bearer'
  const dpop = `DPoP ${on?.scheme === 'DPoP' ? `${detail}, ` : ''}algs="${ALGS}"`
  return new RegExp(`^${set === 'allowed' ? `${bearer}, ` : ''}${dpop}$`)
}
const proofFault = (code: string) =>
  refused(code, 'invalid_dpop_proof', challenge('allowed', { scheme: 'DPoP', error: 'invalid_dpop_proof' }))
const dpopBody = { message: PRIVATE_MESSAGE, tokenType: 'dpop', jkt }

interface DpopCase {
  set: SetName
  /** Only for examples with two levels of rules (`/api/reports/admin`). */
  levels?: true
  /** The requests, in order (a later one may use an earlier answer); fresh proofs on every run. */
  run(t: Target): Promise<Answer[]>
  /** One per request. */
  answers: Expected[]
}

/** A case of one request. */
const one = async (t: Target, path: string, options: Promise<CallOptions> | CallOptions) => [
  await t.send(path, await options),
]

const CASES: Record<string, DpopCase> = {
  'a bound token with its proof: 200, the handler sees tokenType dpop and the key’s thumbprint': {
    set: 'allowed',
    run: (t) => one(t, PRIVATE, proven(t, PRIVATE)),
    answers: [ok(dpopBody)],
  },
  'a query string the proof’s htu leaves out: accepted (htu has no query)': {
    set: 'allowed',
    run: (t) => one(t, `${PRIVATE}?page=2&sort=new`, proven(t, PRIVATE)),
    answers: [ok(dpopBody)],
  },
  'POST with a proof for POST: 201': {
    set: 'allowed',
    run: (t) => one(t, '/api/posts', proven(t, '/api/posts', { method: 'POST', token: tokens.boundWriter })),
    answers: [ok({ created: true, sub: 'alice' }, { status: 201 })],
  },
  'an unbound token as Bearer: 200, tokenType bearer': {
    set: 'allowed',
    run: (t) => one(t, PRIVATE, { headers: { authorization: `Bearer ${tokens.plain}` } }),
    answers: [ok({ message: PRIVATE_MESSAGE, tokenType: 'bearer' })],
  },
  'no token: 401 offering both schemes': {
    set: 'allowed',
    run: (t) => one(t, PRIVATE, {}),
    answers: [refused('ERR_NO_TOKEN', 'unauthorized', challenge('allowed'))],
  },
  'the same proof twice: 200, then 401 replayed': {
    set: 'allowed',
    run: async (t) => {
      const options = await proven(t, PRIVATE)
      return [await t.send(PRIVATE, options), await t.send(PRIVATE, options)]
    },
    answers: [ok(dpopBody), proofFault('ERR_DPOP_PROOF_REPLAYED')],
  },
  'a proof for another method': {
    set: 'allowed',
    run: (t) => one(t, PRIVATE, proven(t, PRIVATE, { htm: 'POST' })),
    answers: [proofFault('ERR_DPOP_PROOF_HTM_MISMATCH')],
  },
  'a proof for another URL: another path, another port, https': {
    set: 'allowed',
    run: async (t) => {
      const { port } = new URL(t.origin)
      return Promise.all(
        [
          `${t.origin}/protected`,
          `http://127.0.0.1:${Number(port) + 1}${PRIVATE}`,
          t.htu(PRIVATE).replace('http:', 'https:'),
        ].map(async (htu) => t.send(PRIVATE, await proven(t, PRIVATE, { htu }))),
      )
    },
    answers: Array(3).fill(proofFault('ERR_DPOP_PROOF_HTU_MISMATCH')),
  },
  'iat: now accepted; ten minutes ago or ahead refused': {
    set: 'allowed',
    run: async (t) => {
      const now = Math.floor(Date.now() / 1000)
      return Promise.all(
        [now, now - 600, now + 600].map(async (iat) =>
          t.send(PRIVATE, await crafted(t, PRIVATE, { claims: { iat } })),
        ),
      )
    },
    answers: [ok(dpopBody), proofFault('ERR_DPOP_PROOF_TOO_OLD'), proofFault('ERR_DPOP_PROOF_NOT_YET_VALID')],
  },
  'a proof without ath, or with the ath of another token': {
    set: 'allowed',
    run: (t) =>
      Promise.all(
        [null, tokens.plain].map(async (ath) => t.send(PRIVATE, await proven(t, PRIVATE, { ath }))),
      ),
    answers: Array(2).fill(proofFault('ERR_DPOP_PROOF_ATH_MISMATCH')),
  },
  'a token bound to another key, or to none, with this key’s proof: 401 invalid_token on DPoP': {
    set: 'allowed',
    run: (t) =>
      Promise.all(
        [tokens.boundToAnother, tokens.plain].map(async (token) =>
          t.send(PRIVATE, await proven(t, PRIVATE, { token })),
        ),
      ),
    answers: Array(2).fill(
      refused(
        'ERR_DPOP_BINDING_MISMATCH',
        'invalid_token',
        challenge('allowed', { scheme: 'DPoP', error: 'invalid_token' }),
      ),
    ),
  },
  'a bound token as Bearer: 401 invalid_token on Bearer, DPoP offered': {
    set: 'allowed',
    run: (t) => one(t, PRIVATE, { headers: { authorization: `Bearer ${tokens.bound}` } }),
    answers: [
      refused(
        'ERR_DPOP_BOUND_TOKEN_AS_BEARER',
        'invalid_token',
        challenge('allowed', { scheme: 'Bearer', error: 'invalid_token' }),
      ),
    ],
  },
  'two DPoP headers, or none': {
    set: 'allowed',
    run: async (t) => {
      const authorization = `DPoP ${tokens.bound}`
      const dpop = [await proofFor(t, PRIVATE), await proofFor(t, PRIVATE)]
      return [
        await t.send(PRIVATE, { headers: { authorization, dpop } }),
        await t.send(PRIVATE, { headers: { authorization } }),
      ]
    },
    answers: [proofFault('ERR_DPOP_PROOF_MULTIPLE'), proofFault('ERR_DPOP_PROOF_MISSING')],
  },
  'a proof signed with HS256, with alg none, or carrying the private key': {
    set: 'allowed',
    run: (t) =>
      Promise.all(
        [{ alg: 'HS256' }, { alg: 'none' }, { jwk: privateJwk }].map(async (header) =>
          t.send(PRIVATE, await crafted(t, PRIVATE, { header })),
        ),
      ),
    answers: [
      proofFault('ERR_DPOP_PROOF_ALG_NOT_ALLOWED'),
      // An unsecured JWS has an empty signature (RFC 7515 §A.5): refused as malformed before its alg is read.
      proofFault('ERR_DPOP_PROOF_MALFORMED'),
      proofFault('ERR_DPOP_PROOF_KEY_INVALID'),
    ],
  },
  'a missing scope with DPoP: 403 insufficient_scope on the DPoP challenge': {
    set: 'allowed',
    run: (t) => one(t, '/api/private-scoped', proven(t, '/api/private-scoped')),
    answers: [
      refused(
        'ERR_POLICY_SCOPE',
        'insufficient_scope',
        challenge('allowed', { scheme: 'DPoP', error: 'insufficient_scope', scope: 'read:messages' }),
        { status: 403 },
      ),
    ],
  },
  'the owner rule with DPoP: 204 for the owner, 403 for anyone else': {
    set: 'allowed',
    run: async (t) => [
      await t.send('/api/posts/alice', await proven(t, '/api/posts/alice', { method: 'DELETE' })),
      await t.send('/api/posts/bob', await proven(t, '/api/posts/bob', { method: 'DELETE' })),
    ],
    answers: [
      { status: 204, body: undefined },
      refused(
        'ERR_POLICY_OWNER',
        'insufficient_scope',
        challenge('allowed', { scheme: 'DPoP', error: 'insufficient_scope' }),
        { status: 403 },
      ),
    ],
  },
  'two levels of rules with DPoP, under a router’s path: 200 with admin, 403 without': {
    set: 'allowed',
    levels: true,
    run: async (t) => {
      const path = '/api/reports/admin'
      return [
        await t.send(path, await proven(t, path, { token: tokens.boundAdmin })),
        await t.send(path, await proven(t, path)),
      ]
    },
    answers: [
      ok({ admin: true, sub: 'alice' }),
      refused(
        'ERR_POLICY_SCOPE',
        'insufficient_scope',
        challenge('allowed', { scheme: 'DPoP', error: 'insufficient_scope', scope: 'admin' }),
        { status: 403 },
      ),
    ],
  },

  'required: a Bearer token is refused, offering DPoP only': {
    set: 'required',
    run: (t) => one(t, PRIVATE, { headers: { authorization: `Bearer ${tokens.plain}` } }),
    answers: [
      refused(
        'ERR_DPOP_REQUIRED',
        'invalid_token',
        challenge('required', { scheme: 'DPoP', error: 'invalid_token' }),
      ),
    ],
  },
  'required: no token: 401 offering DPoP only': {
    set: 'required',
    run: (t) => one(t, PRIVATE, {}),
    answers: [refused('ERR_NO_TOKEN', 'unauthorized', challenge('required'))],
  },
  'nonces: a proof without one gets 401 use_dpop_nonce and a DPoP-Nonce, then one with it 200': {
    set: 'required',
    run: async (t) => {
      const first = await t.send(PRIVATE, await proven(t, PRIVATE))
      const nonce = String(first.headers['dpop-nonce'])
      return [first, await t.send(PRIVATE, await proven(t, PRIVATE, { nonce }))]
    },
    answers: [
      refused(
        'ERR_DPOP_NONCE_MISSING',
        'use_dpop_nonce',
        challenge('required', { scheme: 'DPoP', error: 'use_dpop_nonce' }),
        { nonce: true },
      ),
      // Whether a fresher nonce comes with it depends on whether a minute began in between.
      ok(dpopBody, { nonce: undefined }),
    ],
  },
  'nonces: one not made with the secret is refused with a fresh one': {
    set: 'required',
    run: (t) => one(t, PRIVATE, proven(t, PRIVATE, { nonce: 'not-a-nonce-of-this-server' })),
    answers: [
      refused(
        'ERR_DPOP_NONCE_INVALID',
        'use_dpop_nonce',
        challenge('required', { scheme: 'DPoP', error: 'use_dpop_nonce' }),
        { nonce: true },
      ),
    ],
  },
  'nonces: the previous period’s is accepted, the current one sent with the 200': {
    set: 'required',
    run: async (t) => {
      // The previous minute's nonce, as an instance with the same secret handed it out. Not in a minute's
      // last seconds: it must still be the previous one when the example checks it.
      const intoPeriod = Date.now() % 60_000
      if (intoPeriod > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_200 - intoPeriod))
      const first = await t.send(PRIVATE, await proven(t, PRIVATE))
      const previous = createNonceSource({ secret: NONCE_SECRET }).current(Date.now() - 60_000)
      return [first, await t.send(PRIVATE, await proven(t, PRIVATE, { nonce: previous }))]
    },
    answers: [
      refused(
        'ERR_DPOP_NONCE_MISSING',
        'use_dpop_nonce',
        challenge('required', { scheme: 'DPoP', error: 'use_dpop_nonce' }),
        { nonce: true },
      ),
      ok(dpopBody, { nonce: 'current' }),
    ],
  },
  'a public URL: a proof naming the address the example received is refused': {
    set: 'required',
    run: (t) => one(t, PRIVATE, proven(t, PRIVATE, { htu: t.origin + PRIVATE })),
    answers: [
      refused(
        'ERR_DPOP_PROOF_HTU_MISMATCH',
        'invalid_dpop_proof',
        challenge('required', { scheme: 'DPoP', error: 'invalid_dpop_proof' }),
      ),
    ],
  },
}

/** Every answer against what its case expects. */
function check(answers: Answer[], expected: Expected[]): void {
  expect(answers).toHaveLength(expected.length)
  answers.forEach((answer, i) => {
    const want = expected[i]!
    const label = `answer ${i + 1} of ${answers.length}`
    expect(answer.status, label).toBe(want.status)
    if (want.status < 400) {
      expect(answer.json, label).toEqual(want.body)
    } else {
      const body = answer.json as { code?: string; error?: string }
      expect({ code: body?.code, error: body?.error }, label).toEqual({ code: want.code, error: want.error })
      expect(answer.headers['content-type'], label).toMatch(/^application\/json/)
      expect(answer.headers['cache-control'], label).toBe('no-store')
      // The body never reflects a token back.
      for (const token of Object.values(tokens)) expect(answer.text).not.toContain(token.split('.')[2])
    }
    if (want.challenge !== undefined)
      expect(answer.headers['www-authenticate'], label).toMatch(want.challenge)
    const nonce = answer.headers['dpop-nonce']
    if (want.nonce === 'current') expect(nonce, label).toBe(answers[0]!.headers['dpop-nonce'])
    else if (want.nonce === true) expect(nonce, label).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    else if (want.nonce === false) expect(nonce, label).toBeUndefined()
  })
}

const askable = (example: ExampleDescriptor) =>
  Object.keys(CASES).filter((name) => CASES[name]!.levels === undefined || example.levels)

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
  // Start-up is CPU-bound and runs beside adapters.contract.test.ts's own: a few at a time, so that every
  // process's ready timeout measures its own start rather than a queue of eighteen. (All at once took
  // about as long in total on two cores, each process two to four times as long to get ready.)
  const starts = (Object.keys(SETS) as SetName[]).flatMap((set) =>
    examples.map((example) => ({
      key: `${set} ${example.name}`,
      start: () => example.start({ ...env, ...SETS[set] }),
    })),
  )
  await startAll(starts, running)

  const cnf = (key: string) => ({ cnf: { jkt: key } })
  Object.assign(tokens, {
    bound: await issuer.mint(cnf(jkt), { sub: 'alice' }),
    boundWriter: await issuer.mint({ ...cnf(jkt), scope: 'write:messages' }, { sub: 'alice' }),
    boundAdmin: await issuer.mint({ ...cnf(jkt), scope: 'admin' }, { sub: 'alice' }),
    boundToAnother: await issuer.mint(cnf(await calculateThumbprint(another.publicKey)), { sub: 'alice' }),
    plain: await issuer.mint({}, { sub: 'alice' }),
  })
}, 120_000)

afterAll(async () => {
  await Promise.all([...running.values()].map((server) => server.stop()))
  await issuer?.close()
}, 20_000)

describe.each(examples)('$name example', (example) => {
  it.each(askable(example))('%s', async (name) => {
    const { set, run, answers } = CASES[name]!
    check(await run(target(set, example)), answers)
  })
})

describe('every adapter answers alike', () => {
  // What must not differ, as in adapters.contract.test.ts, and whether a DPoP-Nonce came.
  const shape = (answer: Answer) => ({
    status: answer.status,
    'www-authenticate': answer.headers['www-authenticate'],
    // On a success it depends on the clock: a nonce from the minute before is answered with a fresh one.
    'dpop-nonce': answer.status >= 400 ? answer.headers['dpop-nonce'] !== undefined : undefined,
    'cache-control': answer.status >= 400 ? answer.headers['cache-control'] : undefined,
    'content-type':
      answer.text === '' ? undefined : String(answer.headers['content-type'] ?? '').split(';')[0],
    body: answer.status >= 400 ? answer.text : answer.json,
  })

  // Asks every case again itself (with fresh proofs), so that it does not depend on the tests above.
  it('on every case', async () => {
    const differences: string[] = []
    for (const [name, { set, levels, run }] of Object.entries(CASES)) {
      const asked = examples.filter((example) => levels === undefined || example.levels)
      const answered = await Promise.all(asked.map((example) => run(target(set, example))))
      const [first, ...rest] = answered.map((answers, i) => [asked[i]!.name, answers.map(shape)] as const)
      for (const [example, shapes] of rest) {
        try {
          expect(shapes).toEqual(first![1])
        } catch {
          differences.push(
            `${name}: ${example} ${JSON.stringify(shapes)} ≠ ${first![0]} ${JSON.stringify(first![1])}`,
          )
        }
      }
    }
    expect(differences).toEqual([])
  })
})
