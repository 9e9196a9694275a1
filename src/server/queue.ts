import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { errors, fail, isDistrolensError, type ErrorCode } from '../core/errors.js';

/**
 * The scan queue of `serve`: an interface (submit, get, list, follow, cancel), so that a queue
 * on PostgreSQL can take the in-process one's place, and jobs as plain, serialisable data.
 */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** What a job asks for: one image in a registry. */
export interface ScanRequest {
  readonly reference: string;
  /** The reference without tag or digest: where the scan's history is. */
  readonly repository: string;
  /** The manifest digest, when known (crawls): the content key, one scan per digest. */
  readonly digest?: string;
  /** Plain HTTP to a registry that is not on loopback (a crawl of such a registry). */
  readonly insecure?: boolean;
  /** Who asked: a user through the API (the default), a crawl, Harbor. */
  readonly source?: 'api' | 'crawl' | 'harbor';
}

/** A job as the API shows it: JSON in, JSON out, no methods. */
export interface Job extends ScanRequest {
  readonly id: string;
  readonly state: JobState;
  readonly submittedAt: string;
  /** Compressed bytes read so far and the image's total, when known. */
  readonly bytes: number;
  readonly total?: number;
  readonly phase: string;
  readonly scanId?: string;
  readonly error?: { readonly code: ErrorCode; readonly message: string; readonly hint?: string };
  /** Answering a submit: the digest was already queued or running, and this is that job. */
  readonly deduplicated?: boolean;
}

export const isFinished = (job: Job): boolean =>
  job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';

/** Reports a job's progress: the phase, and bytes read of a total when known. */
export type Progress = (phase: string, bytes?: number, total?: number) => void;

/** A job's work order: the request and the job's id (a retried job stores its report once). */
export type JobOrder = ScanRequest & { readonly jobId: string };

/** Does a job's work and returns the id of the stored report; stops when the signal aborts. */
export type JobRunner = (order: JobOrder, progress: Progress, signal: AbortSignal) => Promise<string>;

export interface ScanQueue {
  /**
   * Queues a scan; refused with E_BUSY when the queue is full. A digest already queued or running
   * is not queued twice: its job is answered, marked `deduplicated`.
   */
  submit(request: ScanRequest): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Newest first. */
  list(): Promise<Job[]>;
  /** Calls `listener` on every change of the job until it ends; returns the unsubscribe. */
  follow(id: string, listener: (job: Job) => void): () => void;
  /** Stops a queued or running job; undefined when there is no such job. */
  cancel(id: string): Promise<Job | undefined>;
  /** Forgets finished jobs (the job list's "clear"). */
  clearFinished(): Promise<number>;
  /** Resolves when no job is queued or running (shutdown, tests). */
  idle(): Promise<void>;
  /** Releases connections (a queue on a database). */
  close?(): Promise<void>;
}

/** A scan's budget in the server: ten minutes pull and read a multi-GB image on a slow link. */
export const DEFAULT_JOB_TIMEOUT_MS = 10 * 60_000;

/** Finished jobs kept for the job list. */
const KEEP_FINISHED = 200;
/** Waiting jobs a crawl may queue in the embedded queue (a user's submissions have `capacity`). */
const CRAWL_CAPACITY = 10_000;
/** At most ten progress events a second per job. */
const PROGRESS_INTERVAL_MS = 100;

/** The error a failed job shows: a catalogue error as it is, anything else as E_INTERNAL without its details. */
export function jobError(error: unknown): NonNullable<Job['error']> {
  if (isDistrolensError(error))
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'E_INTERNAL', message: 'the scan failed unexpectedly', hint: 'the server log has the details' };
}

/**
 * The embedded queue: scans run in this process, at most `concurrency` at once, at most
 * `capacity` waiting (more is refused, not buffered). Jobs live in memory; reports are in the storage.
 */
export class InProcessQueue implements ScanQueue {
  readonly #jobs = new Map<string, Job>();
  readonly #waiting: string[] = [];
  readonly #running = new Map<string, AbortController>();
  readonly #events = new EventEmitter();

  /**
   * @param timeoutMs each job's budget: past it the job is stopped and fails with E_TIMEOUT, and
   *   the queue goes on (the last line of defence against an image no limit caught)
   */
  constructor(
    private readonly run: JobRunner,
    private readonly concurrency = 2,
    private readonly capacity = 20,
    private readonly timeoutMs = DEFAULT_JOB_TIMEOUT_MS,
  ) {
    this.#events.setMaxListeners(0);
  }

