/**
 * Before anything is timed, every server must answer 200 with the caller's `sub` for a valid token and
 * 401 for a token whose signature was altered: a setup that accepts everything would top the table and
 * mean nothing. The other cases (wrong issuer, audience, expired, `alg: none`, no `exp`, another
 * algorithm, no token) must also be 401; a server that answers otherwise is reported, not stopped, because
 * peers legitimately differ there (docs/benchmarks-http.md).
 */
import { MESSAGE } from './setups.js'
import { subOf } from './tokens.js'

/** Cases whose wrong answer stops the benchmark. */
const REQUIRED = new Set(['valid', 'flipped signature byte'])

async function ask(port, token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const response = await fetch(`http://127.0.0.1:${port}/protected`, {
    headers,
    signal: AbortSignal.timeout(5000),
  })
  return { status: response.status, body: await response.text() }
}

/** `null` when the answer to a valid token is right, else what was wrong (never the token). */
function wrongAnswer({ status, body }, expectedSub) {
  if (status !== 200) return `status ${status}`
  let parsed
  try {
    parsed = JSON.parse(body)
  } catch {
    return 'a body that is not JSON'
  }
  if (parsed.message !== MESSAGE) return `message ${JSON.stringify(parsed.message)}`
  if (expectedSub !== undefined && parsed.sub !== expectedSub) return `sub ${JSON.stringify(parsed.sub)}`
  return null
}

/**
 * Check one server. `cases` comes from bench/lib/tokens.js `sanityCases` (RS256). A baseline server is
 * only asked the valid case, and not for the caller's `sub` (it verifies nothing). Returns
 * `{ failures, deviations }`, each a list of `{ case, got }`.
 */
export async function checkServer(port, kind, cases) {
  const failures = []
  const deviations = []
  const all = [...cases, { name: 'no token', token: undefined, accept: false }]
  for (const c of kind === 'baseline' ? all.filter((x) => x.name === 'valid') : all) {
    let answer
    try {
      answer = await ask(port, c.token)
    } catch (error) {
      failures.push({ case: c.name, got: `no answer (${error.name})` })
      continue
    }
    const got = c.accept
      ? wrongAnswer(answer, kind === 'baseline' ? undefined : subOf(c.token))
      : answer.status === 401
        ? null
        : `status ${answer.status}`
    if (got === null) continue
    if (REQUIRED.has(c.name)) failures.push({ case: c.name, got })
    else deviations.push({ case: c.name, got })
  }
  return { failures, deviations }
}
