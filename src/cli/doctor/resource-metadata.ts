/**
 * `gatehouse doctor`'s checks of Protected Resource Metadata (RFC 9728), when a resource identifier is
 * configured. The document is read where a client reads it, and compared with what a gate built from
 * this very configuration would publish (`createGate`, so the well-known path and the members are the
 * core's, never rebuilt here):
 *
 * 1. the identifier, its document's URL (§3.1), and the audience the gate then accepts (RFC 8707 §2);
 * 2. the document answers 200 with a JSON object, readable by browsers of other origins (CORS);
 * 3. its `resource` is identical to the identifier (§3.3);
 * 4. `authorization_servers` lists the configured issuer, and each listed server's metadata (RFC 8414,
 *    OIDC Discovery) answers with that very identifier as `issuer` (RFC 8414 §3.3);
 * 5. `scopes_supported`, `bearer_methods_supported`, the DPoP members (RFC 9449 §5.1), the name and the
 *    documentation URL against the configuration.
 *
 * Not checked: the challenges' `resource_metadata` (that needs a protected route to call), and members
 * this configuration says nothing about.
 */
import type { VerifierOptions } from '../../core/config/options.js'
import { GatehouseError } from '../../core/errors.js'
import { createGate, type Gate } from '../../core/http/gate.js'
import { WELL_KNOWN } from '../../core/http/resource-metadata.js'
import { discoveryUrls } from '../../core/keys/discovery.js'
import { type CheckedFetchOptions, checkFetchOptions, fetchBounded } from '../../core/keys/fetch-json.js'
import type { ResourceConfig } from '../config.js'
import type { CheckStatus } from '../format.js'
import { issuerDifference } from '../inspect/explain.js'
import { errorCodeOf, explainNetworkError } from '../net-errors.js'
import { insecureReason, refusedReason, transportOf } from '../transport.js'
import type { DoctorLine } from './introspection.js'

const CODES = {
  failed: 'ERR_DISCOVERY_FAILED',
  timeout: 'ERR_DISCOVERY_FAILED',
  invalid: 'ERR_DISCOVERY_FAILED',
  'too-large': 'ERR_DISCOVERY_FAILED',
} as const

/** At most this many listed authorization servers have their metadata read: the document is remote input. */
const MAX_SERVERS = 5

type Add = (status: CheckStatus, name: string, reason: string) => void
type Document = Record<string, unknown>

/**
 * @param issuerMetadata the configured issuer's metadata when the key checks read it (its issuer
 *   matched): not read again.
 */
export async function diagnoseResource(
  options: VerifierOptions,
  config: ResourceConfig,
  issuerMetadata: Document | undefined,
): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = []
  const add: Add = (status, name, reason) => lines.push({ status, name, reason })
  // The document depends on the issuers, DPoP and the metadata options, not on how tokens are read.
  const { tokenSource: _source, ...verifierOptions } = options
  let gate: Gate
  try {
    gate = createGate({
      ...verifierOptions,
      audience: config.audience,
      resource: config.resource,
      resourceMetadata: config.metadata,
    })
  } catch (error) {
    add('fail', 'resource', (error as Error).message)
    return lines
  }
  try {
    const expected = gate.resourceMetadata!
    add('pass', 'resource', `"${expected.resource}"; its metadata: ${expected.url} (RFC 9728 §3.1)`)
    audienceBinding(expected.resource, config.audience, add)

    const fetchOptions = checkFetchOptions({
      ...(options.keySet?.timeoutDuration !== undefined && {
        timeoutDuration: options.keySet.timeoutDuration,
      }),
    })
    const document = await readDocument(new URL(expected.url), fetchOptions, add)
    if (document === undefined) return lines

    sameResource(document.resource, expected.resource, add)
    const issuers = gate.verifier.trusts.flatMap((trust) => trust.options.issuers)
    const servers = authorizationServers(document.authorization_servers, issuers, add)
    const allowInsecureRequests = options.keySet?.allowInsecureRequests === true
    for (const server of servers.slice(0, MAX_SERVERS)) {
      const known = server === issuers[0] ? issuerMetadata : undefined
      await checkServer(server, known, { allowInsecureRequests, fetchOptions }, add)
    }
    if (servers.length > MAX_SERVERS)
      add('skip', 'authorization server', `${servers.length - MAX_SERVERS} more listed; not read`)

    scopes(document.scopes_supported, expected.document.scopes_supported, add)
    bearerMethods(document.bearer_methods_supported, add)
    dpop(document, expected.document, options.dpop ?? 'off', add)
    for (const [member, variable] of [
      ['resource_name', 'GATEHOUSE_RESOURCE_NAME'],
      ['resource_documentation', 'GATEHOUSE_RESOURCE_DOCUMENTATION'],
    ] as const) {
      const want = expected.document[member]
      if (want === undefined) continue
      if (document[member] === want) add('pass', member, JSON.stringify(want))
      else
        add(
          'warn',
          member,
          `the document says ${describe(document[member])}, ${variable} ${JSON.stringify(want)}: ${ELSEWHERE}`,
        )
    }
    return lines
  } finally {
    gate.close()
  }
}

