/**
 * Network and TLS failures in plain words. `fetch` hides the useful part (an OpenSSL or DNS error code)
 * a few `cause`s deep; this walks the chain and says what happened and what to do about it.
 */

/** What each system / OpenSSL / undici error code means, and what to do. */
const EXPLANATIONS: Record<string, string> = {
  CERT_HAS_EXPIRED:
    "the server's TLS certificate has expired; the provider (or whoever runs that host) must renew it",
  CERT_NOT_YET_VALID: "the server's TLS certificate is not valid yet; check this machine's clock",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'the server uses a self-signed TLS certificate; use its real URL, or trust the certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  SELF_SIGNED_CERT_IN_CHAIN:
    'the TLS certificate chain ends in a CA this machine does not trust (often a corporate proxy); set NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'the TLS certificate cannot be verified: the server does not send its intermediate certificates, or the CA is not trusted here (NODE_EXTRA_CA_CERTS)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the TLS certificate's CA is not trusted on this machine (a corporate proxy?); set NODE_EXTRA_CA_CERTS=/path/to/ca.pem",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the TLS certificate is for another host name than the one in the URL; check the URL's host (a typo, or a CDN/proxy in front)",
  EPROTO: 'the TLS handshake failed: is this an https URL pointing at a plain-http port?',
  ERR_SSL_WRONG_VERSION_NUMBER:
    'the server does not speak TLS there: is this an https URL pointing at a plain-http port?',
  ENOTFOUND:
    "the host name does not resolve (DNS); check the spelling of the domain, and this machine's network / DNS",
  EAI_AGAIN: 'DNS lookup failed temporarily; check the network connection and DNS server, then retry',
  ECONNREFUSED: 'nothing listens at that address and port; is the server running, and is the port right?',
  ECONNRESET: 'the server closed the connection abruptly (a proxy or firewall may be in the way)',
  EHOSTUNREACH: 'the host is unreachable from this network (routing or firewall)',
  ENETUNREACH: 'this machine has no route to that network; check the connection',
  ETIMEDOUT: 'the connection timed out: a firewall may drop the packets, or the host is down',
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out: a firewall may drop the packets, or the host is down',
  UND_ERR_HEADERS_TIMEOUT: 'the server accepted the connection but did not answer in time',
  UND_ERR_SOCKET: 'the connection broke while reading the answer',
}

/** The first error code found along the `cause` chain (and inside AggregateErrors), if any. */
export function errorCodeOf(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== 'object' || error === null) return undefined
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown }
  // GatehouseError codes (ERR_JWKS_…) describe our layer; the interesting code is underneath.
  if (
    typeof code === 'string' &&
    !code.startsWith('ERR_JWKS') &&
    !code.startsWith('ERR_DISCOVERY') &&
    code in EXPLANATIONS
  ) {
    return code
  }
  const inner = errorCodeOf(cause, depth + 1)
  if (inner !== undefined) return inner
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const found = errorCodeOf(e, depth + 1)
      if (found !== undefined) return found
    }
  }
  return typeof code === 'string' && !code.startsWith('ERR_') ? code : undefined
}

/** The innermost message along the `cause` chain: usually the most specific ("answered HTTP 404"). */
export function innermostMessage(error: unknown): string {
  let current = error
  let message = error instanceof Error ? error.message : String(error)
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    if (current.message !== '' && current.message !== 'fetch failed') message = current.message
    current = current.cause
  }
  return message
}

/** One sentence: what went wrong on the network and what to do, or the innermost message. */
export function explainNetworkError(error: unknown, timeoutMs?: number): string {
  const code = errorCodeOf(error)
  if (code !== undefined && EXPLANATIONS[code] !== undefined) return `${EXPLANATIONS[code]} (${code})`
  const message = innermostMessage(error)
  const gatehouseCode = (error as { code?: unknown })?.code
  if (gatehouseCode === 'ERR_JWKS_TIMEOUT' || /within \d+ ms/.test(message)) {
    return `no complete answer within ${timeoutMs ?? 5000} ms: the server is slow or unreachable (raise --timeout to wait longer)`
  }
  if (message === 'bad port')
    return "fetch refuses this port (it is on the Fetch standard's list of blocked ports); use another one"
  if (/wrong version number/i.test(message)) return EXPLANATIONS.ERR_SSL_WRONG_VERSION_NUMBER!
  // OpenSSL messages span lines; one line reads better in a report.
  return message.replace(/\s+/g, ' ').trim()
}
