/**
 * A throw-away `redis-server` on a free port of 127.0.0.1 (no persistence), for the tests that share DPoP
 * replay records between instances; `stop()` ends it, so a test can also see what an outage does. Without
 * `redis-server` on PATH those tests are skipped with a loud message, except under `CI`, where that is a
 * failure (.ci/redis.sh installs the server).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'

export interface TestRedis {
  /** `redis://127.0.0.1:{port}`. */
  url: string
  /** Stops the server (SIGTERM) and waits for its exit. Idempotent. */
  stop(): Promise<void>
}

/** Whether `redis-server` can be started here; logs a loud warning when it cannot, throws under CI. */
export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.status === 0) return true
  const why = 'no redis-server on PATH (bash .ci/redis.sh installs it)'
  if (process.env.CI) throw new Error(`the shared-Redis DPoP tests cannot run under CI: ${why}`)
  console.warn(`\n!!! reference API tests with Redis SKIPPED: ${why} !!!\n`)
  return false
}

/** A port that was free a moment ago on 127.0.0.1 (nothing listens on it now). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Start a server; a port taken between the probe and the bind (other files run at once) is tried again. */
export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort())
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
}

async function startOn(port: number): Promise<TestRedis> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const exited = once(child, 'exit')
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  try {
    const deadline = Date.now() + 10_000
    while (!(await pings(port, 500))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on 127.0.0.1:${port}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `redis://127.0.0.1:${port}`, stop }
}

/** Answers PING with PONG within `ms`? */
async function pings(port: number, ms: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1')
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms)
      socket.on('error', () => {
        clearTimeout(timer)
        resolve(false)
      })
      socket.on('connect', () => socket.write('PING\r\n'))
      socket.on('data', (data) => {
        clearTimeout(timer)
        resolve(data.toString().startsWith('+PONG'))
      })
    })
  } finally {
    socket.destroy()
  }
}
