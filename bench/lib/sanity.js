/**
 * Before anything is timed, every contender must accept a valid token and reject the tokens it is meant to
 * reject: a verifier that accepts everything would top the table and mean nothing. Required cases abort the
 * run; the others record where a peer checks less than Gatehouse.
 */

async function outcome(verify, token) {
  try {
    await verify(token)
    return 'accepted'
  } catch {
    return 'rejected'
  }
}

/**
 * Run every case against every instance. `instances` is a list of `{ contender, alg, verify }`; `casesByAlg`
 * maps an algorithm to the output of `sanityCases`. Returns `{ failures, deviations }`: failures are
 * required cases answered wrongly (each a readable line), deviations the optional ones, for the report.
 */
export async function checkSanity(instances, casesByAlg) {
  const failures = []
  const deviations = []
  for (const { contender, alg, verify } of instances) {
    for (const c of casesByAlg.get(alg)) {
      if (contender.signatureOnly && !c.signatureOnly) continue
      const got = await outcome(verify, c.token)
      const want = c.accept ? 'accepted' : 'rejected'
      if (got === want) continue
      const line = { contender: contender.id, alg, case: c.name, got }
      if (c.required) failures.push(line)
      else deviations.push(line)
    }
  }
  return { failures, deviations }
}

/** Deviations grouped as "case: contender (algs)" lines. */
export function describeDeviations(deviations) {
  const grouped = new Map()
  for (const d of deviations) {
    const key = `${d.case} → ${d.got} by ${d.contender}`
    grouped.set(key, (grouped.get(key) ?? new Set()).add(d.alg))
  }
  return [...grouped].map(([key, algs]) => `${key} (${[...algs].join(', ')})`)
}
