/**
 * Reporting for the `introspection` and `introspection-io` workloads: a cached opaque token against a
 * cached JWT through `gate.checkSync`, the latency an introspection call adds, the shared level on
 * Redis, and the introspection target.
 */

/** A cached opaque token through `gate.checkSync`, against a cached JWT through the same path. */
export const INTROSPECTION_TARGET = 0.9

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const micros = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })
const times = (ratio) => `${ratio.toFixed(2)}×`

const LABELS = {
  'jwt-cache': 'JWT, verifier `cache: true` (gate without introspection)',
  opaque: '**opaque token, answer in memory (gate with introspection)**',
  'jwt-cache-auto': 'JWT, `cache: true`, through the gate with introspection',
  jwt: 'JWT, cache off (a signature check per call)',
}

/**
 * The rates table (`columns`: measureIntrospection's result), ops/s with the ratio to the cached JWT of
 * the same column, then µs per request.
 */
export function introspectionTables(columns, clock) {
  const rate = (column, id) => column.measured.get(id)?.[clock]
  const lines = [
    '### Token introspection: a cached answer through gate.checkSync',
    '',
    `| contender | ${columns.map((c) => `${c.label} ops/s (×JWT cached)`).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
  ]
  let noisiest = { spread: 0 }
  for (const [id, label] of Object.entries(LABELS)) {
    const row = columns.map((column) => {
      const cell = rate(column, id)
      if (!cell) return '–'
      const spread = (Math.max(...cell.samples) - Math.min(...cell.samples)) / cell.median
      if (spread > noisiest.spread) noisiest = { spread, id, column: column.label }
      const reference = rate(column, 'jwt-cache')
      return reference
        ? `${number.format(cell.median)} (${times(cell.median / reference.median)})`
        : number.format(cell.median)
    })
    lines.push(`| ${label} | ${row.join(' | ')} |`)
  }
  if (noisiest.id)
    lines.push(
      '',
      `Largest round-to-round spread (max − min) / median: ${(noisiest.spread * 100).toFixed(0)}% ` +
        `(${noisiest.id}, ${noisiest.column}).`,
    )
  const us = (column, id) => {
    const cell = rate(column, id)
    return cell ? 1e6 / cell.median : undefined
  }
  const show = (value) => (value === undefined ? '–' : micros.format(value))
  const minus = (a, b) => (a === undefined || b === undefined ? undefined : a - b)
  lines.push(
    '',
    `| µs per request | ${columns.map((c) => c.label).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...Object.entries(LABELS).map(
      ([id, label]) => `| ${label} | ${columns.map((c) => show(us(c, id))).join(' | ')} |`,
    ),
    `| → opaque − cached JWT | ${columns.map((c) => show(minus(us(c, 'opaque'), us(c, 'jwt-cache')))).join(' | ')} |`,
    `| → what the introspection gate adds to a cached JWT | ${columns
      .map((c) => show(minus(us(c, 'jwt-cache-auto'), us(c, 'jwt-cache'))))
      .join(' | ')} |`,
    '',
    `- introspection calls while timed: ${columns.map((c) => `${c.calls} (${c.label})`).join(', ')}; ` +
      'every timed call was answered from memory (a PENDING would have stopped the run)',
  )
  return lines.join('\n')
}

/** `{ pass, line }[]`: the cached opaque token against the cached JWT, per column. */
export function introspectionTargets(columns, clock) {
  const out = []
  for (const column of columns ?? []) {
    const jwt = column.measured.get('jwt-cache')?.[clock]
    const opaque = column.measured.get('opaque')?.[clock]
    if (!jwt || !opaque) continue
    const ratio = opaque.median / jwt.median
    out.push({
      pass: ratio >= INTROSPECTION_TARGET,
      line:
        `introspection, ${column.label}: cached opaque token ${number.format(opaque.median)} ops/s = ` +
        `${times(ratio)} cached JWT ${number.format(jwt.median)} (gate.checkSync), target ≥ ${INTROSPECTION_TARGET}×`,
    })
  }
  return out
}

const row = (label, p) =>
  `| ${label} | ${micros.format(p.p50)} | ${micros.format(p.p99)} | ${micros.format(p.mean)} |`

/** The `introspection-io` section: latencies one call at a time, then the shared level on Redis. */
export function callsSection(io) {
  const { latency } = io
  const lines = [
    '### Token introspection: calls to the endpoint, and the shared level',
    '',
    `Introspection endpoint: node:http in a process of its own on 127.0.0.1 (client_secret_basic, a fixed ` +
      `active answer); ${number.format(io.count)} calls each, one at a time, interleaved in blocks of 100:`,
    '',
    '| one at a time | p50 µs | p99 µs | mean µs |',
    '| --- | ---: | ---: | ---: |',
    row('bare `fetch` POST to the endpoint, answer parsed (the round trip alone)', latency.fetch),
    row('**`gate.check`, opaque token, `cache: { maxAge: 0 }` (a call per request)**', latency.cold),
    row('`gate.check`, JWT, cache off (a signature check per request)', latency.jwt),
    row('`gate.check`, opaque token, answer in memory', latency.memory),
    '',
    `- the introspection round trip adds ${micros.format(latency.cold.p50 - latency.jwt.p50)} µs at p50 ` +
      `(${micros.format(latency.cold.p99 - latency.jwt.p99)} at p99) to a request, against a JWT verified ` +
      `here; Gatehouse's own part of the call (gate − bare fetch) is ${micros.format(latency.cold.p50 - latency.fetch.p50)} µs at p50`,
    `- introspection calls: ${number.format(io.calls)} (${io.calls === io.expectedCalls ? 'as expected: ' : `expected ${number.format(io.expectedCalls)}: `}one per bare fetch and per \`maxAge: 0\` check, warm-ups included)`,
    `- CPU time of this process per call (${number.format(io.cpuCount)} calls one at a time; the endpoint's ` +
      `work is in its own process): bare \`fetch\` ${micros.format(io.cpu.fetch)} µs, \`gate.check\` with a ` +
      `call ${micros.format(io.cpu.cold)} µs, \`gate.check\` of a JWT ${micros.format(io.cpu.jwt)} µs`,
    '',
  ]
  const { redis } = io
  if (redis.skipped) {
    lines.push(`Redis: skipped (${redis.skipped}).`)
    return lines.join('\n')
  }
  lines.push(
    `Shared level: redis-server ${redis.version} started by the benchmark on 127.0.0.1 (no persistence). ` +
      'One gate introspected every token of the pool, which put each answer in Redis; another gate (another ' +
      'instance: its own Redis store and connection, a memory level of one entry, so that every token of the ' +
      'cycle misses there) answers them from Redis:',
    '',
    '| one at a time | p50 µs | p99 µs | mean µs |',
    '| --- | ---: | ---: | ---: |',
    row('**`gate.check`, opaque token, memory miss + Redis hit**', redis.latency.store),
    row('bare node-redis `GET` of the same key, same server', redis.latency.raw),
    row('`gate.check`, opaque token, memory hit', redis.latency.memory),
    '',
    `- introspection calls while the Redis hits were timed: ${redis.calls} (0 expected)`,
  )
  return lines.join('\n')
}

/** The section's Maps as plain objects, for --json. */
export function introspectionJson(columns, io) {
  return {
    cached: columns?.map((c) => ({ ...c, measured: Object.fromEntries(c.measured) })),
    calls: io,
  }
}
