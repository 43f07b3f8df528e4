/**
 * The circuit breaker in front of the introspection endpoint. A dead or drowning endpoint should not be
 * hit by every request, nor make every request wait for its timeout:
 *
 * - closed: calls go out; `failureThreshold` failed calls in a row open the circuit;
 * - open: for `cooldownDuration`, every call is refused at once (a 503 the client may retry);
 * - half-open: after the cool-down, ONE trial call goes out while the others are still refused; its
 *   success closes the circuit, its failure opens it for another cool-down.
 *
 * A failure is a call that produced no answer (unreachable, not a 200, too slow, garbage). An answer that
 * refuses the token (`active: false`) is a success: the endpoint is working.
 */

export type CircuitState = 'closed' | 'open' | 'half-open'

export class CircuitBreaker {
  readonly #threshold: number
  readonly #cooldown: number
  readonly #now: () => number
  #failures = 0
  /** While open: when the cool-down ends (ms). */
  #openUntil: number | undefined
  #trialRunning = false

  constructor(failureThreshold: number, cooldownDuration: number, now: () => number) {
    this.#threshold = failureThreshold
    this.#cooldown = cooldownDuration
    this.#now = now
  }

  get state(): CircuitState {
    if (this.#openUntil === undefined) return 'closed'
    return this.#trialRunning || this.#now() >= this.#openUntil ? 'half-open' : 'open'
  }

  /** Consecutive failed calls so far. */
  get failures(): number {
    return this.#failures
  }

  /**
   * Milliseconds until a call may go out: 0 now. While a trial call runs, the cool-down (an estimate: the
   * trial decides).
   */
  wait(): number {
    if (this.#openUntil === undefined) return 0
    if (this.#trialRunning) return this.#cooldown
    return Math.max(0, this.#openUntil - this.#now())
  }

  /**
   * Let a call go out if it may: returns 0 (and, half-open, makes this call the trial, which must end in
   * {@link succeeded} or {@link failed}), otherwise {@link wait}.
   */
  admit(): number {
    const wait = this.wait()
    if (wait === 0 && this.#openUntil !== undefined) this.#trialRunning = true
    return wait
  }

  succeeded(): void {
    this.#failures = 0
    this.#openUntil = undefined
    this.#trialRunning = false
  }

  failed(): void {
    this.#failures += 1
    if (this.#trialRunning || this.#failures >= this.#threshold) {
      this.#openUntil = this.#now() + this.#cooldown
      this.#trialRunning = false
    }
  }
}
