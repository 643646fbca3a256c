/**
 * Fuzz targets `messages-server` and `messages-client`: the message API's WebSocketConnection,
 * end to end, over the in-memory stream pair, with a fuzzed peer on the other end.
 *
 * How the connection is made: `WebSocketConnection.create` (@internal), which the server and
 * `connect()` call once their handshake succeeded. The HTTP exchange before it is not in these
 * targets: both sides parse HTTP with node:http and need a `net.Socket` (`handleUpgrade` refuses
 * any other Duplex, `connect()` opens its own), and the WebSocket checks of the request and the
 * 101 response are the `handshake` target's. What the handshake hands over is here: the
 * negotiated permessage-deflate codec (from the same negotiation functions, without context
 * takeover in the connection's sending direction, so that the output checker can inflate each
 * message) and the bytes that came with the head.
 *
 * The application echoes every message (awaiting each send), reading either with `for await` or
 * with 'message' events; or (LOCAL_CLOSE) closes the connection after the peer's bytes.
 *
 * Invariant: only documented errors (a failure is a ProtocolError with 1002, 1007 or 1009, the
 * close frame sent says the same code and so does the close status; the iterator throws only
 * ConnectionClosedError; send rejects only with ConnectionClosedError); nothing escapes to the
 * process; the connection settles (closes) within the harness's deadline; every byte sent is
 * valid RFC 6455; no message over maxMessageSize is delivered and the bytes waiting to be sent
 * stay under maxQueuedBytes.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  acceptCompression,
  offerCompression,
  resolveDeflateOption,
  type CompressionAcceptance,
} from '../../../src/messages/compression.js';
import { WebSocketConnection, type CloseStatus } from '../../../src/messages/connection.js';
import { ConnectionClosedError, ProtocolError } from '../../../src/protocol/errors.js';
import { parseExtensionList } from '../../../src/protocol/handshake/headers.js';
import { duplexPair } from '../../helpers/duplex-pair.js';
import type { AsyncFuzzTarget } from '../harness.js';
import {
  ALTERNATE,
  DEFLATE,
  FuzzedPeer,
  LOCAL_CLOSE,
  RESET,
  SMALL,
  TURNS,
  decodeFacadeInput,
  facadeInputs,
  turn,
} from './facade-input.js';

const MAX_MESSAGE = 64 * 1024;
const MAX_QUEUED = 256 * 1024;
/** The codes of a failure: the peer broke a rule (1002, 1007, 1009) or closed TCP first (1006). */
const FAILURE_CODES = new Set([1002, 1007, 1009, 1006]);

function negotiate(role: 'server' | 'client'): CompressionAcceptance {
  const deflate =
    role === 'server'
      ? acceptCompression(
          parseExtensionList('permessage-deflate; client_max_window_bits'),
          resolveDeflateOption({ serverNoContextTakeover: true, threshold: 8 }, 'server')!,
        )
      : offerCompression(
          resolveDeflateOption({ clientNoContextTakeover: true, threshold: 8 }, 'client')!,
        ).accept(parseExtensionList('permessage-deflate; client_no_context_takeover'));
  assert.ok(deflate !== null, 'permessage-deflate negotiated');
  return deflate;
}

function documentedSendError(error: unknown): void {
  assert.ok(error instanceof ConnectionClosedError, `send rejected with ${String(error)}`);
}

