// The contract app (examples/web/app.ts) as a Worker, for workerd: `node examples/web/workerd.js` bundles
// this file and runs it on workerd (through Miniflare). A Worker has no `process`: its GATEHOUSE_*
// variables arrive as bindings, the `env` of each request, and it may not fetch at start-up (global
// scope), so the gate is built and its key set loaded on the first request.
import { contractApp } from '../dist/web/app.js'

/** The app, once its key set is loaded; kept for the isolate's life. */
let started

export default {
  async fetch(request, env) {
    started ??= start(env).catch((error) => {
      started = undefined // the next request tries again
      throw error
    })
    let app
    try {
      app = await started
    } catch (error) {
      console.error(`the Worker cannot serve: ${error instanceof Error ? error.message : error}`)
      return Response.json({ error: 'temporarily_unavailable' }, { status: 503 })
    }
    return app.fetch(request)
  },
}

/** Like the other entries before they listen: a wrong issuer or key set is reported here. */
async function start(env) {
  const app = contractApp(env)
  try {
    await app.gate.warmUp()
  } catch (error) {
    app.gate.close()
    throw error
  }
  return app
}