/** The end of every warning about a member the running API states otherwise than this configuration. */
const ELSEWHERE = 'does the API run with this configuration?'

/** With no explicit audience the gate accepts exactly the resource; with one, only what it lists. */
function audienceBinding(resource: string, audience: ResourceConfig['audience'], add: Add): void {
  if (audience === undefined || audience === null) {
    add(
      'pass',
      'audience binding',
      `no audience is configured, so the accepted audience is the resource identifier "${resource}": ` +
        'tokens must carry exactly it in "aud" (RFC 8707 §2)',
    )
    return
  }
  const listed = ([] as string[]).concat(audience as string | string[])
  if (listed.includes(resource)) {
    add('pass', 'audience binding', `the configured audience lists the resource identifier "${resource}"`)
    return
  }
  const strip = (s: string) => s.replace(/\/+$/, '')
  const near = listed.find((a) => strip(a) === strip(resource))
  add(
    'warn',
    'audience binding',
    `the configured audience (--audience / GATEHOUSE_AUDIENCE) is ${listed.map((a) => `"${a}"`).join(', ')}, ` +
      `not the resource identifier "${resource}"` +
      (near === undefined ? '' : ` (only the trailing slash differs, and "aud" must match exactly)`) +
      ': tokens issued for the resource, as clients that read its metadata ask for them (RFC 8707), ' +
      'will be refused unless the audience lists it. Add it, or unset the audience to accept exactly the resource',
  )
}

/** GET the document: 200, a JSON object, with CORS. Undefined (after a ✗ line) when there is none. */
async function readDocument(
  url: URL,
  fetchOptions: CheckedFetchOptions,
  add: Add,
): Promise<Document | undefined> {
  let answer: { headers: Headers; body: Uint8Array }
  try {
    answer = await fetchBounded(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      fetchOptions,
      CODES,
    )
  } catch (error) {
    add('fail', 'resource metadata', await unreachable(url, error, fetchOptions))
    return undefined
  }
  let document: unknown
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(answer.body))
  } catch {
    add('fail', 'resource metadata', `${url.href} answered 200, but not with JSON (RFC 9728 §3.2)`)
    return undefined
  }
  if (!isObject(document)) {
    add(
      'fail',
      'resource metadata',
      `${url.href} answered 200 with JSON that is not an object (RFC 9728 §3.2)`,
    )
    return undefined
  }
  add('pass', 'resource metadata', `${url.href} answered 200 with a JSON document`)
  const type = answer.headers.get('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type))
    add(
      'warn',
      'content-type',
      `${type === '' ? 'none' : JSON.stringify(type)}: RFC 9728 §3.2 says application/json, and strict clients check it`,
    )
  const origin = answer.headers.get('access-control-allow-origin')
  if (origin === '*')
    add('pass', 'cors', 'access-control-allow-origin: * (browser clients of any origin can read it)')
  else if (origin === null)
    add(
      'warn',
      'cors',
      'no access-control-allow-origin header: a client running in a browser on another origin cannot read the document',
    )
  else
    add('warn', 'cors', `access-control-allow-origin: ${origin}: only that origin can read it from a browser`)
  return document
}

