/**
 * A latency histogram with bounded memory and bounded relative error: log-linear buckets in the
 * manner of HdrHistogram. Values (integer nanoseconds) below 2^SUB_BITS are counted exactly; above
 * that, each power of two [2^e, 2^(e+1)) is split into 2^SUB_BITS equal buckets, so a bucket is at
 * most 1/128 of its lower bound wide. A percentile is reported as its bucket's midpoint (clamped
 * to the exact minimum and maximum), so it is within 1/256 (0.4 %) of the exact sample.
 *
 * Why buckets and not every sample: a long run at 100 k msg/s makes millions of samples, and
 * keeping them all would grow the generator's memory (and its GC work, which would then show in
 * the very latencies it measures) with the run's length. This is 4,736 counters, whatever the run.
 * Sum, minimum and maximum are kept exactly beside the buckets, so the mean and max are exact.
 */

/** Sub-buckets per power of two, as a power of two: 2^7 = 128, hence the 1/256 error bound. */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** Largest exponent bucketed: 2^43 ns is about 2.4 hours; larger values share the last bucket. */
const MAX_EXPONENT = 43;
const BUCKETS = (MAX_EXPONENT - SUB_BITS + 2) * SUB_COUNT;
const TWO_32 = 2 ** 32;

/** The relative error bound of a reported percentile (exact values below 128 ns). */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * SUB_COUNT);

/** floor(log2(value)) for an integer 1 <= value < 2^53, exactly (no floating-point log). */
function exponentOf(value: number): number {
  return value < TWO_32 ? 31 - Math.clz32(value) : 63 - Math.clz32(Math.floor(value / TWO_32));
}

function bucketOf(value: number): number {
  if (value < SUB_COUNT) return value;
  const exponent = Math.min(exponentOf(value), MAX_EXPONENT);
  const shift = exponent - SUB_BITS;
  // mantissa is in [2^SUB_BITS, 2^(SUB_BITS+1)): the index runs on from the exact values.
  const mantissa = Math.min(Math.floor(value / 2 ** shift), 2 * SUB_COUNT - 1);
  return shift * SUB_COUNT + mantissa;
}

/** The lowest value of a bucket and its width. */
function bucketRange(index: number): { low: number; width: number } {
  if (index < SUB_COUNT) return { low: index, width: 1 };
  const shift = Math.floor(index / SUB_COUNT) - 1;
  const mantissa = index - shift * SUB_COUNT;
  return { low: mantissa * 2 ** shift, width: 2 ** shift };
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Counts one value (nanoseconds; negative values count as 0, fractions are dropped). */
  record(nanoseconds: number): void {
    const value = nanoseconds > 0 ? Math.floor(nanoseconds) : 0;
    this.#counts[bucketOf(value)]++;
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  /** The exact mean; 0 with no values. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * The value at percentile `p` (0-100) by the nearest-rank definition: the smallest recorded
   * value with at least p % of the values at or below it. 0 with no values.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    if (rank >= this.#count) return this.#max;
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.#counts[index];
      if (seen >= rank) {
        const { low, width } = bucketRange(index);
        const middle = width === 1 ? low : low + width / 2;
        return Math.min(Math.max(middle, this.#min), this.#max);
      }
    }
    return this.#max;
  }
}
