/**
 * Option parsing on top of `node:util.parseArgs`, turning its errors into one-line usage errors and
 * adding the value checks every command needs (numbers, durations, choices).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UsageError } from './context.js'

type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed<T extends Options> {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>['values']
  positionals: string[]
}

/**
 * Parse `argv` strictly: an unknown option or a missing value is a UsageError naming it. `--help` / `-h`
 * is added to every command.
 */
export function parse<T extends Options>(
  argv: string[],
  options: T,
): Parsed<T & { help: { type: 'boolean'; short: 'h' } }> {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as T & {
    help: { type: 'boolean'; short: 'h' }
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: all,
      allowPositionals: true,
      strict: true,
    })
    return { values, positionals } as Parsed<typeof all>
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }))
  }
}

/**
 * `argv` with the tokens that begin with "-" made unambiguous for parseArgs, which would otherwise refuse
 * them as unknown options (`gatehouse inspect -Xy…`) or as values that look like options (`--token -Xy…`):
 * base64url opaque tokens and nonces begin with "-" one time in 64.
 *
 * A positional token is moved after a `--` when it is long (16 characters or more after the dash), made of
 * token characters (RFC 6750 §2.1 b64token, and the dots of a JWT), is not lowercase words joined by
 * dashes (a misspelled option stays one), and names none of `options`. The value of an option listed in
 * `valued` that is made of token characters, and is not such words, is joined to it (`--token=-Xy…`); `-`
 * alone (standard input) is left as it is.
 */
export function tokenArguments(
  argv: readonly string[],
  options: Options,
  valued: readonly string[] = [],
): string[] {
  const end = argv.indexOf('--')
  const head = end === -1 ? argv : argv.slice(0, end)
  const tail = end === -1 ? [] : argv.slice(end + 1)
  const rest: string[] = []
  const tokens: string[] = []
  for (let i = 0; i < head.length; i++) {
    const arg = head[i]!
    const name = /^--([^=]+)$/.exec(arg)?.[1]
    const next = head[i + 1]
    if (
      name !== undefined &&
      valued.includes(name) &&
      next !== undefined &&
      TOKEN_VALUE.test(next) &&
      !OPTION_LIKE.test(next)
    ) {
      rest.push(`${arg}=${next}`)
      i++
      continue
    }
    // The value of another string option (`--audience -x…`) stays where it is: parseArgs says how to write it.
    const previous = /^--([^=]+)$/.exec(head[i - 1] ?? '')?.[1]
    const isValue =
      previous !== undefined && Object.hasOwn(options, previous) && options[previous]!.type === 'string'
    if (
      !isValue &&
      TOKEN_LIKE.test(arg) &&
      !OPTION_LIKE.test(arg) &&
      !Object.hasOwn(options, optionName(arg))
    )
      tokens.push(arg)
    else rest.push(arg)
  }
  return tokens.length === 0 && end === -1 ? rest : [...rest, '--', ...tokens, ...tail]
}

const TOKEN_LIKE = /^-[A-Za-z0-9\-._~+/]{16,}=*$/
const TOKEN_VALUE = /^-[A-Za-z0-9\-._~+/]+=*$/
const OPTION_LIKE = /^--?[a-z][a-z-]*$/

function optionName(arg: string): string {
  return arg.replace(/^-{1,2}/, '').split('=')[0]!
}

function usageMessage(error: Error & { code?: string }): string {
  const option = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1]
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim()
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // parseArgs also uses this code when a value looks like an option: `--expires-in -60`.
      return /argument is ambiguous/.test(error.message)
        ? `the value of ${option} starts with "-": write it as ${option}=VALUE`
        : `${option ?? 'an option'} needs a value`
    default:
      return error.message
  }
}

/** An integer option within bounds, or `fallback` when absent. */
export function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    )
  }
  return n
}

const UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86400 }

/**
 * A duration in seconds: `3600`, `90s`, `15m`, `2h`, `1d`; a leading `-` gives a negative duration (an
 * expired token). Fractions are allowed (`0.5s`).
 */
export function duration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const match = /^(-?\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(value.trim())
  if (match === null) {
    throw new UsageError(
      `--${name} must be a duration such as 3600, 90s, 15m, 2h or 1d, got ${JSON.stringify(value)}`,
    )
  }
  return Number(match[1]) * UNITS[match[2] ?? 's']!
}

/** One of `choices`, or `fallback` when absent. */
export function choice<C extends string>(
  name: string,
  value: string | undefined,
  choices: readonly C[],
  fallback: C,
): C {
  if (value === undefined) return fallback
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`)
  }
  return value as C
}

/** Values of a repeatable option, each also split on spaces and commas (`--scope "a b" --scope c`). */
export function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '')
}
