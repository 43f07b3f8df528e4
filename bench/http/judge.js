// One judge for the required cases of the DPoP and opaque-token setups: each case is sent with `send`,
// an accepted one must answer 200 with the protected message and the expected `sub`, a refused one 401.

import { MESSAGE } from './setups.js'

/** `[{ case, got }]` for every case answered otherwise; `send(c)` resolves `{ status, body }`. */
export async function judgeCases(cases, send, expectedSub) {
  const failures = []
  for (const c of cases) {
    let answer
    try {
      answer = await send(c)
    } catch (error) {
      failures.push({ case: c.name, got: `no answer (${error.name})` })
      continue
    }
    if (!c.accept) {
      if (answer.status !== 401) failures.push({ case: c.name, got: `status ${answer.status}` })
      continue
    }
    let body
    try {
      body = JSON.parse(answer.body)
    } catch {
      body = undefined
    }
    if (answer.status !== 200 || body?.message !== MESSAGE || body?.sub !== expectedSub)
      failures.push({ case: c.name, got: `status ${answer.status}` })
  }
  return failures
}
