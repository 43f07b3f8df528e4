/**
 * The official MCP SDK's client authorization, which no one here wrote, against a real dev issuer: it
 * reads the issuer's metadata, then gets a token for an MCP server's resource with its
 * `ClientCredentialsProvider` (client secret) and `PrivateKeyJwtProvider` (RFC 7523), sending the
 * resource indicator (RFC 8707) it found in the server's Protected Resource Metadata (RFC 9728). The MCP
 * server is stood in for by a resource server that only publishes that metadata.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { auth, discoverAuthorizationServerMetadata } from '@modelcontextprotocol/sdk/client/auth.js'
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { InvalidTargetError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { decodeJwt, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

let issuer: DevIssuer
let resourceServer: Server
let resource: string
let privateJwk: Record<string, unknown>

beforeAll(async () => {
  resourceServer = createServer((req, res) => {
    // RFC 9728 §3.1: the metadata of `{origin}/mcp` lives at the path-suffixed well-known location.
    if (req.url !== '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(404).end()
      return
    }
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({ resource, authorization_servers: [issuer.issuer], scopes_supported: ['notes:read'] }),
    )
  })
  await new Promise<void>((resolve) => resourceServer.listen(0, '127.0.0.1', resolve))
  resource = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/mcp`

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  privateJwk = { ...(await exportJWK(privateKey)) }
  issuer = await startDevIssuer({
    clients: [
      {
        clientId: 'notes-agent',
        clientSecret: 'notes-agent-secret',
        scopes: ['notes:read'],
        audiences: [resource],
      },
      {
        clientId: 'keyed-agent',
        jwks: { keys: [{ ...(await exportJWK(publicKey)) }] },
        scopes: ['notes:read'],
      },
      {
        clientId: 'elsewhere',
        clientSecret: 'elsewhere-secret',
        scopes: [],
        audiences: ['https://other.example'],
      },
    ],
  })
})
afterAll(async () => {
  await issuer?.close()
  await new Promise((resolve) => resourceServer?.close(resolve))
})

describe('MCP SDK client authorization', () => {
  it('parses the issuer’s metadata (it requires authorization_endpoint)', async () => {
    const metadata = await discoverAuthorizationServerMetadata(issuer.issuer)
    expect(metadata?.token_endpoint).toBe(issuer.tokenEndpoint)
    expect(metadata?.token_endpoint_auth_methods_supported).toContain('private_key_jwt')
  })

  it('ClientCredentialsProvider gets a token whose aud is the MCP server’s resource', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'notes-agent',
      clientSecret: 'notes-agent-secret',
      expectedIssuer: issuer.issuer,
    })
    expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED')
    const claims = decodeJwt(provider.tokens()!.access_token)
    expect(claims).toMatchObject({
      aud: resource,
      client_id: 'notes-agent',
      scope: 'notes:read',
      iss: issuer.issuer,
    })
  })

  it('PrivateKeyJwtProvider authenticates with its key and gets a token for the resource', async () => {
    const provider = new PrivateKeyJwtProvider({
      clientId: 'keyed-agent',
      privateKey: privateJwk,
      algorithm: 'ES256',
      expectedIssuer: issuer.issuer,
    })
    expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED')
    expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({
      aud: resource,
      client_id: 'keyed-agent',
    })
  })

  it('a client not allowed that resource gets invalid_target', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'elsewhere',
      clientSecret: 'elsewhere-secret',
      expectedIssuer: issuer.issuer,
    })
    await expect(auth(provider, { serverUrl: resource })).rejects.toBeInstanceOf(InvalidTargetError)
  })
})
