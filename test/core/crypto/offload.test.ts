/**
 * `offload: true`: signature checks on worker threads fed through shared memory (src/core/crypto/offload.ts).
 * Whatever path a check takes (a worker, or inline when the workers are busy or the input does not fit),
 * its answer is the synchronous path's answer.
 */
import { execFile } from 'node:child_process'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  importVerificationKey,
  type OffloadedVerifier,
  openOffload,
  verifySync,
} from '../../../src/core/crypto/signature.js'
import { ALL_ALGORITHMS, type Algorithm, type JWK } from '../../../src/core/types.js'
import {
  b64url,
  claims,
  mint,
  parts,
  rejection,
  sign,
  signBytes,
  type TestKey,
  testKey,
  verifierFor,
} from '../../helpers/tokens.js'

const DATA = new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0')
const OTHER = new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0')

const keys = {} as Record<Algorithm, TestKey>
const strangers = {} as Record<Algorithm, TestKey>
const handles = {} as Record<Algorithm, unknown>
let offload: OffloadedVerifier

/** Wait until a check is answered by a worker (they start on first use), then return. */
async function untilOffloaded(verifier: OffloadedVerifier): Promise<void> {
  const signature = signBytes('EdDSA', keys.EdDSA.privateKey, DATA)
  const deadline = Date.now() + 15_000
  for (;;) {
    const answer = verifier.verify('EdDSA', handles.EdDSA, DATA, signature)
    if (answer instanceof Promise) {
      expect(await answer).toBe(true)
      return
    }
    if (Date.now() > deadline) throw new Error('no worker answered within 15 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The checks every algorithm gets, each with the synchronous path's answer. */
function casesFor(alg: Algorithm) {
  const signature = signBytes(alg, keys[alg].privateKey, DATA)
  const flipped = Uint8Array.from(signature)
  flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0x01
  const list: [string, Uint8Array, Uint8Array][] = [
    ['valid', DATA, signature],
    ['signature over other data', OTHER, signature],
    ['flipped bit', DATA, flipped],
    ['truncated signature', DATA, signature.subarray(0, -1)],
    ['empty signature', DATA, new Uint8Array()],
    ['signed by another key', DATA, signBytes(alg, strangers[alg].privateKey, DATA)],
  ]
  return list.map(([name, data, sig]) => ({
    name,
    data,
    sig,
    want: verifySync(alg, handles[alg], data, sig),
  }))
}

beforeAll(async () => {
  for (const alg of ALL_ALGORITHMS) {
    keys[alg] = await testKey(alg)
    strangers[alg] = await testKey(alg, 'stranger')
    handles[alg] = await importVerificationKey(keys[alg].jwk, alg)
  }
  offload = openOffload()
  await untilOffloaded(offload)
})

afterAll(() => offload.close())

describe('the same answers as the synchronous path', () => {
  it.each(ALL_ALGORITHMS)('%s, one check at a time', async (alg) => {
    for (const { name, data, sig, want } of casesFor(alg)) {
      const answer = offload.verify(alg, handles[alg], data, sig)
      // Nothing else in flight: a well-formed check goes to a worker (a malformed one is refused at once).
      if (name === 'valid' || name === 'signed by another key') expect(answer).toBeInstanceOf(Promise)
      expect([name, await answer]).toEqual([name, want])
    }
    expect(casesFor(alg).map((c) => c.want)).toEqual([true, false, false, false, false, false])
  })

  it('a burst of every case for every algorithm: some on a worker, the rest inline, all right', async () => {
    const checks = ALL_ALGORITHMS.flatMap((alg) => casesFor(alg).map((c) => ({ alg, ...c })))
    const answers = checks.map(({ alg, data, sig }) => offload.verify(alg, handles[alg], data, sig))
    // Workers take a bounded number of checks; the calling thread does the rest instead of queueing them.
    expect(answers.some((a) => a instanceof Promise)).toBe(true)
    expect(answers.some((a) => typeof a === 'boolean')).toBe(true)
    expect(await Promise.all(answers)).toEqual(checks.map((c) => c.want))
  })

  it('hundreds of large checks, enough to wrap a worker ring many times', async () => {
    const key = keys.RS256
    const big = new Uint8Array(40_000).fill(0x41)
    const signature = signBytes('RS256', key.privateKey, big)
    const flipped = Uint8Array.from(signature)
    flipped[0] = (flipped[0] as number) ^ 0x80
    const got: boolean[] = []
    for (let round = 0; round < 60; round++) {
      const burst = Array.from({ length: 8 }, (_, i) =>
        offload.verify('RS256', handles.RS256, big, i % 3 === 0 ? flipped : signature),
      )
      got.push(...(await Promise.all(burst)))
    }
    expect(got).toEqual(Array.from({ length: 480 }, (_, i) => (i % 8) % 3 !== 0))
  })

  it('an input larger than a ring is checked inline, with the same answer', async () => {
    const huge = new Uint8Array(600 * 1024).fill(0x42)
    const signature = signBytes('ES256', keys.ES256.privateKey, huge)
    const answer = offload.verify('ES256', handles.ES256, huge, signature)
    expect(answer).toBe(true)
    expect(offload.verify('ES256', handles.ES256, huge.subarray(1), signature)).toBe(false)
  })

  it('more keys than a worker holds: it forgets them and is taught again', async () => {
    const many = Array.from({ length: 70 }, () => generateKeyPairSync('ed25519'))
    const check = async (pair: { publicKey: KeyObject; privateKey: KeyObject }, data: Uint8Array) =>
      offload.verify('EdDSA', pair.publicKey, data, signBytes('EdDSA', pair.privateKey, DATA))
    for (const pair of many) expect(await check(pair, DATA)).toBe(true)
    for (const pair of many.slice(0, 5)) {
      expect(await check(pair, DATA)).toBe(true)
      expect(await check(pair, OTHER)).toBe(false)
    }
    // A key that is not the signer's never passes, however many keys came before.
    expect(
      await offload.verify('EdDSA', many[1]!.publicKey, DATA, signBytes('EdDSA', many[0]!.privateKey, DATA)),
    ).toBe(false)
  })

  it('an RSA key used for RS256 and for PS256 gets the parameters of each', async () => {
    const { alg: _alg, ...jwk } = keys.RS256.jwk
    const rs = await importVerificationKey(jwk as JWK, 'RS256')
    const ps = await importVerificationKey(jwk as JWK, 'PS256')
    const pkcs1 = signBytes('RS256', keys.RS256.privateKey, DATA)
    const pss = signBytes('PS256', keys.RS256.privateKey, DATA)
    expect(await offload.verify('RS256', rs, DATA, pkcs1)).toBe(true)
    expect(await offload.verify('PS256', ps, DATA, pss)).toBe(true)
    expect(await offload.verify('PS256', ps, DATA, pkcs1)).toBe(false)
    expect(await offload.verify('RS256', rs, DATA, pss)).toBe(false)
  })
})

describe('lifecycle', () => {
  it('a check in flight when the last user closes is still answered', async () => {
    const own = openOffload()
    const signature = signBytes('ES256', keys.ES256.privateKey, DATA)
    const pending = [own.verify('ES256', handles.ES256, DATA, signature)]
    own.close()
    own.close() // idempotent
    expect(await Promise.all(pending)).toEqual([true])
  })

  it('workers stop with their last user, and start again for the next one', async () => {
    const first = openOffload()
    const second = openOffload()
    await untilOffloaded(second)
    first.close()
    second.close()
    offload.close()
    offload = openOffload()
    await untilOffloaded(offload)
    const signature = signBytes('PS256', keys.PS256.privateKey, DATA)
    expect(await offload.verify('PS256', handles.PS256, DATA, signature)).toBe(true)
  })

  it('never keeps a process alive, and a pending check keeps it alive until answered', async () => {
    const script = fileURLToPath(new URL('../../fixtures/offload-exit.ts', import.meta.url))
    const started = Date.now()
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      timeout: 30_000,
    })
    // The script opens the pool, waits for a worker, starts one check and leaves it pending at the end of
    // its module, without closing anything: the answer is printed, then one last check that a worker
    // cannot take (a new key, an input larger than a ring), then the process exits on its own.
    expect(stdout.trim().split('\n')).toEqual(['offloaded', 'answer true', 'inline true'])
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 45_000)

  it('never keeps a process alive with idle workers that never took a check', async () => {
    const script = fileURLToPath(new URL('../../fixtures/offload-idle-exit.ts', import.meta.url))
    // The first check is answered inline while the workers start; they then sit idle, unreferenced.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      timeout: 30_000,
    })
    expect(stdout.trim().split('\n')).toEqual(['started inline', 'idle'])
  }, 45_000)
})

describe('createVerifier({ offload: true }) answers as the synchronous verifier does', () => {
  it.each(ALL_ALGORITHMS)(
    '%s: valid, bad signature, signed by another key with the same kid',
    async (alg) => {
      const key = keys[alg]
      const impostor = { ...strangers[alg], kid: key.kid }
      const pooled = verifierFor([key], { offload: true })
      const inline = verifierFor([key])
      try {
        const valid = await mint({ jti: alg }, {}, key)
        const [h, , s] = parts(valid)
        const tampered = `${h}.${b64url(claims({ sub: 'someone-else' }))}.${s}`
        const forged = await sign({ alg, kid: key.kid }, claims(), impostor)
        expect(await pooled.verify(valid)).toEqual(await inline.verify(valid))
        for (const token of [tampered, forged]) {
          const [a, b] = [await rejection(pooled.verify(token)), await rejection(inline.verify(token))]
          expect((a as { code: string }).code).toBe('ERR_JWS_SIGNATURE_INVALID')
          expect((b as { code: string }).code).toBe('ERR_JWS_SIGNATURE_INVALID')
        }
      } finally {
        pooled.close()
        inline.close()
      }
    },
  )
})
