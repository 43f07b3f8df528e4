import { createVerifier, errorResponse, GatehouseError, parseAuthorization } from 'gatehouse'

const verifier = createVerifier({
  issuer: process.env.GATEHOUSE_ISSUER, // exact, e.g. 'https://tenant.example.com/' (the slash matters)
  audience: process.env.GATEHOUSE_AUDIENCE, // required; `null` switches the check off, explicitly
  // keys: {issuer}/.well-known/jwks.json by default; or jwksUri: '...', or discovery: true
})

/** The answer to a request carrying this Authorization header: [status, headers, body]. */
export async function protectedMessage(authorization) {
  try {
    const token = parseAuthorization(authorization) // undefined when there is no Bearer token
    if (token === undefined) throw new GatehouseError('ERR_NO_TOKEN')
    const { claims } = await verifier.verify(token)
    return [200, {}, { message: 'This is a protected message!', sub: claims.sub }]
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error // not the client's fault: a real 500
    const { status, headers, body } = errorResponse(error) // RFC 6750 status, WWW-Authenticate, JSON
    return [status, headers, body]
  }
}
