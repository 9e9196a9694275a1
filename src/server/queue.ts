import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isDistrolensError } from '../core/errors.js';

/**
 * Scans submitted to the server run in a bounded background queue: at most `concurrency` at once,
 * at most `capacity` waiting (more is refused, not buffered). Each job reports its progress to
 * whoever follows it (server-sent events) and ends done, with the stored report's id, or failed,
 * with the error's code and message. Jobs live in memory; reports are in the storage.
 */
export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  readonly id: string;
  readonly reference: string;
  /** The reference without tag or digest: where the scan's history is. */
  readonly repository: string;
  state: JobState;
  readonly submittedAt: string;
  /** Compressed bytes read so far and the image's total, when known. */
  bytes: number;
  total?: number;
  phase: string;
  scanId?: string;
  error?: { code: string; message: string; hint?: string };
}

export type JobRunner = (job: Job, progress: (phase: string, bytes?: number, total?: number) => void) => Promise<string>;

export class QueueFullError extends Error {}

const KEEP_FINISHED = 200;

export class ScanQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private readonly events = new EventEmitter();
  private running = 0;

  constructor(private readonly run: JobRunner, private readonly concurrency = 2, private readonly capacity = 20) {
    this.events.setMaxListeners(0);
  }

  submit(reference: string, repository = reference): Job {
    if (this.waiting.length >= this.capacity) throw new QueueFullError(`${this.waiting.length} scans are waiting`);
    const job: Job = { id: randomUUID(), reference, repository, state: 'queued', submittedAt: new Date().toISOString(), bytes: 0, phase: 'queued' };
    this.jobs.set(job.id, job);
    this.waiting.push(job);
    this.forget();
    this.pump();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  /** Calls `listener` on every change of the job until it ends; returns the unsubscribe. */
  follow(id: string, listener: (job: Job) => void): () => void {
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** Resolves when no job is queued or running (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running || this.waiting.length) await new Promise((r) => setTimeout(r, 20));
  }

  private emit(job: Job): void {
    this.events.emit(job.id, job);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length) {
      const job = this.waiting.shift()!;
      this.running++;
      job.state = 'running';
      job.phase = 'starting';
      this.emit(job);
      let last = 0;
      this.run(job, (phase, bytes, total) => {
        job.phase = phase;
        if (bytes !== undefined) job.bytes = bytes;
        if (total !== undefined) job.total = total;
        // At most ten events a second per job.
        const now = Date.now();
        if (now - last >= 100) {
          last = now;
          this.emit(job);
        }
      }).then((scanId) => {
        job.state = 'done';
        job.phase = 'done';
        job.scanId = scanId;
      }, (error: unknown) => {
        job.state = 'failed';
        job.phase = 'failed';
        job.error = isDistrolensError(error)
          ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
          : { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
      }).finally(() => {
        this.running--;
        this.emit(job);
        this.pump();
      });
    }
  }

  /** Drops the oldest finished jobs beyond KEEP_FINISHED. */
  private forget(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state === 'done' || j.state === 'failed');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.id);
  }
}
