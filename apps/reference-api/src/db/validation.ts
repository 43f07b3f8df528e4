/**
 * A value the data layer refuses before it reaches SQL: message text too long, empty, not a string, or with
 * characters PostgreSQL cannot store (NUL, lone UTF-16 surrogates); a `sub` that is empty or too long.
 *
 * Routes answer 400 for `field: 'text'`. The message names the field and the rule, never the value.
 */
export class DataInputError extends Error {
  override readonly name = 'DataInputError'
  /** Which input was refused. */
  readonly field: 'text' | 'sub'

  constructor(field: 'text' | 'sub', message: string) {
    super(message)
    this.field = field
  }
}

/** Longest `sub` stored, in code points. OIDC Core §5.7 caps it at 255 ASCII characters; we allow slack. */
export const SUB_MAX_LENGTH = 1024

/**
 * Throws {@link DataInputError} (`field: 'sub'`) unless `sub` is a non-empty string of at most
 * {@link SUB_MAX_LENGTH} characters that PostgreSQL can store. Does NOT check that it came from a token.
 */
export function assertSub(sub: unknown): asserts sub is string {
  const problem = stringProblem('sub', sub, SUB_MAX_LENGTH)
  if (problem) throw new DataInputError('sub', problem)
}

/** A lone UTF-16 surrogate: JSON.parse accepts `"\ud800"`, but UTF-8 (and so PostgreSQL) cannot hold it. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Why `value` is not a storable string of 1..`max` code points, or `undefined` if it is.
 * Code points, not UTF-16 units, because PostgreSQL's `char_length` counts code points.
 */
export function stringProblem(name: string, value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return `"${name}" must be a string`
  if (value.length === 0) return `"${name}" must not be empty`
  // value.length counts UTF-16 units, at least the code points and at most twice as many.
  if (value.length > max && (value.length > 2 * max || codePoints(value) > max)) {
    return `"${name}" must be at most ${max} characters`
  }
  if (value.includes('\u0000')) return `"${name}" must not contain NUL characters`
  if (LONE_SURROGATE.test(value)) return `"${name}" must be valid Unicode (it has a lone surrogate)`
  return undefined
}

function codePoints(value: string): number {
  let count = 0
  for (const _ of value) count++
  return count
}
