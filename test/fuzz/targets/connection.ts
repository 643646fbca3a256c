/**
 * Fuzz target: the connection state machine (src/protocol/connection.ts), both roles, both
 * policies. The input is a little program: its first byte picks the configuration, then each
 * step is an op byte, a length byte and that many bytes of data:
 *
 * - op % 8 in 0..3: `receiveData(data)` (half the ops: the peer talks most);
 * - 4: `sendText(data, fin)` (fin = op bit 4) or, inside a fragmented message, `sendContinuation`;
 * - 5: `sendBinary(data, fin)` or `sendContinuation`;
 * - 6: `sendPing(data)` or (op bit 4) `sendPong(data)`;
 * - 7: by op bits 4-5: `sendClose(code, reason)` from data, `receiveEof()`,
 *   `setTransportCongested(bit 6)`, or `closeAfterFailure()`.
 *
 * Invariant: receiving never throws; send* throw only InvalidStateError / InvalidArgumentError;
 * a failure is a ProtocolError other than INTERNAL_ERROR, with its rule's close code, and the last
 * event of its batch; every byte sent is a valid RFC 6455 frame stream (OutputChecker: masked iff
 * client, control frames FIN and <= 125 bytes, valid close codes, UTF-8 text under validateUtf8,
 * nothing after the close frame); buffered bytes stay within the frame limit plus the largest chunk (what a failure leaves unread); what
 * the connection sends on its own is bounded by what it received.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import {
  Connection,
  POCO_POLICY,
  RFC_POLICY,
  type ConnectionOptions,
} from '../../../src/protocol/connection.js';
import {
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
} from '../../../src/protocol/errors.js';
import { fixedMask } from '../../../src/protocol/mask.js';
import type { FuzzTarget } from '../harness.js';
import { wireFrame } from '../frames.js';
import { OutputChecker } from '../wire-check.js';

const FAILURE_CODES = new Set([1002, 1007, 1009, 1006]);

function configure(byte: number): { options: ConnectionOptions; client: boolean } {
  const client = (byte & 1) !== 0;
  const policy = (byte & 2) !== 0 ? POCO_POLICY : RFC_POLICY;
  const small = (byte & 4) !== 0 ? { maxFrameSize: 64, maxMessageSize: 128 } : {};
  // Bit 3: the POCO policy with RFC receive checks switched back on one by one is covered by
  // mixing: strictFraming and validateUtf8 from the RFC side.
  const mixed = (byte & 8) !== 0 ? { strictFraming: true, validateUtf8: true } : {};
  return {
    client,
    options: { ...policy, ...small, ...mixed, mask: fixedMask([0xa1, 0xb2, 0xc3, 0xd4]) },
  };
}

function check(input: Buffer): void {
  if (input.length === 0) return;
  const { options, client } = configure(input[0]);
  const connection = new Connection(client ? 'client' : 'server', options);
  const checker = new OutputChecker(client, options.validateUtf8 ?? true);
  const frameLimit = connection.maxFrameSize;
  let received = 0;
  let largestChunk = 0;
  let automatic = 0;
  let sendingMessage = false;

  const drain = (fromApi: boolean) => {
    const events = connection.takeEvents();
    for (const [index, event] of events.entries()) {
      if (event.type !== 'failure') continue;
      assert.ok(event.error instanceof ProtocolError, 'a failure that is not a ProtocolError');
      assert.notEqual(
        event.error.reason,
        'INTERNAL_ERROR',
        `internal error: ${String(event.error.cause)}`,
      );
      assert.ok(FAILURE_CODES.has(event.error.closeCode), `close code ${event.error.closeCode}`);
      assert.equal(index, events.length - 1, 'a failure is the last event of its batch');
    }
    const out = connection.takeOutgoing();
    if (!fromApi) for (const buffer of out) automatic += buffer.length;
    checker.push(out);
  };

  const api = (call: () => void) => {
    try {
      call();
    } catch (error) {
      assert.ok(
        error instanceof InvalidStateError || error instanceof InvalidArgumentError,
        `send threw ${String(error)}`,
      );
    }
    drain(true);
  };

  let at = 1;
  while (at < input.length) {
    const op = input[at];
    const length = input[at + 1] ?? 0;
    const data = Buffer.from(input.subarray(at + 2, at + 2 + length));
    at += 2 + length;
    const fin = (op & 0x10) === 0;
    switch (op & 7) {
      case 4:
      case 5:
        api(() => {
          if (sendingMessage) connection.sendContinuation(data, fin);
          else if ((op & 7) === 4) connection.sendText(data, fin);
          else connection.sendBinary(data, fin);
          sendingMessage = !fin;
        });
        break;
      case 6:
        api(() => ((op & 0x10) === 0 ? connection.sendPing(data) : connection.sendPong(data)));
        break;
      case 7:
        switch ((op >> 4) & 3) {
          case 0:
            api(() =>
              data.length >= 2
                ? connection.sendClose(data.readUInt16BE(0), data.toString('utf8', 2))
                : connection.sendClose(),
            );
            break;
          case 1:
            connection.receiveEof();
            drain(false);
            break;
          case 2:
            connection.setTransportCongested((op & 0x40) !== 0);
            drain(false);
            break;
          default:
            connection.closeAfterFailure();
            drain(false);
        }
        break;
      default:
        received += data.length;
        largestChunk = Math.max(largestChunk, data.length);
        connection.receiveData(data); // must never throw
        drain(false);
        assert.ok(
          connection.bufferedBytes <= Math.min(received, frameLimit + 14 + largestChunk),
          `${connection.bufferedBytes} bytes buffered`,
        );
    }
    // Pongs (a masked pong costs 4 bytes more than an unmasked ping: 6 for 2) and one close.
    assert.ok(automatic <= 3 * received + 2 * 131, `${automatic} bytes sent for ${received}`);
  }
  if (connection.outputEnded) checker.end();
}

/** A program as bytes: a configuration byte, then steps, most of them frames as received. */
const program = fc
  .tuple(
    fc.nat(15),
    fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.tuple(fc.nat(3), fc.oneof(wireFrame(), wireFrame(true), wireFrame(false))),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.nat(255),
            fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
          ),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom(0x07, 0x17, 0x27, 0x37, 0x67),
            fc
              .tuple(
                fc.constantFrom(1000, 1001, 1004, 1005, 1006, 1015, 2999, 3000, 4999, 5000, 0),
                fc.string({ maxLength: 130 }),
              )
              .map(([code, reason]) => {
                const b = Buffer.alloc(2);
                b.writeUInt16BE(code);
                return Buffer.concat([b, Buffer.from(reason)]);
              }),
          ),
        },
      ),
      { maxLength: 12 },
    ),
  )
  .map(([config, steps]) => {
    const parts: Buffer[] = [Buffer.from([config])];
    for (const [op, data] of steps) {
      // Data longer than a step holds goes in several receive steps.
      for (let i = 0; i === 0 || i < data.length; i += 255) {
        const piece = data.subarray(i, i + 255);
        parts.push(Buffer.from([op, piece.length]), piece);
      }
    }
    return Buffer.concat(parts);
  });

export const connectionTarget: FuzzTarget = { name: 'connection', generate: program, check };
