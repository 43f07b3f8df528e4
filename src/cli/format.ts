/** Output helpers shared by the commands: check marks, colours, and human times. */

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn'

const MARKS: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '·', warn: '!' }
const COLORS: Record<CheckStatus, number> = { pass: 32, fail: 31, skip: 90, warn: 33 }

/** `✓ name: reason` (coloured when `color`), for one check line. */
export function checkLine(status: CheckStatus, name: string, reason: string, color: boolean): string {
  const mark = MARKS[status]
  const shown = color ? `\u001b[${COLORS[status]}m${mark}\u001b[0m` : mark
  return `  ${shown} ${name}${reason === '' ? '' : `: ${reason}`}`
}

export function bold(text: string, color: boolean): string {
  return color ? `\u001b[1m${text}\u001b[0m` : text
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
