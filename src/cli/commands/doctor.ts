/**
 * `gatehouse doctor`: check a verifier configuration before deploying it. Each step is a line with ✓ or ✗
 * and, on ✗, what to do. The fetches and key imports are the core's own (fetchJson, KeySet), and the last
 * step starts a real verifier with the configuration, so doctor and the API cannot disagree.
 */

import type { VerifierOptions } from '../../core/config/options.js'
import type { ErrorCode } from '../../core/errors.js'
import { discoveryUrls } from '../../core/keys/discovery.js'
import { checkFetchOptions, fetchJson } from '../../core/keys/fetch-json.js'
import { KeySet } from '../../core/keys/key-set.js'
import { ALL_ALGORITHMS, type Algorithm } from '../../core/types.js'
import { createVerifier } from '../../core/verify/verifier.js'
import { parse } from '../args.js'
import { CONFIG_HELP, CONFIG_OPTIONS, type Config, InsecureUrlError, readConfig } from '../config.js'
import { type CliContext, type Command, EXIT, UsageError } from '../context.js'
import { diagnoseIntrospection } from '../doctor/introspection.js'
import { diagnoseResource } from '../doctor/resource-metadata.js'
import { bold, type CheckStatus, checkLine, printableJson } from '../format.js'
import { issuerDifference } from '../inspect/explain.js'
import { explainNetworkError } from '../net-errors.js'
import { insecureReason, refusedReason, sourceUrl, transportOf } from '../transport.js'

const help = `Usage: gatehouse doctor [options]

Check a configuration before deploying: the issuer's metadata is reachable, its "issuer" equals the one
you configured (a trailing slash counts), the key set is reachable, and its keys are usable with the
allowed algorithms (RSA keys of 2048 bits or more). Network and TLS errors are explained in plain words.
Plain http to a host that is not loopback fails, as the verifier refuses it, unless
GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 (--allow-insecure-requests) is set: then it is checked, with a warning.

With a client id and secret (GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET), the introspection endpoint too
(RFC 7662): configured or the metadata's introspection_endpoint, the https rule, and the credentials, by
introspecting a made-up token ("active": false proves them, 401 invalid_client refuses them); and whether
the metadata advertises the endpoint and signed answers (RFC 9701).

With a resource identifier (GATEHOUSE_RESOURCE, --resource), the API's Protected Resource Metadata
(RFC 9728), read where clients read it (/.well-known/oauth-protected-resource + the resource's path):
it answers 200 JSON with CORS; its "resource" equals yours exactly; "authorization_servers" lists your
issuer, and each listed server's metadata names it as "issuer"; scopes_supported, bearer methods and
DPoP members agree with the configuration; and which audience tokens then need. The API must be running.

Options:
  --json                  print one JSON object instead of text
${CONFIG_HELP}

Examples:
  gatehouse doctor --issuer https://tenant.example.com/ --audience https://api.example.com
  gatehouse doctor --issuer https://tenant.example.com/ --resource https://api.example.com/mcp

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.`

interface Line {
  status: CheckStatus
  name: string
  reason: string
}

const FETCH_CODES: Record<'failed' | 'timeout' | 'invalid' | 'too-large', ErrorCode> = {
  failed: 'ERR_JWKS_FETCH_FAILED',
  timeout: 'ERR_JWKS_TIMEOUT',
  invalid: 'ERR_JWKS_INVALID',
  'too-large': 'ERR_JWKS_TOO_LARGE',
}

/** The check line of each URL the configuration may refuse. */
const NAMES: Record<InsecureUrlError['variable'], string> = {
  GATEHOUSE_ISSUER: 'issuer',
  GATEHOUSE_JWKS_URL: 'jwks_uri',
  GATEHOUSE_INTROSPECTION_URL: 'introspection_endpoint',
  GATEHOUSE_RESOURCE: 'resource',
}

