// The pure parts of `wsnet connect` and of the failure table every command shares: typed
// commands, formats, URLs, and each error's exit status and hint, with the errors the message
// API really throws.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { parseCommand } from '../../src/cli/connect/commands.js';
import {
  clockTime,
  closeRecord,
  describeClose,
  messageRecord,
  plainMessage,
  printable,
  screenMessage,
} from '../../src/cli/connect/format.js';
import { CliError, ExitCode } from '../../src/cli/exit-codes.js';
import { closeExitCode, explainFailure, failureLabel } from '../../src/cli/failures.js';
import { endpointOf, webSocketUrl } from '../../src/cli/url.js';
import {
  HandshakeError,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
} from '../../src/messages/index.js';

describe('parseCommand', () => {
  const cases: Array<[string, unknown]> = [
    ['', { kind: 'nothing' }],
    ['hello', { kind: 'text', text: 'hello' }],
    ['  spaced  ', { kind: 'text', text: '  spaced  ' }],
    ['//etc/passwd', { kind: 'text', text: '/etc/passwd' }],
    ['/ping', { kind: 'ping', data: undefined }],
    ['/ping some data', { kind: 'ping', data: 'some data' }],
    ['/binary 01 02 ff', { kind: 'binary', bytes: Buffer.from([1, 2, 255]) }],
    ['/binary 0xDEADbeef', { kind: 'binary', bytes: Buffer.from('deadbeef', 'hex') }],
    ['/file /tmp/a b.bin', { kind: 'file', path: '/tmp/a b.bin' }],
    ['/close', { kind: 'close', code: 1000, reason: '' }],
    ['/close 4001', { kind: 'close', code: 4001, reason: '' }],
    ['/close 1001 going  away now', { kind: 'close', code: 1001, reason: 'going  away now' }],
    ['/quit', { kind: 'quit' }],
    ['/exit', { kind: 'quit' }],
    ['/help', { kind: 'help' }],
  ];
  for (const [line, expected] of cases)
    it(`'${line}'`, () => assert.deepEqual(parseCommand(line), expected));

  const invalid: Array<[string, RegExp]> = [
    ['/binary', /usage: \/binary HEX/],
    ['/binary 012', /even number of hex digits/],
    ['/binary zz', /not 'zz'/],
    ['/file', /usage: \/file PATH/],
    ['/close abc', /CODE from 1000 to 4999, not 'abc'/],
    ['/close 999', /not '999'/],
    ['/close 5000', /not '5000'/],
    [`/close 1000 ${'é'.repeat(62)}`, /at most 123 bytes of UTF-8; this one has 124/],
    ['/pnig', /unknown command \/pnig: \/help lists the commands; \/\/pnig sends/],
  ];
  for (const [line, message] of invalid)
    it(`'${line.slice(0, 30)}' is refused with a message`, () => {
      const command = parseCommand(line);
      assert.equal(command.kind, 'invalid');
      assert.match((command as { message: string }).message, message);
    });
});

describe('formats', () => {
  const time = new Date(2024, 0, 2, 3, 4, 5, 6);

  it('plain lines: text as it is, binary in hex or base64', () => {
    assert.equal(plainMessage('a\tb', 'hex'), 'a\tb');
    assert.equal(plainMessage(Buffer.from([0, 255]), 'hex'), '00ff');
    assert.equal(plainMessage(Buffer.from([0, 255]), 'base64'), 'AP8=');
  });

  it('NDJSON records: size in bytes, ISO time, binary with its encoding', () => {
    assert.deepEqual(JSON.parse(messageRecord('é', 'hex', time)), {
      type: 'text',
      size: 2,
      time: time.toISOString(),
      data: 'é',
    });
    assert.deepEqual(JSON.parse(messageRecord(Buffer.from([1, 2]), 'base64', time)), {
      type: 'binary',
      size: 2,
      time: time.toISOString(),
      data: 'AQI=',
      encoding: 'base64',
    });
    assert.deepEqual(JSON.parse(closeRecord({ code: 1011, reason: 'x', wasClean: true }, time)), {
      type: 'close',
      time: time.toISOString(),
      code: 1011,
      reason: 'x',
      wasClean: true,
    });
  });

  it('the close: code, its meaning, the reason, and an unclean end', () => {
    assert.equal(
      describeClose({ code: 1000, reason: '', wasClean: true }),
      'closed: 1000 normal closure',
    );
    assert.equal(
      describeClose({ code: 4404, reason: 'no "room"', wasClean: true }),
      'closed: 4404 application code, reason "no \\"room\\""',
    );
    assert.equal(
      describeClose({ code: 1006, reason: '', wasClean: false }),
      'closed: 1006 dropped without a close frame',
    );
    assert.equal(
      describeClose({ code: 1000, reason: '', wasClean: false }),
      'closed: 1000 normal closure (no clean closing handshake)',
    );
  });

  it('the clock: local HH:MM:SS.mmm', () => assert.equal(clockTime(time), '03:04:05.006'));

  it('the terminal sees control characters escaped, newlines and tabs kept', () => {
    assert.equal(
      printable('a\x1b[31mb\x07\r\n\tc\x7f\u009b\u2028'),
      'a\\x1b[31mb\\x07\\x0d\n\tc\\x7f\\x9b\\u{2028}',
    );
    assert.equal(screenMessage(Buffer.from([0x1b]), 'hex'), '[binary, 1 bytes] 1b');
  });
});