/** Why there is no document, in the words the user needs: the API is down, or does not serve it there. */
async function unreachable(url: URL, error: unknown, fetchOptions: CheckedFetchOptions): Promise<string> {
  if (errorCodeOf(error) === 'ECONNREFUSED')
    return (
      `the API is not running at ${url.origin}: nothing listens there (ECONNREFUSED). ` +
      'Start it, then run doctor again'
    )
  const status = statusOf(error)
  if (status === undefined) return `${url.href}: ${explainNetworkError(error, fetchOptions.timeoutDuration)}`
  const serves =
    'A Gatehouse adapter serves it, before any token check, when the gate has this same resource ' +
    'identifier (GATEHOUSE_RESOURCE)'
  let reason = `${url.href} answered HTTP ${status}`
  if (status === 401 || status === 403)
    reason +=
      ': the API asks for a token there, so it does not serve its Protected Resource Metadata, which ' +
      `clients read without one (RFC 9728 §3). ${serves}`
  else if (status === 404)
    reason += `: the API does not serve its Protected Resource Metadata there. ${serves}`
  else return `${reason} (expected 200 with the document)`
  const elsewhere = await servedElsewhere(url, fetchOptions)
  return elsewhere === undefined ? reason : `${reason}; ${elsewhere}`
}

/**
 * Where the API serves a document instead, for the two usual mistakes with a resource that has a path:
 * the other spelling of its trailing slash, and the root location. Undefined when neither answers.
 */
async function servedElsewhere(url: URL, fetchOptions: CheckedFetchOptions): Promise<string | undefined> {
  if (url.pathname === WELL_KNOWN) return undefined
  const path = url.pathname
  const candidates = [
    {
      url: new URL(path.endsWith('/') ? path.slice(0, -1) : `${path}/`, url),
      why: "only the trailing slash differs: RFC 9728 §3.3 requires the identifiers identical, and tokens' aud must match exactly too",
    },
    {
      url: new URL(WELL_KNOWN, url),
      why: 'the document of a resource with a path is at the path-suffixed location (RFC 9728 §3.1)',
    },
  ]
  for (const candidate of candidates) {
    try {
      const { body } = await fetchBounded(
        candidate.url,
        { method: 'GET', headers: { accept: 'application/json' } },
        fetchOptions,
        CODES,
      )
      const found = JSON.parse(new TextDecoder().decode(body)) as unknown
      if (isObject(found))
        return `${candidate.url.href} answers, for ${describe(found.resource)}: ${candidate.why}`
    } catch {
      // Nothing there either.
    }
  }
  return undefined
}

/** RFC 9728 §3.3: the document's `resource` must be identical to the identifier it was fetched for. */
function sameResource(said: unknown, resource: string, add: Add): void {
  if (said === resource) {
    add('pass', 'metadata resource', `equals the configured identifier "${resource}"`)
    return
  }
  if (typeof said !== 'string') {
    add('fail', 'metadata resource', `the document has no "resource" string (RFC 9728 §2 requires it)`)
    return
  }
  const strip = (s: string) => s.replace(/\/+$/, '')
  const why =
    strip(said) === strip(resource)
      ? "RFC 9728 §3.3 requires them identical, and tokens' aud must match exactly too"
      : `${difference(said, resource)}: RFC 9728 §3.3 requires them identical, so clients refuse the document`
  add('fail', 'metadata resource', `the document says ${said}, your configuration ${resource}: ${why}`)
}

/** The listed servers (strings only), after checking that the configured issuers are among them. */
function authorizationServers(value: unknown, issuers: readonly string[], add: Add): string[] {
  const name = 'authorization_servers'
  if (value === undefined) {
    add(
      'fail',
      name,
      'the document lists none: a client that reads it cannot learn where to get a token for this API',
    )
    return []
  }
  if (!Array.isArray(value) || !value.every((server) => typeof server === 'string')) {
    add('fail', name, `expected an array of issuer URLs (RFC 9728 §2), got ${describe(value)}`)
    return []
  }
  const servers = value as string[]
  const issuer = issuers[0]
  if (issuer !== undefined && !servers.includes(issuer)) {
    const near = servers.find((server) => server.replace(/\/+$/, '') === issuer.replace(/\/+$/, ''))
    add(
      'fail',
      name,
      `the document lists ${servers.map((s) => `"${s}"`).join(', ') || 'nothing'} but not the configured ` +
        `issuer "${issuer}"` +
        (near === undefined ? '' : ` (${issuerDifference(near, issuer)} with "${near}")`) +
        ': a client that reads it asks another server for its token, and this API refuses that token ' +
        '("iss"). List the issuer (GATEHOUSE_AUTHORIZATION_SERVERS, default the issuers)',
    )
  } else if (issuer !== undefined) {
    const more = servers.length - 1
    add('pass', name, `lists the configured issuer "${issuer}"${more > 0 ? ` (and ${more} more)` : ''}`)
  }
  for (const server of servers) {
    if (server === issuer || issuers.includes(server)) continue
    add(
      'warn',
      name,
      `"${server}" is listed, but it is not a configured issuer: the tokens it issues are refused`,
    )
  }
  return servers
}

