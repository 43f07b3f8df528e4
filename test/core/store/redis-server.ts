/**
 * A real Redis for the store tests: `REDIS_URL` when set, otherwise a throw-away `redis-server` started
 * on a free port of 127.0.0.1 (no persistence), stopped by `stop()`. Without either the tests are
 * skipped with a loud message, except under `CI`, where that is a failure (.ci/redis.sh installs the
 * server).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'

export interface TestRedis {
  url: string
  /** Stops the server this helper started; nothing for REDIS_URL. */
  stop(): Promise<void>
}

/** Whether a Redis can be had, and if not, why (for the skip message). */
export function redisAvailability(): { available: true } | { available: false; why: string } {
  if (process.env.REDIS_URL) return { available: true }
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.status === 0) return { available: true }
  const why = 'neither REDIS_URL nor a redis-server on PATH (bash .ci/redis.sh installs it)'
  if (process.env.CI) throw new Error(`Redis store tests cannot run under CI: ${why}`)
  console.warn(`\n!!! Redis store tests SKIPPED: ${why} !!!\n`)
  return { available: false, why }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
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

export async function startRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} }
  // The free port may be taken between the probe and the server's bind (other test files run at the
  // same time): a second and third try on other ports.
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
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
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
