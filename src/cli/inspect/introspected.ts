/**
 * `gatehouse inspect` for a token a gate with this configuration would introspect (RFC 7662): ask the
 * endpoint with the core's introspector, keep the answer's members to show them, and print one line per
 * check.
 *
 * The introspector stops at the first failed check, like the verifier. So, as the JWT path relaxes the
 * verifier, the answer's claims then go through the core's own claim checks (`checkActiveClaims`, which
 * the introspector runs) again with that one check relaxed (no issuer, no audience, the failed time claim
 * left out), until they pass: every problem shows at once, and every verdict is the core's. The endpoint
 * is asked once.
 */
import type { VerifierOptions } from '../../core/config/options.js'
import { GatehouseError } from '../../core/errors.js'
import { type ActiveRules, checkActiveClaims } from '../../core/introspection/claims.js'
import type { IntrospectionClaims } from '../../core/introspection/index.js'
import { SIGNED_ANSWER_TYPE } from '../../core/introspection/index.js'
import type { JWTClaims, ProtectedHeader } from '../../core/types.js'
import type { Trust } from '../../core/verify/trust.js'
import { createVerifier } from '../../core/verify/verifier.js'
import { InsecureUrlError } from '../config.js'
import { type CheckStatus, describeTime, show } from '../format.js'
import {
  type Endpoint,
  endpointTransport,
  explainEndpointFailure,
  findEndpoint,
  type IntrospectionConfig,
  insecureEndpoint,
  introspectorFor,
  introspects,
  isEndpointFailure,
  recordingFetch,
  refusedEndpoint,
  timeoutOf,
} from '../introspection.js'
import { checkScopes } from './checks.js'
import { type ExplainContext, explainFailure } from './explain.js'

/** The checks of an introspected token, in order. */
export const INTROSPECTION_CHECKS = [
  'introspection',
  'active',
  'iss',
  'exp',
  'nbf',
  'iat',
  'aud',
  'scope',
  'cnf',
] as const

export type IntrospectionCheckId = (typeof INTROSPECTION_CHECKS)[number]

const LABELS: Record<IntrospectionCheckId, string> = {
  introspection: 'introspection',
  active: 'active',
  iss: 'iss',
  exp: 'exp',
  nbf: 'nbf',
  iat: 'iat',
  aud: 'aud',
  scope: 'scopes',
  cnf: 'cnf',
}

export interface IntrospectionCheck {
  id: IntrospectionCheckId
  label: string
  status: CheckStatus
  reason: string
  /** The GatehouseError code behind a failure. */
  code?: string
}

export interface IntrospectionReport {
  checks: IntrospectionCheck[]
  valid: boolean
  warnings: string[]
  /** The endpoint asked, or undefined when none could be found. */
  endpoint: (Endpoint & { url: URL }) | undefined
  /** What the endpoint answered, when it answered: its members (`active` first), and whether it was signed. */
  answer: { members: Record<string, unknown>; signed: boolean } | undefined
}

export interface IntrospectInput {
  token: string
  /** The token's `iss` when it decodes as a JWT, unverified: only to route it as the gate does. */
  unverifiedIss: unknown
  options: VerifierOptions
  config: IntrospectionConfig
  /** True when no audience was configured (the options then say `audience: null`). */
  audienceMissing: boolean
  requiredScopes: readonly string[]
  /** Milliseconds. */
  now: number
}

/** The members shown first, in this order: what a person debugging an opaque token looks for. */
const FIRST = ['active', 'iss', 'aud', 'exp', 'scope', 'client_id', 'sub', 'cnf']

type ClaimCheck = 'iss' | 'exp' | 'nbf' | 'iat' | 'aud'
const CLAIM_CHECKS: ReadonlySet<string> = new Set<ClaimCheck>(['iss', 'exp', 'nbf', 'iat', 'aud'])

/**
 * Introspect `token` and report every check; undefined when a gate would verify it here instead (a
 * compact JWS, unless the token source is `introspection` and the JWS names this issuer). Throws a
 * TypeError for options the core refuses, and an InsecureUrlError for a configured endpoint the core would
 * not call; everything else is a result.
 */
