/**
 * `gatehouse inspect <token>`: show what a token says (without trusting it), then let the real verifier
 * judge it against the configured issuer and print every check with the reason in plain words.
 */

import type { VerifierOptions } from '../../core/config/options.js'
import { list, parse, tokenArguments } from '../args.js'
import { CONFIG_HELP, CONFIG_OPTIONS, type Config, readConfig } from '../config.js'
import { type CliContext, type Command, EXIT, UsageError } from '../context.js'
import { bold, checkLine, describeTime, printable, printableJson } from '../format.js'
import { type CheckResult, runChecks } from '../inspect/checks.js'
import { cleanToken, type Decoded, decodeUntrusted } from '../inspect/decode.js'
import { type IntrospectionReport, introspectToken } from '../inspect/introspected.js'
import { insecureReason, sourceUrl, transportOf } from '../transport.js'

const help = `Usage: gatehouse inspect <token | -> [options]

Decode an access token without trusting it, then verify it with Gatehouse's verifier against your
configuration and print each check (format, iss, alg, typ, kid, signature, exp, nbf, iat, aud, claims,
scopes) with ✓, ✗ or · (not checked) and the reason. "-" reads the token from standard input; a pasted
"Bearer " prefix is ignored. Without an issuer configured, the token is only decoded. Plain http to a host
that is not loopback is refused, as the verifier refuses it, unless GATEHOUSE_ALLOW_INSECURE_REQUESTS=1
(--allow-insecure-requests) is set: then a ! line says the requests are not protected by TLS.

An opaque token (not a JWT) is asked of the issuer's introspection endpoint (RFC 7662) when a client id
and secret are configured (GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET): the answer's members are shown,
then each check (introspection, active, iss, exp, nbf, iat, aud, scopes). Without them, it fails with
"not a JWT: configure introspection to check it".

Options:
  --scope SCOPE           scope(s) the token must hold, repeatable or space-separated
  --json                  print one JSON object instead of text
${CONFIG_HELP}

Examples:
  gatehouse inspect "$TOKEN" --issuer https://tenant.example.com/ --audience https://api.example.com
  GATEHOUSE_ISSUER=http://127.0.0.1:9000 GATEHOUSE_AUDIENCE=https://api.gatehouse.local gatehouse inspect -
  gatehouse inspect "$OPAQUE" --issuer http://127.0.0.1:9000 --client-id demo-client  # secret in the environment

Exit codes: 0 every check passed (or a JWT decoded only, without configuration), 1 a check failed, or the
token is not a JWT and cannot be introspected, 2 usage error.`

