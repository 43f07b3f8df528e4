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
  /** Start the example listening on 127.0.0.1 and trusting `env`'s issuer. */
  start(env: ExampleEnv): Promise<RunningExample>
}

/**
 * `node examples/{dir}/server.js` with the issuer's variables and `PORT=0`: the example listens on a
 * free port and logs it in its ready line, so no port is guessed and none can be taken meanwhile.
 */
export function nodeExample(name: string, script = `examples/${name}/server.js`): ExampleDescriptor {
  return {
    name,
    start: (env) => startProcess({ command: process.execPath, args: [script], env: { ...env, PORT: '0' } }),
  }
}

export const examples: readonly ExampleDescriptor[] = [
  nodeExample('express'),
  nodeExample('fastify'),
  nodeExample('node'),
  nodeExample('web'),
  nodeExample('hono'),
  nodeExample('nestjs', 'examples/nestjs/dist/main.js'),
]
