// `wsnet connect` on a terminal (a tmux pane, a real pseudo-terminal): typed lines go out and
// echoes come back marked and timed, the slash commands work, and Ctrl-C / Ctrl-D close.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  WebSocketServer,
  type Message,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { header, startScriptedServer } from '../helpers/scripted-server.js';
import { Terminal, hasTmux } from '../helpers/terminal.js';
import { waitFor } from '../helpers/wait.js';

const servers = new EchoServers();
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await servers.closeAll();
});

/** A terminal running `wsnet connect args`, stopped after the file's tests. */
async function terminal(args: readonly string[]): Promise<Terminal> {
  const started = await Terminal.start(['connect', ...args]);
  cleanups.push(() => started.stop());
  return started;
}

/** An echo server that records what it received and how each connection closed. */
async function recordingEcho(onConnection?: (connection: WebSocketConnection) => void) {
  const received: Message[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const server = servers.track(await WebSocketServer.listen({ port: 0, host: '127.0.0.1' }));
  server.on('connection', (connection) => {
    connection.on('close', (code, reason) => closes.push({ code, reason }));
    onConnection?.(connection);
    void (async () => {
      try {
        for await (const message of connection) {
          received.push(message);
          await connection.send(message);
        }
      } catch {
        // closed abnormally
      }
    })();
  });
  return { url: server.url, received, closes };
}

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

describe(
  'wsnet connect on a terminal',
  { skip: (await hasTmux()) ? false : 'tmux is not installed' },
  () => {
    it('sends typed lines, shows both directions timed, runs /ping, /binary and /close', async () => {
      const { url, received, closes } = await recordingEcho();
      const tty = await terminal([url]);
      await tty.waitFor(new RegExp(`! connected to ${url.replace(/[.]/g, '\\.')}`));
      await tty.type('hello, terminal');
      await tty.press('Enter');
      await tty.waitFor(new RegExp(`> ${TIME} hello, terminal\\n< ${TIME} hello, terminal\\n`));

      await tty.type('/ping abc');
      await tty.press('Enter');
      await tty.waitFor(new RegExp(`> ${TIME} ping abc\\n< ${TIME} pong after \\d+\\.\\d{3} ms`));

      await tty.type('/binary 01 02 ff');
      await tty.press('Enter');
      await tty.waitFor(
        new RegExp(
          `> ${TIME} \\[binary, 3 bytes\\] 0102ff\\n< ${TIME} \\[binary, 3 bytes\\] 0102ff`,
        ),
      );

      await tty.type('//starts with a slash');
      await tty.press('Enter');
      await tty.waitFor(new RegExp(`< ${TIME} /starts with a slash`));

      await tty.type('/close 1000 see you');
      await tty.press('Enter');
      await tty.waitFor(new RegExp(`! ${TIME} closing with 1000 "see you"`));
      // The status shown is the server's answer: its code, and its reason (none).
      await tty.waitFor(new RegExp(`! ${TIME} closed: 1000 normal closure\n`));
      assert.equal(await tty.exitCode(), 0);
      assert.deepEqual(received, [
        'hello, terminal',
        Buffer.from([1, 2, 255]),
        '/starts with a slash',
      ]);
      assert.deepEqual(closes, [{ code: 1000, reason: 'see you' }]);
    });

    it('/file sends the bytes of a file; a bad command or path is an error, not the end', async () => {
      const directory = mkdtempSync(path.join(tmpdir(), 'wsnet-file-'));
      cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
      const file = path.join(directory, 'payload.bin');
      const bytes = Buffer.from([0, 0x1b, 0x80, 0xff, 0x41]);
      writeFileSync(file, bytes);
      const { url, received } = await recordingEcho();
      const tty = await terminal([url]);
      await tty.waitFor(/! connected to/);
      await tty.type('/nonsense');
      await tty.press('Enter');
      await tty.waitFor(/! unknown command \/nonsense: \/help lists the commands/);
      await tty.type(`/file ${file}.missing`);
      await tty.press('Enter');
      await tty.waitFor(/! cannot read .*payload\.bin\.missing/);
      await tty.type(`/file ${file}`);
      await tty.press('Enter');
      await tty.waitFor(new RegExp(`< ${TIME} \\[binary, 5 bytes\\] 001b80ff41`));
      await tty.type('/quit');
      await tty.press('Enter');
      assert.equal(await tty.exitCode(), 0);
      assert.deepEqual(received, [bytes]);
    });

    it('control characters from the server are shown escaped, not obeyed', async () => {
      const { url } = await recordingEcho((connection) => {
        void connection.send('\x1b[2J\x1b]0;pwned\x07visible');
      });
      const tty = await terminal([url]);
      await tty.waitFor(new RegExp(`< ${TIME} \\\\x1b\\[2J\\\\x1b\\]0;pwned\\\\x07visible`));
      await tty.press('C-d'); // Ctrl-D: as /quit
      await tty.waitFor(/closed: 1000 normal closure/);
      assert.equal(await tty.exitCode(), 0);
    });

    it('a server that closes with 1011: the close is shown and the exit status is 1', async () => {
      const { url } = await recordingEcho((connection) => {
        connection.on('message', (message) => {
          if (message === 'fail') void connection.close(1011, 'server bug');
        });
      });
      const tty = await terminal([url]);
      await tty.waitFor(/! connected to/);
      await tty.type('fail');
      await tty.press('Enter');
      await tty.waitFor(/closed: 1011 internal error, reason "server bug"/);
      assert.equal(await tty.exitCode(), 1);
    });

    it('Ctrl-C closes normally (1000)', async () => {
      const { url, closes } = await recordingEcho();
      const tty = await terminal([url]);
      await tty.waitFor(/! connected to/);
      await tty.type('half-typed');
      await tty.press('C-c');
      await tty.waitFor(/closed: 1000 normal closure/);
      assert.equal(await tty.exitCode(), 0);
      await waitFor(() => closes.length === 1, 3000, "the server's close event");
      assert.deepEqual(closes, [{ code: 1000, reason: '' }]);
    });

    it('a second Ctrl-C drops a connection whose server does not answer the close', async () => {
      // A server that completes the handshake, then reads and ignores everything.
      const deaf = await startScriptedServer(
        (request) =>
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Accept: ${computeAccept(header(request, 'Sec-WebSocket-Key') ?? '')}\r\n\r\n`,
      );
      cleanups.push(() => deaf.stop());
      const tty = await terminal(['--close-timeout', '60s', `ws://127.0.0.1:${deaf.port}/`]);
      await tty.waitFor(/! connected to/);
      await tty.press('C-c');
      await tty.waitFor(/closing with 1000/);
      await tty.press('C-c');
      await tty.waitFor(/closed: 1006 dropped without a close frame/);
      assert.equal(await tty.exitCode(), 1);
    });
  },
);
