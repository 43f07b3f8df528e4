// How the bench's child processes say they are ready: the first line of standard output that is a JSON
// object (e.g. `{"port":40123}`). Until then an exit is a failure; after it, the caller's own handling.

/**
 * Call `onReady(object)` once, with the child's first JSON line; before that, `onFailure(why)` if it
 * exits or prints nothing within `timeoutMs`. Returns nothing: the caller wraps it in its promise.
 */
export function whenReady(child, timeoutMs, onReady, onFailure) {
  let stdout = ''
  const timer = setTimeout(() => onFailure(`printed no port within ${timeoutMs / 1000} s`), timeoutMs)
  child.once('exit', (code, signal) => {
    clearTimeout(timer)
    onFailure(`exited (${signal ?? code}) before listening`)
  })
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', function onData(chunk) {
    stdout += chunk
    const line = stdout.split('\n').find((l) => l.startsWith('{'))
    if (!line) return
    child.stdout.off('data', onData)
    child.removeAllListeners('exit')
    clearTimeout(timer)
    child.stdout.resume() // keep draining anything it prints later
    onReady(JSON.parse(line))
  })
}
