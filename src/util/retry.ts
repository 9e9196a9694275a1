import { sleep } from './concurrency.js';

/** How often and how patiently a request is tried again (registry pulls, feed downloads). */
export interface RetryPolicy {
  /** Tries in all, including the first. */
  readonly attempts: number;
  /** First backoff; doubles each try, with jitter. */
  readonly baseDelayMs: number;
  /** No single wait is longer than this, whatever Retry-After says. */
  readonly maxDelayMs: number;
}

/** Five tries over about 15 s ride out a registry restart or a short rate-limit window. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits before try `attempt + 1`: the server's Retry-After when it sent one, else backoff with jitter. */
export function backOff(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | null | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const backoff = policy.baseDelayMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
  return sleep(Math.min(policy.maxDelayMs, retryAfterMs(retryAfter ?? null) ?? backoff), signal);
}
