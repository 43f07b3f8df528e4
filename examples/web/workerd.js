// Runs the Worker (examples/web/worker.js) on workerd, through Miniflare, with the GATEHOUSE_* variables
// of this process as its bindings: `npm run build`, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=8787 node examples/web/workerd.js
// The Worker is bundled with esbuild for Workers' package conditions, as wrangler does; a `node:` import
// would fail the bundle, since no nodejs_compat flag is set.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const { outputFiles } = await build({
  entryPoints: [fileURLToPath(new URL('./worker.js', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  write: false,
  logLevel: 'warning',
})
const bindings = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name.startsWith('GATEHOUSE_')),
)
const mf = new Miniflare({
  modules: true,
  script: outputFiles[0].text,
  compatibilityDate: '2026-04-01', // no nodejs_compat flag: only Web APIs, as a Worker has by default
  bindings,
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 8787),
})
const url = await mf.ready

// The Worker loads its key set on its first request: make that request now, so a wrong issuer or key set
// stops the start here, as it does for the other entries.
const first = await fetch(new URL('/public', url))
if (first.status !== 200) {
  console.error(`the Worker answered ${first.status} to its first request: ${await first.text()}`)
  await mf.dispose()
  process.exit(1)
}
await first.arrayBuffer()
console.log(`web example (workerd) listening on http://127.0.0.1:${url.port}`)
// First in line: Miniflare's own SIGTERM handler exits with 143. Its exit hook stops workerd.
process.prependOnceListener('SIGTERM', () => process.exit(0))