describe('webSocketUrl and endpointOf', () => {
  const USAGE = 'Usage: wsnet x URL';

  it('accepts ws:// and wss://, with their default ports', () => {
    assert.equal(endpointOf(webSocketUrl('ws://example.com/chat', USAGE)), 'example.com:80');
    assert.equal(endpointOf(webSocketUrl('wss://example.com', USAGE)), 'example.com:443');
    assert.equal(endpointOf(webSocketUrl('ws://[::1]:8080/', USAGE)), '[::1]:8080');
  });

  for (const [text, hint] of [
    ['http://h:1/p?q', /use ws:\/\/ for a WebSocket server: ws:\/\/h:1\/p\?q/],
    ['https://h/', /use wss:\/\/ for a WebSocket server: wss:\/\/h\//],
    ['h:8080', /did you mean ws:\/\/h:8080\?/],
    ['ftp://h/', /ws:\/\/ \(plain\) or wss:\/\/ \(TLS\)/],
  ] as const)
    it(`'${text}' is a usage error that says what to type`, () =>
      assert.throws(
        () => webSocketUrl(text, USAGE),
        (error: unknown) =>
          error instanceof CliError && error.code === ExitCode.USAGE && hint.test(error.hint ?? ''),
      ));
});

/** A system error as Node makes them (code, address, port). */
function systemError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} happened`), { code, ...extra });
}

describe('explainFailure: exit status and hint of each failure', () => {
  const context = { url: new URL('ws://server.test:8080/chat') };

  function explained(error: unknown) {
    const failure = explainFailure(error, context);
    assert.ok(failure instanceof CliError, `explained: ${String(error)}`);
    return { code: failure.code, message: failure.message, hint: failure.hint ?? '' };
  }

  it('a handshake timeout: 5', () => {
    const failure = explained(new TimeoutError('handshake', 250));
    assert.equal(failure.code, ExitCode.TIMEOUT);
    assert.match(failure.message, /server\.test:8080 within 250 ms/);
    assert.match(failure.hint, /--handshake-timeout/);
  });

  it('connection refused: 4, "is the server running on" the address refused', () => {
    const refused = new NetworkError('network', 'connect ECONNREFUSED', {
      cause: systemError('ECONNREFUSED', { address: '::1', port: 8080 }),
    });
    const failure = explained(refused);
    assert.equal(failure.code, ExitCode.NETWORK);
    assert.match(failure.hint, /is the server running on \[::1\]:8080\?/);
    // Refused before TLS started: the same failure, not a TLS one.
    const overTls = explained(
      new NetworkError('tls', 'connect ECONNREFUSED', { cause: systemError('ECONNREFUSED') }),
    );
    assert.match(overTls.hint, /is the server running on server\.test:8080\?/);
  });

  it('an unknown host: 4, check the host name', () => {
    const failure = explained(
      new NetworkError('network', 'getaddrinfo ENOTFOUND', { cause: systemError('ENOTFOUND') }),
    );
    assert.equal(failure.code, ExitCode.NETWORK);
    assert.match(failure.hint, /check the host name in the URL, and your DNS/);
  });

  it('a certificate not trusted: 4, --ca FILE or --insecure', () => {
    const failure = explained(
      new NetworkError('tls', 'self-signed certificate', {
        cause: systemError('DEPTH_ZERO_SELF_SIGNED_CERT'),
      }),
    );
    assert.equal(failure.code, ExitCode.NETWORK);
    assert.match(failure.hint, /--ca FILE .*--insecure/);
  });

  it('TLS against a plain server: 4, OpenSSL short reason, use ws://', () => {
    const failure = explained(
      new NetworkError('tls', 'long OpenSSL text', {
        cause: Object.assign(systemError('ERR_SSL_WRONG_VERSION_NUMBER'), {
          reason: 'wrong version number',
        }),
      }),
    );
    assert.equal(failure.message, 'TLS with server.test:8080 failed: wrong version number');
    assert.match(failure.hint, /use ws:\/\//);
  });

  it('a proxy that wants credentials (407) or refuses: 4', () => {
    assert.match(
      explained(new NetworkError('proxy', 'refused', { status: 407 })).hint,
      /--proxy http:\/\/USER:PASSWORD@HOST:PORT/,
    );
    assert.match(
      explained(new NetworkError('proxy', 'refused', { status: 403 })).hint,
      /allows CONNECT to server\.test:8080/,
    );
  });

  it('a refused handshake: 3, with the status, and a hint per status', () => {
    const hints: Array<[HandshakeError, RegExp]> = [
      [new HandshakeError('UNAUTHORIZED', undefined, { status: 401 }), /--auth USER:PASSWORD/],
      [new HandshakeError('CANNOT_UPGRADE', 'Forbidden', { status: 403 }), /--origin/],
      [new HandshakeError('CANNOT_UPGRADE', 'Not Found', { status: 404 }), /'\/chat'/],
      [
        new HandshakeError('NOT_UNDERSTOOD', undefined, { status: 200 }),
        /not a WebSocket endpoint/,
      ],
    ];
    for (const [error, hint] of hints) {
      const failure = explained(error);
      assert.equal(failure.code, ExitCode.HANDSHAKE_REFUSED);
      assert.match(failure.message, new RegExp(`with HTTP ${error.status}: `));
      assert.match(failure.hint, hint);
    }
  });

  it('a wrong 101: 3, "answered wrongly"', () => {
    const failure = explained(new HandshakeError('INVALID_ACCEPT', undefined, { status: 101 }));
    assert.equal(failure.code, ExitCode.HANDSHAKE_REFUSED);
    assert.match(
      failure.message,
      /^server\.test:8080 answered the WebSocket handshake wrongly: invalid/,
    );
    assert.match(failure.hint, /not a conforming WebSocket server/);
  });

  it('a bad option the message API refuses: 2', () => {
    const failure = explained(new InvalidArgumentError('INVALID_OPTION', 'bad thing'));
    assert.equal(failure.code, ExitCode.USAGE);
    assert.equal(failure.message, 'bad thing');
  });

  it('a CliError is kept; anything else is not explained (a bug, reported with its stack)', () => {
    const cli = new CliError('as is', ExitCode.LOCAL);
    assert.equal(explainFailure(cli, context), cli);
    assert.equal(explainFailure(new TypeError('x is undefined'), context), undefined);
    assert.equal(explainFailure('a string', context), undefined);
  });

  it('closeExitCode: 0 for a normal close (1000, 1001, no code), 1 for any other', () => {
    for (const code of [1000, 1001, 1005]) assert.equal(closeExitCode(code), ExitCode.OK);
    for (const code of [1002, 1006, 1009, 1011, 3000, 4000])
      assert.equal(closeExitCode(code), ExitCode.ABNORMAL_CLOSE);
  });
});

describe('failureLabel: the few words bench counts failed connections by', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a handshake timeout', new TimeoutError('handshake', 250), 'handshake timeout'],
    [
      'a refused handshake: its status',
      new HandshakeError('CANNOT_UPGRADE', 'Service Unavailable', { status: 503 }),
      'HTTP 503',
    ],
    [
      'a wrong 101',
      new HandshakeError('INVALID_ACCEPT', undefined, { status: 101 }),
      'bad handshake response',
    ],
    ['a bad option', new InvalidArgumentError('INVALID_OPTION', 'bad'), 'invalid argument'],
    [
      'a refused connection: the system code',
      new NetworkError('network', 'refused', { cause: systemError('ECONNREFUSED') }),
      'ECONNREFUSED',
    ],
    [
      'refused before TLS started: the same',
      new NetworkError('tls', 'refused', { cause: systemError('ECONNREFUSED') }),
      'ECONNREFUSED',
    ],
    [
      'a certificate not trusted: TLS and the code',
      new NetworkError('tls', 'self-signed', { cause: systemError('DEPTH_ZERO_SELF_SIGNED_CERT') }),
      'TLS DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
    ['a proxy that refuses', new NetworkError('proxy', 'no', { status: 407 }), 'proxy HTTP 407'],
    ['not HTTP', new NetworkError('http', 'garbage'), 'bad HTTP response'],
    ['a network error without a code', new NetworkError('network', 'odd'), 'network error'],
    ['anything else: its name', new TypeError('x'), 'TypeError'],
    ['not even an Error', 'a string', 'error'],
  ];
  for (const [label, error, expected] of cases)
    it(label, () => assert.equal(failureLabel(error), expected));
});
