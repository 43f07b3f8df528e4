/**
 * `gatehouse proof`: print one fresh DPoP proof (RFC 9449 §4.2) made with the CLI's DPoP key, so that a
 * shell makes one per request: `-H "DPoP: $(gatehouse proof --url … --token "$T")"`.
 */
import { resolve } from 'node:path'
import { parse, tokenArguments } from '../args.js'
import { type Command, EXIT, UsageError } from '../context.js'
import { loadOrCreateDpopKey, makeProof, proofMethod, proofUrl, unverifiedJkt } from '../dpop-key.js'
import { DEFAULT_DATA_DIR } from './issuer.js'

const help = `Usage: gatehouse proof --url URL [--method GET] [--token TOKEN|-] [--nonce NONCE] [--data-dir DIR]

Print one DPoP proof (RFC 9449) for one request, signed with the DPoP key in the dev issuer's data
folder (DIR/dpop-key.json, an ES256 key made on first use, mode 0600): the key \`gatehouse token --dpop\`
binds tokens to. A proof is good for one request only: make a new one for each.

Options:
  --url URL              the URL the request goes to, as the server sees it (query and fragment are left
                         out of the proof)
  --method METHOD        the request's method (default GET)
  --token TOKEN          the access token sent with the request: the proof carries its hash (ath), as a
                         resource server requires; "-" reads it from standard input. Leave it out for a
                         token request (POST to the token endpoint)
  --nonce NONCE          a nonce the server sent in DPoP-Nonce
  --data-dir DIR         the dev issuer's data folder (default ${DEFAULT_DATA_DIR})

Examples:
  T=$(curl -s -X POST http://127.0.0.1:9000/oauth2/token -u "demo-client:$SECRET" -d grant_type=client_credentials \\
        -H "DPoP: $(gatehouse proof --method POST --url http://127.0.0.1:9000/oauth2/token)" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -H "Authorization: DPoP $T" -H "DPoP: $(gatehouse proof --url http://127.0.0.1:8000/protected --token "$T")" \\
       http://127.0.0.1:8000/protected

Standard error says so when the key was made just now, and warns when --token is bound to another key.
Exit codes: 0 printed a proof, 1 could not (unreadable key file), 2 usage error.`

export const command: Command = {
  name: 'proof',
  summary: 'print a fresh DPoP proof for one request, signed with the CLI’s DPoP key',
  help,
  async run(argv, ctx) {
    const options = {
      url: { type: 'string' },
      method: { type: 'string' },
      token: { type: 'string' },
      nonce: { type: 'string' },
      'data-dir': { type: 'string' },
    } as const
    // A token or a server's nonce may begin with "-" (base64url): `--token "$T"` must take it.
    const { values, positionals } = parse(tokenArguments(argv, options, ['token', 'nonce']), options)
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    const url = proofUrl(values.url)
    const method = proofMethod(values.method)
    let token = values.token
    if (token === '-') token = (await ctx.readStdin()).trim()
    if (token === '') throw new UsageError('--token is empty')

    const key = await loadOrCreateDpopKey(resolve(ctx.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR))
    ctx.out(makeProof(key, { method, url, accessToken: token, nonce: values.nonce }))
    if (key.created) ctx.err(`gatehouse proof: created a new DPoP key in ${key.file} (thumbprint ${key.jkt})`)
    const bound = token === undefined ? null : unverifiedJkt(token)
    if (bound !== null && bound !== key.jkt) {
      ctx.err(
        bound === undefined
          ? 'gatehouse proof: warning: the token is not DPoP-bound (no cnf.jkt): a server refuses it with the DPoP scheme'
          : `gatehouse proof: warning: the token is bound to another key (cnf.jkt ${bound}, this key is ${key.jkt})`,
      )
    }
    return EXIT.ok
  },
}
