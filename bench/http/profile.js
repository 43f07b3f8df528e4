/**
 * Where a benchmark server's time goes: a summary of a V8 CPU profile written with
 * `node bench/http.js --profile DIR` (or any `node --cpu-prof` run).
 *
 *   node bench/http/profile.js FILE.cpuprofile [--requests N] [--skip S] [--top 25] [--match verify,check]
 *
 * Prints self time by origin (gatehouse, each package under node_modules, node internals, GC, native),
 * the functions with the most self time, and the inclusive time of the functions named in --match.
 * With --requests N (the requests the server answered while profiled: see the --json output), times
 * are also given in µs per request. --skip S leaves out the first S seconds (start-up, module loading).
 * Idle time is left out of every share.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string' },
    skip: { type: 'string', default: '0' },
    top: { type: 'string', default: '25' },
    match: { type: 'string', default: '' },
  },
})
if (positionals.length !== 1) {
  process.stderr.write(
    'usage: node bench/http/profile.js FILE.cpuprofile [--requests N] [--skip S] [--top N] [--match a,b]\n',
  )
  process.exit(1)
}

const profile = JSON.parse(readFileSync(positionals[0], 'utf8'))
const requests = values.requests ? Number(values.requests) : undefined
const byId = new Map(profile.nodes.map((node) => [node.id, { ...node, self: 0 }]))
const parent = new Map()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

// Each sample's time is the delta to the next sample (V8 records the delta before each sample).
const skipMicros = Number(values.skip) * 1e6
let at = 0
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i]
  if (at < skipMicros) continue
  byId.get(profile.samples[i]).self += profile.timeDeltas[i + 1] ?? 0
}

/** Which code a frame belongs to, from its script URL. */
function origin({ url, functionName }) {
  if (!url)
    return functionName === '(garbage collector)'
      ? 'GC'
      : functionName.startsWith('(')
        ? functionName
        : 'native'
  if (url.startsWith('node:')) return 'node internals'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg) return pkg[1]
  if (/\/dist\//.test(url) || /\/src\//.test(url)) return 'gatehouse'
  if (/\/bench\//.test(url)) return 'bench app'
  return url
}

/** The script URL from the repository root on: node_modules/jose/dist/…, dist/core/verify.js. */
function shortUrl(url) {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/')
}

const IDLE = new Set(['(idle)'])
let busy = 0
const origins = new Map()
const functions = new Map()
for (const node of byId.values()) {
  const { callFrame } = node
  if (callFrame.functionName === '(idle)') continue
  busy += node.self
  const o = origin(callFrame)
  origins.set(o, (origins.get(o) ?? 0) + node.self)
  const name = `${callFrame.functionName || '(anonymous)'} ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`
  functions.set(name, (functions.get(name) ?? 0) + node.self)
}

const us = (micros) =>
  requests ? `${(micros / requests).toFixed(1)} µs/req` : `${(micros / 1000).toFixed(0)} ms`
const pct = (micros) => `${((micros / busy) * 100).toFixed(1)}%`
const sorted = (map) => [...map].sort((a, b) => b[1] - a[1])

console.log(`busy (not idle): ${(busy / 1000).toFixed(0)} ms${requests ? `, ${us(busy)}` : ''}`)
console.log('\nself time by origin:')
for (const [name, micros] of sorted(origins))
  console.log(`  ${pct(micros).padStart(6)}  ${us(micros).padStart(14)}  ${name}`)
console.log(`\ntop ${values.top} functions by self time:`)
for (const [name, micros] of sorted(functions).slice(0, Number(values.top)))
  console.log(`  ${pct(micros).padStart(6)}  ${us(micros).padStart(14)}  ${name}`)

// Inclusive time: a sample counts once for a function however deep the recursion.
const patterns = values.match
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
if (patterns.length) {
  console.log('\ninclusive time of matching functions:')
  const inclusive = new Map()
  for (const node of byId.values()) {
    if (node.self === 0 || IDLE.has(node.callFrame.functionName)) continue
    const seen = new Set()
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const { callFrame } = byId.get(id)
      const name = `${callFrame.functionName} ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`
      if (!patterns.some((p) => callFrame.functionName === p) || seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + node.self)
    }
  }
  for (const [name, micros] of sorted(inclusive))
    console.log(`  ${pct(micros).padStart(6)}  ${us(micros).padStart(14)}  ${name}`)
}
