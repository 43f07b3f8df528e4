/**
 * Renders GatehouseErrors that handlers throw (`assertOwner(auth, post.authorId)`, a check of their own)
 * as the gate's response: status, `WWW-Authenticate`, JSON body. Registered globally by GatehouseModule.
 * The guard's own failures never reach it: they are GatehouseHttpExceptions with the headers already set.
 *
 * What it does NOT handle: non-HTTP contexts, where the error is rethrown to Nest.
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { GatehouseError } from '../core/errors.js'
import type { Gate } from '../core/http/gate.js'
import { GATEHOUSE_GATE } from './decorators.js'

@Catch(GatehouseError)
export class GatehouseExceptionFilter implements ExceptionFilter<GatehouseError> {
  constructor(
    @Inject(GATEHOUSE_GATE) private readonly gate: Gate,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(error: GatehouseError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error
    const request = host.switchToHttp().getRequest<{
      method: string
      originalUrl?: string
      url?: string
      headers?: Record<string, string | string[] | undefined>
    }>()
    const rejected = {
      method: request.method,
      url: request.originalUrl ?? request.url,
      headers: request.headers,
    }
    const { status, headers, body } = this.gate.reject(error, rejected)
    const { httpAdapter } = this.adapterHost
    const response = host.switchToHttp().getResponse()
    for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value)
    httpAdapter.reply(response, body, status)
  }
}