export async function introspectToken(input: IntrospectInput): Promise<IntrospectionReport | undefined> {
  const verifier = createVerifier(input.options)
  const trust = verifier.trusts[0]!
  const report = (
    checks: IntrospectionCheck[],
    extra: Partial<IntrospectionReport> = {},
  ): IntrospectionReport => ({
    checks,
    valid: checks.every((check) => check.status !== 'fail'),
    warnings: [],
    endpoint: undefined,
    answer: undefined,
    ...extra,
  })
  try {
    if (!introspects(input.token, input.config, trust, input.unverifiedIss)) return undefined
    const found = await findEndpoint(trust, input.config)
    if (typeof found === 'string') return report(stopped(fail('introspection', found), 'no endpoint to ask'))
    const { url } = found
    const warnings: string[] = []
    const transport = endpointTransport(url, input.config)
    if (transport === 'refused') {
      if (found.from === 'configured')
        throw new InsecureUrlError('GATEHOUSE_INTROSPECTION_URL', url, refusedEndpoint(url))
      return report(stopped(fail('introspection', `the metadata's ${refusedEndpoint(url)}`), 'not asked'), {
        endpoint: found,
      })
    }
    if (transport === 'insecure') warnings.push(insecureEndpoint(url))

    const recorder = recordingFetch(timeoutOf(trust))
    const introspector = introspectorFor(trust, input.config, url, {
      fetch: recorder.fetch,
      now: () => input.now,
    })
    let verdict: unknown
    try {
      await introspector.introspect(input.token)
    } catch (error) {
      verdict = error
    } finally {
      introspector.close()
    }
    const code = (verdict as GatehouseError | undefined)?.code
    const done = { endpoint: found, warnings }
    if (code === 'ERR_TOKEN_MALFORMED')
      return report(
        stopped(fail('introspection', `not sent: ${(verdict as GatehouseError).description}`, verdict)),
        done,
      )
    if (isEndpointFailure(verdict)) {
      const failure = await explainEndpointFailure(
        verdict,
        recorder.last(),
        url,
        input.config,
        timeoutOf(trust),
      )
      return report(
        stopped(fail('introspection', failure.reason, verdict), 'no answer from the endpoint'),
        done,
      )
    }
    const signed = recorder.last()?.contentType === SIGNED_ANSWER_TYPE
    const asked = pass('introspection', askedLine(found, input.config.clientId, signed))
    if (code === 'ERR_TOKEN_INACTIVE') {
      const inactive = fail(
        'active',
        'the authorization server says this token is not active: it has expired, was revoked, was issued by ' +
          'another authorization server, or is not a token at all. The answer gives no reason and no claims ' +
          '(RFC 7662 §2.2): get a new token',
        verdict,
      )
      return report([asked, ...stopped(inactive, 'an inactive answer carries no claims')], {
        ...done,
        answer: { members: { active: false }, signed },
      })
    }
    const members = ordered(await answerMembers(recorder.last(), signed))
    const checks = [asked, pass('active', 'the authorization server says the token is active')]
    checks.push(...claimChecks(members, input, trust))
    if (input.requiredScopes.length > 0) {
      const error = checkScopes(
        { claims: members as JWTClaims, header: {} as ProtectedHeader },
        verifier,
        input.requiredScopes,
      )
      checks.push(
        error === undefined
          ? pass('scope', `has ${input.requiredScopes.join(' ')}`)
          : fail('scope', explainFailure('scope', error, explainContext(members, input, trust)), error),
      )
    }
    const jkt = (members.cnf as { jkt?: unknown } | undefined)?.jkt
    if (typeof jkt === 'string')
      checks.push({
        ...pass(
          'cnf',
          `bound to a DPoP key (jkt ${show(jkt)}): the API accepts it only with a DPoP proof made with that key`,
        ),
        status: 'skip',
      })
    return report(checks, { ...done, answer: { members, signed } })
  } finally {
    verifier.close()
  }
}

/** `iss`, `exp`, `nbf`, `iat`, `aud`: the core's checks, each failed one relaxed in turn. */
function claimChecks(
  members: Record<string, unknown>,
  input: IntrospectInput,
  trust: Trust,
): IntrospectionCheck[] {
  const policy = trust.options
  const rules: ActiveRules = {
    // As the gate gives them to the introspector (src/core/http/token-source.ts).
    issuers: policy.issuers.length > 0 ? new Set(policy.issuers) : null,
    audience: policy.audience,
    clockTolerance: policy.clockTolerance,
  }
  let claims = members
  const failures = new Map<ClaimCheck, unknown>()
  for (let run = 0; run < CLAIM_CHECKS.size + 1; run++) {
    try {
      checkActiveClaims(claims as unknown as IntrospectionClaims, rules, input.now / 1000)
      break
    } catch (error) {
      const id = claimOf(error)
      if (id === undefined || failures.has(id)) break
      failures.set(id, error)
      if (id === 'iss') rules.issuers = null
      else if (id === 'aud') rules.audience = null
      else claims = { ...claims, [id]: undefined }
    }
  }
  const c = explainContext(members, input, trust)
  return (['iss', 'exp', 'nbf', 'iat', 'aud'] as const).map((id) => {
    const failure = failures.get(id)
    if (failure !== undefined) return fail(id, explainClaim(id, failure, c), failure)
    return passedClaim(id, members, input, c)
  })
}

function pass(id: IntrospectionCheckId, reason: string): IntrospectionCheck {
  return { id, label: LABELS[id], status: 'pass', reason }
}

function fail(id: IntrospectionCheckId, reason: string, error?: unknown): IntrospectionCheck {
  const code = error instanceof GatehouseError ? error.code : undefined
  return { id, label: LABELS[id], status: 'fail', reason, ...(code && { code }) }
}

