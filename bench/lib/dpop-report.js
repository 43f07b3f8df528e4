/**
 * Reporting for the `dpop` and `dpop-store` workloads: the gate against the floor (token + proof), where
 * the microseconds go, the replay store in memory and on Redis, and the DPoP targets.
 */

/** The gate's synchronous path with a proof, against raw `crypto.verify` of the token plus the proof. */
export const DPOP_TARGET = 0.85
/** The memory store's replay check, per request. */
export const STORE_TARGET_US = 2

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const micros = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })
const times = (ratio) => `${ratio.toFixed(2)}×`
const us = (rate) => (rate ? 1e6 / rate : undefined)
const show = (value) => (value === undefined ? '–' : micros.format(value))

/**
 * The DPoP tables: ops/s with the ratio to the floor, then µs per request and what they decompose into.
 * `cells`: alg → Map(contender id → { median, samples } | null), on the report's clock.
 */
export function dpopTables(contenders, algs, cells, tokenAlg) {
  const lines = [
    `### DPoP: ${tokenAlg} token + a fresh proof per request, gate.checkSync (columns: proof algorithm)`,
    '',
    `| contender | ${algs.map((alg) => `${alg} proof ops/s (×floor)`).join(' | ')} |`,
    `| --- | ${algs.map(() => '---:').join(' | ')} |`,
  ]
  let noisiest = { spread: 0 }
  for (const contender of contenders) {
    const row = algs.map((alg) => {
      const cell = cells.get(alg)?.get(contender.id)
      if (cell === undefined) return '–'
      if (cell === null) return 'n/a'
      const spread = (Math.max(...cell.samples) - Math.min(...cell.samples)) / cell.median
      if (spread > noisiest.spread) noisiest = { spread, id: contender.id, alg }
      const floor = cells.get(alg)?.get('dpop-floor')
      return floor
        ? `${number.format(cell.median)} (${times(cell.median / floor.median)})`
        : number.format(cell.median)
    })
    lines.push(`| ${contender.label} | ${row.join(' | ')} |`)
  }
  if (noisiest.id)
    lines.push(
      '',
      `Largest round-to-round spread (max − min) / median: ${(noisiest.spread * 100).toFixed(0)}% ` +
        `(${noisiest.id}, ${noisiest.alg}).`,
    )

  const get = (alg, id) => us(cells.get(alg)?.get(id)?.median)
  const minus = (a, b) => (a === undefined || b === undefined ? undefined : a - b)
  const rows = [
    ['floor: token + proof, one call', (alg) => get(alg, 'dpop-floor')],
    [
      'token alone + proof alone (measured apart)',
      (alg) => {
        const [t, p] = [get(alg, 'dpop-floor-token'), get(alg, 'dpop-floor-proof')]
        return t === undefined || p === undefined ? undefined : t + p
      },
    ],
    ['gate.checkSync, DPoP', (alg) => get(alg, 'dpop-gatehouse')],
    [
      '→ Gatehouse’s own work (gate − floor)',
      (alg) => minus(get(alg, 'dpop-gatehouse'), get(alg, 'dpop-floor')),
    ],
    ['gate.checkSync, Bearer', (alg) => get(alg, 'dpop-gatehouse-bearer')],
    [
      '→ the proof through the gate (DPoP − Bearer)',
      (alg) => minus(get(alg, 'dpop-gatehouse'), get(alg, 'dpop-gatehouse-bearer')),
    ],
    [
      '→ of which beyond the proof’s crypto.verify',
      (alg) =>
        minus(
          minus(get(alg, 'dpop-gatehouse'), get(alg, 'dpop-gatehouse-bearer')),
          get(alg, 'dpop-floor-proof'),
        ),
    ],
  ]
  if (algs.some((alg) => get(alg, 'dpop-baseline') !== undefined))
    rows.push(['baseline build: gate.checkSync, DPoP', (alg) => get(alg, 'dpop-baseline')])
  lines.push(
    '',
    `| µs per request | ${algs.map((alg) => `${alg} proof`).join(' | ')} |`,
    `| --- | ${algs.map(() => '---:').join(' | ')} |`,
    ...rows.map(([label, value]) => `| ${label} | ${algs.map((alg) => show(value(alg))).join(' | ')} |`),
  )
  return lines.join('\n')
}

