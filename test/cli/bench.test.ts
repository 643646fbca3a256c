// `wsnet bench` as a child process against real servers on loopback: runs by count and by
// duration (text, binary, pipelined), the report's consistency and its JSON shape, and every
// way a run can go wrong (a corrupted echo, a refused or absent server, a server that hangs or
// drops connections, Ctrl-C, bad options), each with its exit status; and that a first
// connection that fails ends bench as it ends `wsnet connect` (one failure table for both).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  WebSocketServer,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import type { BenchReport } from '../../src/cli/bench/report.js';
import { CliProcess, cliBin, runCli } from '../helpers/cli.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { startProxy } from '../helpers/proxy.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { waitFor, within } from '../helpers/wait.js';

/** The report's type, from the module that makes it; SHAPE below checks the JSON field by field. */
type Report = BenchReport;

/** The JSON report's shape, field by field: the names are a published interface. */
const SHAPE = {
  url: 'string',
  settings: {
    connections: 'number',
    size: 'number',
    binary: 'boolean',
    pipeline: 'number',
    durationMs: 'number|null',
    count: 'number|null',
    warmupMs: 'number',
    deflate: 'boolean',
  },
  interrupted: 'boolean',
  elapsedMs: 'number',
  connections: {
    opened: 'number',
    failed: 'number',
    dropped: 'number',
    failures: 'record',
    handshakeMs: { p50: 'number', p99: 'number', max: 'number' },
  },
  messages: {
    sent: 'number',
    received: 'number',
    mismatched: 'number',
    lost: 'number',
    averageInFlight: 'number',
  },
  throughput: { messagesPerSecond: 'number', sentMBps: 'number', receivedMBps: 'number' },
  latencyMs: {
    min: 'number',
    mean: 'number',
    p50: 'number',
    p90: 'number',
    p99: 'number',
    p999: 'number',
    max: 'number',
  },
  errors: { total: 'number', byKind: 'record' },
  generator: {
    cpuUserMs: 'number',
    cpuSystemMs: 'number',
    cpuPercent: 'number',
    eventLoopUtilization: 'number|null',
  },
} as const;

type Shape = string | { readonly [key: string]: Shape };

function assertShape(value: unknown, shape: Shape, path = 'report'): void {
  if (typeof shape === 'string') {
    if (shape === 'record') {
      assert.ok(typeof value === 'object' && value !== null, `${path} is an object`);
      for (const [key, count] of Object.entries(value))
        assert.equal(typeof count, 'number', `${path}.${key} is a count`);
      return;
    }
    const allowed = shape.split('|');
    const actual = value === null ? 'null' : typeof value;
    assert.ok(allowed.includes(actual), `${path} is ${shape}, not ${actual}`);
    if (actual === 'number') assert.ok(Number.isFinite(value), `${path} is finite`);
    return;
  }
  assert.ok(typeof value === 'object' && value !== null, `${path} is an object`);
  assert.deepEqual(Object.keys(value).sort(), Object.keys(shape).sort(), `${path}: its fields`);
  for (const [key, inner] of Object.entries(shape))
    assertShape((value as Record<string, unknown>)[key], inner, `${path}.${key}`);
}

/**
 * What must hold in any run's report, whatever the machine's speed: the figures agree with one
 * another (no timing is asserted).
 */
function assertConsistent(report: Report): void {
  const { messages, throughput, latencyMs: l, settings } = report;
  assert.ok(messages.received <= messages.sent, 'no more echoes than messages');
  // msg/s is echoes / elapsed: multiplying back gives the count (to the rounding of the JSON).
  const recomputed = (throughput.messagesPerSecond * report.elapsedMs) / 1000;
  assert.ok(
    Math.abs(recomputed - messages.received) <= Math.max(1, messages.received * 0.001),
    `msg/s × elapsed = ${recomputed}, echoes ${messages.received}`,
  );
  const size = settings.size;
  assert.ok(
    Math.abs(throughput.receivedMBps * 1e6 - throughput.messagesPerSecond * size) <=
      Math.max(1000, throughput.messagesPerSecond * size * 0.001),
    'MB/s received = msg/s × size',
  );
  const order = [l.min, l.p50, l.p90, l.p99, l.p999, l.max];
  for (let i = 1; i < order.length; i++)
    assert.ok(order[i - 1] <= order[i], `percentiles in order: ${order.join(' <= ')}`);
  assert.ok(l.min <= l.mean && l.mean <= l.max, 'the mean is between min and max');
  // Little's law, exactly: at most connections × pipeline messages are ever in flight, and each
  // measured message's round trip lies inside the elapsed time.
  const limit = settings.connections * settings.pipeline;
  assert.ok(
    messages.averageInFlight <= limit * 1.001 + 0.001,
    `average in flight ${messages.averageInFlight} <= ${limit}`,
  );
  assert.ok(report.generator.cpuPercent >= 0);
}

