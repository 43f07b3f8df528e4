/**
 * `gatehouse doctor` with a resource identifier: the API's own Protected Resource Metadata (RFC 9728),
 * read where a client reads it, against the configuration and the authorization servers it names. Real
 * APIs on 127.0.0.1 (a node:http server with the core's gate, serving the document through
 * `withAuth`) with a dev issuer as their authorization server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGate, type Gate, type GateOptions } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { serveResourceMetadata, withAuth } from '../../src/node/index.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'
import { assertBuilt, runCli } from './run-cli.js'

/** Resolves `*.gatehouse.test` to 127.0.0.1 in the CLI: loopback reached through a name that is not. */
const PRELOAD = pathToFileURL(fileURLToPath(new URL('fixtures/resolve-test-hosts.mjs', import.meta.url))).href

let issuer: DevIssuer
let other: DevIssuer
let plain: JwksServer

beforeAll(async () => {
  assertBuilt()
  ;[issuer, other, plain] = await Promise.all([startDevIssuer(), startDevIssuer(), startJwksServer()])
})
afterAll(async () => {
  await Promise.all([issuer?.close(), other?.close(), plain?.close()])
})

/**
 * An API on 127.0.0.1: a gate built once the port is known, its metadata served (when it has a resource)
 * and `/api` protected; other paths 404, unless `protectAll` puts every path behind the gate.
 */
interface Api {
  origin: string
  gate: Gate
  requests: string[]
  close(): Promise<void>
}

async function startApi(options: (origin: string) => GateOptions, protectAll = false): Promise<Api> {
  let gate: Gate | undefined
  let handler: ReturnType<typeof withAuth> | undefined
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '')
    if (serveResourceMetadata(gate!, req, res)) return
    if (protectAll || req.url?.startsWith('/api')) return handler!(req, res)
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  gate = createGate(options(origin))
  handler = withAuth(gate, (_req, res) => {
    res.end('{}')
  })
  return {
    origin,
    gate,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        gate?.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function lines(stdout: string, mark: '✓' | '✗' | '!' | '·'): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(`  ${mark} `))
}

