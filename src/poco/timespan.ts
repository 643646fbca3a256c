/**
 * POCO's `Timespan`: a span of time in microseconds, POCO's unit for every timeout. Functions
 * that take a timeout accept a `Timespan` or a number of **microseconds**, never milliseconds.
 */
import { InvalidArgumentException } from './exceptions.js';

export class Timespan {
  static readonly MILLISECONDS = 1000;
  static readonly SECONDS = 1000 * Timespan.MILLISECONDS;
  static readonly MINUTES = 60 * Timespan.SECONDS;
  static readonly HOURS = 60 * Timespan.MINUTES;
  static readonly DAYS = 24 * Timespan.HOURS;

  readonly #span: number;

  /**
   * `new Timespan()` (zero), `new Timespan(microseconds)`, `new Timespan(seconds, microseconds)`
   * or `new Timespan(days, hours, minutes, seconds, microseconds)`, as in POCO.
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

  totalMicroseconds(): number {
    return this.#span;
  }
  totalMilliseconds(): number {
    return Math.trunc(this.#span / Timespan.MILLISECONDS);
  }
  totalSeconds(): number {
    return Math.trunc(this.#span / Timespan.SECONDS);
  }
  totalMinutes(): number {
    return Math.trunc(this.#span / Timespan.MINUTES);
  }
  totalHours(): number {
    return Math.trunc(this.#span / Timespan.HOURS);
  }
  days(): number {
    return Math.trunc(this.#span / Timespan.DAYS);
  }
  hours(): number {
    return Math.trunc(this.#span / Timespan.HOURS) % 24;
  }
  minutes(): number {
    return Math.trunc(this.#span / Timespan.MINUTES) % 60;
  }
  seconds(): number {
    return Math.trunc(this.#span / Timespan.SECONDS) % 60;
  }
  milliseconds(): number {
    return Math.trunc(this.#span / Timespan.MILLISECONDS) % 1000;
  }
  microseconds(): number {
    return this.#span % 1000;
  }
  /** The fractional part of a second in microseconds (POCO's `useconds()`). */
  useconds(): number {
    return this.#span % Timespan.SECONDS;
  }

  equals(other: Timespan | number): boolean {
    return this.#span === Timespan.from(other).totalMicroseconds();
  }

  toString(): string {
    return `${this.#span}µs`;
  }
}
