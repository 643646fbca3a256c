// `wsnet connect` in a pipe, as a child process against real servers on loopback: the messages
// both ways, --json, binary, --execute and --wait, how the close is shown, and the exit status
// (with its hint) of each way a connection can end or fail to start.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer as WsServer } from 'ws';
import {
  WebSocketServer,
  type ServerOptions,
  type UpgradeContext,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { CliProcess, runCli } from '../helpers/cli.js';
import { EchoServers, echo } from '../helpers/echo-servers.js';
import { startProxy } from '../helpers/proxy.js';
import { startScriptedServer } from '../helpers/scripted-server.js';
import { startSocksServer } from '../helpers/socks-server.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';

const servers = new EchoServers();
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  await servers.closeAll();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server that runs `handler` on each connection and records each handshake's context. */
async function serverWith(
  handler: (connection: WebSocketConnection) => unknown,
  options: Partial<ServerOptions> = {},
): Promise<{ server: WebSocketServer; url: string; handshakes: UpgradeContext[] }> {
  const handshakes: UpgradeContext[] = [];
  const server = servers.track(
    await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      ...options,
      accept: (context) => {
        handshakes.push(context);
        return options.accept === undefined ? true : options.accept(context);
      },
    }),
  );
  server.on('connection', (connection) => void handler(connection));
  return { server, url: server.url, handshakes };
}

/** Echoes each message; after `last`, closes with 1000 'bye' (which ends the client's --wait). */
function echoUntil(last: string) {
  return async (connection: WebSocketConnection) => {
    try {
      for await (const message of connection) {
        await connection.send(message);
        if (message === last) await connection.close(1000, 'bye');
      }
    } catch {
      // closed abnormally
    }
  };
}

/** A loopback port with nothing listening on it (listened on, then closed). */
async function freePort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

