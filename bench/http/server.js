/**
 * One benchmark server, run as its own process (pinned to one core by the parent):
 *
 *   node bench/http/server.js <framework> <setup>
 *
 * Configuration from BENCH_ISSUER, BENCH_AUDIENCE and BENCH_JWKS_URL (and BENCH_INTROSPECTION_URL for the
 * opaque-token setups). Listens on 127.0.0.1, a free port,
 * and prints one JSON line `{"port":N}` once it accepts requests. SIGTERM closes it; the parent kills it
 * with SIGKILL if it takes longer than a second.
 */
import { FRAMEWORKS, SETUPS } from './setups.js'

const [framework, setup] = process.argv.slice(2)
if (!SETUPS.some((s) => s.framework === framework && s.id === setup)) {
  process.stderr.write(`usage: node bench/http/server.js <${FRAMEWORKS.join('|')}> <setup>\n`)
  process.exit(2)
}
const config = {
  issuer: process.env.BENCH_ISSUER,
  audience: process.env.BENCH_AUDIENCE,
  jwksUri: process.env.BENCH_JWKS_URL,
}
for (const [name, value] of Object.entries(config)) {
  if (!value) {
    process.stderr.write(`bench server: ${name} missing (set BENCH_ISSUER, BENCH_AUDIENCE, BENCH_JWKS_URL)\n`)
    process.exit(2)
  }
}
config.introspectionUrl = process.env.BENCH_INTROSPECTION_URL
if (setup === 'gatehouse-opaque' && !config.introspectionUrl) {
  process.stderr.write('bench server: BENCH_INTROSPECTION_URL missing for gatehouse-opaque\n')
  process.exit(2)
}

const { start } = await import(`./apps/${framework}.js`)
const server = await start(setup, config)
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`)

process.once('SIGTERM', () => {
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
// The parent's end of stdin closes when the parent dies, even by SIGKILL: never outlive it.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
