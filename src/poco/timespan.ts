/**
 * POCO's `Timespan`: a span of time in microseconds, POCO's unit for every timeout. Functions
 * that take a timeout accept a `Timespan` or a number of **microseconds**, never milliseconds.
 */
import { InvalidArgumentException } from './exceptions.js';

/**
 * POCO's `Timespan`: a span of time in microseconds, POCO's unit for every timeout. Functions that
 * take a timeout accept a `Timespan` or a number of **microseconds**, never milliseconds.
 *
 * @example
 * ```ts
 * import { Timespan } from 'wsnet';
 *
 * const fiveSeconds = new Timespan(5, 0); // seconds, microseconds
 * console.log(fiveSeconds.totalMilliseconds()); // 5000
 * console.log(new Timespan(2 * Timespan.MINUTES).totalSeconds()); // 120
 * ```
 */
export class Timespan {
  /** Microseconds in a millisecond. */
  static readonly MILLISECONDS = 1000;
  /** Microseconds in a second. */
  static readonly SECONDS = 1000 * Timespan.MILLISECONDS;
  /** Microseconds in a minute. */
  static readonly MINUTES = 60 * Timespan.SECONDS;
  /** Microseconds in an hour. */
  static readonly HOURS = 60 * Timespan.MINUTES;
  /** Microseconds in a day. */
  static readonly DAYS = 24 * Timespan.HOURS;

  readonly #span: number;

  /**
   * `new Timespan()` (zero), `new Timespan(microseconds)`, `new Timespan(seconds, microseconds)`
   * or `new Timespan(days, hours, minutes, seconds, microseconds)`, as in POCO.
   *
   * @throws {@link InvalidArgumentException} when a part is not a finite number, or there are not
   * 0, 1, 2 or 5 parts.
   */
  constructor(...parts: number[]) {
    for (const part of parts)
      if (!Number.isFinite(part))
        throw new InvalidArgumentException('Timespan parts must be finite numbers');
    const [a = 0, b = 0, c = 0, d = 0, e = 0] = parts;
    switch (parts.length) {
      case 0:
      case 1:
        this.#span = Math.trunc(a);
        break;
      case 2:
        this.#span = Math.trunc(a * Timespan.SECONDS + b);
        break;
      case 5:
        this.#span = Math.trunc(
          a * Timespan.DAYS + b * Timespan.HOURS + c * Timespan.MINUTES + d * Timespan.SECONDS + e,
        );
        break;
      default:
        throw new InvalidArgumentException('Timespan takes 0, 1, 2 or 5 arguments');
    }
  }

  /** A Timespan from a `Timespan` or a number of microseconds. */
  static from(value: Timespan | number): Timespan {
    return value instanceof Timespan ? value : new Timespan(value);
  }

  /** The whole span in microseconds. */
  totalMicroseconds(): number {
    return this.#span;
  }
  /** The whole span in milliseconds (truncated). */
  totalMilliseconds(): number {
    return Math.trunc(this.#span / Timespan.MILLISECONDS);
  }
  /** The whole span in seconds (truncated). */
  totalSeconds(): number {
    return Math.trunc(this.#span / Timespan.SECONDS);
  }
  /** The whole span in minutes (truncated). */
  totalMinutes(): number {
    return Math.trunc(this.#span / Timespan.MINUTES);
  }
  /** The whole span in hours (truncated). */
  totalHours(): number {
    return Math.trunc(this.#span / Timespan.HOURS);
  }
  /** The days part. */
  days(): number {
    return Math.trunc(this.#span / Timespan.DAYS);
  }
  /** The hours part (0-23). */
  hours(): number {
    return Math.trunc(this.#span / Timespan.HOURS) % 24;
  }
  /** The minutes part (0-59). */
  minutes(): number {
    return Math.trunc(this.#span / Timespan.MINUTES) % 60;
  }
  /** The seconds part (0-59). */
  seconds(): number {
    return Math.trunc(this.#span / Timespan.SECONDS) % 60;
  }
  /** The milliseconds part (0-999). */
  milliseconds(): number {
    return Math.trunc(this.#span / Timespan.MILLISECONDS) % 1000;
  }
  /** The microseconds part of the millisecond (0-999). */
  microseconds(): number {
    return this.#span % 1000;
  }
  /** The fractional part of a second in microseconds (POCO's `useconds()`). */
  useconds(): number {
    return this.#span % Timespan.SECONDS;
  }

  /** Whether the spans are equal (a number is microseconds). */
  equals(other: Timespan | number): boolean {
    return this.#span === Timespan.from(other).totalMicroseconds();
  }

  /** The span in microseconds, e.g. `5000000µs`. */
  toString(): string {
    return `${this.#span}µs`;
  }
}
