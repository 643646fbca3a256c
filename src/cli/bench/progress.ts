/**
 * The live progress line of `wsnet bench` on a terminal: one line on stderr, rewritten in place
 * (carriage return, erase to end of line), at most once per tick (4 per second). Nothing at all
 * when stderr is not a TTY, so pipes and logs get only the report.
 */
import type { Progress } from './load.js';
import { formatMs, formatRate } from './report.js';

export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #shown = false;
  #lastReceived = 0;
  #lastMs = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#enabled = stream.isTTY === true;
  }

  update(progress: Progress): void {
    if (!this.#enabled) return;
    let text: string;
    if (progress.phase === 'warmup' || progress.phase === 'connecting')
      text = `${progress.phase === 'warmup' ? 'warming up' : 'connecting'}: ${progress.opened} connections open`;
    else {
      const elapsed = progress.measuredMs;
      const interval = elapsed - this.#lastMs;
      const rate = interval > 0 ? ((progress.received - this.#lastReceived) * 1000) / interval : 0;
      this.#lastMs = elapsed;
      this.#lastReceived = progress.received;
      const p99 = progress.latency.percentile(99) / 1e6;
      text =
        `${(elapsed / 1000).toFixed(1)} s  ${formatRate(rate)} msg/s  ${progress.received} echoed  ` +
        `p99 ${formatMs(p99)}  errors ${progress.errors}` +
        (progress.phase === 'draining' ? '  (waiting for the last echoes)' : '');
    }
    // Never wider than the terminal: a wrapped line could not be rewritten in place.
    const width = Math.max(20, (this.#stream.columns || 80) - 1);
    this.#stream.write(`\r${text.slice(0, width)}\x1b[K`);
    this.#shown = true;
  }

  /** Erases the line, before the report is printed. */
  clear(): void {
    if (this.#shown) this.#stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
