/**
 * Running the real verifier on a token and turning its verdict into one line per check.
 *
 * The verifier stops at the first failure, but a person debugging wants every problem at once (expired
 * AND the wrong audience). So after a failure whose check can be switched off by an option — issuer,
 * algorithm list, typ, the clock, max age, audience, a required claim — the verifier runs again with that
 * one check relaxed, until it passes or fails on something that cannot be relaxed (format, key,
 * signature). Every verdict is still the verifier's: nothing here re-implements a check.
 *
 * Relaxed runs reuse the key store the configured verifier built, so a token's own `iss` never makes the
 * CLI fetch keys from a URL the token chose.
 */
import { createClaimsReader } from '../../core/authz/claims-reader.js'
import { compileRule } from '../../core/authz/index.js'
import type { VerifierOptions } from '../../core/config/options.js'
import { GatehouseError } from '../../core/errors.js'
import { ALL_ALGORITHMS, type Algorithm, type VerifiedToken } from '../../core/types.js'
import { createVerifier, type Verifier } from '../../core/verify/verifier.js'
import { type CheckStatus, describeTime, show } from '../format.js'
import { CHECK_ORDER, type CheckId, checkOf, type ExplainContext, explainFailure, LABELS } from './explain.js'

export interface CheckResult {
  id: CheckId
  label: string
  status: CheckStatus
  reason: string
  /** The GatehouseError code behind a failure. */
  code?: string
}

export interface InspectInput {
  token: string
  header: Record<string, unknown>
  claims: Record<string, unknown>
  options: VerifierOptions
  /** True when no audience was configured (the options then say `audience: null`). */
  audienceMissing: boolean
  requiredScopes: readonly string[]
  /** Milliseconds. */
  now: number
}

/** Relaxations applied so far; each check is relaxed at most once. */
interface Relaxed {
  issuer?: string
  algorithms?: Algorithm[]
  typ?: true
  clock?: number
  maxTokenAge?: true
  audience?: true
  requiredClaims?: string[]
}

const MAX_RUNS = 10
const TIME_CHECKS: ReadonlySet<CheckId> = new Set(['exp', 'nbf', 'iat'])

/**
 * Verify `token` and report every check. Throws a TypeError when the options are invalid (before any
 * network request); verification failures are results, never exceptions.
 */
export async function runChecks(input: InspectInput): Promise<{ checks: CheckResult[]; valid: boolean }> {
  const seen = recordingFetch(input.options.keySet?.fetch ?? globalThis.fetch)
  const base = createVerifier({ ...input.options, keySet: { ...input.options.keySet, fetch: seen.fetch } })
  const store = base.trusts[0]!.keys
  const failures = new Map<CheckId, unknown>()
  const relaxed: Relaxed = {}
  let stoppedAt: number | undefined
  let verified: VerifiedToken | undefined
  let verifier: Verifier = base
  let inconsistent: CheckId | undefined
  try {
    for (let run = 0; run < MAX_RUNS; run++) {
      try {
        verified = await verifier.verify(input.token)
        break
      } catch (error) {
        const id = checkOf(error, input.options.maxTokenAge)
        if (relaxed.clock !== undefined && TIME_CHECKS.has(id) && !failures.has(id)) {
          // A time check failing only under the borrowed clock says nothing about the token: its exp is
          // before its nbf/iat. Stop here without blaming that check.
          inconsistent = id
          stoppedAt = positionOf(id, input.header)
          break
        }
        const again = !failures.has(id) && relax(id, error, input, relaxed)
        failures.set(id, error)
        if (!again) {
          stoppedAt = positionOf(id, input.header)
          break
        }
        verifier = createVerifier(relaxedOptions(input.options, relaxed, store))
      }
    }
    if (verified !== undefined && input.requiredScopes.length > 0) {
      const error = checkScopes(verified, base, input.requiredScopes)
      if (error !== undefined) failures.set('scope', error)
    }
  } finally {
    base.close()
  }

  const c = explainContext(input, await seen.kids())
  const checks: CheckResult[] = []
  for (const id of CHECK_ORDER) {
    const failure = failures.get(id)
    if (failure !== undefined) {
      const code = failure instanceof GatehouseError ? failure.code : undefined
      checks.push({
        id,
        label: LABELS[id],
        status: 'fail',
        reason: explainFailure(id, failure, c),
        ...(code && { code }),
      })
      continue
    }
    if (id === inconsistent) {
      checks.push({
        id,
        label: LABELS[id],
        status: 'skip',
        reason: 'not checked: the token expires before it becomes valid',
      })
      continue
    }
    if (stoppedAt !== undefined && CHECK_ORDER.indexOf(id) > stoppedAt) {
      if (id === 'age' && input.options.maxTokenAge === undefined) continue
      if (id === 'scope' && input.requiredScopes.length === 0) continue
      checks.push({
        id,
        label: LABELS[id],
        status: 'skip',
        reason: 'not checked: verification stopped before it',
      })
      continue
    }
    const line = passed(id, input, relaxed, c)
    if (line !== undefined) checks.push({ id, label: LABELS[id], ...line })
  }
  return { checks, valid: checks.every((check) => check.status !== 'fail') }
}