export const command: Command = {
  name: 'doctor',
  summary:
    'check an issuer configuration: discovery, issuer match, JWKS, keys, TLS, introspection, resource metadata',
  help,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { ...CONFIG_OPTIONS, json: { type: 'boolean' } })
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    let config: Config
    try {
      config = readConfig(values, ctx.env, true)
    } catch (error) {
      if (!(error instanceof InsecureUrlError)) throw error
      // The verifier would refuse this configuration at start-up: a failed check, not a usage error.
      return report(
        [{ status: 'fail', name: NAMES[error.variable], reason: error.reason }],
        Boolean(values.json),
        ctx,
      )
    }
    if (config.options === undefined) {
      throw new UsageError(
        'no issuer to check: pass --issuer URL (or --domain HOST), or set GATEHOUSE_ISSUER',
      )
    }
    const seen: Seen = {}
    const lines = await diagnose(config.options, config.audienceMissing, seen)
    if (config.introspection !== undefined)
      lines.push(...(await diagnoseIntrospection(config.options, config.introspection, seen.metadata)))
    if (config.resource !== undefined)
      lines.push(...(await diagnoseResource(config.options, config.resource, seen.metadata)))
    return report(lines, Boolean(values.json), ctx)
  },
}

/** Print the lines (or one JSON object) and return the exit code. */
function report(lines: Line[], json: boolean, ctx: CliContext): number {
  const ok = lines.every((line) => line.status !== 'fail')
  if (json) {
    ctx.out(printableJson({ ok, checks: lines }))
  } else {
    for (const line of lines) ctx.out(checkLine(line.status, line.name, line.reason, ctx.color))
    const failed = lines.filter((line) => line.status === 'fail').length
    ctx.out('')
    ctx.out(bold(ok ? 'All checks passed.' : `${failed} problem${failed === 1 ? '' : 's'} found.`, ctx.color))
  }
  return ok ? EXIT.ok : EXIT.failure
}

/** What the key checks learnt that later checks reuse: the issuer's metadata, when its issuer matched. */
interface Seen {
  metadata?: Record<string, unknown>
}

