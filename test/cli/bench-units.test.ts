// The parts of `wsnet bench` that can be checked without a network: the latency histogram
// against exact percentiles, the payloads and their echo check, and the progress line.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { HISTOGRAM_RELATIVE_ERROR, Histogram } from '../../src/cli/bench/histogram.js';
import { ID_BYTES, PayloadSlots } from '../../src/cli/bench/payload.js';
import { ProgressLine } from '../../src/cli/bench/progress.js';

/** The nearest-rank percentile of sorted values: the definition the histogram implements. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** A deterministic pseudo-random generator (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

function checkAgainstExact(samples: number[], what: string): void {
  const histogram = new Histogram();
  for (const sample of samples) histogram.record(sample);
  const sorted = samples.map((s) => Math.floor(s)).sort((a, b) => a - b);
  assert.equal(histogram.count, samples.length, `${what}: count`);
  assert.equal(histogram.min, sorted[0], `${what}: min is exact`);
  assert.equal(histogram.max, sorted[sorted.length - 1], `${what}: max is exact`);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  assert.ok(Math.abs(histogram.mean - mean) <= mean * 1e-12, `${what}: mean is exact`);
  for (const p of PERCENTILES) {
    const exact = exactPercentile(sorted, p);
    const reported = histogram.percentile(p);
    const error = Math.abs(reported - exact);
    assert.ok(
      error <= exact * HISTOGRAM_RELATIVE_ERROR,
      `${what}: p${p} is ${reported}, exact ${exact} (error ${error}, bound ${exact * HISTOGRAM_RELATIVE_ERROR})`,
    );
  }
}

describe('bench latency histogram', () => {
  it('states an error bound of 1/256', () => {
    assert.equal(HISTOGRAM_RELATIVE_ERROR, 1 / 256);
  });

  it('is exact below 256 ns', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => i % 256);
    checkAgainstExact(samples, 'small values');
    const histogram = new Histogram();
    for (const sample of samples) histogram.record(sample);
    assert.equal(
      histogram.percentile(50),
      exactPercentile(
        [...samples].sort((a, b) => a - b),
        50,
      ),
    );
  });

  it('matches exact nearest-rank percentiles within its bound: uniform, log-uniform, bimodal', () => {
    const next = random(12345);
    // Latencies from 20 µs to 2 ms, uniform.
    checkAgainstExact(
      Array.from({ length: 20_000 }, () => 20_000 + next() * 1_980_000),
      'uniform 20 µs-2 ms',
    );
    // Spread over nine orders of magnitude (1 ns to 1000 s), as a tail can be.
    checkAgainstExact(
      Array.from({ length: 20_000 }, () => 10 ** (next() * 12)),
      'log-uniform 1 ns-1000 s',
    );
    // Most fast, a few very slow: the shape a p99 is for.
    checkAgainstExact(
      Array.from({ length: 10_000 }, (_, i) => (i % 100 === 0 ? 50e6 : 100e3) * (1 + next())),
      'bimodal',
    );
  });

  it('p50 <= p90 <= p99 <= p99.9 <= max, and the values past 2^32 ns are bucketed exactly', () => {
    const histogram = new Histogram();
    const samples = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 33, 1e13];
    for (const sample of samples) histogram.record(sample);
    checkAgainstExact(samples, 'around 2^32');
    const figures = [50, 90, 99, 99.9].map((p) => histogram.percentile(p));
    for (let i = 1; i < figures.length; i++) assert.ok(figures[i - 1] <= figures[i]);
    assert.ok(figures[figures.length - 1] <= histogram.max);
  });

  it('reports 0 for an empty histogram and clamps negative values to 0', () => {
    const histogram = new Histogram();
    assert.deepEqual(
      [histogram.count, histogram.mean, histogram.min, histogram.max, histogram.percentile(99)],
      [0, 0, 0, 0, 0],
    );
    histogram.record(-5);
    assert.deepEqual([histogram.count, histogram.max, histogram.percentile(50)], [1, 0, 0]);
  });
});

describe('bench payloads', () => {
  it('makes every message distinct: sequence number and connection index', () => {
    const a = new PayloadSlots(64, 2, 0);
    const b = new PayloadSlots(64, 2, 1);
    const first = Buffer.from(a.message(0));
    const second = Buffer.from(a.message(1));
    const otherConnection = Buffer.from(b.message(0));
    assert.equal(first.length, 64);
    assert.notDeepEqual(first, second);
    assert.notDeepEqual(first, otherConnection);
    // Identical past the identifier: only the identifier tells messages apart.
    assert.deepEqual(first.subarray(ID_BYTES), second.subarray(ID_BYTES));
    assert.match(first.toString('latin1'), /^[\x20-\x7e]+$/, 'printable ASCII: valid text');
  });

  it('accepts exactly the echo of the message in the slot, of the type sent', () => {
    const slots = new PayloadSlots(40, 4, 3);
    const sent = Buffer.from(slots.message(5));
    assert.ok(slots.matches(5, Buffer.from(sent), true), 'binary echo');
    assert.ok(slots.matches(5, sent.toString('latin1'), false), 'text echo');
    assert.ok(!slots.matches(5, sent.toString('latin1'), true), 'text echo of a binary message');
    assert.ok(!slots.matches(5, Buffer.from(sent), false), 'binary echo of a text message');
    const corrupted = Buffer.from(sent);
    corrupted[30] ^= 1;
    assert.ok(!slots.matches(5, corrupted, true), 'one bit changed');
    assert.ok(!slots.matches(5, corrupted.toString('latin1'), false), 'one bit changed (text)');
    assert.ok(!slots.matches(5, sent.subarray(0, 39), true), 'one byte short');
    assert.ok(!slots.matches(5, Buffer.concat([sent, Buffer.from('x')]), true), 'one byte more');
    const stale = Buffer.from(new PayloadSlots(40, 4, 3).message(1));
    assert.ok(!slots.matches(5, stale, true), 'the message sent from this slot before');
    // A string of the right length whose last character is not ASCII (more UTF-8 bytes).
    const text = sent.toString('latin1');
    assert.ok(!slots.matches(5, `${text.slice(0, -1)}é`, false), 'a non-ASCII character');
  });

  it('keeps the changing digits of the sequence number in messages shorter than the identifier', () => {
    const slots = new PayloadSlots(2, 1, 0);
    const seen = new Set<string>();
    for (let sequence = 0; sequence < 256; sequence++)
      seen.add(slots.message(sequence).toString('latin1'));
    assert.equal(seen.size, 256);
  });
});

describe('bench progress line', () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    const stream = {
      isTTY,
      columns: 60,
      write: (text: string) => writes.push(text) > 0,
    } as unknown as NodeJS.WriteStream;
    return { stream, writes };
  }
  const snapshot = {
    phase: 'measuring' as const,
    measuredMs: 1500,
    received: 3000,
    errors: 2,
    opened: 10,
    latency: new Histogram(),
  };

  it('rewrites one line in place on a TTY, within the terminal width, and erases it', () => {
    const { stream, writes } = fakeStream(true);
    const line = new ProgressLine(stream);
    line.update(snapshot);
    line.update({ ...snapshot, measuredMs: 2000, received: 4000 });
    assert.equal(writes.length, 2);
    for (const text of writes) {
      assert.ok(text.startsWith('\r') && text.endsWith('\x1b[K'), JSON.stringify(text));
      assert.ok(!/[\n\r]/.test(text.slice(1)), 'one line, one carriage return');
      assert.ok(text.length - '\r\x1b[K'.length <= 59, text);
    }
    assert.match(writes[1], /2\.0 k msg\/s/, 'the rate over the last interval: 1000 in 500 ms');
    assert.match(writes[1], /errors 2/);
    line.clear();
    assert.equal(writes[2], '\r\x1b[K');
  });

  it('writes nothing when the stream is not a TTY', () => {
    const { stream, writes } = fakeStream(false);
    const line = new ProgressLine(stream);
    line.update(snapshot);
    line.clear();
    assert.deepEqual(writes, []);
  });
});
