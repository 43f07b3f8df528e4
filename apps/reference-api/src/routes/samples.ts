/**
 * The samples' endpoints, with their exact bodies: AuthAction's Django and Flask samples
 * (`/public`, `/protected`) and Auth0's Django API sample (`/api/public`, `/api/private`, `/api/private-scoped`).
 */
import type { FastifyInstance } from 'fastify'
import { subOf } from '../principal.js'

export function sampleRoutes(app: FastifyInstance): void {
  // AuthAction's Django sample: everything is protected unless marked public, so public routes say `access: 'public'`.
  app.get('/public', { config: { access: 'public' } }, async () => ({ message: 'This is a public message!' }))
  app.get('/protected', async (request) => ({
    message: 'This is a protected message!',
    sub: subOf(request),
  }))

  app.get('/api/public', { config: { access: 'public' } }, async () => ({
    message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
  }))
  app.get('/api/private', async () => ({
    message: 'Hello from a private endpoint! You need to be authenticated to see this.',
  }))
  app.get('/api/private-scoped', { config: { access: { scopes: 'read:messages' } } }, async () => ({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
  }))
}
