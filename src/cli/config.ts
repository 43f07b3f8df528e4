/**
 * Verifier configuration for `inspect` and `doctor`: command-line flags over GATEHOUSE_* variables, read
 * by the same `optionsFromEnv` the applications use, so the CLI can never understand a variable
 * differently from the API it is debugging.
 */
import { type EnvOptions, optionsFromEnv } from '../core/config/env.js'
import type { VerifierOptions } from '../core/config/options.js'
import { integer } from './args.js'
import { UsageError } from './context.js'
import { type IntrospectionConfig, refusedEndpoint } from './introspection.js'
import { refusedReason, transportOf } from './transport.js'

export type { IntrospectionConfig } from './introspection.js'

/** The flags both commands accept, each mapped to its environment variable. */
const FLAGS = {
  issuer: 'GATEHOUSE_ISSUER',
  domain: 'GATEHOUSE_DOMAIN',
  audience: 'GATEHOUSE_AUDIENCE',
  resource: 'GATEHOUSE_RESOURCE',
  'jwks-url': 'GATEHOUSE_JWKS_URL',
  discovery: 'GATEHOUSE_DISCOVERY',
  algorithms: 'GATEHOUSE_ALGORITHMS',
  typ: 'GATEHOUSE_TYP',
  'clock-tolerance': 'GATEHOUSE_CLOCK_TOLERANCE',
  'max-token-age': 'GATEHOUSE_MAX_TOKEN_AGE',
  'required-claims': 'GATEHOUSE_REQUIRED_CLAIMS',
  'client-id': 'GATEHOUSE_CLIENT_ID',
  'introspection-url': 'GATEHOUSE_INTROSPECTION_URL',
  'token-source': 'GATEHOUSE_TOKEN_SOURCE',
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
  --resource URL          GATEHOUSE_RESOURCE     your API's resource identifier (RFC 9728); the audience
                          when none is set. doctor then checks the API's metadata document
  --jwks-url URL          GATEHOUSE_JWKS_URL     default: discovery, then {issuer}/.well-known/jwks.json
  --discovery MODE        GATEHOUSE_DISCOVERY    true, false or auto (default auto without --jwks-url)
  --algorithms LIST       GATEHOUSE_ALGORITHMS   e.g. RS256,ES256 (default: all asymmetric)
  --typ TYP               GATEHOUSE_TYP          required "typ" header, e.g. at+jwt
  --clock-tolerance SEC   GATEHOUSE_CLOCK_TOLERANCE (default 5)
  --max-token-age SEC     GATEHOUSE_MAX_TOKEN_AGE
  --required-claims LIST  GATEHOUSE_REQUIRED_CLAIMS
  --client-id ID          GATEHOUSE_CLIENT_ID    this API's client id, for token introspection (RFC 7662)
                          GATEHOUSE_CLIENT_SECRET its secret: from the environment only, never a flag
                          (other users of the machine can read a command line)
  --introspection-url URL GATEHOUSE_INTROSPECTION_URL (default: introspection_endpoint of the metadata)
  --token-source SOURCE   GATEHOUSE_TOKEN_SOURCE auto (default with a client id) or introspection
  --allow-insecure-requests
                          GATEHOUSE_ALLOW_INSECURE_REQUESTS=1: plain http to hosts that are not
                          loopback, for development networks only (not protected by TLS)
  --timeout MS            time limit of each request to the issuer and its endpoints (default 5000)`

export interface Config {
  /** The verifier options, or undefined when no issuer is configured at all. */
  options: VerifierOptions | undefined
  /** True when no audience was configured and `audience: null` was set to let the other checks run. */
  audienceMissing: boolean
  /** Token introspection, when client credentials are configured (and an issuer: it is that issuer's). */
  introspection: IntrospectionConfig | undefined
  /** This API's resource identifier and metadata (RFC 9728), when GATEHOUSE_RESOURCE or --resource is set. */
  resource: ResourceConfig | undefined
}

/** What the gate of an API with this configuration publishes about itself, as `createGate` takes it. */
export interface ResourceConfig {
  /** The resource identifier, as given. */
  resource: string
  /** The other members of its metadata document (GATEHOUSE_AUTHORIZATION_SERVERS, …). */
  metadata: EnvOptions['resourceMetadata']
  /** The audience configured explicitly (GATEHOUSE_AUDIENCE), or undefined: then the resource is the audience. */
  audience: VerifierOptions['audience']
}

/**
 * The configuration makes the verifier fetch, or the introspector post, over plain http to a host that
 * is not loopback, without the opt-out; or names a plain-http resource identifier off loopback, which no
 * opt-out allows: a usage error for `inspect`, a failed check for `doctor`.
 */
export class InsecureUrlError extends UsageError {
  constructor(
    /** The variable that holds the URL (or the flag that replaced it). */
    readonly variable:
      | 'GATEHOUSE_ISSUER'
      | 'GATEHOUSE_JWKS_URL'
      | 'GATEHOUSE_INTROSPECTION_URL'
      | 'GATEHOUSE_RESOURCE',
    readonly url: URL,
    /** Why, without the variable's name. */
    readonly reason: string = refusedReason(url),
  ) {
    super(`${withFlagNames(variable)}: ${reason}`)
  }
}

/**
 * Merge flags over the environment and read them with `optionsFromEnv`. A flag for the issuer replaces
 * both issuer variables (and likewise for the key source), so a stray variable cannot contradict it.
 *
 * @param allowNoAudience set `audience: null` when none is configured instead of failing.
 * @throws InsecureUrlError when the core refuses the URL it would fetch first, or the introspection
 *   endpoint, as plain http off loopback; UsageError naming the flag and the variable for anything else.
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
  if (!hasIssuer)
    return { options: undefined, audienceMissing: false, introspection: undefined, resource: undefined }
  const audienceMissing = !merged.GATEHOUSE_AUDIENCE?.trim() && !merged.GATEHOUSE_RESOURCE?.trim()
  if (audienceMissing && allowNoAudience) merged.GATEHOUSE_AUDIENCE = 'unused'

  let options: VerifierOptions
  let introspection: IntrospectionConfig | undefined
  let resourceConfig: ResourceConfig | undefined
  try {
    // The CLI checks tokens only: the request options (DPoP proofs, public URL) are an API's, and so is
    // the shared answer cache (the CLI asks the endpoint itself, every time).
    const {
      dpopProof: _proof,
      publicUrl: _url,
      trustForwardedHeaders: _trust,
      resource,
      resourceMetadata,
      introspection: given,
      ...verifier
    } = optionsFromEnv(merged)
    // The gate's rule: without an audience, the resource identifier is the audience (RFC 8707).
    options = { ...verifier, audience: verifier.audience ?? resource }
    introspection = introspectionConfig(given, verifier.tokenSource)
    if (resource !== undefined)
      resourceConfig = { resource, metadata: resourceMetadata, audience: verifier.audience }
  } catch (error) {
    throw insecureUrlError(merged) ?? new UsageError(withFlagNames((error as Error).message))
  }
  if (audienceMissing && allowNoAudience) options.audience = null
  if (values.timeout !== undefined) {
    const timeoutDuration = integer('timeout', values.timeout, 5000, 1, 600_000)
    options.keySet = { ...options.keySet, timeoutDuration }
  }
  return { options, audienceMissing, introspection, resource: resourceConfig }
}

/** The introspection settings; what the gate refuses at start-up, `optionsFromEnv` has refused already. */
function introspectionConfig(
  given: ReturnType<typeof optionsFromEnv>['introspection'],
  tokenSource: VerifierOptions['tokenSource'],
): IntrospectionConfig | undefined {
  if (given === undefined) return undefined
  return {
    url: given.url === undefined ? undefined : new URL(given.url),
    clientId: given.clientId,
    clientSecret: given.clientSecret,
    allowInsecureRequests: given.allowInsecureRequests === true,
    tokenSource: tokenSource === 'introspection' ? 'introspection' : 'auto',
  }
}

/**
 * Why `optionsFromEnv` refused the configuration, when the reason is the core's transport rule: the URL
 * the verifier would fetch first (the JWKS URL, else the issuer), or the introspection endpoint, is plain
 * http off loopback and the opt-out is not on; or the resource identifier is, which the opt-out does not
 * change. Undefined otherwise.
 */
function insecureUrlError(merged: Record<string, string | undefined>): InsecureUrlError | undefined {
  const refused = (value: string | undefined) => {
    if (value === undefined || !URL.canParse(value)) return undefined
    const url = new URL(value)
    return url.protocol === 'http:' && transportOf(url, false) === 'refused' ? url : undefined
  }
  const resource = refused(merged.GATEHOUSE_RESOURCE?.trim())
  // The values optionsFromEnv reads as "on"; anything else leaves the opt-out off. With it on, the
  // transport rule cannot be why, except for the resource identifier.
  if (/^(1|true)$/i.test(merged.GATEHOUSE_ALLOW_INSECURE_REQUESTS?.trim() ?? ''))
    return resource === undefined ? undefined : resourceError(resource)
  const jwksUrl = merged.GATEHOUSE_JWKS_URL?.trim()
  const [variable, value] = jwksUrl
    ? (['GATEHOUSE_JWKS_URL', jwksUrl] as const)
    : (['GATEHOUSE_ISSUER', merged.GATEHOUSE_ISSUER?.trim().split(/\s+/)[0]] as const)
  const keys = refused(value)
  if (keys !== undefined) return new InsecureUrlError(variable, keys)
  const endpoint = refused(merged.GATEHOUSE_INTROSPECTION_URL?.trim())
  if (endpoint !== undefined)
    return new InsecureUrlError('GATEHOUSE_INTROSPECTION_URL', endpoint, refusedEndpoint(endpoint))
  return resource === undefined ? undefined : resourceError(resource)
}

/**
 * A plain-http resource identifier off loopback: the gate refuses it whatever the opt-out says, since it
 * is a name (clients ask for tokens with it, tokens carry it in `aud`) and RFC 9728 §1.2 makes it https.
 */
function resourceError(url: URL): InsecureUrlError {
  return new InsecureUrlError(
    'GATEHOUSE_RESOURCE',
    url,
    `${url.href} is plain http to a host that is not loopback: a resource identifier is an https URL ` +
      '(RFC 9728 §1.2; http only on loopback, for local development), and the API refuses this one at ' +
      'start-up. --allow-insecure-requests does not change it: it is the name clients ask tokens for ' +
      'and tokens carry in "aud", not only a URL that is fetched',
  )
}

/** `GATEHOUSE_AUDIENCE: expected …` → `--audience / GATEHOUSE_AUDIENCE: expected …`. */
function withFlagNames(message: string): string {
  return message.replace(/GATEHOUSE_[A-Z_]+/g, (variable) => {
    if (variable === 'GATEHOUSE_ALLOW_INSECURE_REQUESTS') return `--${INSECURE_FLAG} / ${variable}`
    const flag = (Object.keys(FLAGS) as Flag[]).find((f) => FLAGS[f] === variable)
    return flag === undefined ? variable : `--${flag} / ${variable}`
  })
}