function parseReport(stdout: string): Report {
  const report = JSON.parse(stdout) as Report;
  assertShape(report, SHAPE);
  return report;
}

/** A port that nothing listens on: one the kernel gave a listener that is closed again. */
async function closedPort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

const servers = new EchoServers();
after(() => servers.closeAll());

/** A message-API server whose connections do `handle`, closed after the file. */
async function serverWith(
  handle: (connection: WebSocketConnection) => void,
  options: Partial<ServerOptions> = {},
): Promise<string> {
  const server = servers.track(
    await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options }),
  );
  server.on('connection', handle);
  return `ws://127.0.0.1:${server.address().port}/`;
}

describe('wsnet bench against the bench suite’s echo server (in a child process)', () => {
  let child: ChildProcess | undefined;
  let url = '';
  before(async () => {
    // The very server `npm run bench -- messages` measures (bench/echo/server-process.ts).
    const script = fileURLToPath(new URL('../../bench/echo/server-process.js', import.meta.url));
    const started = fork(script, ['messages'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = started;
    const port = await within(
      new Promise<number>((resolve, reject) => {
        started.once('message', (message: { ready?: number }) =>
          message.ready === undefined ? reject(new Error('no port')) : resolve(message.ready),
        );
        started.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
      }),
      10_000,
      'the echo server',
    );
    url = `ws://127.0.0.1:${port}/`;
  });
  after(() => {
    if (child !== undefined && child.exitCode === null) child.kill();
  });

  for (const [label, flags] of [
    ['text, lock-step', ['-c', '4', '-s', '32']],
    ['binary, 1 KiB, 8 in flight', ['-c', '2', '-s', '1k', '--binary', '-p', '8']],
  ] as const) {
    it(`measures exactly --count messages and a consistent report (${label})`, async () => {
      const result = await runCli(
        ['bench', url, '-n', '2000', '--warmup', '200ms', '--json', ...flags],
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      const report = parseReport(result.stdout);
      assert.equal(report.messages.sent, 2000);
      assert.equal(report.messages.received, 2000);
      assert.equal(report.messages.mismatched, 0);
      assert.equal(report.messages.lost, 0);
      assert.deepEqual(report.errors, { total: 0, byKind: {} });
      assert.equal(report.connections.opened, report.settings.connections);
      assert.equal(report.connections.failed, 0);
      assert.equal(report.interrupted, false);
      assert.equal(report.settings.binary, (flags as readonly string[]).includes('--binary'));
      assertConsistent(report);
      assert.equal(result.stderr, '', 'no progress line when stderr is not a TTY');
    });
  }
});

describe('wsnet bench', () => {
  it('prints a text report by default, and --help documents the figures and JSON fields', async () => {
    const server = await servers.start();
    const result = await runCli(
      ['bench', `ws://127.0.0.1:${server.address().port}/`, '-n', '300', '--warmup', '0'],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^messages {4}300 sent, 300 echoed, 0 mismatched, 0 lost/m);
    assert.match(result.stdout, /^latency {5}p50 .* p90 .* p99 .* p99\.9 .* max /m);
    assert.match(result.stdout, /^throughput .* msg\/s; payload .* MB\/s sent, .* MB\/s received/m);
    assert.match(result.stdout, /^generator {3}CPU \d+ % of one core/m);
    assert.match(result.stdout, /^errors {6}none$/m);

    const help = await runCli(['bench', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: wsnet bench URL/);
    assert.match(help.stdout, /coordinated omission/);
    for (const field of ['messagesPerSecond', 'p999', 'averageInFlight', 'cpuPercent'])
      assert.ok(help.stdout.includes(field), `--help names ${field}`);
  });

  it('shows a progress line on a terminal (a pseudo-terminal from script(1)), erased before the report', async () => {
    const server = await servers.start();
    const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
    const command = [
      process.execPath,
      cliBin,
      'bench',
      `ws://127.0.0.1:${server.address().port}/`,
      '-d',
      '1200ms',
      '--warmup',
      '300ms',
      '-c',
      '2',
    ]
      .map(quote)
      .join(' ');
    // util-linux's script runs the command on a new pseudo-terminal: stdout and stderr are TTYs.
    const output = await within(
      new Promise<string>((resolve, reject) => {
        execFile('script', ['-qec', command, '/dev/null'], (error, stdout) =>
          error === null ? resolve(stdout) : reject(new Error(`script(1): ${error.message}`)),
        );
      }),
      30_000,
      'wsnet bench on a pseudo-terminal',
    );
    // ESC [ K, "erase to end of line", replaced by a marker (a regex may not hold ESC itself).
    const eraseLine = '\u001b[K';
    const text = output.split(eraseLine).join('<EL>');
    assert.match(text, /\rwarming up: 2 connections open<EL>/);
    const updates = text.match(/\r\d+\.\d s {2}\S+ (k )?msg\/s {2}\d+ echoed {2}p99 [^\r\n]*<EL>/g);
    assert.ok(updates !== null && updates.length >= 2, JSON.stringify(output));
    // The line is erased, then the report starts on a clean line.
    assert.match(text, /\r<EL>wsnet bench ws:/);
    assert.match(text, /errors {6}none/);
  });

  it('ends by itself in duration mode, warm-up excluded', async () => {
    let echoed = 0;
    const url = await serverWith((connection) => {
      connection.on('message', (data) => {
        echoed++;
        void connection.send(data);
      });
    });
    const result = await runCli(
      ['bench', url, '-d', '500ms', '--warmup', '300ms', '-c', '2', '--binary', '--json'],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const report = parseReport(result.stdout);
    assert.equal(report.settings.durationMs, 500);
    assert.equal(report.settings.count, null);
    assert.ok(report.messages.received > 0);
    assert.equal(
      report.messages.received,
      report.messages.sent,
      'every measured message came back',
    );
    assert.ok(
      echoed > report.messages.received,
      `the server echoed ${echoed}, more than the ${report.messages.received} measured: the warm-up's are left out`,
    );
    assertConsistent(report);
  });

  it('counts an echo that differs from the message as a mismatch, and exits 1', async () => {
    let count = 0;
    const url = await serverWith((connection) => {
      connection.on('message', (data) => {
        count++;
        if (count === 50 && typeof data === 'string')
          void connection.send(`${data.slice(0, -1)}${data.endsWith('x') ? 'y' : 'x'}`);
        else void connection.send(data);
      });
    });
    const result = await runCli(['bench', url, '-n', '200', '--warmup', '0', '-c', '1', '--json'], {
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 1, result.stderr);
    const report = parseReport(result.stdout);
    assert.equal(report.messages.received, 200, 'the run went on');
    assert.equal(report.messages.mismatched, 1);
    assert.deepEqual(report.errors, { total: 1, byKind: { 'mismatched echo': 1 } });
  });

  it('counts a message nobody asked for as an error', async () => {
    const url = await serverWith((connection) => {
      let first = true;
      connection.on('message', (data) => {
        void connection.send(data);
        if (first) void connection.send('unsolicited');
        first = false;
      });
    });
    const result = await runCli(['bench', url, '-n', '20', '--warmup', '0', '-c', '1', '--json'], {
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 1, result.stderr);
    const report = parseReport(result.stdout);
    // The extra message takes the place of the next echo: it mismatches, and the last echo is
    // then one nobody waits for.
    assert.ok(report.errors.total >= 1);
    assert.ok(
      (report.errors.byKind['unexpected message (none was owed)'] ?? 0) +
        (report.errors.byKind['mismatched echo'] ?? 0) >=
        1,
      JSON.stringify(report.errors),
    );
  });

  it('reports connections the server drops mid-run, their lost messages, and exits 1 without hanging', async () => {
    let index = 0;
    const url = await serverWith((connection) => {
      const mine = index++;
      let count = 0;
      connection.on('message', (data) => {
        // Every other connection is dropped without a close frame after 20 messages.
        if (mine % 2 === 1 && ++count === 20) connection.terminate();
        else void connection.send(data);
      });
    });
    const result = await runCli(
      ['bench', url, '-n', '1000', '--warmup', '0', '-c', '4', '-p', '2', '--json'],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 1, result.stderr);
    const report = parseReport(result.stdout);
    assert.equal(report.connections.opened, 4);
    assert.equal(report.connections.dropped, 2);
    assert.equal(report.errors.byKind['connection closed: 1006'], 2);
    assert.ok(report.messages.lost >= 2, `lost ${report.messages.lost}`);
    assert.equal(report.errors.byKind['messages lost in flight'], report.messages.lost);
    assert.equal(
      report.messages.received + report.messages.lost,
      report.messages.sent,
      'every measured message is either echoed or lost',
    );
    assertConsistent(report);
  });

  it('ends a run whose server stops echoing after --timeout, and exits 1', async () => {
    let count = 0;
    const url = await serverWith((connection) => {
      connection.on('message', (data) => {
        if (++count <= 10) void connection.send(data); // then silence, connection left open
      });
    });
    const result = await runCli(
      ['bench', url, '-n', '100', '--warmup', '0', '-c', '1', '--timeout', '300ms', '--json'],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 1, result.stderr);
    const report = parseReport(result.stdout);
    assert.equal(report.messages.received, 10);
    assert.equal(report.messages.lost, 1);
    assert.equal(report.errors.byKind['no echo within 300 ms (connection closed)'], 1);
  });

  it('exits 5 when the first handshake times out', async () => {
    // Accepts TCP and never answers the HTTP request.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const result = await runCli([
        'bench',
        `ws://127.0.0.1:${port}/`,
        '-n',
        '10',
        '--handshake-timeout',
        '300ms',
      ]);
      assert.equal(result.code, 5, result.stderr);
      assert.match(result.stderr, /no WebSocket handshake with 127\.0\.0\.1:\d+ within 300 ms/);
      assert.match(result.stderr, /--handshake-timeout/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('counts later connections the server refuses, runs with the others, and exits 1', async () => {
    const url = await serverWith(
      (connection) => connection.on('message', (data) => void connection.send(data)),
      { maxConnections: 2 },
    );
    const result = await runCli(['bench', url, '-n', '100', '--warmup', '0', '-c', '4', '--json'], {
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 1, result.stderr);
    const report = parseReport(result.stdout);
    assert.equal(report.connections.opened, 2);
    assert.equal(report.connections.failed, 2);
    assert.deepEqual(report.connections.failures, { 'HTTP 503': 2 });
    assert.equal(report.errors.byKind['connect failed: HTTP 503'], 2);
    assert.equal(report.messages.received, 100);
  });

  it('stops on Ctrl-C (SIGINT) and reports what ran', async () => {
    let echoed = 0;
    const url = await serverWith((connection) => {
      connection.on('message', (data) => {
        echoed++;
        void connection.send(data);
      });
    });
    const cli = new CliProcess(['bench', url, '-d', '60s', '--warmup', '0', '-c', '2', '--json']);
    try {
      await waitFor(() => echoed >= 100, 20_000, 'the load to start');
      cli.kill('SIGINT');
      const result = await cli.exit(15_000);
      assert.equal(result.code, 0, result.stderr);
      const report = parseReport(result.stdout);
      assert.equal(report.interrupted, true);
      assert.ok(report.messages.received > 0);
      assert.equal(report.messages.received, report.messages.sent);
      assert.ok(report.elapsedMs < 60_000);
      assertConsistent(report);
    } finally {
      cli.kill();
    }
  });

  it('benchmarks wss:// with --ca or --insecure; without them, exits 4 with a hint', async () => {
    const certificate = selfSignedCertificate();
    const server = await servers.start({ tls: { key: certificate.key, cert: certificate.cert } });
    const url = `wss://localhost:${server.address().port}/`;
    const directory = mkdtempSync(path.join(os.tmpdir(), 'wsnet-bench-'));
    try {
      const ca = path.join(directory, 'ca.pem');
      writeFileSync(ca, certificate.cert);
      for (const flags of [['--ca', ca], ['--insecure'], ['-k']]) {
        const result = await runCli(
          ['bench', url, '-n', '50', '--warmup', '0', '--json', ...flags],
          {
            timeoutMs: 30_000,
          },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(parseReport(result.stdout).messages.received, 50);
      }
      const refused = await runCli(['bench', url, '-n', '50']);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /the TLS certificate of localhost:\d+ was not accepted/);
      assert.match(refused.stderr, /--ca FILE \(PEM\), or skip the check with --insecure \(-k\)/);
      const missing = await runCli(['bench', url, '--ca', path.join(directory, 'none.pem')]);
      assert.equal(missing.code, 6, missing.stderr);
      assert.match(missing.stderr, /cannot read --ca .*none\.pem: ENOENT/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('sends --header, --subprotocol and --origin with every handshake', async () => {
    const seen: Array<{ protocol: string; origin?: string; token?: string | string[] }> = [];
    const url = await serverWith(
      (connection) => connection.on('message', (data) => void connection.send(data)),
      {
        protocols: ['chat.v2'],
        accept: ({ request }) => {
          seen.push({
            protocol: String(request.headers['sec-websocket-protocol']),
            origin: request.headers.origin,
            token: request.headers['x-token'],
          });
          return true;
        },
      },
    );
    const result = await runCli(
      ['bench', url, '-n', '20', '--warmup', '0', '-c', '2', '--json'].concat(
        ['-H', 'X-Token: abc', '--subprotocol', 'chat.v1', '--subprotocol', 'chat.v2'],
        ['-o', 'https://app.example'],
      ),
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(seen.length, 2);
    for (const handshake of seen)
      assert.deepEqual(handshake, {
        protocol: 'chat.v1, chat.v2',
        origin: 'https://app.example',
        token: 'abc',
      });
  });

  it('offers permessage-deflate only with --deflate', async () => {
    const extensions: string[] = [];
    const url = await serverWith(
      (connection) => {
        extensions.push(connection.extensions);
        connection.on('message', (data) => void connection.send(data));
      },
      { perMessageDeflate: true },
    );
    for (const flags of [[], ['--deflate']]) {
      const result = await runCli(
        ['bench', url, '-n', '50', '--warmup', '0', '-c', '1', '-s', '2k', ...flags, '--json'],
        { timeoutMs: 30_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(parseReport(result.stdout).messages.received, 50);
    }
    assert.equal(extensions[0], '');
    assert.match(extensions[1], /^permessage-deflate/);
  });

  for (const [label, args, pattern] of [
    ['no URL', [], /the server URL is missing/],
    ['an http URL', ['http://127.0.0.1:1/'], /'http:\/\/' is not a WebSocket scheme/],
    ['a URL without a scheme', ['127.0.0.1:1'], /not a WebSocket URL\n.*did you mean ws:\/\/127/],
    ['two URLs', ['ws://a/', 'ws://b/'], /one URL only/],
    ['an unknown option', ['ws://127.0.0.1:1/', '--conections', '3'], /--conections/],
    ['0 connections', ['ws://127.0.0.1:1/', '-c', '0'], /--connections must be an integer/],
    ['a size of 0', ['ws://127.0.0.1:1/', '-s', '0'], /--size must be at least 1/],
    ['a bad size', ['ws://127.0.0.1:1/', '-s', 'big'], /--size must be a size/],
    ['a bad duration', ['ws://127.0.0.1:1/', '-d', 'soon'], /--duration must be a duration/],
    ['duration and count', ['ws://127.0.0.1:1/', '-d', '1s', '-n', '5'], /exclude each other/],
    ['too much memory', ['ws://127.0.0.1:1/', '-c', '1000', '-p', '100', '-s', '1M'], /1 GiB/],
    ['a bad header', ['ws://127.0.0.1:1/', '-H', 'nocolon'], /--header must look like/],
    ['a bad --auth', ['ws://127.0.0.1:1/', '--auth', 'nopassword'], /--auth must look like/],
    [
      'a bad --proxy',
      ['ws://127.0.0.1:1/', '--proxy', 'socks://p:1'],
      /--proxy must be http:\/\/HOST:PORT, https:\/\/, socks5/,
    ],
  ] as const) {
    it(`exits 2 for ${label}`, async () => {
      const result = await runCli(['bench', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, pattern);
      assert.equal(result.stdout, '');
    });
  }
});

describe('wsnet bench and wsnet connect: the same failure, the same end', () => {
  /** Both commands against `url`: their exit status and stderr. */
  async function both(url: string) {
    const [bench, connect] = await Promise.all([
      runCli(['bench', url, '-n', '10']),
      runCli(['connect', '-x', 'hi', url]),
    ]);
    return { bench, connect };
  }

  it('a handshake refused with 403: exit 3, the same message and hint', async () => {
    const url = await serverWith(() => undefined, { accept: () => false });
    const { bench, connect } = await both(url);
    assert.equal(bench.code, 3, bench.stderr);
    assert.equal(connect.code, 3, connect.stderr);
    assert.match(
      bench.stderr,
      /^wsnet: 127\.0\.0\.1:\d+ refused the WebSocket handshake with HTTP 403: .*\n.*check --origin, --header, --auth and the path\n$/,
    );
    assert.equal(bench.stderr, connect.stderr);
    assert.equal(bench.stdout, '');
  });

  it('nothing listening: exit 4, the same message and hint', async () => {
    const port = await closedPort();
    const { bench, connect } = await both(`ws://127.0.0.1:${port}/`);
    assert.equal(bench.code, 4, bench.stderr);
    assert.equal(connect.code, 4, connect.stderr);
    assert.match(bench.stderr, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}\\n`));
    assert.match(bench.stderr, new RegExp(`is the server running on 127\\.0\\.0\\.1:${port}\\?`));
    assert.equal(bench.stderr, connect.stderr);
    assert.equal(bench.stdout, '');
  });
});

describe('wsnet bench: connect options named as in wsnet connect', () => {
  it('--auth answers a server that wants credentials; without it, exit 3 naming --auth', async () => {
    const expected = `Basic ${Buffer.from('user:pa:ss').toString('base64')}`;
    const url = await serverWith(
      (connection) => connection.on('message', (data) => void connection.send(data)),
      {
        accept: ({ request }) =>
          request.headers.authorization === expected || {
            status: 401,
            headers: { 'WWW-Authenticate': 'Basic realm="bench"' },
          },
      },
    );
    const granted = await runCli(
      ['bench', url, '--auth', 'user:pa:ss', '-n', '20', '--warmup', '0', '-c', '2', '--json'],
      { timeoutMs: 30_000 },
    );
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(parseReport(granted.stdout).messages.received, 20);
    const refused = await runCli(['bench', url, '-n', '20']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /HTTP 401/);
    assert.match(refused.stderr, /--auth USER:PASSWORD/);
  });

  it('--proxy goes through an HTTP proxy; one that wants credentials: exit 4 naming --proxy', async () => {
    const url = await serverWith((connection) =>
      connection.on('message', (data) => void connection.send(data)),
    );
    const proxy = await startProxy();
    const strict = await startProxy({ credentials: 'proxyuser:pw' });
    try {
      const result = await runCli(
        [
          'bench',
          url,
          ...['--proxy', `http://127.0.0.1:${proxy.port}`],
          ...['-n', '20', '--warmup', '0', '-c', '2', '--json'],
        ],
        { timeoutMs: 30_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(parseReport(result.stdout).messages.received, 20);
      assert.deepEqual(
        proxy.connects.map(({ target }) => target),
        Array(2).fill(new URL(url).host),
      );
      const refused = await runCli(['bench', url, '--proxy', `http://127.0.0.1:${strict.port}`]);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /--proxy http:\/\/USER:PASSWORD@HOST:PORT/);
    } finally {
      proxy.stop();
      strict.stop();
    }
  });
});
