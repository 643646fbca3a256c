// TLS peers that send garbage: plain bytes to a wss server, a "server" that answers the
// ClientHello with garbage, and garbage injected into the TLS stream (by a relay in the middle)
// after the TLS handshake, before the upgrade request or on an open WebSocket, toward either
// side. Only that connection ends, with the documented error: connect() rejects with
// NetworkError 'tls' and POCO's with SSLException when TLS cannot be set up; an open connection
// closes with 1006; a server opens no connection for a client whose TLS failed and serves on.
// Nothing escapes, no socket is left open.
import assert from 'node:assert/strict';
import net from 'node:net';
import type tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { connect, type WebSocketConnection } from '../../src/messages/index.js';
import {
  Context,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  HTTPSClientSession,
  WebSocket,
} from '../../src/poco/index.js';
import { testCertificate } from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { EscapeWatch } from '../helpers/security-client.js';
import { within } from '../helpers/wait.js';
import {
  errorName,
  GARBAGE,
  goodVisit,
  noSocketLeft,
  startRelay,
  tcpSockets,
  until,
} from './fault-kit.js';
import {
  SERVER_KINDS,
  SERVER_NAMES,
  describeEnd,
  startFaultTarget,
  type FaultTarget,
} from './servers-under-test.js';

const watch = new EscapeWatch();
before(() => watch.install());
after(() => watch.uninstall());

const certificate = testCertificate();
const trusted: tls.ConnectionOptions = { ca: certificate.cert };

/** Everything a plain TCP peer gets back after sending `bytes` to `port`, until the server closes. */
async function plainBytesTo(port: number, bytes: Uint8Array): Promise<Buffer> {
  const client = await RawClient.connect(port);
  client.write(bytes);
  try {
    return await client.readToEnd(5000);
  } finally {
    client.destroy();
  }
}

for (const kind of SERVER_KINDS) {
  describe(`TLS garbage against a wss server: ${SERVER_NAMES[kind]}`, () => {
    let target: FaultTarget;
    before(async () => {
      target = await startFaultTarget(kind, { secure: true });
    });
    after(() => target.stop());

    /** Nothing opened, nothing left open, a good wss client served. */
    async function servesOn(baseline: number, opened: number, what: string): Promise<void> {
      assert.equal(target.opened(), opened, `no WebSocket connection from ${what}`);
      assert.deepEqual(target.serverErrors, [], `no server error after ${what}`);
      await noSocketLeft(baseline, what);
      await until(() => target.open() === 0, `the server's connections after ${what}`);
      await goodVisit(target.port, what, trusted);
      await target.nextEnd();
      await noSocketLeft(baseline, `the good client after ${what}`);
      await watch.assertNone();
    }

    it('a plain-text upgrade request or random bytes on the TLS port: closed, no HTTP answer, the server serves on', async () => {
      for (const [what, bytes] of [
        ['a plain-text upgrade request', Buffer.from(GARBAGE.subarray(0, 37))],
        ['plain text and random bytes', GARBAGE],
      ] as const) {
        const baseline = tcpSockets();
        const opened = target.opened();
        const answer = await plainBytesTo(target.port, bytes);
        // At most a TLS alert record (content type 21), never an HTTP response in the clear.
        assert.ok(answer.length === 0 || answer[0] === 21, `${what}: ${answer.toString('latin1')}`);
        await servesOn(baseline, opened, what);
      }
    });

    it('garbage inside the TLS stream after the TLS handshake, before the request: that connection closes, the server serves on', async () => {
      const relay = await startRelay(target.port);
      try {
        const baseline = tcpSockets();
        const opened = target.opened();
        const client = await RawClient.connect(relay.port, { tls: trusted });
        relay.inject('server', GARBAGE);
        await client.closed(5000);
        client.destroy();
        await servesOn(baseline, opened, 'garbage before the request');
      } finally {
        await relay.stop();
      }
    });

    it('garbage inside the TLS stream of an open WebSocket: that connection ends (1006 / a POCO exception), the server serves on', async () => {
      const relay = await startRelay(target.port);
      try {
        const baseline = tcpSockets();
        const { client } = await RawClient.open(relay.port, '/ws', { tls: trusted });
        const opened = target.opened();
        relay.inject('server', GARBAGE);
        const end = await target.nextEnd();
        if (kind === 'messages')
          assert.ok(end.kind === 'close' && end.code === 1006 && !end.wasClean, describeEnd(end));
        else
          assert.ok(
            end.kind === 'exception' &&
              ['SSLException', 'ConnectionResetException'].includes(end.name),
            describeEnd(end),
          );
        await client.closed(5000);
        client.destroy();
        await servesOn(baseline, opened, 'garbage on an open WebSocket');
      } finally {
        await relay.stop();
      }
    });
  });
}