async function check(role: 'server' | 'client', input: Buffer): Promise<void> {
  const { config, head, chunks } = decodeFacadeInput(input);
  const deflate = (config & DEFLATE) !== 0 ? negotiate(role) : null;
  const [local, remote] = duplexPair();
  const peer = new FuzzedPeer(remote, role === 'client', deflate !== null, true);
  const connection = WebSocketConnection.create(
    local,
    role,
    {
      protocol: '',
      extensions: deflate?.header ?? '',
      head,
      ...(deflate === null ? {} : { deflate: deflate.codec }),
    },
    {
      maxMessageSize: MAX_MESSAGE,
      maxInboxBytes: MAX_MESSAGE,
      maxQueuedBytes: MAX_QUEUED,
      closeTimeout: 300,
    },
  );
  const failures: unknown[] = [];
  connection.on('error', (error) => failures.push(error));
  const echo = (config & SMALL) === 0;
  const sends: Array<Promise<void>> = [];
  // What broke the invariant while the peer was still playing: thrown once the input settled, so
  // that it is this input's failure (not a listener error or an unhandled rejection).
  let broken: unknown;
  const hold = (check: () => void) => {
    try {
      check();
    } catch (error) {
      broken ??= error;
    }
  };
  const take = (message: string | Buffer) =>
    hold(() => {
      const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
      assert.ok(size <= MAX_MESSAGE, `a message of ${size} bytes delivered`);
      if (echo)
        sends.push(
          connection
            .send(message)
            .catch((error: unknown) => hold(() => documentedSendError(error))),
        );
      assert.ok(connection.bufferedAmount <= MAX_QUEUED + MAX_MESSAGE, 'send queue over its limit');
    });

  let consumer: Promise<void>;
  if ((config & ALTERNATE) !== 0) {
    connection.on('message', take);
    consumer = Promise.resolve();
  } else {
    consumer = (async () => {
      try {
        for await (const message of connection) {
          take(message);
          await sends.at(-1);
        }
      } catch (error) {
        hold(() =>
          assert.ok(error instanceof ConnectionClosedError, `for await threw ${String(error)}`),
        );
      }
    })();
  }

  await peer.play(chunks, (config & TURNS) !== 0);
  await peer.quiet();
  if ((config & LOCAL_CLOSE) !== 0) {
    // The application closes; the peer ends once the close frame came (a peer that answers with
    // TCP, not a close frame: close() then resolves unclean, or on the close timeout).
    const closing = connection
      .close(1000, 'fuzz')
      .catch((error: unknown) =>
        hold(() =>
          assert.ok(error instanceof ConnectionClosedError, `close rejected with ${String(error)}`),
        ),
      );
    await peer.closeFrame;
    peer.finish((config & RESET) !== 0);
    await closing;
  } else {
    peer.finish((config & RESET) !== 0);
  }
  const status: CloseStatus = await connection.closed;
  await consumer;
  await Promise.all(sends);
  await turn();

  if (broken !== undefined) throw broken as Error;
  peer.verify();
  for (const failure of failures) {
    assert.ok(
      failure instanceof ProtocolError,
      `an 'error' that is not a ProtocolError: ${String(failure)}`,
    );
    assert.ok(FAILURE_CODES.has(failure.closeCode), `failure with close code ${failure.closeCode}`);
  }
  assert.ok(failures.length <= 1, `${failures.length} failures reported`);
  const failure = failures[0] as ProtocolError | undefined;
  const sent = peer.checker.closeCode;
  if (failure !== undefined) {
    assert.equal(status.code, failure.closeCode, 'the close status says the failure');
    // (A 1000 with LOCAL_CLOSE: the application's close went out before the failing bytes were
    // read; nothing to check.)
    if (sent === 1000 && (config & LOCAL_CLOSE) !== 0) return;
    if (failure.closeCode === 1006)
      // TCP ended without a close frame: nothing is sent for it (a close of the application's may
      // have gone out before).
      assert.ok(sent === undefined || sent === null || !FAILURE_CODES.has(sent), `sent ${sent}`);
    else
      assert.ok(
        sent === undefined || sent === failure.closeCode,
        `failed with ${failure.closeCode}, sent a close frame with ${String(sent)}`,
      );
  } else if (sent !== undefined && sent !== null) {
    assert.ok(!FAILURE_CODES.has(sent) || sent === status.code, `sent ${sent} without a failure`);
  }
}

export const messagesServerTarget: AsyncFuzzTarget = {
  name: 'messages-server',
  generate: facadeInputs(true),
  checkAsync: (input) => check('server', input),
};

export const messagesClientTarget: AsyncFuzzTarget = {
  name: 'messages-client',
  generate: facadeInputs(false),
  checkAsync: (input) => check('client', input),
};
