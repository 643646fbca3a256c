/**
 * The WebSocket URL a command is given, checked before anything connects: a usage error that
 * says what to type instead of a wrong scheme (`http://`, `localhost:8080` with no scheme at
 * all), and the `host:port` that failure hints name.
 */
import { CliError, ExitCode } from './exit-codes.js';
import { usageError } from './args.js';

/** What a URL with a scheme a WebSocket client does not speak should have been. */
const SCHEME_FIXES: Readonly<Record<string, string>> = {
  'http:': 'ws:',
  'https:': 'wss:',
};

/** `text` as a ws:// or wss:// URL, or a usage error with the URL to use instead. */
export function webSocketUrl(text: string, usage: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // 'localhost:8080' parses as the scheme 'localhost:': no '//' means no scheme was meant.
  if (url === undefined || !text.includes('//')) {
    const guess = `ws://${text.replace(/^\/*/, '')}`;
    throw new CliError(
      `'${text}' is not a WebSocket URL`,
      ExitCode.USAGE,
      `a WebSocket URL starts with ws:// or wss://: did you mean ${guess}?`,
    );
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') {
    if (url.hash !== '') throw usageError(`a WebSocket URL has no #fragment: '${text}'`, usage);
    return url;
  }
  const fix = SCHEME_FIXES[url.protocol];
  throw new CliError(
    `'${url.protocol}//' is not a WebSocket scheme`,
    ExitCode.USAGE,
    fix === undefined
      ? 'a WebSocket URL starts with ws:// (plain) or wss:// (TLS)'
      : `use ${fix}// for a WebSocket server: ${fix}${text.slice(url.protocol.length)}`,
  );
}

/** `host:port` of a ws:// or wss:// URL, with the scheme's default port if it names none. */
export function endpointOf(url: URL): string {
  const port = url.port !== '' ? url.port : url.protocol === 'wss:' ? '443' : '80';
  return `${url.hostname}:${port}`;
}
