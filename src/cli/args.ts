/**
 * Argument parsing shared by the commands: Node's `util.parseArgs` with wsnet's usage errors, and
 * the checked conversions of option values (numbers, durations, sizes, headers, --auth, --proxy)
 * that the commands need, so that an option means the same in each. A bad value is a `CliError` with exit status 2 that names the option.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, ExitCode } from './exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What `parseCommandLine` returns: the values and positionals, or `help` when --help was given. */
export type Parsed<T extends Options> =
  | { help: true }
  | {
      help: false;
      values: ReturnType<
        typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>
      >['values'];
      positionals: string[];
    };

/**
 * Parses `argv` against `options` (plus `--help`/`-h`), strictly: an unknown option, a missing
 * value or a value given to a flag is a usage error that ends with `usage`'s first line.
 */
export function parseCommandLine<T extends Options>(
  argv: readonly string[],
  options: T,
  usage: string,
): Parsed<T> {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { help: false, values, positionals };
  } catch (error) {
    throw usageError((error as Error).message, usage);
  }
}

/** A usage error: the problem, then the command's usage line as the hint. */
export function usageError(message: string, usage: string): CliError {
  const firstLine = usage.split('\n', 1)[0];
  return new CliError(message, ExitCode.USAGE, `${firstLine}\n(--help for every option)`);
}

/** An integer option within [min, max]; `fallback` when absent. */
export function integerOption(
  value: string | undefined,
  name: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max)
    throw new CliError(
      `--${name} must be an integer from ${min} to ${max}, not '${value}'`,
      ExitCode.USAGE,
    );
  return number;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A duration in milliseconds from `500ms`, `10s`, `2m`, `1h` or a bare number of seconds. */
export function durationOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (match === null)
    throw new CliError(
      `--${name} must be a duration such as 500ms, 10s, 2m or 1.5 (seconds), not '${value}'`,
      ExitCode.USAGE,
    );
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 's']);
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
};

/** A size in bytes from `512`, `4k`, `64KiB`, `1M` (binary units, case-insensitive). */
export function sizeOption(
  value: string | undefined,
  name: string,
  fallback: number,
  max = 1 << 30,
): number {
  if (value === undefined) return fallback;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value);
  const unit = match === null ? undefined : SIZE_UNITS[match[2].toLowerCase()];
  const bytes = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes > max)
    throw new CliError(
      `--${name} must be a size such as 512, 4k or 1M (at most ${max} bytes), not '${value}'`,
      ExitCode.USAGE,
    );
  return bytes;
}

/** `Name: value` header options, as pairs in the order given (names may repeat). */
export function headerOptions(
  values: readonly string[] | undefined,
  name = 'header',
): Array<[string, string]> {
  return (values ?? []).map((value) => {
    const colon = value.indexOf(':');
    const header = colon <= 0 ? '' : value.slice(0, colon).trim();
    if (header === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
      throw new CliError(`--${name} must look like 'Name: value', not '${value}'`, ExitCode.USAGE);
    return [header, value.slice(colon + 1).trim()];
  });
}

/** --auth USER:PASSWORD as the message API's credentials (the password may hold colons). */
export function credentialsOption(
  value: string | undefined,
  usage: string,
): { username: string; password: string } | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0)
    throw usageError(
      `--auth must look like USER:PASSWORD, not '${value.replace(/:.*/, ':…')}'`,
      usage,
    );
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/**
 * --proxy, checked: an HTTP proxy (http://, a CONNECT tunnel; https:// with TLS to it), a SOCKS5 one (socks5://, or
 * socks5h:// for the proxy to resolve the name), or `env` for the proxy the environment names
 * (https_proxy, http_proxy, all_proxy, no_proxy), as the message API's `proxy` option takes.
 */
export function proxyOption(value: string | undefined, usage: string): string | undefined {
  if (value !== undefined && value !== 'env' && !/^(?:https?|socks5h?):\/\/[^/]/i.test(value))
    throw usageError(
      `--proxy must be http://HOST:PORT, https://, socks5://, socks5h:// or env, not '${value}'`,
      usage,
    );
  return value;
}