type ClientKind = 'messages' | 'poco';

async function openClient(
  kind: ClientKind,
  port: number,
): Promise<WebSocketConnection | WebSocket> {
  if (kind === 'messages')
    return connect(`wss://127.0.0.1:${port}/ws`, { tls: trusted, handshakeTimeout: 5000 });
  const session = new HTTPSClientSession(
    '127.0.0.1',
    port,
    new Context(Context.TLS_CLIENT_USE, { ca: certificate.cert }),
  );
  session.setTimeout(5_000_000);
  const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
  return WebSocket.connect(session, request, new HTTPResponse());
}

for (const kind of ['messages', 'poco'] as const) {
  describe(`TLS garbage against a wss client: ${kind === 'messages' ? 'connect()' : 'POCO HTTPSClientSession + WebSocket.connect'}`, () => {
    it(`a server that answers the ClientHello with garbage: ${kind === 'messages' ? "NetworkError 'tls'" : 'SSLException'}, nothing left open`, async () => {
      const sockets = new Set<net.Socket>();
      const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
        socket.once('data', () => socket.write(GARBAGE)); // and the connection stays open
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const baseline = tcpSockets();
        const port = (server.address() as net.AddressInfo).port;
        const outcome = await within(
          openClient(kind, port).then((client) => {
            if (client instanceof WebSocket) client.close();
            else client.terminate();
            return 'connected';
          }, errorName),
          10_000,
          'the client',
        );
        assert.equal(outcome, kind === 'messages' ? 'NetworkError tls' : 'SSLException');
        await noSocketLeft(baseline - 0, 'the garbage server');
        await watch.assertNone();
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it(`garbage inside the TLS stream after the TLS handshake, before the 101: ${kind === 'messages' ? "NetworkError 'tls'" : 'SSLException'}, nothing left open`, async () => {
      // The server holds the 101 in its accept hook while the relay injects the garbage.
      let hookCalled!: () => void;
      const inHook = new Promise<void>((resolve) => (hookCalled = resolve));
      let release!: (verdict: boolean) => void;
      const target = await startFaultTarget('messages', {
        secure: true,
        accept: () => {
          hookCalled();
          return new Promise<boolean>((resolve) => (release = resolve));
        },
      });
      const relay = await startRelay(target.port);
      try {
        const baseline = tcpSockets();
        const connecting = openClient(kind, relay.port).then((client) => {
          if (client instanceof WebSocket) client.close();
          else client.terminate();
          return 'connected';
        }, errorName);
        await within(inHook, 5000, 'the accept hook');
        relay.inject('client', GARBAGE);
        const outcome = await within(connecting, 10_000, 'the client');
        assert.equal(outcome, kind === 'messages' ? 'NetworkError tls' : 'SSLException');
        release(true);
        await noSocketLeft(baseline, 'the connection that got garbage');
        await until(() => target.open() === 0, 'the server to have no connection');
        await watch.assertNone();
      } finally {
        await relay.stop();
        await target.stop();
      }
    });

    it('garbage inside the TLS stream of an open WebSocket: that connection ends (1006 / a POCO exception), the server serves on', async () => {
      const target = await startFaultTarget('messages', { secure: true });
      const relay = await startRelay(target.port);
      try {
        const baseline = tcpSockets();
        const client = await openClient(kind, relay.port);
        relay.inject('client', GARBAGE);
        let outcome: string;
        if (client instanceof WebSocket) {
          client.setReceiveTimeout(5_000_000);
          try {
            const { n, flags } = await client.receiveFrame(new Uint8Array(1024));
            outcome = `a frame: ${n} bytes, flags ${flags}`;
          } catch (error) {
            outcome = errorName(error);
          } finally {
            client.close();
          }
          assert.ok(['SSLException', 'ConnectionResetException'].includes(outcome), outcome);
        } else {
          client.on('error', () => undefined);
          const { code, wasClean } = await within(client.closed, 5000, 'the close');
          outcome = `close ${code}`;
          assert.ok(code === 1006 && !wasClean, outcome);
        }
        // The server's end of it closes too (the relay passes the close on): 1006 there.
        const end = await target.nextEnd();
        assert.ok(end.kind === 'close' && end.code === 1006, describeEnd(end));
        await noSocketLeft(baseline, 'the connection that got garbage');
        await goodVisit(target.port, 'garbage toward a client', trusted);
        await watch.assertNone();
      } finally {
        await relay.stop();
        await target.stop();
      }
    });
  });
}
