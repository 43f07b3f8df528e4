/**
 * What a Streamable HTTP request asks the MCP server to do, read from its JSON-RPC body before the SDK
 * dispatches it: each message's `method`, and for `tools/call` the tool's name (`params.name`).
 *
 * It reads exactly what the SDK will dispatch, so that no call escapes its rule: the same parsed value
 * (the body the SDK is handed), one message or a batch of them (JSON-RPC 2.0 §6). Anything that is not a
 * request or notification with a string `method` is skipped: the SDK refuses it (400, -32700 or -32600)
 * or, for a response to a request of the server's, dispatches no handler. It never throws.
 */
import { isPlainObject } from '../core/lib/values.js'

/** One JSON-RPC request or notification of a request body. */
export interface McpCall {
  /** The JSON-RPC method, e.g. `tools/call`, `tools/list`, `resources/read`, `notifications/initialized`. */
  readonly method: string
  /** For `tools/call`: the tool's name (`params.name`); undefined otherwise, or when it is not a string. */
  readonly tool: string | undefined
}

/**
 * The requests and notifications in a JSON-RPC body (an object, or an array of them), in order.
 *
 * @example readMcpCalls({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_note' } })
 *   // [{ method: 'tools/call', tool: 'write_note' }]
 */
export function readMcpCalls(body: unknown): McpCall[] {
  const messages = Array.isArray(body) ? body : [body]
  const calls: McpCall[] = []
  for (const message of messages) {
    if (!isPlainObject(message) || typeof message.method !== 'string') continue
    const { method, params } = message
    const tool =
      method === 'tools/call' && isPlainObject(params) && typeof params.name === 'string'
        ? params.name
        : undefined
    calls.push({ method, tool })
  }
  return calls
}