async function diagnose(options: VerifierOptions, audienceMissing: boolean, seen: Seen): Promise<Line[]> {
  const lines: Line[] = []
  const add = (status: CheckStatus, name: string, reason: string) => lines.push({ status, name, reason })
  const issuers =
    options.issuer === undefined
      ? [`https://${options.domain}`]
      : ([] as string[]).concat(options.issuer as string | string[])
  const issuer = issuers[0]!
  const fetchOptions = checkFetchOptions({
    ...(options.keySet?.timeoutDuration !== undefined && { timeoutDuration: options.keySet.timeoutDuration }),
  })
  const algorithms = options.algorithms ?? ALL_ALGORITHMS

  add(
    'pass',
    'issuer',
    JSON.stringify(issuer) +
      (issuers.length > 1 ? ` (and ${issuers.length - 1} more; only the first is checked)` : ''),
  )
  if (/\.auth0\.com$/i.test(safeHost(issuer)) && !issuer.endsWith('/')) {
    add(
      'warn',
      'issuer',
      'Auth0 issuers end with "/" (https://TENANT.auth0.com/); without it every token fails the iss check',
    )
  }
  if (audienceMissing)
    add(
      'fail',
      'audience',
      'not configured: set --audience or GATEHOUSE_AUDIENCE to your API identifier (the verifier requires it)',
    )
  else add('pass', 'audience', JSON.stringify(options.audience))

  // The core's transport rule for each URL before it is fetched; a warning the first time a host is
  // reached over plain http (with allowInsecureRequests).
  const allowInsecureRequests = options.keySet?.allowInsecureRequests === true
  const warned = new Set<string>()
  const reachable: Reachable = (name, url) => {
    const transport = transportOf(url, allowInsecureRequests)
    if (transport === 'refused') {
      add('fail', name, refusedReason(url))
      return false
    }
    if (transport === 'insecure' && !warned.has(url.host)) {
      warned.add(url.host)
      add('warn', 'plain http', insecureReason(url))
    }
    return true
  }
  const source = sourceUrl(options)
  if (source !== undefined && !reachable(options.jwksUri === undefined ? 'issuer' : 'jwks_uri', source))
    return lines

  // 1. Where the keys come from: configured, or the metadata's jwks_uri, or the conventional path.
  let jwksUri: string | undefined = options.jwksUri?.toString()
  if (jwksUri === undefined) {
    const found = await checkDiscovery(
      issuer,
      options.discovery ?? false,
      fetchOptions,
      { allowInsecureRequests, reachable },
      add,
      seen,
    )
    if (found === null) return lines
    jwksUri = found
  } else {
    add('pass', 'jwks_uri', `${jwksUri} (configured)`)
  }

  // 2. The key set itself.
  let document: unknown
  try {
    document = await fetchJson(
      new URL(jwksUri),
      'application/jwk-set+json, application/json',
      fetchOptions,
      FETCH_CODES,
    )
  } catch (error) {
    add('fail', 'jwks', `${jwksUri}: ${explainNetworkError(error, fetchOptions.timeoutDuration)}`)
    return lines
  }
  let set: KeySet
  try {
    set = KeySet.parse(document)
  } catch (error) {
    add('fail', 'jwks', `${jwksUri} is not a JWK Set: ${(error as Error).message}`)
    return lines
  }
  add(
    'pass',
    'jwks',
    `${jwksUri} answered with ${set.entries.length} key${set.entries.length === 1 ? '' : 's'}`,
  )

  // 3. Each key, with every allowed algorithm it fits (the same import the verifier does).
  let usable = 0
  for (const entry of set.entries) {
    const name = `key ${JSON.stringify(entry.kid ?? '(no kid)')}`
    const fitting = algorithms.filter((alg) => entry.fits(alg))
    if (fitting.length === 0) {
      add('skip', name, `${describeKey(entry.jwk)}: not a signing key for ${algorithms.join(', ')}; ignored`)
      continue
    }
    const good: Algorithm[] = []
    let problem: string | undefined
    for (const alg of fitting) {
      try {
        await entry.import(alg)
        good.push(alg)
      } catch (error) {
        problem = (error as Error).message
      }
    }
    if (good.length > 0) {
      usable++
      add('pass', name, `${describeKey(entry.jwk)}, usable for ${good.join(', ')}`)
    } else {
      add(
        'fail',
        name,
        `${problem ?? 'unusable'}; tokens signed with it will be refused — ask the provider for a proper key`,
      )
    }
  }
  if (usable === 0) {
    add(
      'fail',
      'keys',
      `no key can verify tokens signed with ${algorithms.join(', ')}: check --algorithms against the keys' types`,
    )
    return lines
  }

  // 4. The real thing: a verifier built from this configuration loads its keys.
  const verifier = createVerifier({ ...options, audience: options.audience ?? null })
  try {
    await verifier.warmUp()
    add('pass', 'verifier', 'a Gatehouse verifier with this configuration loads the keys')
  } catch (error) {
    add(
      'fail',
      'verifier',
      `a Gatehouse verifier with this configuration cannot load the keys: ${explainNetworkError(error)}`,
    )
  } finally {
    verifier.close()
  }
  return lines
}

/** Whether the verifier may fetch `url`; adds a ✗ line (named `name`) when not, a ! line for plain http. */
type Reachable = (name: string, url: URL) => boolean

/**
 * Fetch the metadata the way discovery does (OIDC path, then RFC 8414), report each step, and return the
 * JWKS URL to use, or null when nothing more can be checked.
 */