describe('wsnet connect: messages in a pipe', () => {
  it('sends each line as a text message and prints each echo on its own line', async () => {
    const { url } = await servers.start().then((server) => ({ url: server.url }));
    const cli = new CliProcess(['connect', '--wait', '0', url]);
    cli.write('hello\n');
    await cli.waitFor(/^hello\n$/);
    cli.write('wörld, with ünïcode\r\n\n'); // CRLF ends a line too; an empty line is a message
    await cli.waitFor(/^hello\nwörld, with ünïcode\n\n$/);
    cli.endInput();
    const result = await cli.exit();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'hello\nwörld, with ünïcode\n\n');
    assert.match(result.stderr, /^closed: 1000 normal closure\n$/);
  });

  it('at the end of stdin sends every line, waits for replies, and the close ends the wait', async () => {
    const { url, handshakes } = await serverWith(echoUntil('three'));
    const result = await runCli(['connect', '--wait', '60s', url], {
      input: 'one\ntwo\nthree', // the last line has no newline: still a message
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'one\ntwo\nthree\n');
    assert.match(result.stderr, /^closed: 1000 normal closure, reason "bye"\n$/);
    assert.equal(handshakes.length, 1);
  });

  it('many lines arrive in order, none lost', async () => {
    const { url } = await serverWith(echoUntil('line 4999'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const result = await runCli(['connect', '-w', '60s', url], {
      input: `${lines.join('\n')}\n`,
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), [...lines, '']);
  });

  it('a server that closes while stdin is still open ends the session (stdin is let go)', async () => {
    const { url } = await serverWith(echoUntil('only'));
    const cli = new CliProcess(['connect', url]);
    cli.write('only\n'); // and stdin stays open
    const result = await cli.exit();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'only\n');
    assert.match(result.stderr, /^closed: 1000 normal closure, reason "bye"\n$/);
  });

  it('when its stdout goes away (| head -1), closes with 1001 and exits 0', async () => {
    const closes: Array<[number, string]> = [];
    const { url } = await serverWith((connection) => {
      connection.on('close', (code, reason) => closes.push([code, reason]));
      // A message every few milliseconds until the client closes (a paced stream, not a flood
      // that the client would have to read through before the close handshake completes).
      let count = 0;
      const timer = setInterval(() => void connection.send(`message ${count++}`), 5);
      connection.on('close', () => clearInterval(timer));
    });
    const cli = new CliProcess(['connect', '-w', '60s', url]);
    cli.endInput();
    await cli.waitFor(/^message 0\n/);
    cli.process.stdout!.destroy();
    const result = await cli.exit();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /closed: 1001 going away/);
    assert.deepEqual(closes, [[1001, 'output closed']]);
  });

  it('prints binary messages in hex by default, in base64 with --binary-format base64', async () => {
    const bytes = Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0a]);
    const { url } = await serverWith(async (connection) => {
      await connection.send(bytes);
      await connection.send('text after');
      await connection.close(1000);
    });
    const hex = await runCli(['connect', '-w', '60s', url]);
    assert.equal(hex.code, 0, hex.stderr);
    assert.equal(hex.stdout, '000102ff0a\ntext after\n');
    const base64 = await runCli(['connect', '-w', '60s', '--binary-format', 'base64', url]);
    assert.equal(base64.code, 0, base64.stderr);
    assert.equal(base64.stdout, `${bytes.toString('base64')}\ntext after\n`);
  });

  it('--json writes one record per message and one for the close', async () => {
    const { url } = await serverWith(async (connection) => {
      await connection.send('héllo\nthere'); // a newline inside: still one record
      await connection.send(Buffer.from([0, 1, 2, 255]));
      await connection.close(1000, 'done');
    });
    const result = await runCli(['connect', '--json', '-w', '60s', url]);
    assert.equal(result.code, 0, result.stderr);
    const records = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      assert.equal(typeof record.time, 'string');
      assert.equal(new Date(record.time as string).toISOString(), record.time);
      delete record.time;
    }
    assert.deepEqual(records, [
      { type: 'text', size: 12, data: 'héllo\nthere' },
      { type: 'binary', size: 4, data: '000102ff', encoding: 'hex' },
      { type: 'close', code: 1000, reason: 'done', wasClean: true },
    ]);
    assert.match(result.stderr, /closed: 1000 normal closure, reason "done"/);
  });

  it('--execute sends its messages in order, ignores stdin, and waits --wait for replies', async () => {
    const received: string[] = [];
    const { url } = await serverWith(async (connection) => {
      try {
        for await (const message of connection) {
          received.push(String(message));
          await connection.send(`re: ${String(message)}`);
          if (message === 'second')
            setTimeout(() => {
              void connection.send('late').then(() => connection.close(1000, 'bye'));
            }, 100);
        }
      } catch {
        // closed
      }
    });
    const result = await runCli(
      ['connect', '-x', 'first', '--execute', 'second', '-w', '60s', url],
      {
        input: 'not sent\n',
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 're: first\nre: second\nlate\n');
    assert.deepEqual(received, ['first', 'second']);
    assert.match(result.stderr, /closed: 1000 normal closure, reason "bye"/);
  });

  it('when --wait elapses, closes normally (1000) and exits 0', async () => {
    const closes: number[] = [];
    const { url } = await serverWith(async (connection) => {
      connection.on('close', (code) => closes.push(code));
      await echo(connection);
    });
    const result = await runCli(['connect', '-x', 'ping', '-w', '200ms', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'ping\n');
    assert.match(result.stderr, /^closed: 1000 normal closure\n$/);
    assert.deepEqual(closes, [1000]);
  });

  it('works against ws as well (echo, subprotocol)', async () => {
    const ws = new WsServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'chat' });
    await new Promise((resolve) => ws.once('listening', resolve));
    cleanups.push(() => new Promise<void>((resolve) => ws.close(() => resolve())));
    ws.on('connection', (socket) => {
      socket.on('message', (data: Buffer, isBinary) => {
        socket.send(data, { binary: isBinary });
        if (!isBinary && data.toString('utf8') === 'bye') socket.close(1001, 'leaving');
      });
    });
    const { port } = ws.address() as net.AddressInfo;
    const result = await runCli(
      ['connect', '--json', '-s', 'chat', '-w', '60s', `ws://127.0.0.1:${port}/`],
      { input: 'hi\nbye\n' },
    );
    assert.equal(result.code, 0, result.stderr);
    const records = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; data?: string; code?: number });
    assert.deepEqual(
      records.map(({ type, data, code }) => [type, data ?? code]),
      [
        ['text', 'hi'],
        ['text', 'bye'],
        ['close', 1001],
      ],
    );
  });
});

