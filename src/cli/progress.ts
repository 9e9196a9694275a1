import type { CliIo } from './io.js';
import { formatBytes, terminalSafe } from '../report/format.js';

/**
 * One status line on stderr, redrawn in place, only when stderr is a terminal and not --quiet.
 * Redraws are throttled so that progress never costs more than the work it reports.
 */
export class Progress {
  readonly #io: CliIo;
  readonly #enabled: boolean;
  readonly #bytes = new Map<string, { done: number; total?: number }>();
  #last = 0;
  #shown = false;

  readonly #unit: string;

  /** `unit` names what is counted: layers of an image, feeds of the vulnerability database. */
  constructor(io: CliIo, quiet: boolean, unit = 'layer(s)') {
    this.#io = io;
    this.#unit = unit;
    this.#enabled = !quiet && io.stderr.isTTY === true;
  }

  /** Records bytes done for one item (a blob or layer) and redraws at most ten times a second. */
  update(key: string, done: number, total?: number, label = 'reading'): void {
    if (!this.#enabled) return;
    // The same item pulled and then read is counted once, with the furthest it got.
    const seen = this.#bytes.get(key);
    const best = seen ? Math.max(seen.done, done) : done;
    const known = total ?? seen?.total;
    this.#bytes.set(key, { done: best, ...(known !== undefined ? { total: known } : {}) });
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    let sum = 0;
    let all = 0;
    for (const item of this.#bytes.values()) {
      sum += item.done;
      all += item.total ?? item.done;
    }
    const line = `${label} ${this.#bytes.size} ${this.#unit}: ${formatBytes(sum)}${all > sum ? ` / ${formatBytes(all)}` : ''}`;
    this.#io.stderr.write(`\r\x1b[2K${terminalSafe(line).slice(0, (this.#io.stderr.columns ?? 80) - 1)}`);
    this.#shown = true;
  }

  /** Clears the status line. */
  done(): void {
    if (this.#shown) this.#io.stderr.write('\r\x1b[2K');
    this.#shown = false;
  }
}
