/**
 * `gatehouse doctor`'s checks of token introspection (RFC 7662), when client credentials are configured:
 *
 * 1. the endpoint: configured, or the metadata's `introspection_endpoint`, as the gate finds it;
 * 2. the core's transport rule (https; plain http on loopback, elsewhere only with the opt-out);
 * 3. the endpoint answers, and accepts this API's credentials: a made-up token must come back
 *    `active: false` with a 200 (§2.2), which only an authenticated client gets; a 401 or `invalid_client`
 *    (RFC 6749 §5.2) says the credentials are wrong. The call is the core's introspector's;
 * 4. what the metadata says: the endpoint, the client authentication methods, signed answers (RFC 9701).
 */
import type { VerifierOptions } from '../../core/config/options.js'
import type { GatehouseError } from '../../core/errors.js'
import { createVerifier } from '../../core/verify/verifier.js'
import type { CheckStatus } from '../format.js'
import {
  endpointTransport,
  explainEndpointFailure,
  type IntrospectionConfig,
  insecureEndpoint,
  introspectorFor,
  isEndpointFailure,
  readMetadata,
  recordingFetch,
  refusedEndpoint,
  timeoutOf,
  URL_SETTING,
} from '../introspection.js'
import { explainNetworkError } from '../net-errors.js'

export interface DoctorLine {
  status: CheckStatus
  name: string
  reason: string
}

/**
 * @param metadata the issuer's metadata when the key checks read it (its issuer matched); read here
 *   otherwise.
 */
export async function diagnoseIntrospection(
  options: VerifierOptions,
  config: IntrospectionConfig,
  metadata: Record<string, unknown> | undefined,
): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = []
  const add = (status: CheckStatus, name: string, reason: string) => lines.push({ status, name, reason })
  const verifier = createVerifier({ ...options, audience: options.audience ?? null })
  const trust = verifier.trusts[0]!
  try {
    let unread: string | undefined
    if (metadata === undefined) {
      try {
        metadata = await readMetadata(trust)
      } catch (error) {
        unread = explainNetworkError(error, timeoutOf(trust))
      }
    }
    const advertised =
      typeof metadata?.introspection_endpoint === 'string' && URL.canParse(metadata.introspection_endpoint)
        ? metadata.introspection_endpoint
        : undefined

    // 1. Where the endpoint is.
    let url: URL
    if (config.url !== undefined) {
      url = config.url
      const same = advertised !== undefined && new URL(advertised).href === url.href
      add(
        'pass',
        'introspection_endpoint',
        `${url.href} (configured${same ? '; the metadata says the same' : ''})`,
      )
      if (advertised !== undefined && !same)
        add(
          'warn',
          'introspection_endpoint',
          `the issuer's metadata advertises ${advertised}, not the configured URL: check which one the authorization server means`,
        )
      else if (metadata !== undefined && advertised === undefined)
        add(
          'skip',
          'introspection metadata',
          'the issuer’s metadata does not advertise an introspection_endpoint (RFC 8414 §2); the configured URL is used',
        )
      else if (unread !== undefined)
        add('skip', 'introspection metadata', `not read: ${unread}; the configured URL is used`)
    } else if (metadata === undefined) {
      add(
        'fail',
        'introspection_endpoint',
        `could not read the issuer's metadata to find it: ${unread}. Set ${URL_SETTING}`,
      )
      return lines
    } else if (advertised === undefined) {
      add(
        'fail',
        'introspection_endpoint',
        `the issuer's metadata has no valid "introspection_endpoint": set ${URL_SETTING}`,
      )
      return lines
    } else {
      url = new URL(advertised)
      add('pass', 'introspection_endpoint', `${url.href} (from the issuer's metadata)`)
    }

    // 2. The transport rule, before anything is sent.
    const transport = endpointTransport(url, config)
    if (transport === 'refused') {
      add('fail', 'introspection_endpoint', refusedEndpoint(url))
      return lines
    }
    if (transport === 'insecure') add('warn', 'plain http', insecureEndpoint(url))

    // 3. A made-up token, introspected with this API's credentials.
    await probe(url)

    // 4. What the metadata says about the endpoint.
    if (metadata !== undefined) describeMetadata(metadata)
    return lines
  } finally {
    verifier.close()
  }

  async function probe(url: URL): Promise<void> {
    const recorder = recordingFetch(timeoutOf(trust))
    const introspector = introspectorFor(trust, config, url, { fetch: recorder.fetch })
    const client = JSON.stringify(config.clientId)
    let verdict: unknown
    try {
      await introspector.introspect(`gatehouse-doctor-${crypto.randomUUID()}`)
    } catch (error) {
      verdict = error
    } finally {
      introspector.close()
    }
    if ((verdict as GatehouseError | undefined)?.code === 'ERR_TOKEN_INACTIVE') {
      add('pass', 'introspection', `${url.href} answers`)
      add(
        'pass',
        'client credentials',
        `client ${client} accepted: a made-up token came back "active": false (RFC 7662 §2.2)`,
      )
      return
    }
    if (!isEndpointFailure(verdict)) {
      add('pass', 'client credentials', `client ${client} accepted`)
      add(
        'fail',
        'introspection',
        `${url.href} says a made-up token is active: it does not check tokens, and an API relying on it accepts anything`,
      )
      return
    }
    const failure = await explainEndpointFailure(verdict, recorder.last(), url, config, timeoutOf(trust))
    if (failure.refused) {
      add('pass', 'introspection', `${url.href} answers`)
      add('fail', 'client credentials', failure.reason)
      return
    }
    add('fail', 'introspection', failure.reason)
    add('skip', 'client credentials', 'not checked: no answer from the endpoint')
  }

  function describeMetadata(document: Record<string, unknown>): void {
    // RFC 8414 §2: omitted means client_secret_basic, which is what the introspector sends.
    const methods = document.introspection_endpoint_auth_methods_supported
    if (Array.isArray(methods) && !methods.includes('client_secret_basic'))
      add(
        'warn',
        'client authentication',
        `the metadata lists ${methods.map((m) => JSON.stringify(m)).join(', ')}; Gatehouse sends client_secret_basic (an Authorization: Basic header)`,
      )
    const algs = document.introspection_signing_alg_values_supported
    if (Array.isArray(algs) && algs.length > 0 && algs.every((alg) => typeof alg === 'string'))
      add(
        'pass',
        'signed answers',
        `the metadata advertises signed answers (RFC 9701) with ${algs.join(', ')}: a signed answer is verified with the issuer's keys`,
      )
    else
      add(
        'skip',
        'signed answers',
        'not advertised (no introspection_signing_alg_values_supported): answers are plain JSON, protected by TLS only',
      )
  }
}
