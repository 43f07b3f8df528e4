/**
 * The checks of a DPoP proof (RFC 9449 §4.3), as straight lists of guard clauses: `readProof` takes the
 * one proof from the `DPoP` header (check 1), `parseProof` its syntax (checks 2 to 5 and 7: a compact
 * JWS, the claims of §4.2, `typ`, `alg`, a public `jwk`), `checkRequest` what binds it to the request
 * (checks 6, 8, 9, 11: signature, `htm`, `htu`, `iat`), `checkToken` what binds it to the access token
 * (check 12: `ath`, and the token's `cnf.jkt`, §6.1). The nonce (check 10) and the replay check (§11.1)
 * need state: checker.ts runs them, last.
 *
 * Each failure is a GatehouseError with its own code and a CheckCause for the log; never the proof or
 * the token itself.
 */
import { type CheckCause, type ErrorCode, forLog, GatehouseError } from '../errors.js'
import { decodeBase64url, encodeBase64url } from '../lib/base64url.js'
import { normalizeTyp } from '../lib/typ.js'
import { isPlainObject } from '../lib/values.js'
import type { Algorithm, JWK, ProtectedHeader } from '../types.js'
import { type ParsedJWS, parseCompactJWS } from '../verify/jws.js'
import { htuMatches } from './htu.js'

/** A proof's syntax checked: what the other checks read. */
export interface ParsedProof {
  /** Shared by every proof with the same header segment (jws.ts caches headers): an identity for caches. */
  header: ProtectedHeader
  alg: Algorithm
  /** The `jwk` header: a public key of a known type (its members not yet validated by an import). */
  jwk: JWK
  jti: string
  htm: string
  htu: string
  /** Seconds since the epoch. */
  iat: number
  ath: string | undefined
  nonce: string | undefined
  signingInput: Uint8Array
  signature: Uint8Array
}

/** What the proof checks need from the checker's options. */
export interface ProofRules {
  algorithms: ReadonlySet<Algorithm>
  /** Seconds a proof is accepted after its `iat`. */
  maxAge: number
  /** Seconds of skew allowed on `iat`, both ways. */
  clockTolerance: number
  /** Characters. */
  maxProofLength: number
}

/** Longest `jti` accepted. RFC 9449 §4.2 asks for at least 96 random bits; a UUID is 36 characters. */
export const MAX_JTI_LENGTH = 256
/** The JWK members of a private or symmetric key (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

const fail = (code: ErrorCode, cause: CheckCause, description?: string) =>
  new GatehouseError(code, description, { cause })
const malformed = (description: string, cause: CheckCause) =>
  fail('ERR_DPOP_PROOF_MALFORMED', cause, description)

/**
 * The one proof in a `DPoP` header value: a string (several header fields arrive joined by `, ` from Node
 * and from Fetch's `Headers`), an array of field values, or nothing.
 *
 * @throws ERR_DPOP_PROOF_MISSING, ERR_DPOP_PROOF_MULTIPLE (RFC 9449 §4.3 check 1: a compact JWS holds no
 * comma, so a comma means two proofs).
 */
export function readProof(value: string | readonly string[] | null | undefined): string {
  let proof = value
  if (Array.isArray(proof)) {
    if (proof.length > 1) throw fail('ERR_DPOP_PROOF_MULTIPLE', { header: 'DPoP', received: proof.length })
    proof = proof[0]
  }
  if (typeof proof !== 'string' || proof === '') throw fail('ERR_DPOP_PROOF_MISSING', { header: 'DPoP' })
  if (proof.includes(',')) throw fail('ERR_DPOP_PROOF_MULTIPLE', { header: 'DPoP', reason: 'holds a comma' })
  return proof
}

/**
 * The syntax of a proof (RFC 9449 §4.2; §4.3 checks 2 to 5 and 7): a compact JWS (bounded in length and
 * JSON depth, canonical base64url, no `crit`: verify/jws.ts), `typ` `dpop+jwt`, `alg` one of `algorithms`,
 * `jwk` a public EC, RSA or OKP key, and the claims `jti`, `htm`, `htu`, `iat` of the right types.
 * Does NOT check the signature, nor what the claims say.
 */
