/**
 * `npm run bench:runtimes`: Gatehouse's verifier on Node, Bun, Deno and workerd, each against that
 * runtime's raw `crypto.subtle.verify` (bench/lib/runtime-measure.js). Every runtime runs in its own
 * process: Node, Bun and Deno twice, once on Gatehouse's default signature path (node:crypto, which all
 * three provide) and once on its Web-only path (WebCrypto, what a Worker gets: `process.getBuiltinModule`
 * hidden before Gatehouse loads); workerd once, through Miniflare, with no `node:` modules at all.
 * Method and results: docs/benchmarks.md, section "Other runtimes".
 *
 *   node bench/runtimes.js [--runtime node,bun,deno,workerd] [--alg RS256,ES256,EdDSA] [--rounds N]
 *                          [--time MS] [--pool N] [--clock cpu|wall] [--json FILE]
 *
 * Markdown goes to stdout, progress to stderr. Nothing leaves the machine: Miniflare's workerd listens on
 * 127.0.0.1 only. Each child is bounded in time (CHILD_TIMEOUT_MS).
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const BIN = (name) => path.join(ROOT, 'node_modules', '.bin', name)
const RUNTIMES = ['node', 'bun', 'deno', 'workerd']
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA']
const CHILD_TIMEOUT_MS = 120_000

// ── child: measure in this process, print one JSON line ─────────────────────────────────────────────

/** CPU milliseconds of this process, all threads (Node, Bun and Deno implement `process.cpuUsage`). */
function processCpu() {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Runs inside `node|bun|deno bench/runtimes.js --child <default|web> <options JSON>`. */
async function child(signaturePath, { clock, ...options }) {
  if (signaturePath === 'web') {
    // What a Worker has: no node:crypto. Gatehouse decides its path when it loads, so hide it first.
    globalThis.process.getBuiltinModule = undefined
  }
  const gatehouse = await import('../dist/index.js')
  const { cryptoRuntime } = await import('../dist/core/crypto/signature.js')
  const { measure } = await import('./lib/runtime-measure.js')
  const result = await measure({ gatehouse, ...options, clock: clock === 'cpu' ? processCpu : undefined })
  process.stdout.write(`${JSON.stringify({ ...result, cryptoPath: cryptoRuntime })}\n`)
}

// ── driver ──────────────────────────────────────────────────────────────────────────────────────────

function fail(message) {
  process.stderr.write(`bench:runtimes: ${message}\n`)
  process.exit(1)
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string', default: RUNTIMES.join(',') },
      alg: { type: 'string', default: ALGORITHMS.join(',') },
      rounds: { type: 'string', default: '5' },
      time: { type: 'string', default: '200' },
      pool: { type: 'string', default: '300' },
      clock: { type: 'string', default: 'cpu' },
      json: { type: 'string' },
    },
  })
  const list = (value, allowed, what) => {
    const items = value.split(',').map((item) => item.trim())
    for (const item of items)
      if (!allowed.includes(item)) fail(`unknown ${what} "${item}" (one of ${allowed})`)
    return items
  }
  const count = (value, name) => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n <= 0) fail(`--${name}: expected a positive integer, got "${value}"`)
    return n
  }
  return {
    runtimes: list(values.runtime, RUNTIMES, 'runtime'),
    measure: {
      algorithms: list(values.alg, ALGORITHMS, 'algorithm'),
      rounds: count(values.rounds, 'rounds'),
      sliceMs: count(values.time, 'time'),
      pool: count(values.pool, 'pool'),
      clock: list(values.clock, ['cpu', 'wall'], 'clock')[0],
    },
    json: values.json,
  }
}

/** Run `command args` and parse the JSON line it prints; bounded by CHILD_TIMEOUT_MS. */
function runChild(command, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (chunk) => {
      out += chunk
    })
    proc.stderr.on('data', (chunk) => {
      err = (err + chunk).slice(-2000)
    })
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    proc.once('error', (error) => reject(new Error(`${command}: ${error.message}`)))
    proc.once('close', (code, signal) => {
      clearTimeout(timer)
      const line = out.trim().split('\n').at(-1)
      if (code === 0 && line) resolve(JSON.parse(line))
      else reject(new Error(`${path.basename(command)} ${args.join(' ')}: exit ${code ?? signal}\n${err}`))
    })
  })
}

/**
 * CPU milliseconds of the workerd process Miniflare started (a child of this one), all its threads, from
 * Linux's schedstat (nanoseconds).
 */
function workerdCpu() {
  const children = readdirSync(`/proc/${process.pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean),
  )
  const pid = children.find((id) => readFileSync(`/proc/${id}/comm`, 'utf8').trim() === 'workerd')
  if (pid === undefined) throw new Error('no workerd process under this one')
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`))
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
  return ns / 1e6
}

