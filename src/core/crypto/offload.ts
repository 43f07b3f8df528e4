/**
 * Signature checks off the calling thread (`offload: true`), on worker threads fed through shared memory.
 *
 * Not libuv's thread pool (the callback form of `crypto.verify`): each of its calls costs the event loop a
 * job object, a futex wake-up of a pool thread and an eventfd wake-up on the way back, and the woken pool
 * thread preempts the event loop on a machine with few cores. For RS256, whose check takes about 25 µs,
 * that cancelled the gain on 2 cores (measurements: docs/benchmarks.md).
 *
 * Here each worker has a ring in a SharedArrayBuffer. The calling thread copies the signing input and the
 * signature into it and bumps a counter; a worker is woken only when it sleeps, and the calling thread is
 * pinged (one message) only when it waits for a result with nothing else to do. Results are collected on
 * every submission, so a busy event loop never waits for that message. When every worker already has
 * DEPTH checks, the check runs inline instead: the calling thread's core does its share, and no queue
 * builds up, so the wait for a result stays bounded.
 *
 * One set of workers per process, started on first use, shared by every verifier with `offload: true`,
 * stopped when the last one is closed. Workers never keep the process alive by themselves.
 */
import type * as NodeOs from 'node:os'
import type * as WorkerThreads from 'node:worker_threads'

/** What a worker needs to check signatures made with one key for one algorithm. */
export interface KeySpec {
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array
  /** Digest name for `crypto.verify`, or null (EdDSA). */
  readonly hash: string | null
  /** RSA-PSS and ECDSA parameters for `crypto.verify` (padding, saltLength, dsaEncoding). */
  readonly options: Readonly<Record<string, number | string>>
}

/** How the pool checks signatures: inline, and what to hand a worker. Supplied by crypto.ts. */
export interface PoolDriver<K extends object> {
  verifyInline(alg: string, key: K, data: Uint8Array, signature: Uint8Array): boolean
  describe(alg: string, key: K): KeySpec
}

