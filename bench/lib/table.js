/**
 * Reporting: one markdown table per workload (contender × algorithm, median ops/s and the ratio to the
 * floor of the same cell), and the speed targets evaluated against the measured figures.
 */

const WORKLOAD_TITLES = {
  serial: 'Serial, unique tokens (one verification at a time)',
  repeated: 'Serial, one repeated token',
  concurrent: 'Concurrent, unique tokens',
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** `ratio` with two decimals, or one when it is large (cache hits are tens of times the floor). */
function times(ratio) {
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`
}

function ratioTo(floor, value) {
  return floor ? value / floor.median : undefined
}

/**
 * Markdown table for one workload. `cells` maps alg → Map(contender id → { median, samples } | null);
 * `null` marks an unsupported combination.
 */
export function workloadTable(workload, contenders, algs, cells) {
  const lines = [
    `### ${WORKLOAD_TITLES[workload]}`,
    '',
    `| contender | ${algs.map((alg) => `${alg} ops/s (×floor)`).join(' | ')} |`,
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
      const ratio = ratioTo(cells.get(alg)?.get('floor'), cell.median)
      return ratio === undefined
        ? number.format(cell.median)
        : `${number.format(cell.median)} (${times(ratio)})`
    })
    lines.push(`| ${contender.label} | ${row.join(' | ')} |`)
  }
  if (noisiest.id) {
    lines.push(
      '',
      `Largest round-to-round spread (max − min) / median: ${(noisiest.spread * 100).toFixed(0)}% ` +
        `(${noisiest.id}, ${noisiest.alg}).`,
    )
  }
  return lines.join('\n')
}

const SERIAL_TARGET = { RS256: 0.85, PS256: 0.85, ES256: 0.95, EdDSA: 0.95 }
const CONCURRENT_TARGET = 1.5

function verdict(pass) {
  return pass ? 'PASS' : 'MISS'
}

/** "by 7%" for a miss: how far below the target the value is, relative to the target. */
function shortfall(value, target) {
  return value >= target ? '' : ` (short by ${(((target - value) / target) * 100).toFixed(0)}%)`
}

/**
 * The speed targets, evaluated on `results` (workload → alg → Map).
 * Returns `{ line, pass }[]`; cells that were not measured are skipped, and so is the concurrent target
 * when `clock` is 'cpu'.
 */
export function evaluateTargets(results, contenders, clock = 'wall') {
  const peers = contenders.filter((c) => c.kind === 'peer').map((c) => c.id)
  const out = []
  for (const [alg, cells] of results.get('serial') ?? []) {
    const floor = cells.get('floor')
    const gatehouse = cells.get('gatehouse')
    if (!floor || !gatehouse) continue
    const ratio = gatehouse.median / floor.median
    const target = SERIAL_TARGET[alg]
    out.push({
      pass: ratio >= target,
      line: `serial ${alg}: gatehouse ${times(ratio)} floor, target ≥ ${target}×${shortfall(ratio, target)}`,
    })
    const best = peers
      .map((id) => [id, cells.get(id)])
      .filter(([, cell]) => cell)
      .sort((a, b) => b[1].median - a[1].median)[0]
    if (best) {
      const [id, cell] = best
      out.push({
        pass: gatehouse.median > cell.median,
        line: `serial ${alg}: ahead of every peer — best peer ${id} at ${times(cell.median / floor.median)}`,
      })
    }
  }
  // Per CPU second, work spread over cores is not faster, so the concurrent target needs the wall clock.
  for (const [alg, cells] of clock === 'wall' ? (results.get('concurrent') ?? []) : []) {
    const floor = cells.get('floor')
    // The target is for the asynchronous (thread-pool) path, which is opt-in; the default is synchronous.
    const id = cells.get('gatehouse-offload') ? 'gatehouse-offload' : 'gatehouse'
    const gatehouse = cells.get(id)
    if (!floor || !gatehouse) continue
    const ratio = gatehouse.median / floor.median
    out.push({
      pass: ratio >= CONCURRENT_TARGET,
      line:
        `concurrent ${alg}: ${id} ${times(ratio)} the one-thread floor, ` +
        `target ≥ ${CONCURRENT_TARGET}×${shortfall(ratio, CONCURRENT_TARGET)}`,
    })
  }
  for (const [alg, cells] of results.get('repeated') ?? []) {
    const floor = cells.get('floor')
    const cached = cells.get('gatehouse-cache')
    const peer = cells.get('fast-jwt-cache')
    if (!floor || !cached || !peer) continue
    out.push({
      pass: cached.median > peer.median,
      line:
        `repeated ${alg}: gatehouse cache ${times(cached.median / floor.median)} floor, ` +
        `ahead of fast-jwt cache ${times(peer.median / floor.median)}`,
    })
  }
  return out
}

