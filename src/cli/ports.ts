/**
 * Starting a server on a preferred port, or on a free one when something else holds it: what the demo
 * does so that `npm start` works beside whatever already runs on 8000 or 9000.
 */
import { createServer } from 'node:net'

/** Whether `error`, or an error along its `cause` chain, says the address is already in use. */
export function isAddressInUse(error: unknown): boolean {
  let current = error
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if ((current as { code?: unknown }).code === 'EADDRINUSE') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/**
 * Whether something already listens on `port` at `host` (bound and released at once). Any other failure
 * (EACCES…) is left for the real start to report.
 */
export function isPortTaken(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', (error) => resolve(isAddressInUse(error)))
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)))
  })
}

/**
 * `start(port)`, or `start(0)` (a port the system chooses) when `port` is taken: checked first, so a slow
 * start (the reference API opens its database before listening) is not done twice in the usual case, and
 * again on EADDRINUSE, for a port taken in between. Other errors are thrown as they are.
 *
 * @returns what `start` returned, and whether it fell back to a free port.
 */
export async function startOnFreePort<T>(
  port: number,
  host: string,
  start: (port: number) => Promise<T>,
): Promise<{ value: T; fellBack: boolean }> {
  if (port === 0) return { value: await start(0), fellBack: false }
  if (await isPortTaken(port, host)) return { value: await start(0), fellBack: true }
  try {
    return { value: await start(port), fellBack: false }
  } catch (error) {
    if (!isAddressInUse(error)) throw error
    return { value: await start(0), fellBack: true }
  }
}
