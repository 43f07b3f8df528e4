/**
 * Everything the benchmark runs, in table row order. A contender is a factory `(alg, ctx) => verify | null`
 * where `verify(token)` returns (or resolves to) anything on success and throws (or rejects) on failure.
 *
 * kind: 'floor' (the ratio's denominator), 'reference' (raw crypto, no claim checks), 'gatehouse', 'peer',
 * 'baseline' (another build of Gatehouse, with --baseline: a before/after comparison in the same rounds).
 * signatureOnly: the contender checks the signature and nothing else, so the sanity check only asks it to
 * accept a valid token and reject a bad signature.
 */
import { DPOP_ROLES } from './dpop-gate.js'
import { createFloor, createFloorAsync, createFloorWebCrypto } from './floor.js'
import {
  createAwsJwtVerify,
  createFastJwtKeyFn,
  createFastJwtStatic,
  createJose,
  createJsonwebtoken,
} from './peers.js'
import { AUDIENCE, ISSUER } from './tokens.js'

const ALL = ['serial', 'repeated', 'concurrent']

/** A contender of the `dpop` workload (bench/lib/dpop-gate.js): `role` picks its factory and sanity cases. */
function dpop(id, label, kind, role) {
  return { id, label, kind, role, workloads: ['dpop'], create: DPOP_ROLES[role] }
}

/** Gatehouse's `createVerifier` from the built package, with the verified-token cache on or off. */
function createGatehouse(alg, { gatehouse, jwks, closers }, { cache = false, offload = false } = {}) {
  const options = { issuer: ISSUER, audience: AUDIENCE, keys: jwks, algorithms: [alg] }
  if (cache) options.cache = true
  if (offload) options.offload = true
  const verifier = gatehouse.createVerifier(options)
  closers.push(() => verifier.close())
  return (token) => verifier.verify(token)
}

export const CONTENDERS = [
  {
    id: 'floor',
    label: 'floor: node:crypto verify',
    kind: 'floor',
    signatureOnly: true,
    workloads: ALL,
    create: createFloor,
  },
  {
    id: 'floor-async',
    label: 'floor-async: node:crypto verify, callback',
    kind: 'reference',
    signatureOnly: true,
    workloads: ['serial', 'concurrent'],
    create: createFloorAsync,
  },
  {
    id: 'floor-webcrypto',
    label: 'floor-webcrypto: subtle.verify',
    kind: 'reference',
    signatureOnly: true,
    workloads: ['serial', 'concurrent'],
    create: createFloorWebCrypto,
  },
  {
    id: 'gatehouse',
    label: '**gatehouse**',
    kind: 'gatehouse',
    workloads: ALL,
    create: (alg, ctx) => createGatehouse(alg, ctx),
  },
  {
    id: 'gatehouse-offload',
    label: '**gatehouse, offload: true**',
    kind: 'gatehouse',
    workloads: ['serial', 'concurrent'],
    create: (alg, ctx) => createGatehouse(alg, ctx, { offload: true }),
  },
  {
    id: 'baseline',
    label: 'baseline build: gatehouse',
    kind: 'baseline',
    workloads: ['serial', 'concurrent'],
    create: (alg, ctx) => createGatehouse(alg, { ...ctx, gatehouse: ctx.baseline }),
  },
  {
    id: 'baseline-offload',
    label: 'baseline build: gatehouse, offload: true',
    kind: 'baseline',
    workloads: ['serial', 'concurrent'],
    create: (alg, ctx) => createGatehouse(alg, { ...ctx, gatehouse: ctx.baseline }, { offload: true }),
  },
  {
    id: 'gatehouse-cache',
    label: '**gatehouse, cache: true**',
    kind: 'gatehouse',
    workloads: ['repeated'],
    create: (alg, ctx) => createGatehouse(alg, ctx, { cache: true }),
  },
  {
    id: 'jose',
    label: 'jose jwtVerify + createLocalJWKSet',
    kind: 'peer',
    workloads: ALL,
    create: createJose,
  },
  {
    id: 'fast-jwt',
    label: 'fast-jwt, key function',
    kind: 'peer',
    workloads: ALL,
    create: createFastJwtKeyFn,
  },
  {
    id: 'fast-jwt-cache',
    label: 'fast-jwt, key function, cache: true',
    kind: 'peer',
    workloads: ['repeated'],
    create: (alg, ctx) => createFastJwtKeyFn(alg, ctx, { cache: true }),
  },
  {
    id: 'fast-jwt-static',
    label: 'fast-jwt, static key',
    kind: 'peer',
    workloads: ALL,
    create: createFastJwtStatic,
  },
  {
    id: 'jsonwebtoken',
    label: 'jsonwebtoken (KeyObject)',
    kind: 'peer',
    workloads: ALL,
    create: createJsonwebtoken,
  },
  {
    id: 'aws-jwt-verify',
    label: 'aws-jwt-verify JwtVerifier',
    kind: 'peer',
    workloads: ALL,
    create: createAwsJwtVerify,
  },
  dpop('dpop-floor', 'floor: node:crypto verify, token + proof', 'floor', 'floor'),
  dpop('dpop-floor-token', 'node:crypto verify, token alone', 'reference', 'floor-token'),
  dpop('dpop-floor-proof', 'node:crypto verify, proof alone', 'reference', 'floor-proof'),
  dpop('dpop-gatehouse', '**gatehouse gate.checkSync, DPoP**', 'gatehouse', 'gate'),
  dpop('dpop-gatehouse-bearer', 'gatehouse gate.checkSync, Bearer (same gate)', 'gatehouse', 'bearer'),
  dpop('dpop-baseline', 'baseline build: gate.checkSync, DPoP', 'baseline', 'baseline'),
]
