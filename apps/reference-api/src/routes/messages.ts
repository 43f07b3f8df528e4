/**
 * `/api/messages`: reading needs the `read:messages` scope, writing `write:messages`; a message
 * belongs to the `sub` that posted it, and only that `sub` may change or delete it (axioms'
 * owner-or-read-only: any reader may read it).
 *
 * - An id that cannot exist (not a decimal integer 1..2^31-1: `abc`, `1e3`, `-1`, `007`, `99999999999`)
 *   is a 404 like an id that does not exist: either way there is no such resource. Validation is
 *   `parseMessageId` (src/db/messages.ts).
 * - The list is paged (`?limit=&offset=&after=`) with a `Link: <…>; rel="next"` header while more
 *   messages follow (paging.ts).
 * - A body that is not a JSON object with a valid `text` is a 400 (`messageTextProblem`: a string of 1 to
 *   2000 characters without NUL).
 * - The owner check and the write are one transaction (`updateOwnMessage`, `deleteOwnMessage`), so a
 *   concurrent change cannot slip between them; a refusal is the core's 403 `ERR_POLICY_OWNER`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GatehouseError } from 'gatehouse'
import {
  createMessage,
  type Database,
  deleteOwnMessage,
  getMessage,
  messageTextProblem,
  type OwnerWriteResult,
  pageMessages,
  parseMessageId,
  toMessageJson,
  updateOwnMessage,
} from '../db/index.js'
import { badRequest, notFound } from '../errors.js'
import { subOf } from '../principal.js'
import { linkNext, pageOf } from './paging.js'

const read = { config: { access: { scopes: 'read:messages' } } }
const write = { config: { access: { scopes: 'write:messages' } } }
const NO_SUCH_MESSAGE = 'No message with this id'

type WithId = FastifyRequest<{ Params: { id: string } }>

/** The message text of a request body, or why there is none. Never echoes the body. */
export function textOf(body: unknown): { text: string } | { problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problem: 'The body must be a JSON object with a "text" member' }
  }
  if (!Object.hasOwn(body, 'text')) return { problem: '"text" is required' }
  const text = (body as { text: unknown }).text
  const problem = messageTextProblem(text)
  return problem === undefined ? { text: text as string } : { problem }
}

/**
 * The 403 of an owner-only write, as `assertOwner` (src/core/authz/owner.ts) throws it: the data layer
 * made the owner check inside its transaction, and the error must have Gatehouse's one shape.
 */
function notOwner(): GatehouseError {
  return new GatehouseError('ERR_POLICY_OWNER', undefined, { required: { owner: { claim: 'sub' } } })
}

function refused(reply: FastifyReply, result: Exclude<OwnerWriteResult<unknown>, { ok: true }>) {
  if (result.reason === 'forbidden') throw notOwner()
  return notFound(reply, NO_SUCH_MESSAGE)
}

export function messageRoutes(app: FastifyInstance, db: Database): void {
  app.get('/api/messages', read, async (request, reply) => {
    const paging = pageOf(request)
    if ('problem' in paging) return badRequest(reply, paging.problem)
    const result = await pageMessages(db, paging.page)
    linkNext(reply, '/api/messages', paging.page, result)
    return result.items.map(toMessageJson)
  })

  app.get('/api/messages/:id', read, async (request: WithId, reply) => {
    const id = parseMessageId(request.params.id)
    const message = id === undefined ? undefined : await getMessage(db, id)
    if (message === undefined) return notFound(reply, NO_SUCH_MESSAGE)
    return toMessageJson(message)
  })

  app.post('/api/messages', write, async (request, reply) => {
    const input = textOf(request.body)
    if ('problem' in input) return badRequest(reply, input.problem)
    const message = await createMessage(db, { text: input.text, owner: subOf(request) })
    return reply.code(201).header('location', `/api/messages/${message.id}`).send(toMessageJson(message))
  })

  app.patch('/api/messages/:id', write, async (request: WithId, reply) => {
    const id = parseMessageId(request.params.id)
    if (id === undefined) return notFound(reply, NO_SUCH_MESSAGE)
    const input = textOf(request.body)
    if ('problem' in input) return badRequest(reply, input.problem)
    const result = await updateOwnMessage(db, id, subOf(request), input.text)
    return result.ok ? toMessageJson(result.value) : refused(reply, result)
  })

  app.delete('/api/messages/:id', write, async (request: WithId, reply) => {
    const id = parseMessageId(request.params.id)
    if (id === undefined) return notFound(reply, NO_SUCH_MESSAGE)
    const result = await deleteOwnMessage(db, id, subOf(request))
    return result.ok ? reply.code(204).send() : refused(reply, result)
  })
}
