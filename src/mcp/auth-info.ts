/**
 * The verified request in the shape the MCP SDK hands to tool handlers (`extra.authInfo`): its
 * `AuthInfo`, built from Gatehouse's auth context, so that a tool reads the caller the way every SDK
 * example does.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { AuthContext } from '../core/authz/index.js'
import type { JWTClaims } from '../core/types.js'

/** What `AuthInfo.extra` holds: what Gatehouse knows beyond the SDK's fields. */
export interface McpAuthExtra<P = unknown, C extends JWTClaims = JWTClaims> {
  /** The verified claims. */
  claims: C
  /** What the gate's `principal` hook returned; undefined without one. */
  principal: P
  /** How the token was presented: `'bearer'` or `'dpop'`. */
  tokenType: 'bearer' | 'dpop'
}

/**
 * The SDK's `AuthInfo` for a verified request:
 * - `token`: the access token (never log it);
 * - `clientId`: the `client_id` claim (RFC 9068 §2.2), else `azp`, else `''`;
 * - `scopes`: the token's scopes, as the gate's claims mapping reads them (`scope`, `scp`, …);
 * - `expiresAt`: `exp`, in seconds since the epoch;
 * - `resource`: the resource identifier the token was accepted for, `resource` of the gate (RFC 8707);
 * - `extra`: {@link McpAuthExtra}, the verified claims among them.
 *
 * It checks nothing: the gate did.
 *
 * @example const authInfo = toAuthInfo(auth, 'https://notes.example.com/mcp')
 */
export function toAuthInfo<P, C extends JWTClaims>(
  auth: AuthContext<P, C>,
  resource: string | URL,
): AuthInfo {
  const { claims } = auth
  const clientId = [claims.client_id, claims.azp].find((value) => typeof value === 'string') as
    | string
    | undefined
  const extra: McpAuthExtra<P, C> = { claims, principal: auth.principal, tokenType: auth.tokenType }
  return {
    token: auth.token,
    clientId: clientId ?? '',
    scopes: [...auth.scopes],
    expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined,
    resource: new URL(resource),
    extra: extra as unknown as Record<string, unknown>,
  }
}