export interface SignaturePool<K extends object> {
  /** The answer now (checked inline) or later (checked by a worker). Never rejects. */
  verify(alg: string, key: K, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>
  /** Give this user's share back; the workers stop with the last one. Idempotent. */
  close(): void
}

/**
 * Checks queued per worker, the one it runs included, before the calling thread checks inline: enough for
 * the worker to keep busy between two submissions (the calling thread polls for results on each), few
 * enough that the calling thread never idles while checks wait, and a queued check waits at most a few
 * checks' time. Measured: 2 left the worker idle between submissions, a deeper queue left the calling
 * thread idle (docs/benchmarks.md).
 */
const DEPTH = 4
/** Slots per ring: a bound on the checks in flight per worker (DEPTH) plus key records. */
const SLOTS = 64
/** Bytes per ring: several maximum-size tokens. A check that does not fit runs inline. */
const CAPACITY = 256 * 1024
/** Workers at most: one RS256 check takes ~25 µs, so four outrun any single event loop. */
const MAX_WORKERS = 4
/** (key, algorithm) pairs a worker holds before it is told to forget them all. */
const MAX_KEYS = 64

/** Shared control words (Int32Array indexes). */
const HEAD = 0 // records published by the calling thread
const TAIL = 1 // records completed by the worker
const SLEEPING = 2 // 1 while the worker waits on HEAD
const WANTS = 3 // 1 when the calling thread wants a message when results wait for it
const STOP = 4
const READY = 5 // set by the worker once it runs: no event needed, a busy event loop sees it at once
const COLLECTED = 6 // results taken by the calling thread
/** Record kinds, and the fields of a record in `meta`. */
const VERIFY = 0
const KEY = 1
const FORGET = 2
const FIELDS = 5 // kind, key id, offset, length of data (or DER), length of signature (or JSON)

/**
 * The worker's whole program, run from its source text (`eval`), so no separate file has to ship or be
 * resolved by bundlers and test runners. It may use nothing from this module's scope.
 */
function workerMain(): void {
  type Layout = Record<'HEAD' | 'TAIL' | 'SLEEPING' | 'WANTS' | 'STOP' | 'READY' | 'COLLECTED', number> &
    Record<'VERIFY' | 'KEY' | 'FIELDS' | 'SLOTS', number>
  const getBuiltin = (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule
  const { workerData, parentPort } = getBuiltin('node:worker_threads') as typeof WorkerThreads
  const crypto = getBuiltin('node:crypto') as typeof import('node:crypto')
  const { control, meta, results, bytes, layout } = workerData as {
    control: Int32Array
    meta: Int32Array
    results: Int32Array
    bytes: Uint8Array
    layout: Layout
  }
  const { HEAD, TAIL, SLEEPING, WANTS, STOP, READY, COLLECTED, VERIFY, KEY, FIELDS, SLOTS } = layout
  const keys = new Map<number, { hash: string | null; key: import('node:crypto').VerifyKeyObjectInput }>()
  const decoder = new TextDecoder()
  let tail = 0
  Atomics.store(control, READY, 1)
  for (;;) {
    if (Atomics.load(control, HEAD) === tail) {
      // Nothing left to do. Results the calling thread has not taken: a message, if it asked for one (a
      // busy calling thread takes them at its next submission and needs none).
      if (
        Atomics.load(control, COLLECTED) !== tail &&
        Atomics.load(control, WANTS) === 1 &&
        Atomics.compareExchange(control, WANTS, 1, 0) === 1
      )
        parentPort!.postMessage(0)
      Atomics.store(control, SLEEPING, 1)
      // Re-read after announcing the sleep: a record published in between is never missed (the
      // publisher reads SLEEPING after writing HEAD), and Atomics.wait returns at once if HEAD moved.
      if (Atomics.load(control, HEAD) === tail && Atomics.load(control, STOP) === 0)
        Atomics.wait(control, HEAD, tail)
      Atomics.store(control, SLEEPING, 0)
      if (Atomics.load(control, STOP) !== 0) return
      continue
    }
    const slot = tail % SLOTS
    const at = slot * FIELDS
    const kind = meta[at]!
    const id = meta[at + 1]!
    const offset = meta[at + 2]!
    const first = meta[at + 3]!
    const second = meta[at + 4]!
    let ok = 0
    try {
      if (kind === VERIFY) {
        const entry = keys.get(id)
        const data = bytes.subarray(offset, offset + first)
        const signature = bytes.subarray(offset + first, offset + first + second)
        ok = entry && crypto.verify(entry.hash, data, entry.key, signature) ? 1 : 0
      } else if (kind === KEY) {
        const der = Buffer.from(bytes.subarray(offset, offset + first))
        const spec = JSON.parse(decoder.decode(bytes.subarray(offset + first, offset + first + second)))
        const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' })
        keys.set(id, { hash: spec.hash, key: { key, ...spec.options } })
      } else {
        keys.clear()
      }
    } catch {
      ok = 0 // a check that throws is a failed check
    }
    results[slot] = ok
    tail++
    Atomics.store(control, TAIL, tail)
  }
}

const WORKER_SOURCE = `(${workerMain.toString()})()`

interface Job<K> {
  /** Absolute byte position of the record in the ring (monotonic, so free space is a subtraction). */
  readonly start: number
  readonly end: number
  /** Absent for key records. */
  readonly check?: {
    alg: string
    key: K
    data: Uint8Array
    signature: Uint8Array
    done(ok: boolean): void
  }
}

/** A check on the calling thread; one that throws is a failed check, as on a worker. */
function inline<K extends object>(
  driver: PoolDriver<K>,
  alg: string,
  key: K,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return driver.verifyInline(alg, key, data, signature)
  } catch {
    return false
  }
}

/** One worker and its ring, driven from the calling thread. */
class Lane<K extends object> {
  private readonly control: Int32Array
  private readonly meta: Int32Array
  private readonly results: Int32Array
  private readonly bytes: Uint8Array
  private readonly jobs: (Job<K> | undefined)[] = new Array(SLOTS)
  private readonly known = new Set<number>()
  private readonly encoder = new TextEncoder()
  private readonly worker: WorkerThreads.Worker
  private head = 0
  private done = 0
  private position = 0
  private checks = 0
  private pinged = false
  private referenced = false
  private running = false
  private dead = false