/** A failed check, then every later claim check marked as not checked (scope and cnf left out). */
function stopped(failed: IntrospectionCheck, why = 'verification stopped before it'): IntrospectionCheck[] {
  const later = INTROSPECTION_CHECKS.slice(INTROSPECTION_CHECKS.indexOf(failed.id) + 1).filter(
    (id) => id !== 'scope' && id !== 'cnf',
  )
  return [
    failed,
    ...later.map((id) => ({
      id,
      label: LABELS[id],
      status: 'skip' as const,
      reason: `not checked: ${why}`,
    })),
  ]
}

function askedLine(endpoint: Endpoint, clientId: string, signed: boolean): string {
  const from = endpoint.from === 'metadata' ? " (the issuer's introspection_endpoint)" : ''
  const how = signed ? ', signed (RFC 9701) and checked with the issuer’s keys' : ''
  return `${endpoint.url.href}${from} answered client ${JSON.stringify(clientId)}${how}`
}

/**
 * The members of the answer the introspector accepted: the JSON body, or the `token_introspection` of a
 * signed one. Read from the recorded copy of the very bytes the introspector checked.
 */
async function answerMembers(
  exchange: ReturnType<ReturnType<typeof recordingFetch>['last']>,
  signed: boolean,
): Promise<Record<string, unknown>> {
  const text = (await exchange?.body())?.trim()
  if (text === undefined) return {}
  try {
    const value = signed
      ? (
          JSON.parse(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
            string,
            unknown
          >
        ).token_introspection
      : JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

function ordered(members: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of FIRST) if (name in members) out[name] = members[name]
  for (const [name, value] of Object.entries(members)) if (!(name in out)) out[name] = value
  return out
}

function claimOf(error: unknown): ClaimCheck | undefined {
  const e = error as GatehouseError
  switch (e?.code) {
    case 'ERR_JWT_ISSUER_INVALID':
      return 'iss'
    case 'ERR_JWT_EXPIRED':
      return 'exp'
    case 'ERR_JWT_NOT_YET_VALID':
      return 'nbf'
    case 'ERR_JWT_AUDIENCE_INVALID':
      return 'aud'
    case 'ERR_JWT_CLAIM_MISSING':
    case 'ERR_JWT_CLAIM_INVALID': {
      const claim = /^"([^"]+)" claim/.exec(e.description)?.[1]
      return claim !== undefined && CLAIM_CHECKS.has(claim) ? (claim as ClaimCheck) : undefined
    }
    default:
      return undefined
  }
}

function explainClaim(id: ClaimCheck, error: unknown, c: ExplainContext): string {
  const missing = (error as GatehouseError)?.code === 'ERR_JWT_CLAIM_MISSING'
  if (missing && id === 'iss')
    return (
      'the answer has no "iss": Gatehouse requires it, so that a token of another authorization server is ' +
      'never taken for one of yours (RFC 7662 §4); have the authorization server include it'
    )
  if (missing && id === 'aud')
    return (
      `the answer has no "aud", and you accept only ${(c.audiences ?? []).map((a) => `"${a}"`).join(' or ')}: ` +
      'have the authorization server include the audience in its answers'
    )
  return explainFailure(id, error, c)
}

function passedClaim(
  id: ClaimCheck,
  members: Record<string, unknown>,
  input: IntrospectInput,
  c: ExplainContext,
): IntrospectionCheck {
  const absent = (claim: string) => ({
    ...pass(id, `the answer has no "${claim}" (optional in RFC 7662 §2.2)`),
    status: 'skip' as const,
  })
  switch (id) {
    case 'iss':
      return pass(id, `${show(members.iss)} is a trusted issuer`)
    case 'exp':
      return members.exp === undefined
        ? absent('exp')
        : pass(id, `expires ${describeTime(members.exp, c.now)}`)
    case 'nbf':
      return members.nbf === undefined
        ? absent('nbf')
        : pass(id, `valid since ${describeTime(members.nbf, c.now)}`)
    case 'iat':
      return members.iat === undefined
        ? absent('iat')
        : pass(id, `issued ${describeTime(members.iat, c.now)}`)
    case 'aud':
      if (input.audienceMissing)
        return {
          ...pass(id, 'not checked: no audience configured (--audience or GATEHOUSE_AUDIENCE)'),
          status: 'skip',
        }
      return pass(id, `${show(members.aud)} is accepted`)
  }
}

function explainContext(
  members: Record<string, unknown>,
  input: IntrospectInput,
  trust: Trust,
): ExplainContext {
  const policy = trust.options
  return {
    header: {},
    claims: members,
    issuers: policy.issuers,
    audiences: policy.audience === null ? null : [...policy.audience],
    algorithms: undefined,
    typ: undefined,
    clockTolerance: policy.clockTolerance,
    maxTokenAge: undefined,
    requiredScopes: input.requiredScopes,
    jwksKids: undefined,
    timeoutMs: undefined,
    now: input.now / 1000,
  }
}