  /** `id`: the job's id when the caller must know it before the job starts (Harbor's request id). */
  async submit(request: ScanRequest, id: string = randomUUID()): Promise<Job> {
    if (request.digest) {
      const same = [...this.#jobs.values()].find((j) => j.digest === request.digest && !isFinished(j));
      if (same) return { ...same, deduplicated: true };
    }
    if (this.#waiting.length >= (request.source === 'crawl' ? CRAWL_CAPACITY : this.capacity))
      throw fail('E_BUSY', `the scan queue is full (${this.#waiting.length} scans are waiting)`, 'retry later');
    const job: Job = {
      ...request,
      id,
      state: 'queued',
      submittedAt: new Date().toISOString(),
      bytes: 0,
      phase: 'queued',
    };
    this.#jobs.set(job.id, job);
    this.#waiting.push(job.id);
    this.#forget(KEEP_FINISHED);
    this.#pump();
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#jobs.get(id);
  }

  async list(): Promise<Job[]> {
    return [...this.#jobs.values()].reverse();
  }

  follow(id: string, listener: (job: Job) => void): () => void {
    this.#events.on(id, listener);
    return () => this.#events.off(id, listener);
  }

  async cancel(id: string): Promise<Job | undefined> {
    const job = this.#jobs.get(id);
    if (!job || isFinished(job)) return job;
    const waiting = this.#waiting.indexOf(id);
    if (waiting >= 0) {
      this.#waiting.splice(waiting, 1);
      return this.#update(id, { state: 'cancelled', phase: 'cancelled' }, true);
    }
    this.#running.get(id)?.abort(fail('E_USAGE', 'the scan was cancelled'));
    return this.#jobs.get(id);
  }

  async clearFinished(): Promise<number> {
    const before = this.#jobs.size;
    this.#forget(0);
    return before - this.#jobs.size;
  }

  async idle(): Promise<void> {
    while (this.#running.size || this.#waiting.length) await new Promise((r) => setTimeout(r, 20));
  }

  /** Replaces a job's state with an updated copy (jobs handed out are never mutated). */
  #update(id: string, change: Partial<Job>, emit: boolean): Job {
    const job: Job = { ...this.#jobs.get(id)!, ...change };
    this.#jobs.set(id, job);
    if (emit) this.#events.emit(id, job);
    return job;
  }

  #pump(): void {
    while (this.#running.size < this.concurrency && this.#waiting.length) {
      const id = this.#waiting.shift()!;
      const controller = new AbortController();
      this.#running.set(id, controller);
      const job = this.#update(id, { state: 'running', phase: 'starting' }, true);
      let last = 0;
      const progress: Progress = (phase, bytes, total) => {
        const now = Date.now();
        const emit = now - last >= PROGRESS_INTERVAL_MS;
        if (emit) last = now;
        this.#update(
          id,
          { phase, ...(bytes !== undefined ? { bytes } : {}), ...(total !== undefined ? { total } : {}) },
          emit,
        );
      };
      const budget = AbortSignal.timeout(this.timeoutMs);
      const signal = AbortSignal.any([controller.signal, budget]);
      const { id: jobId, reference, repository, digest, source, insecure } = job;
      const order: JobOrder = {
        jobId,
        reference,
        repository,
        ...(digest ? { digest } : {}),
        ...(source ? { source } : {}),
        ...(insecure ? { insecure } : {}),
      };
      void this.run(order, progress, signal)
        .then(
          (scanId) => ({ state: 'done', phase: 'done', scanId }) as const,
          (error: unknown) =>
            controller.signal.aborted
              ? ({ state: 'cancelled', phase: 'cancelled' } as const)
              : ({
                  state: 'failed',
                  phase: 'failed',
                  error: jobError(
                    budget.aborted ? errors.timeout(`the scan of ${job.reference}`, this.timeoutMs) : error,
                  ),
                } as const),
        )
        .then((end) => {
          this.#running.delete(id);
          this.#update(id, end, true);
          this.#pump();
        });
    }
  }

  /** Drops the oldest finished jobs beyond `keep`. */
  #forget(keep: number): void {
    const finished = [...this.#jobs.values()].filter(isFinished);
    for (const job of finished.slice(0, Math.max(0, finished.length - keep))) this.#jobs.delete(job.id);
  }
}
