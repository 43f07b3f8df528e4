/**
 * Reporting: one markdown table (framework × setup, requests per second with unique tokens and with one
 * repeated token, each as a ratio to the same framework's no-auth server, the server's CPU time per
 * request and the share of the time it was busy), then the speed targets evaluated on it.
 */

export const MODES = ['unique', 'repeated']

/** With a repeated token (verified-token cache), Gatehouse must keep this share of the no-auth rate. */
export const REPEATED_TARGET = 0.85
/** With one opaque token whose introspection answer is cached: the same share. */
export const OPAQUE_TARGET = 0.85

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

function rate(measured) {
  if (measured === undefined) return '–'
  const mark = measured.non2xx || measured.errors ? ' †' : ''
  return `${number.format(measured.rps)}${mark}`
}

function ratio(value, base) {
  return value === undefined || base === undefined || base === 0 ? '–' : (value / base).toFixed(2)
}

function cpu(measured) {
  return measured?.cpuUsPerRequest == null ? '–' : number.format(measured.cpuUsPerRequest)
}

function mainCpu(measured) {
  return measured?.mainCpuUsPerRequest == null ? '–' : number.format(measured.mainCpuUsPerRequest)
}

function busy(measured) {
  return measured?.serverBusy == null ? '–' : `${Math.round(measured.serverBusy * 100)}%`
}

