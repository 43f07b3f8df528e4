/**
 * The server processes: started pinned to one core (`taskset`), tracked, and killed on every way out of
 * the parent (normal end, error, SIGINT, SIGTERM). Also reads a child's CPU time from /proc, so that the
 * report can give the server's CPU cost per request, which other load on the machine barely changes.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { whenReady } from '../lib/ready-line.js'

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url))
const READY_TIMEOUT_MS = 60_000 // servers start while tokens are minted; a busy machine needs long
const live = new Set()

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** Path to taskset, or null when it is missing (servers then run unpinned; the report says so). */
export const TASKSET = which('taskset')

/** Clock ticks per second for /proc/<pid>/stat (almost always 100). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU seconds (user + system, all threads) a process has used so far, or null where /proc is missing.
 * Fields 14 and 15 of /proc/<pid>/stat, counted after the command name, which may contain spaces.
 */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}

/**
 * CPU seconds the main thread (the event loop) of a process has used so far, from Linux's per-thread
 * schedstat (nanoseconds); null where it is missing. With `cpuSeconds` it tells work on the event loop from
 * work on other threads (libuv's pool, workers).
 */
export function mainThreadSeconds(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9
  } catch {
    return null
  }
}

/** Pin this process, all its threads, to `cpu` (the load generator's core). Returns false without taskset. */
export function pinSelf(cpu) {
  if (!TASKSET) return false
  execFileSync(TASKSET, ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' })
  return true
}

/**
 * Start `server.js <framework> <setup>` on the cores `cpu` (a taskset list: `0`, `0,1`). Resolves with
 * `{ port, pid, stop() }` once it prints its port; rejects with its stderr if it exits or stays silent for
 * 60 s. With `profileDir`, the server writes a V8 CPU profile `<framework>-<setup>.cpuprofile` there when
 * it stops.
 */
export function startServer(framework, setup, env, cpu, profileDir) {
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${framework}-${setup}.cpuprofile`]
    : []
  const args = [...profile, SERVER, framework, setup]
  const child = TASKSET
    ? spawn(TASKSET, ['-c', String(cpu), process.execPath, ...args], { env: { ...process.env, ...env } })
    : spawn(process.execPath, args, { env: { ...process.env, ...env } })
  live.add(child)
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  child.once('exit', () => live.delete(child))

  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      // A profiling server needs longer to write its profile.
      const timer = setTimeout(() => child.kill('SIGKILL'), profileDir ? 10_000 : 1000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill('SIGTERM')
    })

  return new Promise((resolve, reject) => {
    const failed = (why) => {
      child.kill('SIGKILL')
      reject(new Error(`${framework}/${setup} server ${why}${stderr ? `:\n${stderr.trim()}` : ''}`))
    }
    whenReady(
      child,
      READY_TIMEOUT_MS,
      ({ port }) => {
        child.once('exit', () => live.delete(child))
        resolve({ port, pid: child.pid, stop, stderr: () => stderr })
      },
      failed,
    )
  })
}

/** SIGKILL every server still running. Synchronous, so it also works from an 'exit' handler. */
export function killAll() {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

/** Kill the servers however the parent ends; a signal ends the run with the conventional exit code. */
export function killOnExit() {
  process.once('exit', killAll)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.once(signal, () => {
      process.stderr.write(`\nbench:http: ${signal}, stopping the servers\n`)
      killAll()
      process.exit(code)
    })
  }
}
