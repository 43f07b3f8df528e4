/**
 * Checks of plain option values, shared by every room that validates options once, at construction:
 * access rules, claim mappings, the ID-token guard, verifier options, presets. Each failure is a
 * TypeError naming the option, as everywhere in Gatehouse.
 */

/** Whether `value` is an object: not null, not an array (an instance of a class passes too). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A wrong value as an error message shows it: a string quoted and cut after 80 characters, anything
 * else by its kind (`null`, `an array`, `number`), so a long or secret value is never printed whole.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/**
 * An on/off option: `true` or `false`, and false when left out (so a check it switches off stays on
 * unless switched off explicitly).
 *
 * @throws TypeError `{option}: expected a boolean, got …` for anything else (`"false"` included).
 */
export function booleanOption(option: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new TypeError(`${option}: expected a boolean, got ${describe(value)}`)
  return value === true
}

/** What {@link stringList} accepts besides a non-empty array of non-empty strings. */
export interface StringListForm {
  /** A lone string, read as a list of one. Default true. */
  readonly single?: boolean
  /** An empty array. Default false: the option must name at least one value. */
  readonly empty?: boolean
}

/**
 * `value` as a new array of non-empty strings, in the given order. Duplicates are kept: what a repeated
 * value means (nothing, or a configuration error) is the caller's decision.
 *
 * @throws TypeError `{option}: expected {the accepted form}, got {value, see describe}`.
 */
export function stringList(option: string, value: unknown, form: StringListForm = {}): string[] {
  const { single = true, empty = false } = form
  const list = single && typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    (list.length === 0 && !empty) ||
    !list.every((member) => typeof member === 'string' && member !== '')
  ) {
    const array = `${empty ? 'an' : 'a non-empty'} array of non-empty strings`
    const expected = single ? `a non-empty string or ${array}` : array
    throw new TypeError(`${option}: expected ${expected}, got ${describe(value)}`)
  }
  return [...(list as string[])]
}
