/**
 * examples/mcp end to end with the official MCP client, which no one here wrote: the SDK's `Client` and
 * `StreamableHTTPClientTransport` with its `ClientCredentialsProvider` and `PrivateKeyJwtProvider`,
 * against `node examples/mcp/server.js` on Express, Hono and Fastify, trusting a real dev issuer.
 *
 * Every HTTP exchange of the client goes through a recording `fetch`, so that each step of the flow is
 * seen: the 401 and its `resource_metadata`, the metadata documents, the token request with `resource`,
 * the 403 step-up challenge.
 */
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type RunningProcess, startProcess } from '../contract/process.js'
import { initialize, rpc } from './http.js'

interface Exchange {
  method: string
  url: string
  status: number
  /** The request body as sent (form parameters of a token request). */
  body: string
  challenge: string | null
}

/** `fetch` that records every exchange, and may look at each answer before the SDK does. */
function recorder(onAnswer?: (response: Response) => void) {
  const log: Exchange[] = []
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    log.push({
      method: init?.method ?? 'GET',
      url: String(input instanceof Request ? input.url : input),
      status: response.status,
      body: typeof init?.body === 'string' ? init.body : String(init?.body ?? ''),
      challenge: response.headers.get('www-authenticate'),
    })
    onAnswer?.(response)
    return response
  }
  return { log, fetch: recordingFetch }
}

/** The text of a tool result, parsed as JSON. */
function resultOf(result: Awaited<ReturnType<Client['callTool']>>): Record<string, unknown> {
  const [first] = result.content as { type: string; text: string }[]
  return JSON.parse(first!.text) as Record<string, unknown>
}

const SECRETS = { reader: 'reader-secret-for-tests-only', writer: 'writer-secret-for-tests-only' }
let issuer: DevIssuer
let keys: { privateJwk: Record<string, unknown> }

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  keys = { privateJwk: { ...(await exportJWK(pair.privateKey)), alg: 'ES256' } }
  issuer = await startDevIssuer({
    dataDir: null,
    clients: [
      { clientId: 'notes-reader', clientSecret: SECRETS.reader, scopes: ['notes:read'] },
      { clientId: 'notes-writer', clientSecret: SECRETS.writer, scopes: ['notes:read', 'notes:write'] },
      {
        clientId: 'notes-keyed',
        jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig' }] },
        scopes: ['notes:read'],
      },
    ],
  })
}, 30_000)
afterAll(async () => {
  await issuer?.close()
})