/** A listed server's own metadata: reachable under the transport rule, and naming itself as `issuer`. */
async function checkServer(
  server: string,
  known: Document | undefined,
  how: { allowInsecureRequests: boolean; fetchOptions: CheckedFetchOptions },
  add: Add,
): Promise<void> {
  const name = 'authorization server'
  if (known !== undefined) {
    add('pass', name, `"${server}": its metadata (read above) names it as "issuer"`)
    return
  }
  if (!URL.canParse(server)) {
    add('fail', name, `"${server}" is not a URL`)
    return
  }
  const transport = transportOf(new URL(server), how.allowInsecureRequests)
  if (transport === 'refused') {
    add('fail', name, `"${server}": ${refusedReason(new URL(server))}`)
    return
  }
  if (transport === 'insecure') add('warn', 'plain http', insecureReason(new URL(server)))
  let urls: URL[]
  try {
    // RFC 8414's location first, as clients of RFC 9728 look there; then OpenID Connect's.
    urls = discoveryUrls(server, { allowInsecureRequests: how.allowInsecureRequests }).reverse()
  } catch (error) {
    add('fail', name, `"${server}": ${(error as Error).message}`)
    return
  }
  const failures: string[] = []
  for (const url of urls) {
    let document: unknown
    try {
      const { body } = await fetchBounded(
        url,
        { method: 'GET', headers: { accept: 'application/json' } },
        how.fetchOptions,
        CODES,
      )
      document = JSON.parse(new TextDecoder().decode(body))
    } catch (error) {
      failures.push(
        error instanceof SyntaxError
          ? `${url.href}: not JSON`
          : `${url.href}: ${explainNetworkError(error, how.fetchOptions.timeoutDuration)}`,
      )
      continue
    }
    if (!isObject(document)) {
      failures.push(`${url.href}: not a JSON object`)
      continue
    }
    if (document.issuer === server) add('pass', name, `"${server}": ${url.href} names it as "issuer"`)
    else
      add(
        'fail',
        name,
        `"${server}": ${url.href} says "issuer": ${describe(document.issuer)}` +
          (typeof document.issuer === 'string' ? ` (${issuerDifference(document.issuer, server)})` : '') +
          ': RFC 8414 §3.3 requires them identical, so clients refuse this server',
      )
    return
  }
  add('fail', name, `"${server}": no metadata (${failures.join('; ')})`)
}

function scopes(value: unknown, expected: unknown, add: Add): void {
  const name = 'scopes_supported'
  if (value !== undefined && !isStrings(value)) {
    add('fail', name, `expected an array of scope names (RFC 9728 §2), got ${describe(value)}`)
    return
  }
  if (expected === undefined) {
    if (value === undefined) add('skip', name, 'not published (optional, RFC 9728 §2)')
    else add('skip', name, `${value.join(' ')} (GATEHOUSE_SCOPES_SUPPORTED is not set here: not compared)`)
    return
  }
  const want = expected as string[]
  const have = value ?? []
  const missing = want.filter((scope) => !have.includes(scope))
  const extra = have.filter((scope) => !want.includes(scope))
  if (missing.length === 0 && extra.length === 0) {
    add('pass', name, `${have.join(' ')}, as GATEHOUSE_SCOPES_SUPPORTED says`)
    return
  }
  const parts = [
    missing.length > 0 ? `without ${missing.join(' ')}` : '',
    extra.length > 0 ? `with ${extra.join(' ')}` : '',
  ].filter(Boolean)
  add(
    'warn',
    name,
    `the document lists ${have.length === 0 ? 'none' : have.join(' ')} (${parts.join(', ')}); ` +
      `GATEHOUSE_SCOPES_SUPPORTED says ${want.join(' ')}: ${ELSEWHERE}`,
  )
}