/** The DPoP targets: `{ pass, line }[]`, for the measured cells and the memory store. */
export function dpopTargets(cells, store) {
  const out = []
  for (const [alg, cell] of cells ?? []) {
    const floor = cell.get('dpop-floor')
    const gate = cell.get('dpop-gatehouse')
    if (!floor || !gate) continue
    const ratio = gate.median / floor.median
    out.push({
      pass: ratio >= DPOP_TARGET,
      line: `dpop, ${alg} proof: gate.checkSync ${times(ratio)} floor (token + proof), target ≥ ${DPOP_TARGET}×`,
    })
  }
  for (const { size, median } of store?.memory ?? []) {
    out.push({
      pass: median < STORE_TARGET_US,
      line: `dpop replay check, memory store with ${number.format(size)} live entries: ${micros.format(median)} µs per call, target < ${STORE_TARGET_US} µs`,
    })
  }
  return out
}

/** The `dpop-store` section: memory store, then Redis (or why it was skipped). */
export function storeSection(store, opts) {
  const lines = [
    '### DPoP replay store',
    '',
    'Memory store, `setIfAbsentSync` with a new `dpop:<jkt>:<jti>` key (85 characters) per call, one entry ' +
      `expiring per insertion (steady size); ${opts.storeRounds} rounds of ${number.format(opts.storeOps)} calls:`,
    '',
    '| live entries | µs per call (median round) | slowest round | entries after | evictions |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...store.memory.map(
      (m) =>
        `| ${number.format(m.size)} | ${micros.format(m.median)} | ${micros.format(m.worst)} | ` +
        `${number.format(m.live)} | ${m.evictions} |`,
    ),
    '',
  ]
  const redis = store.redis
  if (redis === undefined) return lines.join('\n')
  if (redis.skipped) {
    lines.push(`Redis: skipped (${redis.skipped}).`)
    return lines.join('\n')
  }
  const row = (label, p) =>
    `| ${label} | ${micros.format(p.p50)} | ${micros.format(p.p99)} | ${micros.format(p.mean)} |`
  lines.push(
    `Redis: redis-server ${redis.version} started by the benchmark on 127.0.0.1 (no persistence), ` +
      `node-redis through \`createRedisStore\`; ${number.format(redis.count)} calls one at a time ` +
      `(gate: ${number.format(redis.gateCount)}), interleaved in blocks of 100:`,
    '',
    '| one at a time | p50 µs | p99 µs | mean µs |',
    '| --- | ---: | ---: | ---: |',
    row('Redis store `setIfAbsent`', redis.storeLatency.redis),
    row('bare node-redis `SET key 1 NX PX`, same server', redis.storeLatency.raw),
    ...(redis.storeLatency.baseline
      ? [row('baseline build: Redis store `setIfAbsent`', redis.storeLatency.baseline)]
      : []),
    row('memory store `setIfAbsent` (its promise form)', redis.storeLatency.memory),
    row(`\`gate.check\`, ${redis.alg} proof, memory store`, redis.gateLatency.memory),
    row(`\`gate.check\`, ${redis.alg} proof, Redis store`, redis.gateLatency.redis),
    ...(redis.gateLatency.baseline
      ? [row(`baseline build: \`gate.check\`, ${redis.alg} proof, Redis store`, redis.gateLatency.baseline)]
      : []),
    '',
    `Redis store \`setIfAbsent\` with ${redis.inFlight} in flight: ${number.format(redis.storeThroughput)} calls/s.`,
    '',
    `| ${redis.tokenAlg} token + ${redis.alg} proof | serial ops/s (×floor) | ${redis.inFlight} in flight ops/s (×floor) |`,
    '| --- | ---: | ---: |',
  )
  const labels = {
    'dpop-floor': 'floor: node:crypto verify, token + proof',
    'sync-memory': '`gate.checkSync`, memory store',
    'async-memory': '`gate.check`, memory store',
    'async-redis': '**`gate.check`, Redis store**',
    'baseline-async-redis': 'baseline build: `gate.check`, Redis store',
  }
  for (const [id, label] of Object.entries(labels)) {
    if (!redis.cells.serial?.has(id) && !redis.cells.concurrent?.has(id)) continue
    const cellText = (workload) => {
      const cell = redis.cells[workload]
      const value = cell?.get(id)?.[opts.clock]
      const floor = cell?.get('dpop-floor')?.[opts.clock]
      return value ? `${number.format(value.median)} (${times(value.median / floor.median)})` : '–'
    }
    lines.push(`| ${label} | ${cellText('serial')} | ${cellText('concurrent')} |`)
  }
  return lines.join('\n')
}
