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
