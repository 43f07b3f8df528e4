/**
 * A token introspection endpoint (RFC 7662 §2) for the benchmarks: node:http on 127.0.0.1, the client
 * authenticated with `client_secret_basic`, one fixed `active: true` answer for every token except a few
 * marked ones (the sanity cases). It counts the calls it answers, so that a report can say how many
 * requests reached it.
 *
 * In process (`startIntrospectionEndpoint`: the HTTP benchmark's parent), or in a process of its own
 * (`spawnIntrospectionEndpoint`: `npm run bench`, whose latencies would otherwise include the endpoint's
 * own work on the same event loop): `node bench/lib/introspection-endpoint.js` prints `{"port":N}` and
 * answers `GET /calls` with its count.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { whenReady } from './ready-line.js'
import { AUDIENCE, ISSUER } from './tokens.js'

export const INTROSPECTION_PATH = '/oauth2/introspect'
/** This API's client at the authorization server. */
export const CLIENT_ID = 'bench-api'
export const CLIENT_SECRET = 'bench-introspection-secret'
/** The `sub` of every active answer: what a server echoes for an opaque token. */
export const OPAQUE_SUB = 'bench|opaque-user'

const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`
const FILE = fileURLToPath(import.meta.url)

/**
 * Tokens the endpoint answers otherwise, for the sanity cases: inactive, or active with another `aud`,
 * another `iss`, an `exp` an hour ago. Every other token gets the fixed answer.
 */
export const MARKED = {
  inactive: 'inactive-',
  otherAudience: 'other-aud-',
  otherIssuer: 'other-iss-',
  expired: 'expired-',
}

/**
 * An opaque access token: 256 random bits in base64url, 43 characters (the dev issuer's shape). It never
 * starts with `eyJ` and a dot: the gate sends it to the endpoint, never to the JWT verifier.
 */
export function opaqueToken(prefix = '') {
  return `${prefix}${randomBytes(32).toString('base64url')}`
}

/** The answers, as bytes ready to send; `exp` an hour after the endpoint starts. */
function answers() {
  const now = Math.floor(Date.now() / 1000)
  const active = {
    active: true,
    iss: ISSUER,
    sub: OPAQUE_SUB,
    aud: AUDIENCE,
    client_id: 'bench-client-4f2a9c',
    scope: 'openid profile read:orders write:orders',
    token_type: 'Bearer',
    iat: now,
    exp: now + 3600,
  }
  const json = (value) => Buffer.from(JSON.stringify(value))
  return {
    active: json(active),
    [MARKED.inactive]: json({ active: false }),
    [MARKED.otherAudience]: json({ ...active, aud: 'https://other-api.example.com' }),
    [MARKED.otherIssuer]: json({ ...active, iss: 'https://evil.example.com/' }),
    [MARKED.expired]: json({ ...active, iat: now - 7200, exp: now - 3600 }),
  }
}

/** The request handler, and its call count. */
function handler() {
  const bodies = answers()
  const marked = Object.values(MARKED)
  const state = { calls: 0 }
  state.handle = (req, res) => {
    if (req.method === 'GET' && req.url === '/calls') return res.end(String(state.calls))
    if (req.method !== 'POST' || req.url !== INTROSPECTION_PATH) return res.writeHead(404).end()
    state.calls++
    let form = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      form += chunk
    })
    req.on('end', () => {
      // RFC 6749 §2.3.1: a client that does not authenticate gets 401 invalid_client.
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic' })
        return res.end('{"error":"invalid_client"}')
      }
      const token = new URLSearchParams(form).get('token') ?? ''
      const prefix = marked.find((p) => token.startsWith(p))
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(prefix === undefined ? bodies.active : bodies[prefix])
    })
  }
  return state
}

async function listen(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return `http://127.0.0.1:${server.address().port}${INTROSPECTION_PATH}`
}

/** In this process. Resolves with `{ url, calls(), close() }` once listening; `calls()` is a number. */
export async function startIntrospectionEndpoint() {
  const state = handler()
  const server = createServer(state.handle)
  // Servers that keep their connections: no idle timeout cutting a keep-alive connection mid-run.
  server.keepAliveTimeout = 60_000
  const url = await listen(server)
  return {
    url,
    calls: () => state.calls,
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * In a child process. Resolves with `{ url, calls(), close() }` once it listens; `calls()` resolves with
 * the count. The child is killed when this process exits, however it exits, and exits when its stdin
 * closes.
 */
export function spawnIntrospectionEndpoint() {
  const child = spawn(process.execPath, [FILE], { stdio: ['pipe', 'pipe', 'pipe'] })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-2000)
  })
  return new Promise((resolve, reject) => {
    const failed = (why) => {
      kill()
      reject(new Error(`introspection endpoint ${why}${stderr ? `: ${stderr.trim()}` : ''}`))
    }
    whenReady(
      child,
      30_000,
      ({ url }) => {
        const origin = new URL(url).origin
        resolve({
          url,
          calls: async () => Number(await (await fetch(`${origin}/calls`)).text()),
          close: () =>
            new Promise((done) => {
              process.off('exit', kill)
              if (child.exitCode !== null || child.signalCode !== null) return done()
              child.once('exit', done)
              child.kill('SIGTERM')
            }),
        })
      },
      failed,
    )
  })
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const state = handler()
  const server = createServer(state.handle)
  server.keepAliveTimeout = 60_000
  const url = await listen(server)
  process.stdout.write(`${JSON.stringify({ url })}\n`)
  process.once('SIGTERM', () => process.exit(0))
  // The parent's end of stdin closes when the parent dies, even by SIGKILL: never outlive it.
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
}
