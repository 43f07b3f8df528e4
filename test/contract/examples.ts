/**
 * The examples the adapter contract suite runs against. Adding an adapter's example is one entry here;
 * see README.md for what an example must do.
 */
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { ROOT, type StartOptions, startProcess } from './process.js'

/**
 * What the suite passes to every example: the dev issuer it must trust, and any other GATEHOUSE_*
 * variable a set of cases needs (GATEHOUSE_DPOP and its companions in dpop.contract.test.ts;
 * GATEHOUSE_RESOURCE instead of GATEHOUSE_AUDIENCE in rfc9728.contract.test.ts).
 */
export interface ExampleEnv {
  GATEHOUSE_ISSUER: string
  GATEHOUSE_JWKS_URL: string
  [variable: `GATEHOUSE_${string}`]: string
}

export interface RunningExample {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string
  /** Stop it (bounded); resolves once it is gone. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface ExampleDescriptor {
  /** Shown in test names, e.g. `express`. */
  name: string
  /**
   * Whether the framework has two levels of rules (router or class, then route or handler), and the
   * example serves the contract's `/api/reports/admin` with them.
   */
  levels: boolean
  /** Start the example listening on 127.0.0.1 and trusting `env`'s issuer. */
  start(env: ExampleEnv): Promise<RunningExample>
}

/**
 * `node <script>` (by default `examples/dist/{name}/contract.js`, compiled from
 * `examples/{name}/contract.ts` by `npm run build`) with the issuer's variables and `PORT=0`: the example
 * listens on a free port and logs it in its ready line, so no port is guessed and none can be taken meanwhile.
 */
export function nodeExample(
  name: string,
  options: { script?: string; levels: boolean },
): ExampleDescriptor & { script: string } {
  const script = options.script ?? `examples/dist/${name}/contract.js`
  return {
    name,
    levels: options.levels,
    script,
    start: (env) => startProcess({ command: process.execPath, args: [script], env: { ...env, PORT: '0' } }),
  }
}

/** How each runtime starts the web example's entry for it; every one serves examples/web/app.ts. */
const WEB_RUNTIMES: Record<
  'bun' | 'deno' | 'workerd',
  Pick<StartOptions, 'command' | 'args' | 'readyTimeoutMs'>
> = {
  bun: { command: join(ROOT, 'node_modules', '.bin', 'bun'), args: ['examples/web/bun.js'] },
  deno: {
    command: join(ROOT, 'node_modules', '.bin', 'deno'),
    args: ['run', '--allow-net=127.0.0.1', '--allow-env', 'examples/web/deno.js'],
  },
  // Miniflare runs the Worker on workerd, with the variables as bindings; it is driven from Node. Loading
  // Miniflare, bundling and starting workerd take seconds: on a busy machine, longer than the default 20 s.
  workerd: { command: process.execPath, args: ['examples/web/workerd.js'], readyTimeoutMs: 45_000 },
}

/**
 * The web example on another runtime than Node: `web-bun`, `web-deno`, `web-workerd`. The same handler
 * (examples/web/app.ts, compiled to examples/dist/web/app.js) as the `web` example, served by that
 * runtime's entry in examples/web. The runtimes are devDependencies (bun, deno, miniflare): `npm ci`
 * installs them.
 */
export function webRuntimeExample(
  runtime: keyof typeof WEB_RUNTIMES,
): ExampleDescriptor & { script: string } {
  const { command, args, readyTimeoutMs } = WEB_RUNTIMES[runtime]
  return {
    name: `web-${runtime}`,
    levels: false,
    script: 'examples/dist/web/app.js',
    start: (env) => startProcess({ command, args, env: { ...env, PORT: '0' }, readyTimeoutMs }),
  }
}

export const examples: readonly (ExampleDescriptor & { script: string })[] = [
  nodeExample('express', { levels: true }),
  nodeExample('fastify', { levels: true }),
  nodeExample('node', { levels: false }),
  nodeExample('web', { levels: false }),
  webRuntimeExample('bun'),
  webRuntimeExample('deno'),
  webRuntimeExample('workerd'),
  nodeExample('hono', { levels: true }),
  nodeExample('nestjs', { script: 'examples/nestjs/dist/main.js', levels: true }),
]

/**
 * Start every example (at most one per core plus one at a time, since each is a process that builds its
 * app), keeping each that runs in `running` so that the file's `afterAll` stops it even when another
 * failed; then throw naming every failure.
 */
export async function startAll(
  starts: { key: string; start: () => Promise<RunningExample> }[],
  running: Map<string, RunningExample>,
): Promise<void> {
  const started = await settledAtMost(
    availableParallelism() + 1,
    starts.map(({ start }) => start),
  )
  started.forEach((result, i) => {
    if (result.status === 'fulfilled') running.set(starts[i]!.key, result.value)
  })
  const failed = started.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []))
  if (failed.length > 0) throw new Error(`examples failed to start:\n${failed.join('\n')}`)
}

/** `Promise.allSettled` of `tasks`, running at most `limit` at a time, results in the tasks' order. */
async function settledAtMost<T>(
  limit: number,
  tasks: (() => Promise<T>)[],
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = []
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!().then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      )
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}