/** Where a failure stops verification. A header `alg` outside the asymmetric list fails while parsing, before `iss`. */
function positionOf(id: CheckId, header: Record<string, unknown>): number {
  if (id === 'alg' && !ALL_ALGORITHMS.includes(header.alg as Algorithm))
    return CHECK_ORDER.indexOf('format') + 0.5
  return CHECK_ORDER.indexOf(id)
}

/** Record what relaxing `id` takes; false when it cannot be relaxed. */
function relax(id: CheckId, error: unknown, input: InspectInput, r: Relaxed): boolean {
  const { header, claims } = input
  const code = (error as GatehouseError)?.code
  switch (id) {
    case 'iss':
      if (code !== 'ERR_JWT_ISSUER_INVALID' || typeof claims.iss !== 'string') return false
      r.issuer = claims.iss
      return true
    case 'alg':
      if (!ALL_ALGORITHMS.includes(header.alg as Algorithm)) return false
      r.algorithms = [header.alg as Algorithm]
      return true
    case 'typ':
      if (code !== 'ERR_JWT_TYP_INVALID') return false
      r.typ = true
      return true
    case 'exp':
    case 'nbf':
    case 'iat': {
      const future = code === 'ERR_JWT_CLAIM_INVALID' && /future/.test((error as GatehouseError).description)
      if (code === 'ERR_JWT_CLAIM_MISSING' || (code === 'ERR_JWT_CLAIM_INVALID' && !future)) return false
      if (r.clock !== undefined) return false
      r.clock = insideValidity(claims, input.now / 1000)
      return true
    }
    case 'age':
      if (code !== 'ERR_JWT_TOO_OLD') return false
      r.maxTokenAge = true
      return true
    case 'aud':
      if (code === 'ERR_JWT_CLAIM_INVALID') return false
      r.audience = true
      return true
    case 'claims': {
      const claim = /^"([^"]+)" claim is missing/.exec((error as GatehouseError)?.description ?? '')?.[1]
      const required = r.requiredClaims ?? [...(input.options.requiredClaims ?? [])]
      if (code !== 'ERR_JWT_CLAIM_MISSING' || claim === undefined || !required.includes(claim)) return false
      r.requiredClaims = required.filter((name) => name !== claim)
      return true
    }
    default:
      return false
  }
}

/** A time (seconds) inside the token's [nbf/iat, exp) window, to see what else would fail. */
function insideValidity(claims: Record<string, unknown>, now: number): number {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  const exp = num(claims.exp)
  const start = Math.max(
    num(claims.nbf) ?? Number.NEGATIVE_INFINITY,
    num(claims.iat) ?? Number.NEGATIVE_INFINITY,
  )
  let t = Number.isFinite(start) ? start : (exp ?? now + 1) - 1
  if (exp !== undefined && t >= exp) t = exp - 1
  return t
}

function relaxedOptions(
  options: VerifierOptions,
  r: Relaxed,
  store: Verifier['trusts'][number]['keys'],
): VerifierOptions {
  const { jwksUri: _j, discovery: _d, keySet: _k, domain, ...rest } = options
  const out: VerifierOptions = { ...rest, keys: store }
  if (r.issuer !== undefined) out.issuer = r.issuer
  else if (domain !== undefined && out.issuer === undefined) out.domain = domain
  if (r.algorithms !== undefined) out.algorithms = r.algorithms
  if (r.typ) delete out.typ
  if (r.clock !== undefined) {
    const at = r.clock * 1000
    out.now = () => at
  }
  if (r.maxTokenAge) delete out.maxTokenAge
  if (r.audience) out.audience = null
  if (r.requiredClaims !== undefined) out.requiredClaims = r.requiredClaims
  return out
}

/** The required scopes, through the same rule engine the adapters use. Returns the 403 error, if any. */
export function checkScopes(
  verified: Pick<VerifiedToken, 'claims' | 'header'>,
  verifier: Verifier,
  scopes: readonly string[],
): unknown {
  const trust = verifier.trusts[0]!
  const sets = createClaimsReader(trust.options.claims)(verified.claims)
  try {
    compileRule({ scopes: [...scopes] }).authorize(
      {
        ...sets,
        token: '',
        claims: verified.claims,
        header: verified.header,
        principal: undefined,
        tokenType: 'bearer',
        jkt: undefined,
        dpopNonce: undefined,
      },
      'GET',
    )
    return undefined
  } catch (error) {
    return error
  }
}