export function parseProof(proof: string, rules: ProofRules): ParsedProof {
  const { header, payload, signingInput, signature } = parseJWS(proof, rules)

  if (header.typ === undefined || normalizeTyp(header.typ) !== 'dpop+jwt')
    throw fail('ERR_DPOP_PROOF_TYP_INVALID', {
      header: 'typ',
      received: forLog(header.typ),
      expected: 'dpop+jwt',
    })
  // RFC 9449 §4.3 check 5: asymmetric, not `none` (jws.ts admits no other), and acceptable here.
  if (!rules.algorithms.has(header.alg))
    throw fail('ERR_DPOP_PROOF_ALG_NOT_ALLOWED', {
      header: 'alg',
      received: header.alg,
      expected: [...rules.algorithms],
    })
  const jwk = header.jwk
  if (!isPlainObject(jwk) || typeof jwk.kty !== 'string')
    throw fail('ERR_DPOP_PROOF_KEY_INVALID', { header: 'jwk', reason: 'is missing or not a JWK' })
  // RFC 9449 §4.3 check 7: the key in the proof is public; a private member means a leaked key.
  for (const member of PRIVATE_MEMBERS)
    if (member in jwk)
      throw fail('ERR_DPOP_PROOF_KEY_INVALID', {
        header: 'jwk',
        reason: `holds the private member "${member}"`,
      })

  const { jti, htm, htu, iat, ath, nonce } = payload
  if (typeof jti !== 'string' || jti === '')
    throw malformed('DPoP proof lacks a "jti" claim', claim('jti', jti))
  if (jti.length > MAX_JTI_LENGTH)
    throw malformed('DPoP proof "jti" claim is too long', {
      claim: 'jti',
      reason: `over ${MAX_JTI_LENGTH} characters`,
    })
  if (typeof htm !== 'string' || htm === '')
    throw malformed('DPoP proof lacks an "htm" claim', claim('htm', htm))
  if (typeof htu !== 'string' || htu === '')
    throw malformed('DPoP proof lacks an "htu" claim', claim('htu', htu))
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw malformed('DPoP proof lacks a numeric "iat" claim', claim('iat', iat))
  if (ath !== undefined && typeof ath !== 'string')
    throw malformed('DPoP proof "ath" claim is not a string', claim('ath', ath))
  if (nonce !== undefined && typeof nonce !== 'string')
    throw malformed('DPoP proof "nonce" claim is not a string', claim('nonce', nonce))

  return {
    header,
    alg: header.alg,
    jwk: jwk as JWK,
    jti,
    htm,
    htu,
    iat,
    ath: ath as string | undefined,
    nonce: nonce as string | undefined,
    signingInput,
    signature,
  }
}

/**
 * The compact JWS of a proof, through verify/jws.ts. RFC 9864's fully-specified `Ed25519` (what current
 * clients such as panva's `dpop` and `oauth4webapi` send) is EdDSA with an Ed25519 key, a name
 * verify/jws.ts does not know: such a proof is parsed with its header read as `EdDSA`, and its signature
 * still checked over the bytes the client signed.
 */
function parseJWS(proof: string, rules: ProofRules): ParsedJWS {
  // A client's proofs share one header segment: an `Ed25519` one seen before is renamed from memory,
  // without first failing the parse (which costs more than the rest of the checks together).
  const end = proof.indexOf('.')
  const known = end > 0 && rules.algorithms.has('EdDSA') ? RENAMED.get(proof.slice(0, end)) : undefined
  if (known !== undefined && proof.length <= rules.maxProofLength) {
    const copy = known + proof.slice(end)
    const parsed = parseCompactJWS(copy, copy.length)
    return { ...parsed, signingInput: bytes.encode(proof.slice(0, proof.lastIndexOf('.'))) }
  }
  try {
    return parseCompactJWS(proof, rules.maxProofLength)
  } catch (error) {
    // jws.ts speaks of tokens: the same faults, in the proof's codes.
    if ((error as GatehouseError).code !== 'ERR_JWT_ALG_NOT_ALLOWED')
      throw fail('ERR_DPOP_PROOF_MALFORMED', { reason: (error as Error).message, cause: error })
    const renamed = rules.algorithms.has('EdDSA') ? asEdDSA(proof) : undefined
    if (renamed !== undefined) return renamed
    throw fail('ERR_DPOP_PROOF_ALG_NOT_ALLOWED', {
      header: 'alg',
      cause: error,
      expected: [...rules.algorithms],
    })
  }
}

/** A proof whose header says `alg: "Ed25519"`, parsed as `EdDSA`; undefined for any other `alg`. */
function asEdDSA(proof: string): ParsedJWS | undefined {
  const end = proof.indexOf('.')
  // jws.ts refused the alg after decoding the header, so it is canonical base64url of a JSON object.
  const header = JSON.parse(text.decode(decodeBase64url(proof.slice(0, end)))) as Record<string, unknown>
  if (header.alg !== 'Ed25519') return undefined
  const renamed = encodeBase64url(bytes.encode(JSON.stringify({ ...header, alg: 'EdDSA' })))
  if (RENAMED.size >= RENAMED_MAX) RENAMED.delete(RENAMED.keys().next().value as string)
  RENAMED.set(proof.slice(0, end), renamed)
  // The original met the length limit; the renamed copy is bounded by it.
  const copy = renamed + proof.slice(end)
  const parsed = parseCompactJWS(copy, copy.length)
  return { ...parsed, signingInput: bytes.encode(proof.slice(0, proof.lastIndexOf('.'))) }
}

