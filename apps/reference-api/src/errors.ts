/**
 * Every error response of the API in one shape: `{ error, error_description }`, the shape of Gatehouse's
 * own errors (which add `code`, and `required` on 403). Authentication and authorization errors are
 * rendered by the plugin's gate; this module renders the rest, and never answers 500 for anything a client
 * can send (a malformed body, a wrong content type, an unknown route, an id that cannot exist).
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isGatehouseError } from 'gatehouse'
import { sendError } from 'gatehouse/fastify'
import { DataInputError } from './db/index.js'

/** The body of the API's own (non-Gatehouse) errors. */
export interface ApiErrorBody {
  /** `invalid_request` (400, 413, 415), `not_found`, `method_not_allowed`, `server_error`. */
  error: string
  /** Safe to show a client: says what is wrong, never echoes the request. */
  error_description: string
}

/** Send an API error. Returns the reply, as Fastify's async handlers and hooks must. */
export function sendApiError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error, error_description: description } satisfies ApiErrorBody)
}

/** 400 `invalid_request`. */
export function badRequest(reply: FastifyReply, description: string) {
  return sendApiError(reply, 400, 'invalid_request', description)
}

/** 404 `not_found`, for unknown routes and for ids that are not (or no longer) there. */
export function notFound(reply: FastifyReply, description = 'No such resource') {
  return sendApiError(reply, 404, 'not_found', description)
}

/**
 * Fixed descriptions for the client errors Fastify raises while reading a body. Fastify's own messages
 * are safe too, but a fixed text keeps the contract in this file and out of Fastify's release notes.
 */
const CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The body must be JSON, sent with Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty; send a JSON object',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The body is too large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
}

/**
 * Fastify's `frameworkErrors`: errors raised while routing, before any route (and so before the error
 * handler) applies. Fastify's default bodies would echo the path; these say what is wrong in our shape.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // A path segment over Fastify's 100-character limit: here only an id, and no such id can exist.
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return notFound(reply)
  if (error.code === 'FST_ERR_BAD_URL') return badRequest(reply, 'The URL is malformed')
  return errorHandler(error, request, reply)
}

/**
 * The app's error handler. In order: Gatehouse errors (thrown by handlers, or by the principal hook)
 * through the gate (`sendError`, which reports them to `onRejection`); the data layer's refusal of a message text as 400; Fastify's 4xx
 * (body parsing, size, content type) as `invalid_request` with their status; anything else is a bug or
 * an unavailable database: logged with its stack, answered 500 without detail.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isGatehouseError(error)) return sendError(reply, error)
  if (error instanceof DataInputError && error.field === 'text') return badRequest(reply, error.message)
  const status = error.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    request.log.info({ code: error.code, statusCode: status }, 'client error')
    const description = CLIENT_ERRORS[error.code] ?? STATUS_CODES[status] ?? 'Bad request'
    return sendApiError(reply, status, 'invalid_request', description)
  }
  request.log.error({ err: error }, 'request failed')
  return sendApiError(reply, 500, 'server_error', 'The server could not complete the request')
}
