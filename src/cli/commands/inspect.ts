/**
 * `gatehouse inspect <token>`: show what a token says (without trusting it), then let the real verifier
 * judge it against the configured issuer and print every check with the reason in plain words.
 */
import { list, parse } from '../args.js'
import { CONFIG_HELP, CONFIG_OPTIONS, readConfig } from '../config.js'
import { type CliContext, type Command, EXIT, UsageError } from '../context.js'
import { bold, checkLine, describeTime, printable, printableJson } from '../format.js'
import { type CheckResult, runChecks } from '../inspect/checks.js'
import { cleanToken, type Decoded, decodeUntrusted } from '../inspect/decode.js'
import { insecureReason, sourceUrl, transportOf } from '../transport.js'

const help = `Usage: gatehouse inspect <token | -> [options]

Decode an access token without trusting it, then verify it with Gatehouse's verifier against your
configuration and print each check (format, iss, alg, typ, kid, signature, exp, nbf, iat, aud, claims,
scopes) with ✓, ✗ or · (not checked) and the reason. "-" reads the token from standard input; a pasted
"Bearer " prefix is ignored. Without an issuer configured, the token is only decoded. Plain http to a host
that is not loopback is refused, as the verifier refuses it, unless GATEHOUSE_ALLOW_INSECURE_REQUESTS=1
(--allow-insecure-requests) is set: then a ! line says the requests are not protected by TLS.

Options:
  --scope SCOPE           scope(s) the token must hold, repeatable or space-separated
  --json                  print one JSON object instead of text
${CONFIG_HELP}

Examples:
  gatehouse inspect "$TOKEN" --issuer https://tenant.example.com/ --audience https://api.example.com
  GATEHOUSE_ISSUER=http://127.0.0.1:9000 GATEHOUSE_AUDIENCE=https://api.gatehouse.local gatehouse inspect -

Exit codes: 0 every check passed (or decoded only, without configuration), 1 a check failed or the token
is not a JWT, 2 usage error.`

export const command: Command = {
  name: 'inspect',
  summary: 'decode a token, verify it against your configuration, and explain every check',
  help,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      ...CONFIG_OPTIONS,
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    })
    if (positionals.length === 0) {
      throw new UsageError(
        'missing the token: gatehouse inspect <token>, or "-" to read it from standard input',
      )
    }
    if (positionals.length > 1) throw new UsageError('expected one token (quote it if your shell split it)')
    const raw = positionals[0] === '-' ? await ctx.readStdin() : positionals[0]!
    const token = cleanToken(raw)
    if (token === '') throw new UsageError('the token is empty')
    const requiredScopes = list(values.scope)
    const config = readConfig(values, ctx.env, true)
    const decoded = decodeUntrusted(token)
    const now = Date.now()

    let result: { checks: CheckResult[]; valid: boolean; warnings: string[] } | undefined
    if (config.options !== undefined) {
      const header = decoded.kind === 'jws' || decoded.kind === 'malformed' ? (decoded.header ?? {}) : {}
      const claims = decoded.kind === 'jws' ? decoded.claims : {}
      // The verifier accepted a plain-http source only because allowInsecureRequests is on: say so.
      const source = sourceUrl(config.options)
      const insecure =
        source !== undefined &&
        transportOf(source, config.options.keySet?.allowInsecureRequests === true) === 'insecure'
      const warnings = insecure ? [insecureReason(source)] : []
      try {
        const checked = await runChecks({
          token,
          header,
          claims,
          options: config.options,
          audienceMissing: config.audienceMissing,
          requiredScopes,
          now,
        })
        result = { ...checked, warnings }
      } catch (error) {
        // Options the verifier refuses: the configuration, not the token, is wrong.
        if (error instanceof TypeError) throw new UsageError(`configuration: ${error.message}`)
        throw error
      }
    }
    const code =
      result === undefined
        ? decoded.kind === 'jws'
          ? EXIT.ok
          : EXIT.failure
        : result.valid
          ? EXIT.ok
          : EXIT.failure

    if (values.json) {
      ctx.out(printableJson(toJson(decoded, config.options?.issuer ?? config.options?.domain, result)))
      return code
    }
    printDecoded(decoded, now, ctx)
    ctx.out('')
    if (result === undefined) {
      ctx.out(
        'Verification skipped: no issuer configured. Pass --issuer and --audience (or set GATEHOUSE_ISSUER and ' +
          'GATEHOUSE_AUDIENCE) to check the signature and claims.',
      )
      return code
    }
    const o = config.options!
    const target = o.issuer ?? `https://${o.domain}`
    const audience = config.audienceMissing ? 'no audience' : `audience ${JSON.stringify(o.audience)}`
    ctx.out(bold(`Verification against ${JSON.stringify(target)} (${audience})`, ctx.color))
    for (const warning of result.warnings) ctx.out(checkLine('warn', 'plain http', warning, ctx.color))
    for (const check of result.checks) ctx.out(checkLine(check.status, check.label, check.reason, ctx.color))
    ctx.out('')
    const failed = result.checks.filter((c) => c.status === 'fail').length
    ctx.out(
      result.valid
        ? bold('Result: VALID — Gatehouse accepts this token with this configuration.', ctx.color)
        : bold(`Result: INVALID — ${failed} check${failed === 1 ? '' : 's'} failed.`, ctx.color),
    )
    return code
  },
}

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time', 'updated_at'])

