/**
 * Verifier configuration for `inspect` and `doctor`: command-line flags over GATEHOUSE_* variables, read
 * by the same `optionsFromEnv` the applications use, so the CLI can never understand a variable
 * differently from the API it is debugging.
 */
import { optionsFromEnv } from '../core/env.js'
import type { VerifierOptions } from '../core/options.js'
import { integer } from './args.js'
import { UsageError } from './context.js'

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

/** parseArgs definitions of the configuration flags, plus `--timeout`. */
export const CONFIG_OPTIONS = {
  ...(Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<
    Flag,
    { type: 'string' }
  >),
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
  --timeout MS            time limit of each request to the issuer (default 5000)`

export interface Config {
  /** The verifier options, or undefined when no issuer is configured at all. */
  options: VerifierOptions | undefined
  /** True when no audience was configured and `audience: null` was set to let the other checks run. */
  audienceMissing: boolean
}

/**
 * Merge flags over the environment and read them with `optionsFromEnv`. A flag for the issuer replaces
 * both issuer variables (and likewise for the key source), so a stray variable cannot contradict it.
 *
 * @param allowNoAudience set `audience: null` when none is configured instead of failing (inspect only).
 * @throws UsageError naming the flag and the variable.
 */
export function readConfig(
  values: Partial<Record<Flag | 'timeout', string | undefined>>,
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
  const hasIssuer = Boolean(merged.GATEHOUSE_ISSUER?.trim() || merged.GATEHOUSE_DOMAIN?.trim())
  if (!hasIssuer) return { options: undefined, audienceMissing: false }
  const audienceMissing = !merged.GATEHOUSE_AUDIENCE?.trim()
  if (audienceMissing && allowNoAudience) merged.GATEHOUSE_AUDIENCE = 'unused'

  let options: VerifierOptions
  try {
    options = optionsFromEnv(merged)
  } catch (error) {
    throw new UsageError(withFlagNames((error as Error).message))
  }
  if (audienceMissing && allowNoAudience) options.audience = null
  if (values.timeout !== undefined)
    options.timeoutDuration = integer('timeout', values.timeout, 5000, 1, 600_000)
  return { options, audienceMissing }
}

/** `GATEHOUSE_AUDIENCE: expected …` → `--audience / GATEHOUSE_AUDIENCE: expected …`. */
function withFlagNames(message: string): string {
  return message.replace(/GATEHOUSE_[A-Z_]+/g, (variable) => {
    const flag = (Object.keys(FLAGS) as Flag[]).find((f) => FLAGS[f] === variable)
    return flag === undefined ? variable : `--${flag} / ${variable}`
  })
}
