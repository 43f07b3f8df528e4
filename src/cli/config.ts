/**
 * Verifier configuration for `inspect` and `doctor`: command-line flags over GATEHOUSE_* variables, read
 * by the same `optionsFromEnv` the applications use, so the CLI can never understand a variable
 * differently from the API it is debugging.
 */
import { optionsFromEnv } from '../core/config/env.js'
import type { VerifierOptions } from '../core/config/options.js'
import { integer } from './args.js'
import { UsageError } from './context.js'
import { refusedReason, transportOf } from './transport.js'

/** The flags both commands accept, each mapped to its environment variable. */
const FLAGS = {
  issuer: 'GATEHOUSE_ISSUER',
  domain: 'GATEHOUSE_DOMAIN',
  audience: 'GATEHOUSE_AUDIENCE',
  'jwks-url': 'GATEHOUSE_JWKS_URL',
  discovery: 'GATEHOUSE_DISCOVERY',
  algorithms: 'GATEHOUSE_ALGORITHMS',
  typ: 'GATEHOUSE_TYP',
  'clock-tolerance': 'GATEHOUSE_CLOCK_TOLERANCE',
  'max-token-age': 'GATEHOUSE_MAX_TOKEN_AGE',
  'required-claims': 'GATEHOUSE_REQUIRED_CLAIMS',
} as const

type Flag = keyof typeof FLAGS

/** The one boolean flag: sets GATEHOUSE_ALLOW_INSECURE_REQUESTS=1. */
const INSECURE_FLAG = 'allow-insecure-requests'

/** parseArgs definitions of the configuration flags, plus `--timeout`. */
export const CONFIG_OPTIONS = {
  ...(Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<
    Flag,
    { type: 'string' }
  >),
  [INSECURE_FLAG]: { type: 'boolean' },
  timeout: { type: 'string' },
} as const

/** The configuration flags in help texts. */
export const CONFIG_HELP = `Configuration (flags override the environment variable named after each):
  --issuer URL            GATEHOUSE_ISSUER       exact issuer; a trailing slash matters
  --domain HOST           GATEHOUSE_DOMAIN       issuer = https://HOST
  --audience AUD          GATEHOUSE_AUDIENCE     your API identifier(s), space or comma separated
  --jwks-url URL          GATEHOUSE_JWKS_URL     default: discovery, then {issuer}/.well-known/jwks.json
  --discovery MODE        GATEHOUSE_DISCOVERY    true, false or auto (default auto without --jwks-url)
  --algorithms LIST       GATEHOUSE_ALGORITHMS   e.g. RS256,ES256 (default: all asymmetric)
  --typ TYP               GATEHOUSE_TYP          required "typ" header, e.g. at+jwt
  --clock-tolerance SEC   GATEHOUSE_CLOCK_TOLERANCE (default 5)
  --max-token-age SEC     GATEHOUSE_MAX_TOKEN_AGE
  --required-claims LIST  GATEHOUSE_REQUIRED_CLAIMS
  --allow-insecure-requests
                          GATEHOUSE_ALLOW_INSECURE_REQUESTS=1: plain http to hosts that are not
                          loopback, for development networks only (not protected by TLS)
  --timeout MS            time limit of each request to the issuer (default 5000)`

export interface Config {
  /** The verifier options, or undefined when no issuer is configured at all. */
  options: VerifierOptions | undefined
  /** True when no audience was configured and `audience: null` was set to let the other checks run. */
  audienceMissing: boolean
}

/**
 * The configuration makes the verifier fetch over plain http from a host that is not loopback, without
 * the opt-out: a usage error for `inspect`, a failed check for `doctor`.
 */
export class InsecureUrlError extends UsageError {
  constructor(
    /** The variable that holds the URL (or the flag that replaced it). */
    readonly variable: 'GATEHOUSE_ISSUER' | 'GATEHOUSE_JWKS_URL',
    readonly url: URL,
  ) {
    super(`${withFlagNames(variable)}: ${refusedReason(url)}`)
  }
}

/**
 * Merge flags over the environment and read them with `optionsFromEnv`. A flag for the issuer replaces
 * both issuer variables (and likewise for the key source), so a stray variable cannot contradict it.
 *
 * @param allowNoAudience set `audience: null` when none is configured instead of failing.
 * @throws InsecureUrlError when the core refuses the URL it would fetch first as plain http off loopback;
 *   UsageError naming the flag and the variable for anything else.
 */
