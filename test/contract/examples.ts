/**
 * The examples the adapter contract suite runs against. Adding an adapter's example is one entry here;
 * see README.md for what an example must do.
 */
import { startProcess } from './process.js'

/** What the suite passes to every example: the dev issuer it must trust. */
export interface ExampleEnv {
  GATEHOUSE_ISSUER: string
  GATEHOUSE_AUDIENCE: string
  GATEHOUSE_JWKS_URL: string
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

export const examples: readonly (ExampleDescriptor & { script: string })[] = [
  nodeExample('express', { levels: true }),
  nodeExample('fastify', { levels: true }),
  nodeExample('node', { levels: false }),
  nodeExample('web', { levels: false }),
  nodeExample('hono', { levels: true }),
  nodeExample('nestjs', { script: 'examples/nestjs/dist/main.js', levels: true }),
]