export const command: Command = {
  name: 'inspect',
  summary: 'decode a token, verify it against your configuration, and explain every check',
  help,
  async run(argv, ctx) {
    const options = {
      ...CONFIG_OPTIONS,
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    } as const
    const { values, positionals } = parse(tokenArguments(argv, options), options)
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

    let result: Outcome | undefined
    try {
      if (config.options !== undefined)
        result = await verdict({ token, decoded, config, options: config.options, requiredScopes, now })
    } catch (error) {
      // Options the core refuses: the configuration, not the token, is wrong.
      if (error instanceof TypeError) throw new UsageError(`configuration: ${error.message}`)
      throw error
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
    printDecoded(decoded, now, ctx, result?.method === 'introspection')
    ctx.out('')
    if (result === undefined) {
      ctx.out(
        decoded.kind === 'opaque'
          ? `Not a JWT: configure introspection to check it. ${INTROSPECTION_HINT}`
          : 'Verification skipped: no issuer configured. Pass --issuer and --audience (or set GATEHOUSE_ISSUER and ' +
              'GATEHOUSE_AUDIENCE) to check the signature and claims.',
      )
      return code
    }
    if (result.method === 'introspection' && result.answer !== undefined) {
      const title = `Introspection answer${result.answer.signed ? ' (signed, RFC 9701)' : ''}`
      printMembers(title, result.answer.members, now, ctx)
      ctx.out('')
    }
    const o = config.options!
    const target = o.issuer ?? `https://${o.domain}`
    const audience = config.audienceMissing ? 'no audience' : `audience ${JSON.stringify(o.audience)}`
    const how = result.method === 'introspection' ? ' by token introspection' : ''
    ctx.out(bold(`Verification against ${JSON.stringify(target)} (${audience})${how}`, ctx.color))
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

/** The verdict of the verifier, or of the introspection endpoint when a gate would ask it. */
type Outcome =
  | { method: 'jwt'; checks: CheckResult[]; valid: boolean; warnings: string[] }
  | ({ method: 'introspection' } & IntrospectionReport)

/** How to switch introspection on, for an opaque token that cannot be checked without it. */
const INTROSPECTION_HINT =
  'Set --issuer (GATEHOUSE_ISSUER) and --client-id (GATEHOUSE_CLIENT_ID) with GATEHOUSE_CLIENT_SECRET; the ' +
  "endpoint is the issuer's introspection_endpoint unless --introspection-url (GATEHOUSE_INTROSPECTION_URL) is set."

const NOT_A_JWT: CheckResult = {
  id: 'format',
  label: 'format',
  status: 'fail',
  reason: `not a JWT: configure introspection to check it. ${INTROSPECTION_HINT}`,
}

async function verdict(input: {
  token: string
  decoded: Decoded
  config: Config
  options: VerifierOptions
  requiredScopes: string[]
  now: number
}): Promise<Outcome> {
  const { token, decoded, config, options, requiredScopes, now } = input
  if (config.introspection !== undefined) {
    const report = await introspectToken({
      token,
      unverifiedIss: decoded.kind === 'jws' ? decoded.claims.iss : undefined,
      options,
      config: config.introspection,
      audienceMissing: config.audienceMissing,
      requiredScopes,
      now,
    })
    if (report !== undefined) return { method: 'introspection', ...report }
  }
  // A gate without introspection refuses it as malformed; say what would let it be checked.
  if (decoded.kind === 'opaque') return { method: 'jwt', checks: [NOT_A_JWT], valid: false, warnings: [] }
  const header = decoded.kind === 'jws' || decoded.kind === 'malformed' ? (decoded.header ?? {}) : {}
  const claims = decoded.kind === 'jws' ? decoded.claims : {}
  // The verifier accepted a plain-http source only because allowInsecureRequests is on: say so.
  const source = sourceUrl(options)
  const insecure =
    source !== undefined && transportOf(source, options.keySet?.allowInsecureRequests === true) === 'insecure'
  const warnings = insecure ? [insecureReason(source)] : []
  const checked = await runChecks({
    token,
    header,
    claims,
    options,
    audienceMissing: config.audienceMissing,
    requiredScopes,
    now,
  })
  return { method: 'jwt', ...checked, warnings }
}

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time', 'updated_at'])

function printDecoded(decoded: Decoded, now: number, ctx: CliContext, introspected: boolean): void {
  const c = ctx.color
  const asking = "Gatehouse asks the issuer's introspection endpoint about it (RFC 7662), as your API would."
  switch (decoded.kind) {
    case 'opaque':
      ctx.out(
        introspected
          ? `This is not a JWT (it has no dots): an opaque access token, which only its issuer can check. ${asking}`
          : 'This is not a JWT (it has no dots): probably an opaque access token, which only its issuer can check ' +
              '(token introspection, RFC 7662). Auth0, for one, issues opaque tokens when the request names no audience.',
      )
      return
    case 'jwe':
      ctx.out(
        introspected
          ? `This is an encrypted token (JWE, 5 parts), which Gatehouse cannot verify itself. ${asking}`
          : 'This is an encrypted token (JWE, 5 parts). Gatehouse verifies signed JWTs (JWS) only: ask your provider ' +
              'for signed access tokens, or decrypt it first.',
      )
      if (decoded.header) printMembers('Header (not verified)', decoded.header, now, ctx)
      return
    case 'malformed':
      ctx.out(`This is not a well-formed JWT: ${decoded.problem}.${introspected ? ` ${asking}` : ''}`)
      if (decoded.header) printMembers('Header (not verified)', decoded.header, now, ctx)
      return
    case 'jws':
      ctx.out(bold('Decoded without verification: nothing below is trusted yet.', c))
      printMembers('Header', decoded.header, now, ctx)
      printMembers('Claims', decoded.claims, now, ctx)
      if (introspected)
        ctx.out(
          "The token source is introspection: your API asks the issuer's introspection endpoint about this " +
            "issuer's JWTs too, so that a revoked one stops at once; so does inspect.",
        )
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

function toJson(decoded: Decoded, issuer: unknown, result: Outcome | undefined) {
  return {
    kind: decoded.kind,
    header: 'header' in decoded ? (decoded.header ?? null) : null,
    claims: decoded.kind === 'jws' ? decoded.claims : null,
    ...(decoded.kind === 'malformed' && { problem: decoded.problem }),
    ...(decoded.kind === 'opaque' &&
      result === undefined && { problem: 'not a JWT: configure introspection to check it' }),
    verification:
      result === undefined
        ? { performed: false, valid: null, issuer: null, checks: [], warnings: [] }
        : {
            performed: true,
            method: result.method,
            valid: result.valid,
            issuer,
            checks: result.checks,
            warnings: result.warnings,
            ...(result.method === 'introspection' && {
              endpoint: result.endpoint?.url.href ?? null,
              answer: result.answer?.members ?? null,
              signed: result.answer?.signed ?? null,
            }),
          },
  }
}