  constructor(
    workerThreads: typeof WorkerThreads,
    private readonly driver: PoolDriver<K>,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(8 * 4))
    this.meta = new Int32Array(new SharedArrayBuffer(SLOTS * FIELDS * 4))
    this.results = new Int32Array(new SharedArrayBuffer(SLOTS * 4))
    this.bytes = new Uint8Array(new SharedArrayBuffer(CAPACITY))
    const layout = { HEAD, TAIL, SLEEPING, WANTS, STOP, READY, COLLECTED, VERIFY, KEY, FIELDS, SLOTS }
    const { control, meta, results, bytes } = this
    this.worker = new workerThreads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control, meta, results, bytes, layout },
      stdout: false,
      stderr: false,
    })
    // Listen before unref(): on Node 20 a 'message' listener added later refs the worker's port again.
    this.worker.on('message', () => this.onPing())
    this.worker.unref()
    this.worker.once('error', () => {}) // handled on 'exit'
    this.worker.once('exit', () => this.fail())
  }

  /** Whether the worker runs and takes checks. */
  get ready(): boolean {
    if (!this.running && !this.dead) this.running = Atomics.load(this.control, READY) === 1
    return this.running
  }

  /** Checks queued or running on this worker. */
  get load(): number {
    return this.checks
  }

  /** Queue a check; undefined when it does not fit (the caller checks inline). */
  submit(
    alg: string,
    key: K,
    id: number,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean> | undefined {
    if (!this.known.has(id) && !this.register(alg, key, id)) return undefined
    const size = data.length + signature.length
    const start = this.reserve(size)
    if (start === undefined) return undefined
    const offset = start % CAPACITY
    this.bytes.set(data, offset)
    this.bytes.set(signature, offset + data.length)
    let done!: (ok: boolean) => void
    const answer = new Promise<boolean>((resolve) => {
      done = resolve
    })
    const check = { alg, key, data, signature, done }
    this.publish(VERIFY, id, offset, data.length, signature.length, { start, end: start + size, check })
    this.checks++
    if (!this.referenced) {
      // A pending check keeps the process alive until it is answered, like any other pending I/O.
      this.referenced = true
      this.worker.ref()
    }
    if (!this.pinged) this.askForPing()
    return answer
  }

  /** Resolve every completed check. */
  collect(): void {
    const tail = Atomics.load(this.control, TAIL)
    if (this.done === tail) return
    while (this.done < tail) {
      const slot = this.done % SLOTS
      const job = this.jobs[slot]
      this.jobs[slot] = undefined
      this.done++
      if (job?.check) {
        this.checks--
        job.check.done(this.results[slot] === 1)
      }
    }
    Atomics.store(this.control, COLLECTED, this.done)
    if (this.checks === 0 && this.referenced) {
      this.referenced = false
      this.worker.unref()
    }
  }

  /** Stop the worker; checks still queued are answered inline. */
  stop(): void {
    if (this.dead) return
    Atomics.store(this.control, STOP, 1)
    Atomics.notify(this.control, HEAD)
    this.fail()
    void this.worker.terminate()
  }

  private register(alg: string, key: K, id: number): boolean {
    if (this.known.size >= MAX_KEYS) {
      if (this.head - this.done >= SLOTS) return false
      this.publish(FORGET, 0, 0, 0, 0, { start: this.position, end: this.position })
      this.known.clear()
    }
    let spec: KeySpec
    try {
      spec = this.driver.describe(alg, key)
    } catch {
      return false // a key that cannot be handed over is used inline
    }
    const json = this.encoder.encode(JSON.stringify({ hash: spec.hash, options: spec.options }))
    const start = this.reserve(spec.spki.length + json.length)
    if (start === undefined) return false
    const offset = start % CAPACITY
    this.bytes.set(spec.spki, offset)
    this.bytes.set(json, offset + spec.spki.length)
    this.publish(KEY, id, offset, spec.spki.length, json.length, {
      start,
      end: start + spec.spki.length + json.length,
    })
    this.known.add(id)
    return true
  }

  /** Absolute start of `size` free contiguous bytes, skipping the end of the ring if needed; or undefined. */
  private reserve(size: number): number | undefined {
    if (this.head - this.done >= SLOTS - 1 || size > CAPACITY) return undefined
    let start = this.position
    const offset = start % CAPACITY
    if (offset + size > CAPACITY) start += CAPACITY - offset
    const oldest = this.done < this.head ? this.jobs[this.done % SLOTS]!.start : start
    if (start + size - oldest > CAPACITY) return undefined
    return start
  }

  private publish(
    kind: number,
    id: number,
    offset: number,
    first: number,
    second: number,
    job: Job<K>,
  ): void {
    const slot = this.head % SLOTS
    const at = slot * FIELDS
    this.meta[at] = kind
    this.meta[at + 1] = id
    this.meta[at + 2] = offset
    this.meta[at + 3] = first
    this.meta[at + 4] = second
    this.jobs[slot] = job
    this.position = job.end
    this.head++
    Atomics.store(this.control, HEAD, this.head)
    if (Atomics.load(this.control, SLEEPING) === 1) Atomics.notify(this.control, HEAD)
  }

  /** Ask the worker for a message when results wait, then look once more (it may have just finished). */
  private askForPing(): void {
    this.pinged = true
    Atomics.store(this.control, WANTS, 1)
    this.collect()
  }

  private onPing(): void {
    this.pinged = false
    this.collect()
    if (this.checks > 0) this.askForPing()
  }

  /** The worker is gone: answer what it had, inline, and take no more. */
  private fail(): void {
    if (this.dead) return
    this.dead = true
    this.running = false
    for (let i = this.done; i < this.head; i++) {
      const job = this.jobs[i % SLOTS]
      this.jobs[i % SLOTS] = undefined
      if (job?.check) {
        const { alg, key, data, signature, done } = job.check
        done(inline(this.driver, alg, key, data, signature))
      }
    }
    this.done = this.head
    this.checks = 0
    if (this.referenced) {
      this.referenced = false
      this.worker.unref()
    }
  }
}

