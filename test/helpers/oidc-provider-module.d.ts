/**
 * The few names test/helpers/oidc-provider.ts uses from `oidc-provider`, which ships no types (the full
 * ones are @types/oidc-provider, not needed for a test helper).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly issuer: string
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    on(event: string, listener: (...args: unknown[]) => void): this
  }

  export namespace errors {
    class InvalidTarget extends Error {
      constructor(description?: string)
    }
  }

  export default Provider
}