async function checkDiscovery(
  issuer: string,
  mode: boolean | 'auto',
  fetchOptions: ReturnType<typeof checkFetchOptions>,
  transport: { allowInsecureRequests: boolean; reachable: Reachable },
  add: (status: CheckStatus, name: string, reason: string) => void,
  seen: Seen,
): Promise<string | null> {
  const fallback = `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`
  if (mode === false) {
    add('pass', 'jwks_uri', `${fallback} (derived from the issuer; discovery off)`)
    return fallback
  }
  let urls: URL[]
  try {
    urls = discoveryUrls(issuer, { allowInsecureRequests: transport.allowInsecureRequests })
  } catch (error) {
    add('fail', 'discovery', (error as Error).message)
    return null
  }
  const failures: { url: string; reason: string }[] = []
  let metadata: Record<string, unknown> | undefined
  let from: URL | undefined
  for (const url of urls) {
    try {
      const document = await fetchJson(url, 'application/json', fetchOptions, FETCH_CODES)
      if (typeof document !== 'object' || document === null || Array.isArray(document)) {
        failures.push({ url: url.href, reason: 'not a JSON object' })
        continue
      }
      metadata = document as Record<string, unknown>
      from = url
      break
    } catch (error) {
      failures.push({ url: url.href, reason: explainNetworkError(error, fetchOptions.timeoutDuration) })
    }
  }
  if (metadata === undefined || from === undefined) {
    const what = summarize(failures)
    if (mode === 'auto') {
      add('warn', 'discovery', `no metadata document (${what}); using ${fallback} as discovery "auto" does`)
      return fallback
    }
    add('fail', 'discovery', `${what}. Check the issuer URL, or set --jwks-url`)
    return null
  }
  add('pass', 'discovery', `${from.href} answered`)

  // RFC 8414 §3.3 and OIDC Discovery §4.3: the metadata's issuer must be identical to the configured one.
  if (metadata.issuer !== issuer) {
    const said = typeof metadata.issuer === 'string' ? `"${metadata.issuer}"` : 'no issuer'
    const why = typeof metadata.issuer === 'string' ? ` — ${issuerDifference(metadata.issuer, issuer)}` : ''
    const fix =
      typeof metadata.issuer === 'string'
        ? `. Configure issuer as "${metadata.issuer}" (the value its tokens carry in "iss")`
        : ''
    add('fail', 'metadata issuer', `the metadata says ${said} but you configured "${issuer}"${why}${fix}`)
    return null
  }
  add('pass', 'metadata issuer', `equals the configured issuer "${issuer}"`)
  seen.metadata = metadata

  const jwksUri = metadata.jwks_uri
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    add('fail', 'jwks_uri', 'the metadata has no valid "jwks_uri"; set --jwks-url')
    return null
  }
  if (!transport.reachable('jwks_uri', new URL(jwksUri))) return null
  add('pass', 'jwks_uri', jwksUri)
  return jwksUri
}

/** Both discovery URLs usually fail for the same reason: say it once. */
function summarize(failures: { url: string; reason: string }[]): string {
  const reasons = new Set(failures.map((f) => f.reason))
  if (reasons.size === 1) return `${failures.map((f) => f.url).join(' and ')}: ${failures[0]!.reason}`
  return failures.map((f) => `${f.url}: ${f.reason}`).join('; ')
}

function describeKey(jwk: Record<string, unknown>): string {
  const kty = String(jwk.kty)
  if (kty === 'RSA' && typeof jwk.n === 'string') {
    const bytes = Buffer.from(jwk.n, 'base64url')
    let bits = bytes.length * 8
    // A leading zero byte or leading zero bits do not count towards the modulus size.
    for (let i = 0; i < bytes.length && bytes[i] === 0; i++) bits -= 8
    const first = bytes.find((b) => b !== 0)
    if (first !== undefined) bits -= Math.clz32(first) - 24
    return `RSA ${bits} bits`
  }
  const alg = typeof jwk.alg === 'string' ? `, alg ${jwk.alg}` : ''
  const use = typeof jwk.use === 'string' ? `, use ${jwk.use}` : ''
  return `${kty}${typeof jwk.crv === 'string' ? ` ${jwk.crv}` : ''}${alg}${use}`
}

function safeHost(url: string): string {
  return URL.canParse(url) ? new URL(url).hostname : ''
}