function printDecoded(decoded: Decoded, now: number, ctx: CliContext): void {
  const c = ctx.color
  switch (decoded.kind) {
    case 'opaque':
      ctx.out(
        'This is not a JWT (it has no dots): probably an opaque access token, which only its issuer can check ' +
          '(token introspection, RFC 7662). Auth0, for one, issues opaque tokens when the request names no audience.',
      )
      return
    case 'jwe':
      ctx.out(
        'This is an encrypted token (JWE, 5 parts). Gatehouse verifies signed JWTs (JWS) only: ask your provider ' +
          'for signed access tokens, or decrypt it first.',
      )
      if (decoded.header) printMembers('Header (not verified)', decoded.header, now, ctx)
      return
    case 'malformed':
      ctx.out(`This is not a well-formed JWT: ${decoded.problem}.`)
      if (decoded.header) printMembers('Header (not verified)', decoded.header, now, ctx)
      return
    case 'jws':
      ctx.out(bold('Decoded without verification: nothing below is trusted yet.', c))
      printMembers('Header', decoded.header, now, ctx)
      printMembers('Claims', decoded.claims, now, ctx)
  }
}

/** Names and values come from the token: every one is made printable before it reaches the terminal. */
function printMembers(title: string, members: Record<string, unknown>, now: number, ctx: CliContext): void {
  ctx.out(title)
  const names = Object.keys(members)
  const width = Math.min(Math.max(0, ...names.map((n) => printable(n).length)), 24)
  for (const name of names) {
    let text = printable(JSON.stringify(members[name]) ?? String(members[name]))
    if (text.length > 200) text = `${text.slice(0, 200)}… (${text.length} characters)`
    const time = TIME_CLAIMS.has(name) ? describeTime(members[name], now / 1000) : undefined
    ctx.out(`  ${printable(name).padEnd(width)}  ${text}${time === undefined ? '' : `  ${time}`}`)
  }
}

function toJson(
  decoded: Decoded,
  issuer: unknown,
  result: { checks: CheckResult[]; valid: boolean; warnings: string[] } | undefined,
) {
  return {
    kind: decoded.kind,
    header: 'header' in decoded ? (decoded.header ?? null) : null,
    claims: decoded.kind === 'jws' ? decoded.claims : null,
    ...(decoded.kind === 'malformed' && { problem: decoded.problem }),
    verification:
      result === undefined
        ? { performed: false, valid: null, issuer: null, checks: [], warnings: [] }
        : { performed: true, valid: result.valid, issuer, checks: result.checks, warnings: result.warnings },
  }
}
