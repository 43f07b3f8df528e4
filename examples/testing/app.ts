// The app under test in app.test.ts: an Express app whose routes Gatehouse protects. The gate comes from
// outside, so production passes `createGate(optionsFromEnv())` and a test passes one that trusts a
// development issuer.
import express from 'express'
import type { Gate } from 'gatehouse'
import { authenticate, authOf, errorHandler, requireScopes } from 'gatehouse/express'

export function createApp(gate: Gate) {
  const app = express()
  app.use(express.json())
  app.get('/api/messages', authenticate(gate), requireScopes('read:messages'), (req, res) => {
    res.json([{ text: 'hello', to: authOf(req).claims.sub }])
  })
  app.post('/api/messages', authenticate(gate), requireScopes('write:messages'), (req, res) => {
    res.status(201).json({ text: req.body.text, from: authOf(req).claims.sub })
  })
  app.use(errorHandler())
  return app
}
