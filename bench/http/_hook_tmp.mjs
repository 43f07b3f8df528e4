import Fastify from 'fastify'
const app = Fastify()
const variant = process.argv[2]
async function inner(x) { return { claims: { sub: x } } }
async function middle(x) { const v = await inner(x); return v }
if (variant === 'async3') app.addHook('onRequest', async (request) => { request.claims = (await middle('a')).claims })
if (variant === 'async0') app.addHook('onRequest', async (request) => { request.claims = { sub: 'a' } })
if (variant === 'cb') app.addHook('onRequest', (request, reply, done) => { request.claims = { sub: 'a' }; done() })
import { createServer } from 'node:http'
const jw = createServer((q, s) => s.end('{"keys":[]}')).listen(0, '127.0.0.1')
await new Promise((r) => jw.once('listening', r))
const url = `http://127.0.0.1:${jw.address().port}/`
let fetched = null
if (variant === 'fetchstart') fetched = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text()
if (variant === 'fetchlazy' || variant === 'fetchstart') app.addHook('onRequest', async (request) => { fetched ??= await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text(); request.claims = (await middle('a')).claims })
app.get('/protected', async (request) => ({ message: 'This is a protected message!', sub: 'anonymous' }))
await app.listen({ port: 0, host: '127.0.0.1' })
console.log(JSON.stringify({ port: app.server.address().port }))
process.on('SIGTERM', () => process.exit(0))