function bearerMethods(value: unknown, add: Add): void {
  const name = 'bearer_methods_supported'
  if (value === undefined) {
    add('skip', name, 'not stated (optional, RFC 9728 §2)')
    return
  }
  if (!isStrings(value) || !value.every((m) => m === 'header' || m === 'body' || m === 'query')) {
    add('fail', name, `expected an array of "header", "body", "query" (RFC 9728 §2), got ${describe(value)}`)
    return
  }
  if (value.includes('query'))
    add(
      'warn',
      name,
      `${JSON.stringify(value)}: "query" puts tokens in URLs, which end up in logs and browser history (RFC 6750 §5.3)`,
    )
  else if (!value.includes('header'))
    add('warn', name, `${JSON.stringify(value)}: no "header", the method clients use (RFC 6750 §2.1)`)
  else add('pass', name, JSON.stringify(value))
}

/** The DPoP members (RFC 9449 §5.1) against GATEHOUSE_DPOP: what a client believes decides what it sends. */
function dpop(document: Document, expected: Readonly<Document>, mode: string, add: Add): void {
  const name = 'dpop'
  const algs = document.dpop_signing_alg_values_supported
  const required = document.dpop_bound_access_tokens_required
  if (algs !== undefined && !isStrings(algs)) {
    add(
      'fail',
      name,
      `dpop_signing_alg_values_supported: expected an array of JWS algorithms, got ${describe(algs)}`,
    )
    return
  }
  if (required !== undefined && typeof required !== 'boolean') {
    add('fail', name, `dpop_bound_access_tokens_required: expected a boolean, got ${describe(required)}`)
    return
  }
  const setting = `GATEHOUSE_DPOP=${mode}`
  if (mode === 'off') {
    if (algs === undefined && required !== true) add('pass', name, `not advertised, as ${setting}`)
    else
      add(
        'fail',
        name,
        `the document advertises DPoP, but ${setting} here: a client may send a DPoP-bound token with ` +
          'the DPoP scheme (RFC 9449), which this configuration refuses. Does the API run with this configuration?',
      )
    return
  }
  if (algs === undefined) {
    if (mode === 'required')
      add(
        'fail',
        name,
        `${setting}, but the document does not advertise DPoP (no dpop_signing_alg_values_supported): ` +
          'clients will get Bearer tokens, which this configuration refuses',
      )
    else
      add(
        'warn',
        name,
        `${setting}, but the document does not advertise DPoP: clients will use Bearer tokens (accepted), not sender-constrained ones`,
      )
    return
  }
  const accepted = expected.dpop_signing_alg_values_supported as string[]
  const refused = algs.filter((alg) => !accepted.includes(alg))
  let ok = true
  if (refused.length === algs.length) {
    ok = false
    add(
      'fail',
      name,
      `the document advertises ${algs.join(', ')} for DPoP proofs; this configuration accepts ${accepted.join(', ')}`,
    )
  } else if (refused.length > 0) {
    ok = false
    add(
      'warn',
      name,
      `the document advertises ${refused.join(', ')} for DPoP proofs, which this configuration refuses`,
    )
  }
  if (mode === 'required' && required !== true) {
    ok = false
    add(
      'fail',
      name,
      `${setting}, but the document does not say "dpop_bound_access_tokens_required": true: clients may ` +
        'get Bearer tokens, which this configuration refuses',
    )
  } else if (mode === 'allowed' && required === true) {
    ok = false
    add(
      'warn',
      name,
      `the document says DPoP-bound tokens are required, but ${setting} here accepts Bearer tokens too: ${ELSEWHERE}`,
    )
  }
  if (ok)
    add(
      'pass',
      name,
      `advertised with ${algs.join(', ')}${required === true ? ', bound tokens required' : ''}, as ${setting}`,
    )
}

/** How two identifiers differ, in words ("the letter case differs", "another resource"). */
function difference(said: string, resource: string): string {
  const why = issuerDifference(said, resource)
  return why === 'it is a different issuer' ? 'another resource' : why
}

function statusOf(error: unknown): number | undefined {
  // The HTTP status the server answered sits on a cause; the GatehouseError's own is its HTTP meaning.
  let current = error instanceof GatehouseError ? error.cause : error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    const status = (current as { status?: unknown }).status
    if (typeof status === 'number') return status
    current = current.cause
  }
  return undefined
}

function isObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** A remote value for a message: JSON, cut short. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 120 ? `${text.slice(0, 117)}…` : text
}