/** Only the lines of the resource checks (after the key checks, which other tests cover). */
function resourceLines(stdout: string): string[] {
  const all = stdout.split('\n')
  const first = all.findIndex((line) => / resource: "/.test(line))
  return first === -1 ? [] : all.slice(first).filter((line) => line.startsWith('  '))
}

function doctor(args: string[], env: Record<string, string> = {}) {
  return runCli(['doctor', '--issuer', issuer.issuer, ...args], {
    env: { NODE_OPTIONS: `--import=${PRELOAD}`, ...env },
    timeoutMs: 30_000,
  })
}

describe('gatehouse doctor, Protected Resource Metadata', () => {
  it('all good: a resource with a path, DPoP and scopes as configured, every line ✓, exit 0', async () => {
    const api = await startApi((origin) => ({
      issuer: issuer.issuer,
      dpop: 'allowed',
      resource: `${origin}/mcp`,
      resourceMetadata: { scopesSupported: ['notes:read', 'notes:write'], resourceName: 'Notes' },
    }))
    try {
      const resource = `${api.origin}/mcp`
      const { code, stdout } = await doctor(['--resource', resource], {
        GATEHOUSE_DPOP: 'allowed',
        GATEHOUSE_SCOPES_SUPPORTED: 'notes:read notes:write',
        GATEHOUSE_RESOURCE_NAME: 'Notes',
      })
      expect(lines(stdout, '✗')).toEqual([])
      expect(lines(stdout, '!')).toEqual([])
      const algs = (api.gate.resourceMetadata!.document.dpop_signing_alg_values_supported as string[]).join(
        ', ',
      )
      expect(resourceLines(stdout)).toEqual([
        `  ✓ resource: "${resource}"; its metadata: ${api.origin}/.well-known/oauth-protected-resource/mcp (RFC 9728 §3.1)`,
        `  ✓ audience binding: no audience is configured, so the accepted audience is the resource identifier "${resource}": tokens must carry exactly it in "aud" (RFC 8707 §2)`,
        `  ✓ resource metadata: ${api.origin}/.well-known/oauth-protected-resource/mcp answered 200 with a JSON document`,
        '  ✓ cors: access-control-allow-origin: * (browser clients of any origin can read it)',
        `  ✓ metadata resource: equals the configured identifier "${resource}"`,
        `  ✓ authorization_servers: lists the configured issuer "${issuer.issuer}"`,
        `  ✓ authorization server: "${issuer.issuer}": its metadata (read above) names it as "issuer"`,
        '  ✓ scopes_supported: notes:read notes:write, as GATEHOUSE_SCOPES_SUPPORTED says',
        '  ✓ bearer_methods_supported: ["header"]',
        `  ✓ dpop: advertised with ${algs}, as GATEHOUSE_DPOP=allowed`,
        '  ✓ resource_name: "Notes"',
      ])
      expect(stdout).toContain('All checks passed.')
      expect(code).toBe(0)
      // The document was read at the path-suffixed location, without a token.
      expect(api.requests).toContain('/.well-known/oauth-protected-resource/mcp')
    } finally {
      await api.close()
    }
  })

  it('the resource differs by a trailing slash only: ✗ explained plainly, exit 1', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: `${origin}/` }))
    try {
      const { code, stdout } = await doctor(['--resource', api.origin])
      expect(lines(stdout, '✗')).toEqual([
        `  ✗ metadata resource: the document says ${api.origin}/, your configuration ${api.origin}: RFC 9728 §3.3 requires them identical, and tokens' aud must match exactly too`,
      ])
      // Read at the root location, which both spellings share.
      expect(lines(stdout, '✓')).toContainEqual(
        `  ✓ resource metadata: ${api.origin}/.well-known/oauth-protected-resource answered 200 with a JSON document`,
      )
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('a path resource that differs by a trailing slash: the 404 names the document the API does serve', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: `${origin}/mcp` }))
    try {
      const { code, stdout } = await doctor(['--resource', `${api.origin}/mcp/`])
      expect(lines(stdout, '✗')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ {2}✗ resource metadata: ${api.origin}/\\.well-known/oauth-protected-resource/mcp/ answered HTTP 404: .*; ${api.origin}/\\.well-known/oauth-protected-resource/mcp answers, for "${api.origin}/mcp": only the trailing slash differs: RFC 9728 §3\\.3 requires the identifiers identical, and tokens' aud must match exactly too$`,
          ),
        ),
      ])
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('the configured issuer is not among the authorization servers: ✗; the one listed is checked and flagged', async () => {
    const api = await startApi((origin) => ({
      issuer: issuer.issuer,
      resource: origin,
      resourceMetadata: { authorizationServers: [other.issuer] },
    }))
    try {
      const { code, stdout } = await doctor(['--resource', api.origin])
      expect(lines(stdout, '✗')).toEqual([
        `  ✗ authorization_servers: the document lists "${other.issuer}" but not the configured issuer "${issuer.issuer}": a client that reads it asks another server for its token, and this API refuses that token ("iss"). List the issuer (GATEHOUSE_AUTHORIZATION_SERVERS, default the issuers)`,
      ])
      expect(lines(stdout, '!')).toEqual([
        `  ! authorization_servers: "${other.issuer}" is listed, but it is not a configured issuer: the tokens it issues are refused`,
      ])
      expect(lines(stdout, '✓')).toContainEqual(
        `  ✓ authorization server: "${other.issuer}": ${other.url}/.well-known/oauth-authorization-server names it as "issuer"`,
      )
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('a listed authorization server whose metadata names another issuer: ✗ with the difference', async () => {
    plain.set('/.well-known/oauth-authorization-server', {
      json: { issuer: `${plain.origin}/`, jwks_uri: `${plain.origin}/jwks.json` },
    })
    const api = await startApi((origin) => ({
      issuer: issuer.issuer,
      resource: origin,
      resourceMetadata: { authorizationServers: [issuer.issuer, plain.origin] },
    }))
    try {
      const { code, stdout } = await doctor(['--resource', api.origin])
      expect(lines(stdout, '✗')).toContainEqual(
        `  ✗ authorization server: "${plain.origin}": ${plain.origin}/.well-known/oauth-authorization-server says "issuer": "${plain.origin}/" (the trailing slash differs): RFC 8414 §3.3 requires them identical, so clients refuse this server`,
      )
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('the API serves no document (404): ✗ saying where it was looked for, exit 1', async () => {
    // An API whose gate has no resource: withAuth serves nothing at the well-known path.
    const api = await startApi(() => ({ issuer: issuer.issuer, audience: issuer.audience }))
    try {
      const { code, stdout } = await doctor(['--resource', `${api.origin}/mcp`])
      expect(lines(stdout, '✗')).toEqual([
        `  ✗ resource metadata: ${api.origin}/.well-known/oauth-protected-resource/mcp answered HTTP 404: the API does not serve its Protected Resource Metadata there. A Gatehouse adapter serves it, before any token check, when the gate has this same resource identifier (GATEHOUSE_RESOURCE)`,
      ])
      expect(resourceLines(stdout)).toHaveLength(3)
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('an API that asks for a token at the well-known path: ✗ the document must be readable without one', async () => {
    const api = await startApi(() => ({ issuer: issuer.issuer, audience: issuer.audience }), true)
    try {
      const { code, stdout } = await doctor(['--resource', api.origin])
      expect(lines(stdout, '✗')).toEqual([
        `  ✗ resource metadata: ${api.origin}/.well-known/oauth-protected-resource answered HTTP 401: the API asks for a token there, so it does not serve its Protected Resource Metadata, which clients read without one (RFC 9728 §3). A Gatehouse adapter serves it, before any token check, when the gate has this same resource identifier (GATEHOUSE_RESOURCE)`,
      ])
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('a resource with a path whose document is served at the root instead: the 404 says so', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: origin }))
    try {
      const { code, stdout } = await doctor(['--resource', `${api.origin}/mcp`])
      expect(lines(stdout, '✗')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ {2}✗ resource metadata: ${api.origin}/\\.well-known/oauth-protected-resource/mcp answered HTTP 404: .*; ${api.origin}/\\.well-known/oauth-protected-resource answers, for "${api.origin}": the document of a resource with a path is at the path-suffixed location \\(RFC 9728 §3\\.1\\)$`,
          ),
        ),
      ])
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('the API is not running: said plainly, exit 1', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: origin }))
    const origin = api.origin
    await api.close()
    const { code, stdout } = await doctor(['--resource', origin])
    expect(lines(stdout, '✗')).toEqual([
      `  ✗ resource metadata: the API is not running at ${origin}: nothing listens there (ECONNREFUSED). Start it, then run doctor again`,
    ])
    // The key checks still ran, and the configuration-only lines are there.
    expect(lines(stdout, '✓')).toContainEqual(
      `  ✓ resource: "${origin}"; its metadata: ${origin}/.well-known/oauth-protected-resource (RFC 9728 §3.1)`,
    )
    expect(code).toBe(1)
  })

  it('plain http off loopback: ✗ resource, nothing fetched, and the opt-out does not change it', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: origin }))
    try {
      const resource = `http://api.gatehouse.test:${new URL(api.origin).port}/`
      for (const extra of [[], ['--allow-insecure-requests']]) {
        const { code, stdout } = await doctor(['--resource', resource, ...extra])
        expect(stdout.split('\n').filter((line) => line.startsWith('  '))).toEqual([
          `  ✗ resource: ${resource} is plain http to a host that is not loopback: a resource identifier is an https URL (RFC 9728 §1.2; http only on loopback, for local development), and the API refuses this one at start-up. --allow-insecure-requests does not change it: it is the name clients ask tokens for and tokens carry in "aud", not only a URL that is fetched`,
        ])
        expect(code).toBe(1)
      }
      expect(api.requests).toEqual([])
    } finally {
      await api.close()
    }
  })

  it('an authorization server over plain http off loopback: refused without the opt-out, checked under a warning with it', async () => {
    const host = `as.gatehouse.test:${new URL(plain.origin).port}`
    plain.set('/.well-known/oauth-authorization-server', {
      json: { issuer: `http://${host}`, jwks_uri: `http://${host}/jwks.json` },
    })
    const api = await startApi((origin) => ({
      issuer: issuer.issuer,
      resource: origin,
      resourceMetadata: { authorizationServers: [issuer.issuer, `http://${host}`] },
    }))
    try {
      const before = plain.hits('/.well-known/oauth-authorization-server')
      const refused = await doctor(['--resource', api.origin])
      expect(lines(refused.stdout, '✗')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ {2}✗ authorization server: "http://${host}": http://${host}/ is plain http to a host that is not loopback, which Gatehouse refuses: .*--allow-insecure-requests\\)$`,
          ),
        ),
      ])
      expect(plain.hits('/.well-known/oauth-authorization-server')).toBe(before)

      const allowed = await doctor(['--resource', api.origin, '--allow-insecure-requests'])
      expect(lines(allowed.stdout, '✗')).toEqual([])
      expect(lines(allowed.stdout, '!')).toContainEqual(
        expect.stringMatching(new RegExp(`^ {2}! plain http: requests to ${host} are not protected by TLS`)),
      )
      expect(lines(allowed.stdout, '✓')).toContainEqual(
        `  ✓ authorization server: "http://${host}": http://${host}/.well-known/oauth-authorization-server names it as "issuer"`,
      )
    } finally {
      await api.close()
    }
  })

  it('an audience that does not list the resource: ! tokens for the resource will be refused', async () => {
    const api = await startApi((origin) => ({ issuer: issuer.issuer, resource: origin }))
    try {
      const { code, stdout } = await doctor(['--resource', api.origin, '--audience', `${api.origin}/`])
      expect(lines(stdout, '!')).toEqual([
        `  ! audience binding: the configured audience (--audience / GATEHOUSE_AUDIENCE) is "${api.origin}/", not the resource identifier "${api.origin}" (only the trailing slash differs, and "aud" must match exactly): tokens issued for the resource, as clients that read its metadata ask for them (RFC 8707), will be refused unless the audience lists it. Add it, or unset the audience to accept exactly the resource`,
      ])
      expect(code).toBe(0)
      const listed = await doctor([
        '--resource',
        api.origin,
        '--audience',
        `https://api.example.com ${api.origin}`,
      ])
      expect(lines(listed.stdout, '✓')).toContainEqual(
        `  ✓ audience binding: the configured audience lists the resource identifier "${api.origin}"`,
      )
    } finally {
      await api.close()
    }
  })

  it('an API running with another configuration: DPoP and scopes disagree with it', async () => {
    const api = await startApi((origin) => ({
      issuer: issuer.issuer,
      resource: origin,
      resourceMetadata: { scopesSupported: ['notes:read'] },
    }))
    try {
      const { code, stdout } = await doctor(['--resource', api.origin], {
        GATEHOUSE_DPOP: 'required',
        GATEHOUSE_SCOPES_SUPPORTED: 'notes:read notes:write',
      })
      expect(lines(stdout, '✗')).toEqual([
        '  ✗ dpop: GATEHOUSE_DPOP=required, but the document does not advertise DPoP (no dpop_signing_alg_values_supported): clients will get Bearer tokens, which this configuration refuses',
      ])
      expect(lines(stdout, '!')).toEqual([
        '  ! scopes_supported: the document lists notes:read (without notes:write); GATEHOUSE_SCOPES_SUPPORTED says notes:read notes:write: does the API run with this configuration?',
      ])
      expect(code).toBe(1)
    } finally {
      await api.close()
    }
  })

  it('without a resource identifier: no resource lines at all', async () => {
    const { code, stdout } = await doctor(['--audience', issuer.audience])
    expect(code).toBe(0)
    expect(resourceLines(stdout)).toEqual([])
    expect(stdout).not.toContain('oauth-protected-resource')
  })
})