describe('wsnet connect: how the connection ended', () => {
  it('a server that closes with 1011: the code and reason on stderr, exit 1', async () => {
    const { url } = await serverWith((connection) => connection.close(1011, 'boom'));
    const result = await runCli(['connect', '-w', '60s', url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^closed: 1011 internal error, reason "boom"\n$/);
  });

  it('a server that drops the connection: 1006, exit 1', async () => {
    const { url } = await serverWith((connection) => connection.terminate());
    const result = await runCli(['connect', '-w', '60s', url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /closed: 1006 dropped without a close frame/);
  });

  it('a message over --max-message closes with 1009, exit 1', async () => {
    const { url } = await serverWith((connection) => connection.send('x'.repeat(2048)));
    const result = await runCli(['connect', '--max-message', '1k', '-w', '60s', url]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /closed: 1009 message too big/);
  });

  for (const [signal, code] of [
    ['SIGINT', 1000],
    ['SIGTERM', 1001],
  ] as const)
    it(`in a pipe, ${signal} closes with ${code} and the session ends as the close says (exit 0)`, async () => {
      const closes: Array<[number, string]> = [];
      const { url } = await serverWith((connection) => {
        connection.on('close', (closeCode, reason) => closes.push([closeCode, reason]));
        void connection.send('ready');
      });
      const cli = new CliProcess(['connect', url]); // stdin left open: only the signal ends it
      await cli.waitFor(/^ready\n/);
      cli.kill(signal);
      const result = await cli.exit();
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(closes, [[code, 'interrupted']]);
      assert.match(result.stderr, new RegExp(`^closed: ${code} `));
    });
});

describe('wsnet connect: failures to connect, with their exit status and hint', () => {
  it('a handshake refused with 403: exit 3, the status in the message', async () => {
    const { url } = await serverWith(echo, { accept: () => false });
    const result = await runCli(['connect', url]);
    assert.equal(result.code, 3);
    assert.match(
      result.stderr,
      /^wsnet: 127\.0\.0\.1:\d+ refused the WebSocket handshake with HTTP 403/,
    );
    assert.match(result.stderr, /\n.*--origin/);
    assert.equal(result.stdout, '');
  });

  it('an HTTP server that is not a WebSocket endpoint: exit 3 with its status', async () => {
    const plain = http.createServer((_request, response) => response.end('hello'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      plain.closeAllConnections();
      plain.close();
    });
    const { port } = plain.address() as net.AddressInfo;
    const result = await runCli(['connect', `ws://127.0.0.1:${port}/`]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /HTTP 200/);
    assert.match(result.stderr, /not a WebSocket endpoint/);
  });

  it('nothing listening: exit 4, "is the server running on HOST:PORT?"', async () => {
    const port = await freePort();
    const result = await runCli(['connect', `ws://127.0.0.1:${port}/`]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}\\n`));
    assert.match(result.stderr, new RegExp(`is the server running on 127\\.0\\.0\\.1:${port}\\?`));
  });

  it('a server that never answers the handshake: exit 5 after --handshake-timeout', async () => {
    const silent = await startScriptedServer(() => ({ hang: true }));
    cleanups.push(() => silent.stop());
    const result = await runCli([
      'connect',
      '--handshake-timeout',
      '300ms',
      `ws://127.0.0.1:${silent.port}/`,
    ]);
    assert.equal(result.code, 5);
    assert.match(result.stderr, /no WebSocket handshake with 127\.0\.0\.1:\d+ within 300 ms/);
    assert.match(result.stderr, /--handshake-timeout/);
    assert.equal(silent.requests.length, 1);
  });

  it('ws:// to a TLS server: exit 4, the hint says wss://', async () => {
    const { cert, key } = selfSignedCertificate();
    const { server } = await serverWith(echo, { tls: { cert, key } });
    const result = await runCli([
      'connect',
      '--handshake-timeout',
      '5s',
      `ws://127.0.0.1:${server.address().port}/`,
    ]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /wss:\/\//);
  });
});

describe('wsnet connect: the request', () => {
  it('headers, subprotocols and the origin reach the server; deflate is offered unless --no-deflate', async () => {
    const { url, handshakes } = await serverWith(echo, { protocols: ['chat.v2'] });
    const result = await runCli([
      'connect',
      ...['-H', 'X-Trace: abc 123', '--header', 'X-Other:  two'],
      ...['-s', 'chat.v1', '--subprotocol', 'chat.v2'],
      ...['-o', 'https://app.example'],
      ...['-x', 'hi', '-w', '0'],
      `${url}path?q=1`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [context] = handshakes;
    assert.equal(context.url, '/path?q=1');
    assert.equal(context.request.headers['x-trace'], 'abc 123');
    assert.equal(context.request.headers['x-other'], 'two');
    assert.equal(context.origin, 'https://app.example');
    assert.deepEqual(context.protocols, ['chat.v1', 'chat.v2']);
    assert.match(context.request.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);

    const plain = await runCli(['connect', '--no-deflate', '-x', 'hi', '-w', '0', url]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(handshakes[1].request.headers['sec-websocket-extensions'], undefined);
  });

  it('--auth answers a server that requires Basic; without it: exit 3 and the hint', async () => {
    const expected = `Basic ${Buffer.from('user:sëcret:with colon').toString('base64')}`;
    const { url } = await serverWith(echoUntil('hi'), {
      accept: ({ request }) =>
        request.headers.authorization === expected || {
          status: 401,
          headers: { 'WWW-Authenticate': 'Basic realm="test"' },
        },
    });
    const granted = await runCli([
      'connect',
      '--auth',
      'user:sëcret:with colon',
      '-x',
      'hi',
      '-w',
      '60s',
      url,
    ]);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, 'hi\n');

    const refused = await runCli(['connect', '-x', 'hi', url]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /HTTP 401/);
    assert.match(refused.stderr, /--auth USER:PASSWORD/);
  });

  it('--proxy goes through an HTTP proxy; a proxy that refuses: exit 4', async () => {
    const { server, url } = await serverWith(echoUntil('via proxy'));
    const proxy = await startProxy();
    cleanups.push(() => proxy.stop());
    const result = await runCli([
      'connect',
      '--proxy',
      `http://127.0.0.1:${proxy.port}`,
      ...['-x', 'via proxy', '-w', '60s'],
      url,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'via proxy\n');
    assert.deepEqual(
      proxy.connects.map(({ target }) => target),
      [`127.0.0.1:${server.address().port}`],
    );

    const strict = await startProxy({ credentials: 'proxyuser:pw' });
    cleanups.push(() => strict.stop());
    const refused = await runCli(['connect', '--proxy', `http://127.0.0.1:${strict.port}`, url]);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /--proxy http:\/\/USER:PASSWORD@HOST:PORT/);
    const admitted = await runCli([
      'connect',
      ...['--proxy', `http://proxyuser:pw@127.0.0.1:${strict.port}`],
      ...['-x', 'via proxy', '-w', '60s'],
      url,
    ]);
    assert.equal(admitted.code, 0, admitted.stderr);
  });
});

describe("wsnet connect: redirects, SOCKS5 and the environment's proxy", () => {
  /** An HTTP server answering every request with `status` to `location`. */
  async function redirector(status: number, location: () => string): Promise<string> {
    const server = http.createServer((_request, response) => {
      response.writeHead(status, { Location: location() }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/old`;
  }

  it('-L follows a redirect; without it: exit 3, the hint names --location', async () => {
    const { url } = await serverWith(echoUntil('moved'));
    const moved = await redirector(308, () => url);
    const refused = await runCli(['connect', '-x', 'moved', moved]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /HTTP 308/);
    assert.match(refused.stderr, /--location \(-L\)/);
    const followed = await runCli(['connect', '-L', '-x', 'moved', '-w', '60s', moved]);
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout, 'moved\n');
  });

  it('--max-redirects bounds the chain (a loop is refused by its own rule): exit 3', async () => {
    let self = '';
    self = await redirector(302, () => self.replace('/old', `/hop${Math.random()}`));
    const result = await runCli(['connect', '--max-redirects', '2', self]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /more redirects than maxRedirects: 2 followed/);
    const looping = await redirector(301, () => looping);
    const loop = await runCli(['connect', '-L', looping]);
    assert.equal(loop.code, 3);
    assert.match(loop.stderr, /came back to a URL already visited/);
  });

  it('--proxy socks5:// goes through a SOCKS5 proxy (with RFC 1929 credentials)', async () => {
    const { server, url } = await serverWith(echoUntil('via socks'));
    const socks = await startSocksServer({ credentials: { username: 'u', password: 'p w' } });
    cleanups.push(() => socks.stop());
    const result = await runCli([
      'connect',
      ...['--proxy', `socks5://u:p%20w@127.0.0.1:${socks.port}`],
      ...['-x', 'via socks', '-w', '60s'],
      url,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'via socks\n');
    assert.equal(socks.requests.length, 1);
    assert.equal(socks.requests[0].username, 'u');
    assert.equal(socks.requests[0].password, 'p w');
    assert.equal(socks.requests[0].port, server.address().port);
  });

  it('--proxy env takes the proxy that http_proxy names, and its no_proxy exceptions', async () => {
    const { server, url } = await serverWith(echoUntil('via env'));
    const proxy = await startProxy();
    cleanups.push(() => proxy.stop());
    const env = { http_proxy: `http://127.0.0.1:${proxy.port}`, no_proxy: '', NO_PROXY: '' };
    const args = ['connect', '--proxy', 'env', '-x', 'via env', '-w', '60s', url];
    const result = await runCli(args, { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'via env\n');
    assert.deepEqual(
      proxy.connects.map(({ target }) => target),
      [`127.0.0.1:${server.address().port}`],
    );
    const direct = await runCli(args, { env: { ...env, no_proxy: '127.0.0.1' } });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(proxy.connects.length, 1, 'no_proxy: the second run went direct');
  });
});

describe('wsnet connect: wss://', () => {
  let url = '';
  let caFile = '';
  before(async () => {
    const { cert, key } = selfSignedCertificate();
    const { server } = await serverWith(echoUntil('secure'), { tls: { cert, key } });
    url = `wss://127.0.0.1:${server.address().port}/`;
    const directory = mkdtempSync(path.join(tmpdir(), 'wsnet-ca-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    caFile = path.join(directory, 'ca.pem');
    writeFileSync(caFile, cert);
  });

  it('with --ca FILE trusting the server certificate', async () => {
    const result = await runCli(['connect', '--ca', caFile, '-x', 'secure', '-w', '60s', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'secure\n');
  });

  it('with --insecure (-k)', async () => {
    const result = await runCli(['connect', '-k', '-x', 'secure', '-w', '60s', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'secure\n');
  });

  it('without either: exit 4, the hint names --ca and --insecure', async () => {
    const result = await runCli(['connect', '-x', 'secure', url]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /certificate of 127\.0\.0\.1:\d+ was not accepted/);
    assert.match(result.stderr, /--ca FILE.*--insecure/);
  });

  it('a --ca file that cannot be read: exit 6', async () => {
    const result = await runCli(['connect', '--ca', `${caFile}.missing`, url]);
    assert.equal(result.code, 6);
    assert.match(result.stderr, /cannot read --ca .*ca\.pem\.missing/);
  });
});

describe('wsnet connect: the command line', () => {
  it('--help lists every option, with examples and the exit statuses', async () => {
    const result = await runCli(['connect', '--help']);
    assert.equal(result.code, 0);
    for (const option of [
      '--header',
      '--subprotocol',
      '--origin',
      '--auth',
      '--proxy',
      '--ca',
      '--insecure',
      '--handshake-timeout',
      '--close-timeout',
      '--execute',
      '--wait',
      '--json',
      '--binary-format',
      '--deflate',
      '--no-deflate',
      '--max-message',
      '/ping',
      '/binary',
      '/file',
      '/close',
      '/quit',
      '/help',
      'Examples:',
      'Exit status:',
    ])
      assert.ok(result.stdout.includes(option), `--help mentions ${option}`);
  });

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['no URL', [], /the URL to connect to is missing/],
    ['two URLs', ['ws://a/', 'ws://b/'], /one URL is expected, not 2/],
    ['an unknown option', ['--bogus', 'ws://a/'], /Unknown option '--bogus'/],
    ['a missing value', ['ws://a/', '--wait'], /--wait/],
    ['a bad duration', ['--wait', 'soon', 'ws://a/'], /--wait must be a duration.*'soon'/],
    ['a bad timeout', ['--handshake-timeout', '-1', 'ws://a/'], /handshake-timeout/],
    ['a bad size', ['--max-message', '12Q', 'ws://a/'], /--max-message must be a size.*'12Q'/],
    ['a bad header', ['-H', 'no colon', 'ws://a/'], /--header must look like 'Name: value'/],
    ['a reserved header', ['-H', 'Sec-WebSocket-Key: x', 'ws://127.0.0.1:1/'], /Sec-WebSocket-Key/],
    [
      'a bad subprotocol',
      ['-s', 'a b', 'ws://127.0.0.1:1/'],
      /subprotocol "a b" is not an HTTP token/,
    ],
    [
      '--auth without a colon',
      ['--auth', 'user', 'ws://a/'],
      /--auth must look like USER:PASSWORD/,
    ],
    ['a bad --binary-format', ['--binary-format', 'xml', 'ws://a/'], /hex or base64, not 'xml'/],
    ['both deflate flags', ['--deflate', '--no-deflate', 'ws://a/'], /not both/],
    [
      'a proxy that is neither http(s), socks5 nor env',
      ['--proxy', 'ftp://p:3128', 'ws://a/'],
      /--proxy must be http:\/\/HOST:PORT, https:\/\/, socks5:\/\/, socks5h:\/\/ or env/,
    ],
    [
      '--max-redirects that is not a number',
      ['--max-redirects', 'many', 'ws://a/'],
      /--max-redirects must be an integer/,
    ],
    [
      'an http:// URL',
      ['http://example.com/x'],
      /use ws:\/\/ for a WebSocket server: ws:\/\/example\.com\/x/,
    ],
    ['an https:// URL', ['https://example.com/'], /use wss:\/\//],
    ['no scheme', ['localhost:8080/chat'], /did you mean ws:\/\/localhost:8080\/chat\?/],
    ['another scheme', ['ftp://example.com/'], /'ftp:\/\/' is not a WebSocket scheme/],
    ['a fragment', ['ws://example.com/#top'], /#fragment/],
  ];
  for (const [what, args, message] of usageErrors)
    it(`${what}: exit 2 with a clear message`, async () => {
      const result = await runCli(['connect', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^wsnet: /);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    });
});
