/**
 * `typ` comparison (RFC 7515 §4.1.9): media types are case-insensitive and the `application/` prefix is
 * optional, so `application/AT+JWT` and `at+jwt` are the same value.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice(12) : lower
}