class Pool<K extends object> {
  private lanes: Lane<K>[] | undefined
  private readonly ids = new WeakMap<K, Map<string, number>>()
  private nextId = 1

  constructor(
    private readonly workerThreads: typeof WorkerThreads,
    private readonly count: number,
    private readonly driver: PoolDriver<K>,
  ) {}

  verify(alg: string, key: K, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
    // Workers start on first use; until one is running, checks run inline, and for good if none can start.
    this.lanes ??= this.start()
    let best: Lane<K> | undefined
    for (const lane of this.lanes) {
      if (!lane.ready) continue
      lane.collect()
      if (best === undefined || lane.load < best.load) best = lane
    }
    if (best !== undefined && best.load < DEPTH) {
      const queued = best.submit(alg, key, this.idOf(alg, key), data, signature)
      if (queued) return queued
    }
    return inline(this.driver, alg, key, data, signature)
  }

  stop(): void {
    for (const lane of this.lanes ?? []) lane.stop()
  }

  private start(): Lane<K>[] {
    const lanes: Lane<K>[] = []
    try {
      for (let i = 0; i < this.count; i++) lanes.push(new Lane(this.workerThreads, this.driver))
    } catch {
      // No threads here (a sandbox, a resource limit): what started still serves.
    }
    return lanes
  }

  private idOf(alg: string, key: K): number {
    let byAlg = this.ids.get(key)
    if (byAlg === undefined) {
      byAlg = new Map()
      this.ids.set(key, byAlg)
    }
    let id = byAlg.get(alg)
    if (id === undefined) {
      id = this.nextId++
      byAlg.set(alg, id)
    }
    return id
  }
}

let shared: { pool: Pool<object>; users: number } | undefined

/**
 * A share of the process's signature pool; undefined where worker threads or shared memory are missing
 * (the caller then checks some other way). `driver` must be the same on every call.
 */
export function openSignaturePool<K extends object>(driver: PoolDriver<K>): SignaturePool<K> | undefined {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule
  let workerThreads: typeof WorkerThreads | undefined
  let os: typeof NodeOs | undefined
  try {
    workerThreads = getBuiltin?.('node:worker_threads') as typeof WorkerThreads | undefined
    os = getBuiltin?.('node:os') as typeof NodeOs | undefined
  } catch {
    return undefined
  }
  if (!workerThreads || !os || typeof SharedArrayBuffer !== 'function') return undefined
  if (shared === undefined) {
    // One core is the calling thread's; with a single core the worker only takes turns with it.
    const count = Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism() - 1))
    shared = { pool: new Pool(workerThreads, count, driver as PoolDriver<object>), users: 0 }
  }
  const entry = shared
  entry.users++
  let open = true
  return {
    verify: (alg, key, data, signature) => entry.pool.verify(alg, key, data, signature),
    close() {
      if (!open) return
      open = false
      if (--entry.users === 0) {
        entry.pool.stop()
        if (shared === entry) shared = undefined
      }
    },
  }
}
