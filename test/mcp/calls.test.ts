/** Reading the calls of a JSON-RPC body: what the SDK would dispatch, and nothing that throws. */
import { describe, expect, it } from 'vitest'
import { readMcpCalls } from '../../src/mcp/calls.js'

describe('readMcpCalls', () => {
  it.each([
    [
      'a tool call',
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_note' } },
      [{ method: 'tools/call', tool: 'write_note' }],
    ],
    [
      'a method',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      [{ method: 'tools/list', tool: undefined }],
    ],
    [
      'a notification',
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      [{ method: 'notifications/initialized', tool: undefined }],
    ],
    [
      'a batch, in order',
      [
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'read_notes' } },
      ],
      [
        { method: 'tools/list', tool: undefined },
        { method: 'tools/call', tool: 'read_notes' },
      ],
    ],
    [
      'a tool name that is not a string',
      { method: 'tools/call', params: { name: 7 } },
      [{ method: 'tools/call', tool: undefined }],
    ],
    [
      'params that are an array',
      { method: 'tools/call', params: ['write_note'] },
      [{ method: 'tools/call', tool: undefined }],
    ],
    [
      'a name outside tools/call',
      { method: 'prompts/get', params: { name: 'write_note' } },
      [{ method: 'prompts/get', tool: undefined }],
    ],
    ['a response', { jsonrpc: '2.0', id: 1, result: {} }, []],
    ['a method that is not a string', { method: 5 }, []],
    [
      'garbage in a batch, skipped',
      [null, 1, 'x', [{ method: 'tools/list' }], { method: 'ping' }],
      [{ method: 'ping', tool: undefined }],
    ],
    ['null', null, []],
    ['undefined (no body)', undefined, []],
    ['a string', 'tools/call', []],
    ['an own __proto__ member', JSON.parse('{"__proto__": {"method": "tools/call"}}'), []],
  ])('%s', (_case, body, calls) => {
    expect(readMcpCalls(body)).toEqual(calls)
  })
})
