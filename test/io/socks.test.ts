// openSocksTunnel and its pieces, without the message API: IPv6 literals as RFC 1928's 16 bytes,
// bytes that came with the CONNECT reply kept for the tunnel's user, and its own deadline.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { ConnectError } from '../../src/io/http-client.js';
import { ipv6Bytes, openSocksTunnel, SocksError } from '../../src/io/socks.js';
import { within } from '../helpers/wait.js';

const listeners: net.Server[] = [];
after(() => {
  for (const listener of listeners) listener.close();
});

/** A raw proxy: `answer` gets each connection's first chunk and writes what it likes. */
async function rawProxy(answer: (socket: net.Socket, chunk: Buffer) => void): Promise<number> {
  const listener = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => answer(socket, chunk));
  });
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as net.AddressInfo).port;
}

describe('ipv6Bytes', () => {
  const cases: Array<[string, string]> = [
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['::ffff:192.0.2.128', '00000000000000000000ffffc0000280'],
    ['64:ff9b::1.2.3.4', '0064ff9b000000000000000001020304'],
  ];
  for (const [text, hex] of cases)
    it(text, () => assert.equal(ipv6Bytes(text).toString('hex'), hex));
});

describe('openSocksTunnel', () => {
  it('keeps the bytes that came with the CONNECT reply for the tunnel’s user', async () => {
    let step = 0;
    const port = await rawProxy((socket) => {
      if (step++ === 0) socket.write(Buffer.from([5, 0]));
      else
        socket.write(
          Buffer.concat([Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]), Buffer.from('hello')]),
        );
    });
    const socket = await within(
      openSocksTunnel({ host: '127.0.0.1', port, resolve: 'proxy' }, { host: 'x.test', port: 80 }),
    );
    const first = await within(
      new Promise<Buffer>((resolve) => socket.once('data', resolve)),
      3000,
      'the target’s first bytes',
    );
    assert.equal(first.toString(), 'hello');
    socket.destroy();
  });

  it('a domain reply address (ATYP 3) is read through its length byte', async () => {
    let step = 0;
    const port = await rawProxy((socket) => {
      if (step++ === 0) socket.write(Buffer.from([5, 0]));
      else
        socket.write(
          Buffer.concat([
            Buffer.from([5, 0, 0, 3, 4]),
            Buffer.from('host'),
            Buffer.from([0, 80, 0x21]),
          ]),
        );
    });
    const socket = await within(
      openSocksTunnel({ host: '127.0.0.1', port, resolve: 'proxy' }, { host: 'x.test', port: 80 }),
    );
    const first = await within(new Promise<Buffer>((resolve) => socket.once('data', resolve)));
    assert.deepEqual([...first], [0x21]);
    socket.destroy();
  });

  it('a host name over 255 bytes is never sent', async () => {
    let connected = false;
    const port = await rawProxy(() => (connected = true));
    await assert.rejects(
      openSocksTunnel(
        { host: '127.0.0.1', port, resolve: 'proxy' },
        { host: `${'a'.repeat(252)}.test`, port: 80 },
      ),
      (error: unknown) => error instanceof SocksError && /257 bytes/.test(error.message),
    );
    assert.equal(connected, false);
  });

  it('its own deadline: a ConnectError timeout, and the proxy’s socket closed', async () => {
    let closed: Promise<void> | undefined;
    const port = await rawProxy((socket) => {
      closed = new Promise((resolve) => socket.once('close', () => resolve()));
    });
    await assert.rejects(
      openSocksTunnel(
        { host: '127.0.0.1', port, resolve: 'proxy' },
        { host: 'x.test', port: 80 },
        { timeoutMs: 100 },
      ),
      (error: unknown) => error instanceof ConnectError && error.kind === 'timeout',
    );
    assert.ok(closed !== undefined, 'the greeting reached the proxy');
    await within(closed, 3000, 'the proxy side’s close');
  });
});
