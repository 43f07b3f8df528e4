/**
 * The revocation endpoint (RFC 7009 §2): a client withdraws a token it was issued. A revoked opaque token
 * is forgotten, a revoked JWT remembered by its `jti` until it expires; introspection reports both
 * inactive at once. Resource servers that verify JWTs locally keep accepting a revoked JWT until it
 * expires: that is why reference tokens exist.
 *
 * Does NOT implement: `unsupported_token_type` (§2.2.1: every token here is an access token, so
 * `token_type_hint` is read and ignored, as §2.1 allows), CORS (§2.1 allows it; no browser client needs it
 * here).
 */
import { type HttpResult, NO_STORE, oauthError } from './client-auth.js'
import { authenticatedForm, type FormRequest, type TokenAuthority } from './introspection.js'

export async function handleRevocationRequest(
  request: FormRequest,
  authority: TokenAuthority,
): Promise<HttpResult> {
  const form = await authenticatedForm(request, authority.directory)
  if ('error' in form) return form.error
  const found = await authority.find(form.token)
  // §2.2: an unknown, expired or already revoked token gets the same 200 as a revoked one.
  if (found === undefined) return { status: 200, headers: NO_STORE, body: undefined }
  // §2.1: the server checks that the token was issued to the client asking, and refuses otherwise. Saying
  // so (rather than a silent 200) shows a developer that the wrong client was used.
  if (found.claims.client_id !== form.client.clientId) {
    return oauthError(400, 'unauthorized_client', 'The token was issued to another client')
  }
  authority.revoke(form.token, found)
  return { status: 200, headers: NO_STORE, body: undefined }
}