const text = new TextDecoder()
const bytes = new TextEncoder()

/** Header segments of `Ed25519` proofs → the same header with `alg: "EdDSA"`; the oldest goes first. */
const RENAMED = new Map<string, string>()
const RENAMED_MAX = 256

function claim(name: string, received: unknown): CheckCause {
  return { claim: name, received: forLog(received) }
}

/**
 * What binds the proof to the request (RFC 9449 §4.3 checks 6, 8, 9, 11), given whether its signature
 * verified under its `jwk`: `htm` equals the method (case-sensitive, RFC 9110 §9.1), `htu` the URL
 * (query and fragment ignored, after RFC 3986 §6 normalization: htu.ts), and `iat` lies within `maxAge`
 * before `now` and not after it, each side widened by `clockTolerance`.
 *
 * @param now seconds since the epoch
 */
export function checkRequest(
  proof: ParsedProof,
  signatureValid: boolean,
  method: string,
  url: string,
  rules: ProofRules,
  now: number,
): void {
  if (!signatureValid) throw fail('ERR_DPOP_PROOF_SIGNATURE_INVALID', { header: 'jwk', alg: proof.alg })
  if (proof.htm !== method)
    throw fail('ERR_DPOP_PROOF_HTM_MISMATCH', { claim: 'htm', received: forLog(proof.htm), expected: method })
  if (!htuMatches(proof.htu, url))
    throw fail('ERR_DPOP_PROOF_HTU_MISMATCH', {
      claim: 'htu',
      received: forLog(proof.htu),
      expected: forLog(url),
    })
  const { iat } = proof
  const { maxAge, clockTolerance } = rules
  if (iat > now + clockTolerance)
    throw fail('ERR_DPOP_PROOF_NOT_YET_VALID', { claim: 'iat', received: iat, now, clockTolerance })
  if (iat < now - maxAge - clockTolerance)
    throw fail('ERR_DPOP_PROOF_TOO_OLD', {
      claim: 'iat',
      received: iat,
      now,
      clockTolerance,
      reason: `older than ${maxAge} s`,
    })
}

/**
 * What binds the proof to the access token (RFC 9449 §4.3 check 12): `ath` is the hash of the token
 * (`tokenHash`: base64url(SHA-256(token))), and the token's `cnf.jkt` (§6.1) is the thumbprint of the
 * proof's key. A token without `cnf.jkt` is not DPoP-bound, and is refused here like one bound to
 * another key: a proof made for it would prove nothing.
 */
export function checkToken(
  proof: ParsedProof,
  tokenHash: string,
  cnfJkt: string | undefined,
  jkt: string,
): void {
  if (proof.ath === undefined)
    throw fail(
      'ERR_DPOP_PROOF_ATH_MISMATCH',
      { claim: 'ath', reason: 'is missing' },
      'DPoP proof lacks an ath claim',
    )
  if (proof.ath !== tokenHash)
    throw fail('ERR_DPOP_PROOF_ATH_MISMATCH', { claim: 'ath', received: forLog(proof.ath) })
  if (cnfJkt === undefined)
    throw fail('ERR_DPOP_BINDING_MISMATCH', {
      claim: 'cnf',
      reason: 'the token has no cnf.jkt: it is not DPoP-bound',
    })
  if (cnfJkt !== jkt)
    throw fail('ERR_DPOP_BINDING_MISMATCH', { claim: 'cnf', received: forLog(cnfJkt), expected: jkt })
}

/**
 * The `cnf.jkt` of a token's claims (RFC 9449 §6.1, RFC 7800 §3.1), or undefined when the token has no
 * `cnf` or no `jkt` in it (not DPoP-bound).
 *
 * @throws ERR_JWT_CLAIM_INVALID when `cnf` is not an object, or `jkt` not a non-empty string.
 */
export function boundThumbprint(claims: Readonly<Record<string, unknown>>): string | undefined {
  const { cnf } = claims
  if (cnf === undefined) return undefined
  if (!isPlainObject(cnf))
    throw new GatehouseError('ERR_JWT_CLAIM_INVALID', '"cnf" claim is not an object', {
      cause: { claim: 'cnf', received: forLog(cnf), reason: 'is not an object' } satisfies CheckCause,
    })
  const { jkt } = cnf
  if (jkt === undefined) return undefined
  if (typeof jkt !== 'string' || jkt === '')
    throw new GatehouseError('ERR_JWT_CLAIM_INVALID', '"cnf.jkt" claim is not a string', {
      cause: {
        claim: 'cnf.jkt',
        received: forLog(jkt),
        reason: 'is not a non-empty string',
      } satisfies CheckCause,
    })
  return jkt
}
