// src/cli/args.ts: the checked option conversions every command uses. A bad value is a
// CliError with exit status 2 whose message names the option and the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  durationOption,
  headerOptions,
  integerOption,
  parseCommandLine,
  sizeOption,
  usageError,
} from '../../src/cli/args.js';
import { CliError, ExitCode } from '../../src/cli/exit-codes.js';

const USAGE = 'Usage: wsnet demo [options] ARG\n\nMore text.';

/** Asserts that `run` throws a usage CliError (exit 2) whose message matches `message`. */
function assertUsageError(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CliError, `a CliError, not ${String(error)}`);
    assert.equal(error.code, ExitCode.USAGE);
    assert.match(error.message, message);
    return true;
  });
}

describe('parseCommandLine', () => {
  const options = {
    name: { type: 'string', short: 'n' },
    many: { type: 'string', multiple: true },
    flag: { type: 'boolean', short: 'f' },
  } as const;

  it('returns the values and positionals', () => {
    const parsed = parseCommandLine(
      ['-n', 'x', '--many', 'a', 'pos', '--many=b', '-f'],
      options,
      USAGE,
    );
    assert.ok(!parsed.help);
    assert.deepEqual({ ...parsed.values }, { name: 'x', many: ['a', 'b'], flag: true });
    assert.deepEqual(parsed.positionals, ['pos']);
  });

  it('--help and -h win over anything else, even bad options', () => {
    assert.deepEqual(parseCommandLine(['--bogus', '--help'], options, USAGE), { help: true });
    assert.deepEqual(parseCommandLine(['-h'], options, USAGE), { help: true });
  });

  it('an unknown option, a missing value or a value given to a flag: exit 2, with the usage line', () => {
    for (const [argv, message] of [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--name'], /--name/],
      [['--flag=yes'], /--flag/],
    ] as const) {
      assert.throws(
        () => parseCommandLine(argv, options, USAGE),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === ExitCode.USAGE &&
          message.test(error.message) &&
          error.hint === 'Usage: wsnet demo [options] ARG\n(--help for every option)',
      );
    }
  });

  it('usageError: the message, and the usage line as the hint', () => {
    const error = usageError('something is wrong', USAGE);
    assert.equal(error.code, ExitCode.USAGE);
    assert.equal(error.message, 'something is wrong');
    assert.match(error.hint ?? '', /^Usage: wsnet demo \[options\] ARG\n/);
  });
});

describe('integerOption', () => {
  it('the fallback when absent, the number when valid', () => {
    assert.equal(integerOption(undefined, 'count', 7), 7);
    assert.equal(integerOption('0', 'count', 7), 0);
    assert.equal(integerOption('42', 'count', 7, { min: 1, max: 100 }), 42);
  });

  for (const value of ['', 'ten', '1.5', '-1', '1e3', ' 3', '0x10', '9007199254740993'])
    it(`refuses '${value}'`, () =>
      assertUsageError(
        () => integerOption(value, 'count', 7),
        new RegExp(
          `^--count must be an integer from 0 to \\d+, not '${value.replace(/[.]/g, '\\.')}'$`,
        ),
      ));

  it('refuses values out of [min, max]', () => {
    assertUsageError(
      () => integerOption('0', 'count', 1, { min: 1, max: 10 }),
      /--count must be an integer from 1 to 10, not '0'/,
    );
    assertUsageError(
      () => integerOption('11', 'count', 1, { min: 1, max: 10 }),
      /--count must be an integer from 1 to 10, not '11'/,
    );
  });
});

describe('durationOption', () => {
  it('milliseconds from each unit, and bare seconds', () => {
    assert.equal(durationOption(undefined, 'wait', 1234), 1234);
    assert.equal(durationOption('250ms', 'wait', 0), 250);
    assert.equal(durationOption('10s', 'wait', 0), 10_000);
    assert.equal(durationOption('2m', 'wait', 0), 120_000);
    assert.equal(durationOption('1h', 'wait', 0), 3_600_000);
    assert.equal(durationOption('1.5', 'wait', 0), 1500);
    assert.equal(durationOption('0', 'wait', 9), 0);
  });

  for (const value of ['', 'soon', '-1', '10 s', '5d', '1.', '.5s', 'ms'])
    it(`refuses '${value}'`, () =>
      assertUsageError(
        () => durationOption(value, 'wait', 0),
        /^--wait must be a duration such as/,
      ));
});

describe('sizeOption', () => {
  it('bytes from binary units, case-insensitive', () => {
    assert.equal(sizeOption(undefined, 'max', 99), 99);
    assert.equal(sizeOption('512', 'max', 0), 512);
    assert.equal(sizeOption('4k', 'max', 0), 4096);
    assert.equal(sizeOption('64KiB', 'max', 0), 65_536);
    assert.equal(sizeOption('1M', 'max', 0), 1_048_576);
    assert.equal(sizeOption('2 mb', 'max', 0), 2_097_152);
  });

  for (const value of ['', 'big', '-1', '1.5k', '12Q', '1g'])
    it(`refuses '${value}'`, () =>
      assertUsageError(() => sizeOption(value, 'max', 0), /^--max must be a size such as 512/));

  it('refuses a size over the maximum, and says the maximum', () =>
    assertUsageError(() => sizeOption('2M', 'max', 0, 1 << 20), /at most 1048576 bytes/));
});

describe('headerOptions', () => {
  it('Name: value pairs in order, names repeated, values trimmed, colons kept in values', () => {
    assert.deepEqual(headerOptions(undefined), []);
    assert.deepEqual(headerOptions(['X-A: 1', 'x-a:2', 'Authorization:  Bearer a:b ', 'Empty:']), [
      ['X-A', '1'],
      ['x-a', '2'],
      ['Authorization', 'Bearer a:b'],
      ['Empty', ''],
    ]);
  });

  for (const value of ['no colon', ': value', 'Bad Name: x', 'Bad(name): x', ''])
    it(`refuses '${value}'`, () =>
      assertUsageError(() => headerOptions([value]), /^--header must look like 'Name: value'/));

  it('names the option it parses', () =>
    assertUsageError(() => headerOptions(['x'], 'proxy-header'), /^--proxy-header must look like/));
});