function explainContext(input: InspectInput, jwksKids: string[] | undefined): ExplainContext {
  const o = input.options
  const list = (v: unknown): string[] | undefined =>
    v === undefined || v === null
      ? undefined
      : typeof v === 'string'
        ? [v]
        : Array.isArray(v)
          ? [...v]
          : undefined
  return {
    header: input.header,
    claims: input.claims,
    issuers: list(o.issuer) ?? (o.domain !== undefined ? [`https://${o.domain}`] : []),
    audiences: input.audienceMissing ? null : (list(o.audience) ?? null),
    algorithms: o.algorithms === undefined ? undefined : [...o.algorithms],
    typ: list(o.typ),
    clockTolerance: o.clockTolerance ?? 5,
    maxTokenAge: o.maxTokenAge,
    requiredScopes: input.requiredScopes,
    jwksKids,
    timeoutMs: o.keySet?.timeoutDuration,
    now: input.now / 1000,
  }
}

/** The line of a check that did not fail, or undefined when it does not apply at all. */
function passed(
  id: CheckId,
  input: InspectInput,
  r: Relaxed,
  c: ExplainContext,
): { status: CheckStatus; reason: string } | undefined {
  const { header, claims } = input
  const pass = (reason: string) => ({ status: 'pass' as const, reason })
  const skip = (reason: string) => ({ status: 'skip' as const, reason })
  switch (id) {
    case 'format':
      return pass('a signed JWT (compact JWS), header and payload are JSON objects')
    case 'iss':
      return pass(`${show(claims.iss)} is a trusted issuer`)
    case 'alg':
      return pass(`${show(header.alg)} is allowed`)
    case 'typ':
      if (c.typ === undefined) {
        return skip(
          `not required${typeof header.typ === 'string' ? ` (the token says "${header.typ}")` : ''}; --typ at+jwt to require it`,
        )
      }
      return pass(`${show(header.typ)} as required`)
    case 'kid':
      return pass(
        typeof header.kid === 'string'
          ? `key "${header.kid}" found in the issuer's key set`
          : "the token has no kid; exactly one key in the issuer's key set fits",
      )
    case 'signature':
      return pass(r.issuer !== undefined ? "valid (checked with the configured issuer's keys)" : 'valid')
    case 'exp':
      return pass(`expires ${describeTime(claims.exp, c.now)}`)
    case 'nbf':
      return claims.nbf === undefined
        ? skip('the token has no "nbf" claim')
        : pass(`valid since ${describeTime(claims.nbf, c.now)}`)
    case 'iat':
      return claims.iat === undefined
        ? skip('the token has no "iat" claim')
        : pass(`issued ${describeTime(claims.iat, c.now)}`)
    case 'age':
      if (input.options.maxTokenAge === undefined) return undefined
      if (r.clock !== undefined) return skip('not checked: the token is outside its validity window')
      return pass(`within the maximum age of ${input.options.maxTokenAge} s`)
    case 'aud':
      if (input.audienceMissing)
        return skip('not checked: no audience configured (--audience or GATEHOUSE_AUDIENCE)')
      if (input.options.audience === null) return skip('not checked: audience check switched off')
      return pass(`${show(claims.aud)} is accepted`)
    case 'claims': {
      const required = input.options.requiredClaims ?? []
      return pass(
        required.length > 0
          ? `required claims present: ${required.join(', ')}`
          : 'registered claims have valid types',
      )
    }
    case 'scope':
      if (input.requiredScopes.length === 0) return undefined
      return pass(`has ${input.requiredScopes.join(' ')}`)
  }
}

/**
 * A fetch that remembers the key sets it saw, so a "kid not found" can list the kids the issuer
 * publishes without fetching again. Reads a clone of the body; the verifier's own limits still apply to
 * the original (an aborted request aborts the clone too).
 */
function recordingFetch(inner: typeof fetch): { fetch: typeof fetch; kids(): Promise<string[] | undefined> } {
  const bodies: Promise<unknown>[] = []
  const wrapped: typeof fetch = async (resource, init) => {
    const response = await inner(resource, init)
    if (response.status === 200)
      bodies.push(
        response
          .clone()
          .json()
          .catch(() => undefined),
      )
    return response
  }
  return {
    fetch: wrapped,
    async kids() {
      // Bounded: a body still streaming after the verifier gave up must not hold the report.
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<undefined[]>((resolve) => {
        timer = setTimeout(() => resolve([]), 1000)
      })
      const documents = await Promise.race([Promise.all(bodies), late])
      clearTimeout(timer)
      for (const document of documents.reverse()) {
        const keys = (document as { keys?: unknown } | undefined)?.keys
        if (Array.isArray(keys)) return keys.map((k) => String((k as { kid?: unknown })?.kid ?? '(no kid)'))
      }
      return undefined
    },
  }
}
