/**
 * Options of the opt-in `hold` and `soak` suites, read from the command line after the suite
 * names: `npm run bench -- soak --duration 10m --connections 10000`.
 */

/** The value of `--name value` or `--name=value`, or undefined. */
export function option(name: string, argv = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** A whole number option (`--connections 10000`), or `fallback`. */
export function countOption(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`--${name} must be a whole number > 0, got ${text}`);
  return value;
}

/** A duration option in ms: `600` or `600s` (seconds), `10m` (minutes), `1h`; or `fallback`. */
export function durationOption(name: string, fallbackMs: number): number {
  const text = option(name);
  if (text === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text);
  if (match === null)
    throw new Error(`--${name} must be a number of seconds, or end in s, m or h; got ${text}`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}