/** The targets as printable lines, each with its PASS/MISS. */
export function targetLines(targets) {
  return targets.map((t) => `- ${verdict(t.pass)}  ${t.line}`)
}

const micros = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })

/** µs of CPU per operation from an ops-per-CPU-second summary, or undefined. */
function perOp(rate) {
  return rate ? 1e6 / rate.median : undefined
}

/**
 * Where each contender's time goes in one workload: µs of CPU per verification on the event loop (main
 * thread) and on all threads. `measured` maps alg → Map(contender id → { wall, cpu, main }); returns null
 * when the main thread's CPU time was not measured (not Linux).
 */
export function costTable(workload, contenders, algs, measured) {
  const rows = contenders.filter((c) => algs.some((alg) => measured.get(alg)?.get(c.id)?.main))
  if (rows.length === 0) return null
  const lines = [
    `### CPU per verification, ${WORKLOAD_TITLES[workload].toLowerCase()} (µs: event loop / all threads)`,
    '',
    `| contender | ${algs.join(' | ')} |`,
    `| --- | ${algs.map(() => '---:').join(' | ')} |`,
  ]
  for (const contender of rows) {
    const row = algs.map((alg) => {
      const cell = measured.get(alg)?.get(contender.id)
      const main = perOp(cell?.main)
      const all = perOp(cell?.cpu)
      return main === undefined || all === undefined ? '–' : `${micros.format(main)} / ${micros.format(all)}`
    })
    lines.push(`| ${contender.label} | ${row.join(' | ')} |`)
  }
  return lines.join('\n')
}

/**
 * `offload: true` against the synchronous path, per workload and algorithm, from one run: both as ratios
 * to the floor on the report's clock, and (concurrent workload) the rate `cores` idle cores would allow
 * given the measured CPU costs: min(1 / event-loop cost, cores / all-threads cost), a bound that other
 * processes on the machine barely move. Returns `{ pass, line }[]`; `pass` is "offload ahead" (concurrent).
 */
export function offloadLines(results, measured, cores, clock = 'wall') {
  const out = []
  for (const workload of ['serial', 'concurrent']) {
    for (const [alg, cells] of results.get(workload) ?? []) {
      const floor = cells.get('floor')
      const sync = cells.get('gatehouse')
      const offload = cells.get('gatehouse-offload')
      if (!floor || !sync || !offload) continue
      const ratio = offload.median / sync.median
      let line =
        `${workload} ${alg}: offload ${times(offload.median / floor.median)} floor, synchronous ` +
        `${times(sync.median / floor.median)} floor: offload ÷ synchronous = ${times(ratio)}`
      const cost = measured.get(workload)?.get(alg)
      const bound = (id) => {
        const cell = cost?.get(id)
        const main = perOp(cell?.main)
        const all = perOp(cell?.cpu)
        return main === undefined || all === undefined
          ? undefined
          : { main, all, rate: 1e6 / Math.max(main, all / cores) }
      }
      const [a, b] = [bound('gatehouse-offload'), bound('gatehouse')]
      if (workload === 'concurrent' && a && b) {
        line +=
          `; CPU per verification ${micros.format(a.main)} / ${micros.format(a.all)} µs (event loop / all ` +
          `threads) against ${micros.format(b.main)} / ${micros.format(b.all)} µs; bound on ${cores} idle cores ` +
          `${number.format(a.rate)} against ${number.format(b.rate)} ops/s (${times(a.rate / b.rate)})`
      }
      out.push({ pass: workload !== 'concurrent' || clock !== 'wall' ? null : ratio > 1, line })
    }
  }
  return out
}
