// `wsnet serve --exec`: a real program per connection (Node scripts written for each test),
// bridged line by line, ended when the connection closes, and paused when the client does not
// read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { connect, type ConnectOptions } from '../../src/index.js';
import { delay, waitFor, within } from '../helpers/wait.js';
import { startServe } from './serve-process.js';

/** Writes `source` as a Node script in a directory removed after the test; returns the command. */
function program(t: TestContext, source: string, ...args: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsnet-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'program.mjs');
  writeFileSync(file, source);
  return [process.execPath, file, ...args].map((word) => JSON.stringify(word)).join(' ');
}

async function client(t: TestContext, url: string, options: ConnectOptions = {}) {
  const connection = await within(connect(url, options), 5000, `connect(${url})`);
  t.after(() => connection.terminate());
  return connection;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const UPPER_CASE = `
import readline from 'node:readline';
readline.createInterface({ input: process.stdin })
  .on('line', (line) => process.stdout.write(line.toUpperCase() + '\\n'));
`;

/** Prints its PID, then runs until killed, reading nothing (with 'stubborn', ignoring SIGTERM). */
const SLEEPER = `
if (process.argv[2] === 'stubborn') process.on('SIGTERM', () => {});
process.stdout.write(process.pid + '\\n');
setInterval(() => {}, 1000);
`;

describe('wsnet serve --exec', () => {
  it("bridges messages to the program's stdin and its stdout lines back", async (t) => {
    const serve = await startServe(t, ['--exec', program(t, UPPER_CASE)]);
    const connection = await client(t, serve.url);
    await connection.send('hello');
    assert.equal(await within(connection.receive()), 'HELLO');
    // A message with newlines is several lines for the program, so several answers.
    await connection.send('one\ntwo');
    assert.equal(await within(connection.receive()), 'ONE');
    assert.equal(await within(connection.receive()), 'TWO');
    await connection.send(Buffer.from('binary in'));
    assert.equal(await within(connection.receive()), 'BINARY IN');
    await within(connection.close());
  });

  it('each connection has its own program', async (t) => {
    const serve = await startServe(t, ['--exec', program(t, SLEEPER), '--grace', '200ms']);
    const a = await client(t, serve.url);
    const b = await client(t, serve.url);
    const pidA = Number(await within(a.receive()));
    const pidB = Number(await within(b.receive()));
    assert.ok(pidA > 0 && pidB > 0 && pidA !== pidB, `${pidA} ${pidB}`);
  });

  it("the program's exit closes the connection: 1000 after status 0, its output sent first", async (t) => {
    const source = `process.stdout.write('first\\nlast line without a newline'); process.exitCode = Number(process.argv[2]);`;
    const serve = await startServe(t, ['--exec', program(t, source, '0')]);
    const connection = await client(t, serve.url);
    assert.equal(await within(connection.receive()), 'first');
    assert.equal(await within(connection.receive()), 'last line without a newline');
    const status = await within(connection.closed);
    assert.deepEqual([status.code, status.wasClean], [1000, true]);
    await serve.cli.waitFor(/^#1 the program ended \(exit status 0\)/m, { stream: 'stderr' });
  });

  it('a program that fails closes the connection with 1011, and its stderr is logged', async (t) => {
    const source = `process.stderr.write('something broke\\nreally\\n'); process.exitCode = 3;`;
    const serve = await startServe(t, ['--exec', program(t, source)]);
    const connection = await client(t, serve.url);
    const status = await within(connection.closed);
    assert.equal(status.code, 1011);
    assert.match(status.reason, /exit status 3/);
    await serve.cli.waitFor(/^#1 stderr: something broke\n#1 stderr: really\n/m, {
      stream: 'stderr',
    });
  });

  it('a command that does not exist: 1011 and the shell says why', async (t) => {
    const serve = await startServe(t, ['--exec', 'wsnet-no-such-program-here']);
    const connection = await client(t, serve.url);
    const status = await within(connection.closed);
    assert.equal(status.code, 1011);
    assert.match(status.reason, /exit status 127/);
    await serve.cli.waitFor(/^#1 stderr: .*wsnet-no-such-program-here/m, { stream: 'stderr' });
  });

  it('the program gets the connection in its environment (REMOTE_ADDR, QUERY_STRING...)', async (t) => {
    const source = `for (const name of ['REMOTE_ADDR', 'REQUEST_URI', 'QUERY_STRING', 'WEBSOCKET_PROTOCOL'])
      process.stdout.write(name + '=' + (process.env[name] ?? '') + '\\n');`;
    const serve = await startServe(t, [
      '--exec',
      program(t, source),
      '--path',
      '/env',
      '--subprotocol',
      'demo',
    ]);
    const connection = await client(t, `${serve.url}?room=7&x=y`, { protocols: ['demo'] });
    const lines = [];
    for await (const message of connection) lines.push(message);
    assert.deepEqual(lines, [
      'REMOTE_ADDR=127.0.0.1',
      'REQUEST_URI=/env?room=7&x=y',
      'QUERY_STRING=room=7&x=y',
      'WEBSOCKET_PROTOCOL=demo',
    ]);
  });

  it('a line that is not UTF-8 is sent as a binary message', async (t) => {
    const source = `process.stdout.write(Buffer.from([0x66, 0xff, 0x0a, 0x6f, 0x6b, 0x0a]));`;
    const serve = await startServe(t, ['--exec', program(t, source)]);
    const connection = await client(t, serve.url);
    assert.deepEqual(await within(connection.receive()), Buffer.from([0x66, 0xff]));
    assert.equal(await within(connection.receive()), 'ok');
  });

  it('a line longer than --max-message closes the connection with 1009', async (t) => {
    const source = `process.stdout.write('short\\n' + 'y'.repeat(100) + '\\n'); setInterval(() => {}, 1000);`;
    const serve = await startServe(t, [
      '--exec',
      program(t, source),
      '--max-message',
      '64',
      '--grace',
      '200ms',
    ]);
    const connection = await client(t, serve.url);
    assert.equal(await within(connection.receive()), 'short');
    assert.equal((await within(connection.closed)).code, 1009);
    await serve.cli.waitFor(/^#1 the program wrote a line longer than 64 bytes/m, {
      stream: 'stderr',
    });
  });

  it("the client's close ends a program that reads its stdin to the end", async (t) => {
    const source = `process.stdout.write(process.pid + '\\n'); process.stdin.resume();`;
    const serve = await startServe(t, ['--exec', program(t, source)]);
    const connection = await client(t, serve.url);
    const pid = Number(await within(connection.receive()));
    assert.ok(isRunning(pid));
    await within(connection.close());
    await waitFor(() => !isRunning(pid), 10_000, `program ${pid} to end`);
    await serve.cli.waitFor(/^#1 the program ended \(exit status 0\)/m, { stream: 'stderr' });
  });

  it('a program that ignores the end of its input gets SIGTERM after --grace', async (t) => {
    const serve = await startServe(t, ['--exec', program(t, SLEEPER), '--grace', '200ms']);
    const connection = await client(t, serve.url);
    const pid = Number(await within(connection.receive()));
    await within(connection.close());
    await waitFor(() => !isRunning(pid), 10_000, `program ${pid} to end`);
    assert.match(
      serve.cli.stderr,
      /^#1 the program still runs 200 ms after its input ended: SIGTERM/m,
    );
  });

  it('a program that ignores SIGTERM gets SIGKILL after as long again', async (t) => {
    const serve = await startServe(t, [
      '--exec',
      program(t, SLEEPER, 'stubborn'),
      '--grace',
      '200ms',
    ]);
    const connection = await client(t, serve.url);
    const pid = Number(await within(connection.receive()));
    connection.terminate(); // an abnormal end (1006) ends the program just the same
    await waitFor(() => !isRunning(pid), 10_000, `program ${pid} to end`);
    await serve.cli.waitFor(/^#1 the program ignored SIGTERM: SIGKILL/m, { stream: 'stderr' });
  });

  it('SIGTERM to the server: clients get 1001, programs end, the server exits 0', async (t) => {
    const serve = await startServe(t, ['--exec', program(t, SLEEPER), '--grace', '200ms']);
    const connections = [await client(t, serve.url), await client(t, serve.url)];
    const pids = await Promise.all(connections.map(async (c) => Number(await within(c.receive()))));
    const exit = await serve.stop();
    assert.equal(exit.code, 0, exit.stderr);
    for (const connection of connections)
      assert.equal((await within(connection.closed)).code, 1001);
    // A program under the shell (sh -c forks it) may still wait for its last parent to reap it.
    for (const pid of pids) await waitFor(() => !isRunning(pid), 5000, `program ${pid} to end`);
  });

  it('a client that does not read pauses the program: its output waits in bounded buffers', async (t) => {
    const total = 32 * 1024 * 1024;
    const source = `
      const line = Buffer.alloc(1024, 'x'); line[1023] = 10;
      let written = 0;
      function more() {
        while (written < ${total}) {
          written += line.length;
          if (written % (64 * 1024) === 0) process.stderr.write('wrote ' + written + '\\n');
          if (!process.stdout.write(line)) return process.stdout.once('drain', more);
        }
      }
      more();`;
    const serve = await startServe(t, ['--exec', program(t, source), '--quiet']);
    // The client takes nothing: once 64 KiB of messages wait, it stops reading its socket.
    const connection = await client(t, serve.url, { maxInboxBytes: 64 * 1024 });
    const written = () => Number(/.*wrote (\d+)\n(?![^]*wrote)/.exec(serve.cli.stderr)?.[1] ?? 0);
    // Wait until the program's progress stops (it is blocked writing), bounded.
    let last = -1;
    for (let stable = 0, polls = 0; stable < 5; polls++) {
      assert.ok(polls < 200, 'the program never stopped writing');
      await delay(100);
      stable = written() === last ? stable + 1 : 0;
      last = written();
    }
    assert.ok(last < total / 2, `the program wrote ${last} bytes to a client that reads nothing`);
    // Reading again resumes it, and nothing was lost on the way.
    let received = 0;
    for await (const message of connection) {
      assert.equal(message, 'x'.repeat(1023));
      received += 1024;
    }
    assert.equal(received, total);
    assert.equal((await connection.closed).code, 1000);
  });
});
