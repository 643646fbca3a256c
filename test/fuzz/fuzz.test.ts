// The fuzzers in CI: every target over a fixed budget of seeded inputs (structure-aware and
// mutated seed corpus), then every corpus file replayed, so a crash once found stays a test.
// Longer runs: npm run fuzz -- --target X --count N.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCorpus, replayAsync, runAsyncTarget, runTarget } from './harness.js';
import { asyncTargets, targets } from './targets/index.js';

const SEED = 20240611;
/** Inputs per target in CI, sized to keep the whole file within about a minute on 2 cores. */
const BUDGET: Record<string, number> = {
  'frame-reader': 60000,
  connection: 100000,
  handshake: 100000,
  deflate: 40000,
  challenge: 100000,
  // The facades end to end: one input at a time over the stream pair, each settling through a few
  // turns of the event loop, so thousands, not 10^5: 4 x 6,000 inputs took 16 s on these 2 cores
  // at a load average of 2.6 (the targets above: 40 s), and 4 x 8,000 took 54 s at a load
  // average of 8 (the targets above: 95 s).
  'messages-server': 6000,
  'messages-client': 6000,
  'poco-server': 6000,
  'poco-client': 6000,
};

for (const target of targets) {
  describe(`fuzz: ${target.name}`, () => {
    it(`${BUDGET[target.name]} seeded inputs hold the invariant`, () => {
      const result = runTarget(target, BUDGET[target.name] ?? 1000, SEED);
      if (result.failure !== undefined)
        assert.fail(
          `input ${result.failure.input.toString('hex')} broke the invariant: ${String(result.failure.error)}`,
        );
      assert.equal(result.inputs, BUDGET[target.name]);
    });

    it('every corpus file (seeds and past crashes) holds the invariant', () => {
      const corpus = readCorpus(target.name);
      assert.ok(corpus.length >= 3, `a seed corpus in test/fuzz/corpus/${target.name}`);
      for (const [name, input] of corpus)
        assert.doesNotThrow(() => target.check(input), `corpus file ${name}`);
    });
  });
}

for (const target of asyncTargets) {
  describe(`fuzz: ${target.name}`, () => {
    it(`${BUDGET[target.name]} seeded inputs hold the invariant`, async () => {
      const result = await runAsyncTarget(target, BUDGET[target.name] ?? 100, SEED);
      if (result.failure !== undefined)
        assert.fail(
          `input ${result.failure.input.toString('hex')} broke the invariant: ${String(result.failure.error)}`,
        );
      assert.equal(result.inputs, BUDGET[target.name]);
    });

    it('every corpus file (seeds and past crashes) holds the invariant', async () => {
      const corpus = readCorpus(target.name);
      assert.ok(corpus.length >= 3, `a seed corpus in test/fuzz/corpus/${target.name}`);
      for (const [name, input] of corpus)
        await assert.doesNotReject(replayAsync(target, input), `corpus file ${name}`);
    });
  });
}