/**
 * The measurement inside a Worker on workerd: bundled with esbuild, run by Miniflare, asked once. With the
 * CPU clock the Worker reads workerd's CPU time through a service binding answered here.
 */
async function runWorkerd({ clock, ...options }) {
  const { build } = await import('esbuild')
  const { Miniflare } = await import('miniflare')
  const { outputFiles } = await build({
    stdin: {
      contents: `import * as gatehouse from '../dist/index.js'
import { measure } from './lib/runtime-measure.js'
export default {
  async fetch(request, env) {
    const { clock, ...options } = await request.json()
    const cpu = async () => Number(await (await env.CLOCK.fetch('http://clock/')).text())
    const result = await measure({ gatehouse, ...options, clock: clock === 'cpu' ? cpu : undefined })
    return Response.json({ ...result, cryptoPath: 'webcrypto' })
  },
}`,
      resolveDir: HERE,
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'warning',
  })
  const mf = new Miniflare({
    modules: true,
    script: outputFiles[0].text,
    compatibilityDate: '2026-04-01', // no nodejs_compat: Web APIs only
    serviceBindings: { CLOCK: () => new Response(String(workerdCpu())) },
  })
  try {
    const response = await mf.dispatchFetch('http://127.0.0.1/', {
      method: 'POST',
      body: JSON.stringify({ clock, ...options }),
      signal: AbortSignal.timeout(CHILD_TIMEOUT_MS),
    })
    if (response.status !== 200)
      throw new Error(`workerd answered ${response.status}: ${await response.text()}`)
    return await response.json()
  } finally {
    await mf.dispose()
  }
}

async function version(runtime) {
  if (runtime === 'node') return process.version
  if (runtime === 'workerd') {
    const { createRequire } = await import('node:module')
    const require = createRequire(import.meta.url)
    return `${require('workerd/package.json').version} (miniflare ${require('miniflare/package.json').version})`
  }
  const { stdout } = await new Promise((resolve, reject) => {
    const proc = spawn(BIN(runtime), ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    proc.stdout.on('data', (chunk) => {
      text += chunk
    })
    proc.once('error', reject)
    proc.once('close', () => resolve({ stdout: text }))
  })
  return /\d+\.\d+\.\d+/.exec(stdout)?.[0] ?? stdout.trim()
}

/** The commands that run this file as a child on each runtime. */
function childCommand(runtime, signaturePath, options) {
  const args = [fileURLToPath(import.meta.url), '--child', signaturePath, JSON.stringify(options)]
  if (runtime === 'node') return [process.execPath, args]
  if (runtime === 'bun') return [BIN('bun'), args]
  return [BIN('deno'), ['run', '--allow-read', '--allow-env', ...args]]
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')

async function main() {
  const opts = parseOptions()
  const results = []
  for (const runtime of opts.runtimes) {
    for (const signaturePath of runtime === 'workerd' ? ['web'] : ['default', 'web']) {
      process.stderr.write(`${runtime}, ${signaturePath} signature path…\n`)
      const run =
        runtime === 'workerd'
          ? await runWorkerd(opts.measure)
          : await runChild(...childCommand(runtime, signaturePath, opts.measure))
      if (signaturePath === 'web' && run.cryptoPath !== 'webcrypto')
        fail(`${runtime}: the Web-only run took the ${run.cryptoPath} path`)
      results.push({ runtime, version: await version(runtime), ...run })
    }
  }

  const lines = [
    '| runtime | Gatehouse’s signature path | alg | `subtle.verify` (tokens/s) | Gatehouse (tokens/s) | Gatehouse ÷ `subtle.verify` |',
    '|---|---|---|--:|--:|--:|',
  ]
  const notes = []
  for (const { runtime, version: v, cryptoPath, rows, skipped } of results) {
    const label = cryptoPath === 'node' ? 'node:crypto' : 'WebCrypto'
    for (const row of rows) {
      lines.push(
        `| ${runtime} ${v} | ${label} | ${row.alg} | ${fmt(row.subtle)} | ${fmt(row.gatehouse)} | ${row.ratio.toFixed(2)}× |`,
      )
    }
    for (const reason of skipped) notes.push(`${runtime} (${label}): skipped ${reason}`)
  }
  process.stdout.write(`${[...lines, ...notes.map((note) => `\n${note}`)].join('\n')}\n`)
  if (opts.json) await writeFile(opts.json, JSON.stringify({ options: opts, results }, null, 2))
}

const argv = globalThis.Deno?.args ?? process.argv.slice(2)
if (argv[0] === '--child') {
  await child(argv[1], JSON.parse(argv[2]))
} else {
  await main()
}