describe.each(['express', 'hono', 'fastify'])(
  'examples/mcp on %s, with the MCP SDK’s client',
  (framework) => {
    let server: RunningProcess
    let mcpUrl: URL
    let metadataUrl: string

    beforeAll(async () => {
      server = await startProcess({
        command: process.execPath,
        args: ['examples/mcp/server.js'],
        env: { FRAMEWORK: framework, GATEHOUSE_ISSUER: issuer.issuer, PORT: '0' },
        readyTimeoutMs: 30_000,
      })
      mcpUrl = new URL(`${server.url}/mcp`)
      metadataUrl = `${server.url}/.well-known/oauth-protected-resource/mcp`
    }, 40_000)
    afterAll(async () => {
      await server?.stop()
    })

    /** An SDK client through a recording fetch; `connect()` runs the whole authorization flow. */
    async function connect(
      provider: ClientCredentialsProvider | PrivateKeyJwtProvider,
      onAnswer?: (r: Response) => void,
    ) {
      const recorded = recorder(onAnswer)
      const client = new Client({ name: 'gatehouse-test', version: '1.0.0' })
      await client.connect(
        new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: recorded.fetch }),
      )
      return { client, log: recorded.log }
    }

    const credentials = (who: 'reader' | 'writer', scope?: string) =>
      new ClientCredentialsProvider({
        clientId: `notes-${who}`,
        clientSecret: SECRETS[who],
        expectedIssuer: issuer.issuer,
        scope,
      })

    it('finds the metadata from the 401, then the issuer’s, gets a token for the resource, lists the tools and reads the notes', async () => {
      const { client, log } = await connect(credentials('reader'))
      try {
        const [first] = log
        expect(first).toMatchObject({ method: 'POST', url: mcpUrl.href, status: 401 })
        expect(first!.challenge).toBe(`Bearer resource_metadata="${metadataUrl}"`)
        const metadata = log.find((e) => e.url === metadataUrl)
        expect(metadata).toMatchObject({ method: 'GET', status: 200 })
        const asMetadata = log.find((e) => e.url.startsWith(`${issuer.url}/.well-known/`) && e.status === 200)
        expect(asMetadata).toBeDefined()
        const token = log.find((e) => e.url === issuer.tokenEndpoint)
        expect(token?.status).toBe(200)
        const sent = new URLSearchParams(token!.body)
        expect(sent.get('grant_type')).toBe('client_credentials')
        expect(sent.get('resource')).toBe(mcpUrl.href)
        // Each step follows the one that told the client where to go.
        expect(log.indexOf(metadata!)).toBeLessThan(log.indexOf(asMetadata!))
        expect(log.indexOf(asMetadata!)).toBeLessThan(log.indexOf(token!))

        const { tools } = await client.listTools()
        expect(tools.map((tool) => tool.name).sort()).toEqual(['read_notes', 'write_note'])
        const read = resultOf(await client.callTool({ name: 'read_notes', arguments: {} }))
        expect(read).toMatchObject({ reader: 'notes-reader', scopes: ['notes:read'] })
      } finally {
        await client.close()
      }
    }, 30_000)

    it('gives a read-only client calling write_note the 403 step-up challenge with scope="notes:write"', async () => {
      const { client, log } = await connect(credentials('reader', 'notes:read'))
      try {
        await expect(client.callTool({ name: 'write_note', arguments: { text: 'refused' } })).rejects.toThrow(
          /403/,
        )
        const refusals = log.filter((e) => e.url === mcpUrl.href && e.status === 403)
        expect(refusals.length).toBeGreaterThanOrEqual(1)
        for (const refusal of refusals)
          expect(refusal.challenge).toBe(
            `Bearer error="insufficient_scope", error_description="Insufficient scope", scope="notes:write", resource_metadata="${metadataUrl}"`,
          )
        const { notes } = resultOf(await client.callTool({ name: 'read_notes', arguments: {} })) as {
          notes: { text: string }[]
        }
        expect(notes.map((note) => note.text)).not.toContain('refused')
      } finally {
        await client.close()
      }
    }, 30_000)

    it('lets a client allowed notes:write succeed after asking for it', async () => {
      const provider = credentials('writer', 'notes:read')
      // The SDK retries a 403 insufficient_scope once after a new token request, which for client
      // credentials asks for the provider's scope: the challenge's scope is added there, as examples/mcp/client.js does.
      const { client, log } = await connect(provider, (response) => {
        const challenge = response.status === 403 ? response.headers.get('www-authenticate') : null
        const wanted = challenge === null ? undefined : /scope="([^"]*)"/.exec(challenge)?.[1]
        if (wanted !== undefined) provider.clientMetadata.scope = `${provider.clientMetadata.scope} ${wanted}`
      })
      try {
        const written = resultOf(
          await client.callTool({ name: 'write_note', arguments: { text: `milk on ${framework}` } }),
        )
        expect(written).toMatchObject({ saved: `milk on ${framework}` })
        const tokens = log
          .filter((e) => e.url === issuer.tokenEndpoint)
          .map((e) => new URLSearchParams(e.body))
        expect(tokens.map((params) => params.get('scope'))).toEqual(['notes:read', 'notes:read notes:write'])
        expect(tokens.every((params) => params.get('resource') === mcpUrl.href)).toBe(true)
        const steps = log.filter((e) => e.url === mcpUrl.href && e.method === 'POST').map((e) => e.status)
        expect(steps).toEqual([401, 200, 202, 403, 200])
      } finally {
        await client.close()
      }
    }, 30_000)

    it('works with private_key_jwt client authentication (PrivateKeyJwtProvider)', async () => {
      const provider = new PrivateKeyJwtProvider({
        clientId: 'notes-keyed',
        privateKey: keys.privateJwk,
        algorithm: 'ES256',
        expectedIssuer: issuer.issuer,
      })
      const { client, log } = await connect(provider)
      try {
        const token = log.find((e) => e.url === issuer.tokenEndpoint)
        const sent = new URLSearchParams(token!.body)
        expect(sent.get('client_assertion_type')).toBe(
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        )
        expect(sent.get('resource')).toBe(mcpUrl.href)
        const read = resultOf(await client.callTool({ name: 'read_notes', arguments: {} }))
        expect(read).toMatchObject({ reader: 'notes-keyed', scopes: ['notes:read'] })
      } finally {
        await client.close()
      }
    }, 30_000)

    it('refuses a token the issuer made for another resource with 401', async () => {
      const response = await fetch(issuer.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`notes-reader:${SECRETS.reader}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${server.url}/other` }),
      })
      expect(response.status).toBe(200)
      const { access_token: token } = (await response.json()) as { access_token: string }
      const answer = await rpc(mcpUrl.href, initialize(), { token })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toMatch(
        /^Bearer error="invalid_token", .*resource_metadata="/,
      )
    })

    it('refuses a token without aud with 401', async () => {
      const token = await issuer.mint({ aud: undefined, scope: 'notes:read' })
      const answer = await rpc(mcpUrl.href, initialize(), { token })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /)
    })
  },
)