export function readConfig(
  values: Partial<Record<Flag | 'timeout', string | undefined>> & { [INSECURE_FLAG]?: boolean | undefined },
  env: Record<string, string | undefined>,
  allowNoAudience: boolean,
): Config {
  const merged: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(env)) if (name.startsWith('GATEHOUSE_')) merged[name] = value
  if (values.issuer !== undefined || values.domain !== undefined) {
    delete merged.GATEHOUSE_ISSUER
    delete merged.GATEHOUSE_DOMAIN
  }
  if (values['jwks-url'] !== undefined || values.discovery !== undefined) {
    delete merged.GATEHOUSE_JWKS_URL
    delete merged.GATEHOUSE_DISCOVERY
  }
  for (const flag of Object.keys(FLAGS) as Flag[]) {
    if (values[flag] !== undefined) merged[FLAGS[flag]] = values[flag]
  }
  if (values[INSECURE_FLAG]) merged.GATEHOUSE_ALLOW_INSECURE_REQUESTS = '1'
  const hasIssuer = Boolean(merged.GATEHOUSE_ISSUER?.trim() || merged.GATEHOUSE_DOMAIN?.trim())
  if (!hasIssuer) return { options: undefined, audienceMissing: false }
  const audienceMissing = !merged.GATEHOUSE_AUDIENCE?.trim() && !merged.GATEHOUSE_RESOURCE?.trim()
  if (audienceMissing && allowNoAudience) merged.GATEHOUSE_AUDIENCE = 'unused'

  let options: VerifierOptions
  try {
    // The CLI verifies tokens only: the request options (DPoP proofs, public URL) are an API's.
    const {
      dpopProof: _proof,
      publicUrl: _url,
      trustForwardedHeaders: _trust,
      resource,
      resourceMetadata: _metadata,
      introspection: _introspection,
      ...verifier
    } = optionsFromEnv(merged)
    // The gate's rule: without an audience, the resource identifier is the audience (RFC 8707).
    options = { ...verifier, audience: verifier.audience ?? resource }
  } catch (error) {
    throw insecureUrlError(merged) ?? new UsageError(withFlagNames((error as Error).message))
  }
  if (audienceMissing && allowNoAudience) options.audience = null
  if (values.timeout !== undefined) {
    const timeoutDuration = integer('timeout', values.timeout, 5000, 1, 600_000)
    options.keySet = { ...options.keySet, timeoutDuration }
  }
  return { options, audienceMissing }
}

/**
 * Why `optionsFromEnv` refused the configuration, when the reason is the core's transport rule: the URL
 * the verifier would fetch first (the JWKS URL, else the issuer) is plain http off loopback and the
 * opt-out is not on. Undefined otherwise, and whenever the opt-out is on (then the rule cannot be why).
 */
function insecureUrlError(merged: Record<string, string | undefined>): InsecureUrlError | undefined {
  // The values optionsFromEnv reads as "on"; anything else leaves the opt-out off.
  if (/^(1|true)$/i.test(merged.GATEHOUSE_ALLOW_INSECURE_REQUESTS?.trim() ?? '')) return undefined
  const jwksUrl = merged.GATEHOUSE_JWKS_URL?.trim()
  const [variable, value] = jwksUrl
    ? (['GATEHOUSE_JWKS_URL', jwksUrl] as const)
    : (['GATEHOUSE_ISSUER', merged.GATEHOUSE_ISSUER?.trim().split(/\s+/)[0]] as const)
  if (value === undefined || !URL.canParse(value)) return undefined
  const url = new URL(value)
  if (url.protocol !== 'http:' || transportOf(url, false) !== 'refused') return undefined
  return new InsecureUrlError(variable, url)
}

/** `GATEHOUSE_AUDIENCE: expected …` → `--audience / GATEHOUSE_AUDIENCE: expected …`. */
function withFlagNames(message: string): string {
  return message.replace(/GATEHOUSE_[A-Z_]+/g, (variable) => {
    if (variable === 'GATEHOUSE_ALLOW_INSECURE_REQUESTS') return `--${INSECURE_FLAG} / ${variable}`
    const flag = (Object.keys(FLAGS) as Flag[]).find((f) => FLAGS[f] === variable)
    return flag === undefined ? variable : `--${flag} / ${variable}`
  })
}
