// `wsnet serve`: options, echo, broadcast, TLS, the handshake's settings and the shutdown, with
// the real CLI as a child process and the message API's client as its peers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { connect, HandshakeError, type ConnectOptions } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { within } from '../helpers/wait.js';
import { startServe } from './serve-process.js';

/** A client for the test: closed (or dropped) when the test ends. */
async function client(t: TestContext, url: string, options: ConnectOptions = {}) {
  const connection = await within(connect(url, options), 5000, `connect(${url})`);
  t.after(() => connection.terminate());
  return connection;
}

function temporaryDirectory(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsnet-serve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('wsnet serve: the command line', () => {
  it('--help shows the modes, the options and examples, and says what 0.0.0.0 does', async () => {
    const result = await runCli(['serve', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: wsnet serve /);
    for (const option of ['--echo', '--broadcast', '--exec CMD', '--static DIR', '--key FILE'])
      assert.ok(result.stdout.includes(option), option);
    assert.match(result.stdout, /0\.0\.0\.0 or :: exposes the server/);
    assert.match(result.stdout, /Examples:\n {2}wsnet serve/);
  });

  for (const [args, message] of [
    [['--echo', '--broadcast'], /choose one mode, not --echo and --broadcast/],
    [['--exec', 'cat', '--broadcast'], /choose one mode/],
    [['--exclude-sender'], /--exclude-sender goes with --broadcast/],
    [['--grace', '1s'], /--grace goes with --exec/],
    [['--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['--key', 'key.pem'], /TLS needs both --key and --cert/],
    [['--path', 'ws'], /--path must be a path starting with '\/'/],
    [['--max-message', 'lots'], /--max-message must be a size/],
    [['--max-connections', '0'], /--max-connections must be an integer from 1/],
    [['--deflate', '--no-deflate'], /contradict/],
    [['--subprotocol', 'a b'], /--subprotocol must be a token/],
    [['--colour'], /Unknown option '--colour'/],
    [['8080'], /takes no arguments, only options: '8080'/],
  ] as const) {
    it(`${args.join(' ')}: exits 2 and says why`, async () => {
      const result = await runCli(['serve', '--port', '0', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^wsnet: .*${message.source}`));
      assert.equal(result.stdout, '', 'nothing listened');
    });
  }

  it('a port in use: exits 6 and suggests another --port', async (t) => {
    const occupier = net.createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    t.after(() => occupier.close());
    const { port } = occupier.address() as net.AddressInfo;
    const result = await runCli(['serve', '--port', String(port)]);
    assert.equal(result.code, 6, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`),
    );
    assert.match(result.stderr, /another with --port/);
    assert.equal(result.stdout, '');
  });

  it('a key or certificate that cannot be read or used: exits 6 and names the file', async (t) => {
    const dir = temporaryDirectory(t);
    const { key, cert } = selfSignedCertificate();
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(keyFile, key);
    writeFileSync(certFile, cert);
    writeFileSync(junk, 'not a PEM file\n');
    const missing = path.join(dir, 'missing.pem');

    let result = await runCli(['serve', '--port', '0', '--key', missing, '--cert', certFile]);
    assert.equal(result.code, 6, result.stderr);
    assert.ok(result.stderr.includes(`cannot read --key ${missing}`), result.stderr);

    result = await runCli(['serve', '--port', '0', '--key', keyFile, '--cert', junk]);
    assert.equal(result.code, 6, result.stderr);
    assert.ok(result.stderr.includes(`cannot use --key ${keyFile} with --cert ${junk}`));

    // The certificate as the key: both are PEM, neither is the other.
    result = await runCli(['serve', '--port', '0', '--key', certFile, '--cert', keyFile]);
    assert.equal(result.code, 6, result.stderr);
    assert.equal(result.stdout, '');
  });

  it('a --static directory that is missing or a file: exits 6 and says so', async (t) => {
    const dir = temporaryDirectory(t);
    const file = path.join(dir, 'file.txt');
    writeFileSync(file, 'x');
    let result = await runCli(['serve', '--port', '0', '--static', path.join(dir, 'nope')]);
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /cannot serve --static .*nope: ENOENT/);
    result = await runCli(['serve', '--port', '0', '--static', file]);
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /--static .*file\.txt is not a directory/);
  });
});

describe('wsnet serve --echo (the default)', () => {
  it('sends text back as text and binary as binary, and logs each connection', async (t) => {
    const serve = await startServe(t, []);
    assert.match(serve.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const connection = await client(t, serve.url);
    await connection.send('héllo');
    assert.equal(await within(connection.receive()), 'héllo');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    await connection.send(bytes);
    assert.deepEqual(await within(connection.receive()), bytes);
    await connection.send('');
    assert.equal(await within(connection.receive()), '');
    assert.equal((await within(connection.close(1000, 'done'))).code, 1000);

    await serve.cli.waitFor(/^#1 closed 1000 "done"/m, { stream: 'stderr' });
    assert.match(serve.cli.stderr, /^#1 open 127\.0\.0\.1:\d+ \/\n/m);
    const exit = await serve.stop();
    assert.equal(exit.code, 0, exit.stderr);
  });

  it('--quiet: no line per connection', async (t) => {
    const serve = await startServe(t, ['--quiet']);
    const connection = await client(t, serve.url);
    await connection.send('x');
    assert.equal(await within(connection.receive()), 'x');
    await within(connection.close());
    const exit = await serve.stop();
    assert.equal(exit.code, 0);
    assert.equal(exit.stderr, '');
  });

  it('SIGTERM: every client gets 1001 (going away), then the server exits 0', async (t) => {
    const serve = await startServe(t, []);
    const clients = await Promise.all([client(t, serve.url), client(t, serve.url)]);
    for (const connection of clients) {
      await connection.send('ready?');
      assert.equal(await within(connection.receive()), 'ready?');
    }
    const exit = await serve.stop();
    for (const connection of clients) {
      const status = await within(connection.closed, 5000, 'the close');
      assert.deepEqual([status.code, status.wasClean], [1001, true]);
    }
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stderr, /SIGTERM: closing 2 connection\(s\) with 1001/);
  });

  it('SIGINT does the same', async (t) => {
    const serve = await startServe(t, []);
    const connection = await client(t, serve.url);
    serve.cli.kill('SIGINT');
    const status = await within(connection.closed, 5000, 'the close');
    assert.equal(status.code, 1001);
    assert.equal((await serve.cli.exit()).code, 0);
  });

  it('over TLS (--key, --cert): listens on wss://', async (t) => {
    const dir = temporaryDirectory(t);
    const { key, cert } = selfSignedCertificate();
    writeFileSync(path.join(dir, 'key.pem'), key);
    writeFileSync(path.join(dir, 'cert.pem'), cert);
    const serve = await startServe(t, [
      '--key',
      path.join(dir, 'key.pem'),
      '--cert',
      path.join(dir, 'cert.pem'),
    ]);
    assert.match(serve.url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
    const connection = await client(t, serve.url, { tls: { ca: cert } });
    await connection.send('secret');
    assert.equal(await within(connection.receive()), 'secret');
    await within(connection.close());
    assert.equal((await serve.stop()).code, 0);
  });
});

describe('wsnet serve: handshake settings', () => {
  it('--path: handshakes elsewhere get 404 (and are logged)', async (t) => {
    const serve = await startServe(t, ['--path', '/ws']);
    assert.match(serve.url, /\/ws$/);
    const base = serve.url.slice(0, -'ws'.length);
    await assert.rejects(connect(`${base}other`), (error: unknown) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 404);
      return true;
    });
    await serve.cli.waitFor(/^refused 404 127\.0\.0\.1:\d+ \/other/m, { stream: 'stderr' });
    const connection = await client(t, `${serve.url}?room=1`);
    await connection.send('here');
    assert.equal(await within(connection.receive()), 'here');
  });

  it("--subprotocol: the client's first offer the server speaks is agreed", async (t) => {
    const serve = await startServe(t, ['--subprotocol', 'chat', '--subprotocol', 'v2.chat']);
    const agreed = await client(t, serve.url, { protocols: ['other', 'v2.chat', 'chat'] });
    assert.equal(agreed.protocol, 'v2.chat');
    const none = await client(t, serve.url, { protocols: ['other'] });
    assert.equal(none.protocol, '');
  });

  it('--deflate accepts permessage-deflate; without it, it is declined', async (t) => {
    const plain = await startServe(t, []);
    assert.equal((await client(t, plain.url)).extensions, '');
    const compressing = await startServe(t, ['--deflate']);
    const connection = await client(t, compressing.url);
    assert.match(connection.extensions, /^permessage-deflate/);
    const text = 'compressible '.repeat(1000);
    await connection.send(text);
    assert.equal(await within(connection.receive()), text);
  });

  it('--max-connections: handshakes beyond it get 503', async (t) => {
    const serve = await startServe(t, ['--max-connections', '1']);
    const first = await client(t, serve.url);
    await assert.rejects(connect(serve.url), (error: unknown) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 503);
      return true;
    });
    await within(first.close());
    // The slot is free again once the first has closed.
    await serve.cli.waitFor(/^#1 closed/m, { stream: 'stderr' });
    const second = await client(t, serve.url);
    await second.send('in');
    assert.equal(await within(second.receive()), 'in');
  });

  it('--max-message: a larger message closes the connection with 1009', async (t) => {
    const serve = await startServe(t, ['--max-message', '16']);
    const connection = await client(t, serve.url);
    await connection.send('x'.repeat(16));
    assert.equal(await within(connection.receive()), 'x'.repeat(16));
    await connection.send('x'.repeat(17));
    assert.equal((await within(connection.closed)).code, 1009);
  });
});

describe('wsnet serve --broadcast', () => {
  it('sends each message to every client, the sender included, in one order', async (t) => {
    const serve = await startServe(t, ['--broadcast']);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => client(t, serve.url)));
    await a.send('from a');
    // a's own copy back means the server has broadcast it: b's message (on another socket)
    // cannot overtake it from here on.
    assert.equal(await within(a.receive()), 'from a');
    await b.send(Buffer.from('from b (binary)'));
    assert.deepEqual(await within(a.receive()), Buffer.from('from b (binary)'));
    for (const connection of [b, c]) {
      assert.equal(await within(connection.receive()), 'from a');
      assert.deepEqual(await within(connection.receive()), Buffer.from('from b (binary)'));
    }
  });

  it('--exclude-sender: everyone but the sender', async (t) => {
    const serve = await startServe(t, ['--broadcast', '--exclude-sender']);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => client(t, serve.url)));
    await a.send('from a');
    assert.equal(await within(b.receive()), 'from a');
    assert.equal(await within(c.receive()), 'from a');
    // b's message is sent after the server handled a's: had a got its own, it would come first.
    await b.send('from b');
    assert.equal(await within(a.receive()), 'from b');
    assert.equal(await within(c.receive()), 'from b');
  });

  it('a client that does not keep up is closed with 1013; the others are not held up', async (t) => {
    const serve = await startServe(t, ['--broadcast', '--exclude-sender']);
    // It stops reading its socket once 64 KiB of messages wait in its inbox.
    const slow = await client(t, serve.url, { maxInboxBytes: 64 * 1024 });
    const fast = await client(t, serve.url);
    const sender = await client(t, serve.url);
    const message = Buffer.alloc(1024 * 1024, 7);
    // Well over the 16 MiB a connection may queue (the message API's maxQueuedBytes), plus
    // what the sockets buffer.
    const count = 32;
    // The fast client takes each message before the next is sent (lock-step), so only the
    // slow one can fall 16 MiB behind, however busy the machine is.
    for (let i = 0; i < count; i++) {
      await sender.send(message);
      assert.deepEqual(await within(fast.receive(), 10_000), message);
    }
    await serve.cli.waitFor(/^#1 reads too slowly for the broadcast .*closing with 1013/m, {
      stream: 'stderr',
    });
    // What was queued before the close still comes; then the close (not a normal one: the
    // iteration ends by throwing it).
    let received = 0;
    await assert.rejects(async () => {
      for await (const data of slow) {
        assert.deepEqual(data, message);
        received++;
      }
    }, /connection closed: 1013 reading too slowly/);
    const status = await within(slow.closed);
    assert.equal(status.code, 1013);
    assert.ok(received < count, `${received} of ${count}`);
    assert.equal(fast.readyState, 1);
  });
});