/** `rows`: `[{ framework, setup, label, kind, unique?, repeated? }]` in table order. */
export function resultTable(rows) {
  const lines = [
    '| framework | setup | unique rps | repeated rps | unique ÷ no auth | repeated ÷ no auth | ' +
      'server CPU µs/req (unique / repeated) | server busy (unique / repeated) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  const notes = []
  for (const row of rows) {
    const base = rows.find((r) => r.framework === row.framework && r.kind === 'baseline')
    lines.push(
      `| ${row.framework} | ${row.label} | ${rate(row.unique)} | ${rate(row.repeated)} | ` +
        `${ratio(row.unique?.rps, base?.unique?.rps)} | ${ratio(row.repeated?.rps, base?.repeated?.rps)} | ` +
        `${cpu(row.unique)} / ${cpu(row.repeated)} | ${busy(row.unique)} / ${busy(row.repeated)} |`,
    )
    for (const mode of MODES) {
      const m = row[mode]
      if (!m) continue
      if (m.proofWraps) {
        notes.push(
          `${row.framework} / ${row.setup} (${mode}): the proofs signed ahead ran out ${m.proofWraps} time(s); ` +
            'proofs sent again were refused as replays (counted as non-2xx)',
        )
      }
      if (m.non2xx || m.errors) {
        notes.push(
          `† ${row.framework} / ${row.setup} (${mode}): ${m.non2xx} non-2xx answers and ${m.errors} ` +
            'connection errors while timed; only 2xx answers are counted',
        )
      }
      if (row.kind === 'opaque') {
        const answered = m.ok + m.non2xx
        const share =
          m.introspectionCalls && answered
            ? ` (${((m.introspectionCalls / answered) * 1000).toFixed(2)} per 1,000 requests)`
            : ''
        notes.push(
          `${row.framework} / ${row.setup} (${mode}): ${number.format(m.introspectionCalls)} introspection calls ` +
            `while timed${share}`,
        )
      }
      // A fetch per hundred requests or more is a key fetch in the request path, not a one-off refresh.
      if (m.jwksFetches / (m.ok + m.non2xx) >= 0.01) {
        notes.push(
          `${row.framework} / ${row.setup} (${mode}): ${number.format(m.jwksFetches)} JWKS fetches while timed ` +
            `(${(m.jwksFetches / (m.ok + m.non2xx)).toFixed(2)} per request)`,
        )
      }
    }
  }
  return { table: lines.join('\n'), notes }
}

const verdict = (pass) => (pass ? 'PASS' : 'MISS')

/**
 * The targets per framework: with unique tokens each Gatehouse setup ahead of every peer (the
 * reference verifier is not a peer); with a repeated token, Gatehouse with its cache at ≥ 0.85 × no auth.
 * Each is judged on requests per second (the target) and, as a cross-check that other load on the
 * machine cannot skew, on the server's CPU time per request. Returns `{ pass, line }[]`.
 */
export function evaluateTargets(rows) {
  const out = []
  const frameworks = [...new Set(rows.map((r) => r.framework))]
  for (const framework of frameworks) {
    const mine = rows.filter((r) => r.framework === framework)
    const peers = mine.filter((r) => r.kind === 'peer' && r.unique)
    const best = [...peers].sort((a, b) => b.unique.rps - a.unique.rps)[0]
    const cheapest = [...peers].sort((a, b) => a.unique.cpuUsPerRequest - b.unique.cpuUsPerRequest)[0]
    for (const gatehouse of mine.filter((r) => r.kind === 'gatehouse' && r.unique)) {
      if (!best) continue
      const pass = gatehouse.unique.rps > best.unique.rps
      let line =
        `unique, ${framework}: ${gatehouse.setup} ${number.format(gatehouse.unique.rps)} rps vs best peer ` +
        `${best.setup} ${number.format(best.unique.rps)} (${(gatehouse.unique.rps / best.unique.rps).toFixed(2)}×)`
      if (gatehouse.unique.cpuUsPerRequest != null && cheapest?.unique.cpuUsPerRequest != null) {
        const byCpu = gatehouse.unique.cpuUsPerRequest < cheapest.unique.cpuUsPerRequest
        line +=
          `; by CPU per request ${verdict(byCpu)}: ${number.format(gatehouse.unique.cpuUsPerRequest)} µs vs ` +
          `${cheapest.setup} ${number.format(cheapest.unique.cpuUsPerRequest)} µs`
      }
      out.push({ pass, line })
    }
    const base = mine.find((r) => r.kind === 'baseline')?.repeated
    const cached = mine.find((r) => r.setup === 'gatehouse-cache')?.repeated
    if (base && cached) {
      const share = cached.rps / base.rps
      let line =
        `repeated, ${framework}: gatehouse-cache ${number.format(cached.rps)} rps = ${share.toFixed(2)} × ` +
        `no auth ${number.format(base.rps)} (target ≥ ${REPEATED_TARGET})`
      if (cached.cpuUsPerRequest != null && base.cpuUsPerRequest != null) {
        const byCpu = base.cpuUsPerRequest / cached.cpuUsPerRequest
        line +=
          `; by CPU per request ${verdict(byCpu >= REPEATED_TARGET)}: ${byCpu.toFixed(2)} ` +
          `(${number.format(base.cpuUsPerRequest)} µs vs ${number.format(cached.cpuUsPerRequest)} µs)`
      }
      out.push({ pass: share >= REPEATED_TARGET, line })
    }
    const opaque = mine.find((r) => r.kind === 'opaque')?.repeated
    if (base && opaque) {
      const share = opaque.rps / base.rps
      let line =
        `opaque, ${framework}: gatehouse-opaque, one token, answer cached, ${number.format(opaque.rps)} rps = ` +
        `${share.toFixed(2)} × no auth ${number.format(base.rps)} (target ≥ ${OPAQUE_TARGET})`
      if (opaque.cpuUsPerRequest != null && base.cpuUsPerRequest != null) {
        const byCpu = base.cpuUsPerRequest / opaque.cpuUsPerRequest
        line +=
          `; by CPU per request ${verdict(byCpu >= OPAQUE_TARGET)}: ${byCpu.toFixed(2)} ` +
          `(${number.format(base.cpuUsPerRequest)} µs vs ${number.format(opaque.cpuUsPerRequest)} µs)`
      }
      out.push({ pass: share >= OPAQUE_TARGET, line })
    }
  }
  return out
}

export function targetLines(targets) {
  return targets.map((t) => `- ${verdict(t.pass)}  ${t.line}`)
}

/** "wrong iss → status 200: express / hono-jwk" lines from the sanity check's deviations. */
export function deviationLines(deviations) {
  const grouped = new Map()
  for (const d of deviations) {
    const key = `${d.case} → ${d.got}`
    grouped.set(key, [...(grouped.get(key) ?? []), `${d.framework} / ${d.setup}`])
  }
  return [...grouped].map(([key, who]) => `${key}: ${who.join(', ')}`)
}

/**
 * `offload: true` against the synchronous path, per framework and token mode, from the same run: the rates,
 * their ratio, each server's CPU time per request (all threads, and the event loop alone). `pass` is
 * "offload ahead" on the rate.
 */
export function offloadLines(rows) {
  const out = []
  for (const offload of rows.filter((r) => r.setup === 'gatehouse-offload')) {
    const sync = rows.find((r) => r.framework === offload.framework && r.setup === 'gatehouse')
    for (const mode of MODES) {
      const [a, b] = [offload[mode], sync?.[mode]]
      if (!a || !b) continue
      out.push({
        pass: a.rps > b.rps,
        line:
          `${offload.framework}, ${mode} tokens: offload ${number.format(a.rps)} rps, synchronous ` +
          `${number.format(b.rps)} rps (${(a.rps / b.rps).toFixed(2)}×); server CPU per request ${cpu(a)} µs ` +
          `against ${cpu(b)} µs, of which on the event loop ${mainCpu(a)} µs against ${mainCpu(b)} µs; ` +
          `server busy ${busy(a)} against ${busy(b)}`,
      })
    }
  }
  return out
}

/**
 * DPoP requests against Bearer requests through the same framework and Gatehouse options (the `gatehouse`
 * row, token cache off), and against no auth: rates, their ratios, and the server CPU time per request the
 * proof adds.
 */
export function dpopLines(rows) {
  const out = []
  for (const dpop of rows.filter((r) => r.kind === 'dpop')) {
    const bearer = rows.find((r) => r.framework === dpop.framework && r.setup === 'gatehouse')
    const none = rows.find((r) => r.framework === dpop.framework && r.kind === 'baseline')
    for (const mode of MODES) {
      const [a, b, n] = [dpop[mode], bearer?.[mode], none?.[mode]]
      if (!a) continue
      const added =
        a.cpuUsPerRequest != null && b?.cpuUsPerRequest != null
          ? `, ${number.format(a.cpuUsPerRequest - b.cpuUsPerRequest)} µs more than Bearer`
          : ''
      out.push(
        `${dpop.framework}, ${mode === 'unique' ? 'unique tokens' : 'one repeated token'}, a new proof per request: ` +
          `DPoP ${number.format(a.rps)} rps = ${ratio(a.rps, b?.rps)} × Bearer (${b ? number.format(b.rps) : '–'} rps) ` +
          `= ${ratio(a.rps, n?.rps)} × no auth (${n ? number.format(n.rps) : '–'} rps); server CPU ${cpu(a)} µs per ` +
          `request against ${cpu(b)} µs (Bearer) and ${cpu(n)} µs (no auth)${added}`,
      )
    }
  }
  return out
}

/**
 * Opaque tokens with a warm answer cache against no auth, and against the cached JWT of the same mode
 * where there is one (the `gatehouse-cache` row with one repeated token): rates, ratios, server CPU.
 */
export function opaqueLines(rows, tokens) {
  const out = []
  for (const opaque of rows.filter((r) => r.kind === 'opaque')) {
    const none = rows.find((r) => r.framework === opaque.framework && r.kind === 'baseline')
    const cached = rows.find((r) => r.framework === opaque.framework && r.setup === 'gatehouse-cache')
    for (const mode of MODES) {
      const [a, n] = [opaque[mode], none?.[mode]]
      if (!a) continue
      const jwt = mode === 'repeated' ? cached?.repeated : undefined
      out.push(
        `${opaque.framework}, ${mode === 'unique' ? `${tokens} opaque tokens in turn` : 'one repeated opaque token'}, ` +
          `answers cached: ${number.format(a.rps)} rps = ${ratio(a.rps, n?.rps)} × no auth (${n ? number.format(n.rps) : '–'} rps)` +
          (jwt ? ` = ${ratio(a.rps, jwt.rps)} × a cached JWT (${number.format(jwt.rps)} rps)` : '') +
          `; server CPU ${cpu(a)} µs per request against ${cpu(n)} µs (no auth)` +
          (jwt ? ` and ${cpu(jwt)} µs (cached JWT)` : ''),
      )
    }
  }
  return out
}
