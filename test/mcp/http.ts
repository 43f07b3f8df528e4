/**
 * JSON-RPC over Streamable HTTP as a test sends it, on fetch: one POST with the headers the SDK's
 * transport requires, and the answer's JSON-RPC message read from a JSON or an SSE body.
 */

export interface RpcAnswer {
  status: number
  headers: Headers
  /** The JSON body, or the first `data:` message of an event stream; undefined when there is neither. */
  message: Record<string, unknown> | undefined
  text: string
}

const PROTOCOL_VERSION = '2025-06-18'

/** POST `body` (an object, or raw text sent as is) to an MCP endpoint. */
export async function rpc(
  url: string,
  body: unknown,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_VERSION,
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, message: messageOf(text), text }
}

function messageOf(text: string): Record<string, unknown> | undefined {
  const data = /^data: (.*)$/m.exec(text)?.[1] ?? text
  try {
    return JSON.parse(data) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** A JSON-RPC request. */
export const request = (method: string, params?: Record<string, unknown>, id: number = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params === undefined ? {} : { params }),
})

export const initialize = () =>
  request('initialize', {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'gatehouse-test', version: '0' },
  })

export const callTool = (name: unknown, args: Record<string, unknown> = {}, id?: number) =>
  request('tools/call', { name, arguments: args }, id)

/** The text of a tools/call result, parsed as JSON. */
export function toolResult(message: Record<string, unknown> | undefined): unknown {
  const result = message?.result as { content?: { text?: string }[] } | undefined
  const text = result?.content?.[0]?.text
  return text === undefined ? undefined : JSON.parse(text)
}
