/** Output helpers shared by the commands: check marks, colours, and human times. */

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn'

const MARKS: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '·', warn: '!' }
const COLORS: Record<CheckStatus, number> = { pass: 32, fail: 31, skip: 90, warn: 33 }

/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls and DEL (ESC starts a cursor move
 * or a window title, CR rewrites the line, BEL rings), bidirectional overrides and isolates that reorder
 * what follows (Unicode TR 9), and the line and paragraph separators.
 */
const CONTROLS = /[\p{Cc}\p{Bidi_Control}\u2028\u2029]/gu
/** Our own styles: SGR sequences only (`ESC [ … m`), as {@link checkLine} and {@link bold} write them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding our own colour sequences is the point
const STYLE = /(\u001b\[[0-9;]*m)/

/**
 * `text` with every control character written as a JSON-style escape (`\u001b`), so that a token or a
 * remote document cannot move the cursor, rewrite a line or retitle the window. Everything the CLI prints
 * that it did not write itself passes through here.
 *
 * @param keep `newline` leaves line breaks (text of several lines, pretty JSON); `style` leaves the SGR
 *   colour sequences the CLI adds itself (the last line of defence in the process's own output).
 */
export function printable(text: string, keep: { newline?: boolean; style?: boolean } = {}): string {
  const escapeControls = (part: string) =>
    part.replace(CONTROLS, (c) =>
      keep.newline && c === '\n' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  if (!keep.style) return escapeControls(text)
  return text
    .split(STYLE)
    .map((part, i) => (i % 2 === 1 ? part : escapeControls(part)))
    .join('')
}

/** `✓ name: reason` (coloured when `color`), for one check line. Name and reason are made printable. */
export function checkLine(status: CheckStatus, name: string, reason: string, color: boolean): string {
  const mark = MARKS[status]
  const shown = color ? `\u001b[${COLORS[status]}m${mark}\u001b[0m` : mark
  return `  ${shown} ${printable(name)}${reason === '' ? '' : `: ${printable(reason)}`}`
}

/** `text` in bold when `color`; made printable either way. */
export function bold(text: string, color: boolean): string {
  const shown = printable(text)
  return color ? `\u001b[1m${shown}\u001b[0m` : shown
}

/**
 * A relative time from `now`, both in seconds since the epoch: "in 5 min", "3 h ago", "just now".
 * Rounded down to the largest unit, which is what a reader wants when asking "is it expired?".
 */
export function relativeTime(at: number, now: number): string {
  const delta = at - now
  const abs = Math.abs(delta)
  if (abs < 1) return 'just now'
  let amount: string
  if (abs < 60) amount = `${Math.floor(abs)} s`
  else if (abs < 3600) amount = `${Math.floor(abs / 60)} min`
  else if (abs < 86400 * 2) amount = `${Math.floor(abs / 3600)} h`
  else amount = `${Math.floor(abs / 86400)} d`
  return delta > 0 ? `in ${amount}` : `${amount} ago`
}

/** A NumericDate (RFC 7519 §2) as `2025-01-01T00:00:00.000Z (3 h ago)`, or undefined if not a number. */
export function describeTime(value: unknown, now: number): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined
  const date = new Date(value * 1000)
  if (Number.isNaN(date.getTime())) return undefined
  return `${date.toISOString()} (${relativeTime(value, now)})`
}

/** JSON for display: strings quoted, arrays inline when short. */
export function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text
}

/**
 * `value` as indented JSON that is safe on a terminal. JSON.stringify escapes C0 controls in strings but
 * leaves DEL, C1 controls and bidi overrides raw; escaped here, the text still parses to the same value.
 */
export function printableJson(value: unknown): string {
  return printable(JSON.stringify(value, null, 2), { newline: true })
}
