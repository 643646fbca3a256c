// Property tests of the protocol core (fast-check): round trips, chunking independence, masking,
// the UTF-8 validator against TextDecoder, and the fuzz contract: arbitrary bytes end in events
// or documented errors only.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Connection,
  POCO_POLICY,
  type ConnectionEvent,
  type ConnectionOptions,
  type Role,
} from '../../src/protocol/connection.js';
import { ProtocolError, type ProtocolErrorReason } from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { applyMask, fixedMask } from '../../src/protocol/mask.js';
import { Utf8Validator, isValidUtf8 } from '../../src/protocol/utf8.js';

const RUNS = { numRuns: 300 };

/** Splits `bytes` at the given cut points (any values; they are reduced into range). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  chunks.push(Buffer.from(bytes.subarray(start)));
  return chunks;
}

/** Lengths that exercise the 7-bit, 16-bit and 64-bit length forms and their edges. */
const payloadLength = fc.oneof(
  fc.integer({ min: 0, max: 125 }),
  fc.constantFrom(125, 126, 127, 65535, 65536, 65537),
  fc.integer({ min: 126, max: 70000 }),
);

describe('property: frame encoding round trip (RFC 6455 §5.2)', () => {
  it('every first byte, every length form, masked or not, decodes to itself', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        payloadLength,
        fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: undefined }),
        fc.integer({ min: 0, max: 255 }),
        (flags, length, mask, fill) => {
          const payload = Buffer.alloc(length, fill);
          const wire = Buffer.concat(
            encodeFrame(flags, payload, mask === undefined ? null : fixedMask(mask)),
          );
          const reader = new FrameReader();
          reader.push(wire);
          const header = reader.readHeader();
          assert.ok(header !== null);
          assert.equal(header.flags, flags);
          assert.equal(header.length, length);
          assert.equal(header.masked, mask !== undefined);
          const received = reader.readPayload(length);
          assert.ok(received !== null);
          if (header.masked) applyMask(received, header.mask);
          assert.ok(received.equals(payload));
          assert.equal(reader.bufferedBytes, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** One step of a conversation a client might send (valid or not). */
const clientFrame = fc.oneof(
  fc.record({
    flags: fc.constantFrom(0x81, 0x01, 0x00, 0x80),
    payload: fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
  }),
  fc.record({
    flags: fc.constantFrom(0x82, 0x02, 0x00, 0x80),
    payload: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  }),
  fc.record({
    flags: fc.constantFrom(0x89, 0x8a),
    payload: fc.uint8Array({ maxLength: 125 }).map((b) => Buffer.from(b)),
  }),
  fc.record({
    flags: fc.constant(0x88),
    payload: fc.constantFrom(Buffer.alloc(0), Buffer.from([3, 0xe8]), Buffer.from([3])),
  }),
  fc.record({
    flags: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
  }),
);

function eventKey(event: ConnectionEvent): string {
  switch (event.type) {
    case 'message':
      return `message ${event.binary} ${event.data.toString('hex')}`;
    case 'frame':
      return `frame ${event.flags} ${event.payload.toString('hex')}`;
    case 'ping':
    case 'pong':
      return `${event.type} ${event.data.toString('hex')}`;
    case 'close':
      return `close ${event.code} ${event.reason}`;
    case 'failure':
      return `failure ${event.error.reason}`;
  }
}

function run(role: Role, options: ConnectionOptions, chunks: Buffer[], eof: boolean) {
  const connection = new Connection(role, { mask: fixedMask([9, 8, 7, 6]), ...options });
  const events: string[] = [];
  const out: Buffer[] = [];
  const drain = () => {
    for (const event of connection.takeEvents()) events.push(eventKey(event));
    out.push(...connection.takeOutgoing());
  };
  for (const chunk of chunks) {
    connection.receiveData(chunk);
    drain();
  }
  if (eof) {
    connection.receiveEof();
    drain();
  }
  return {
    events,
    out: Buffer.concat(out).toString('hex'),
    state: connection.state,
    ended: connection.outputEnded,
  };
}

describe('property: any chunking of the input gives the same result as one chunk', () => {
  it('FrameReader, with and without coalescing of small chunks', () => {
    const readAll = (chunks: Buffer[], smallChunk: number) => {
      const reader = new FrameReader(smallChunk);
      const frames: string[] = [];
      let length = -1;
      let flags = 0;
      for (const chunk of chunks) {
        reader.push(chunk);
        for (;;) {
          if (length < 0) {
            const header = reader.readHeader();
            if (header === null) break;
            length = header.length;
            flags = header.flags;
          }
          const payload = reader.readPayload(length);
          if (payload === null) break;
          frames.push(`${flags} ${payload.toString('hex')}`);
          length = -1;
        }
      }
      return frames;
    };
    fc.assert(
      fc.property(
        fc.array(clientFrame, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom(0, 1024),
        (frames, cuts, smallChunk) => {
          const wire = Buffer.concat(
            frames.flatMap((f) => encodeFrame(f.flags, f.payload, fixedMask([1, 2, 3, 4]))),
          );
          assert.deepEqual(readAll(split(wire, cuts), smallChunk), readAll([Buffer.from(wire)], 0));
        },
      ),
      RUNS,
    );
  });

  for (const [name, options] of [
    ['RFC policy', {}],
    ['POCO policy', POCO_POLICY],
  ] as const) {
    it(`server, ${name}`, () => {
      fc.assert(
        fc.property(
          fc.array(clientFrame, { maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.boolean(),
          (frames, cuts, eof) => {
            const wire = Buffer.concat(
              frames.flatMap((f) => encodeFrame(f.flags, f.payload, fixedMask([1, 2, 3, 4]))),
            );
            const whole = run('server', options, [Buffer.from(wire)], eof);
            const pieces = run('server', options, split(wire, cuts), eof);
            assert.deepEqual(pieces, whole);
          },
        ),
        RUNS,
      );
    });
  }

  it('client, RFC policy, with unmasked server frames', () => {
    fc.assert(
      fc.property(
        fc.array(clientFrame, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.flatMap((f) => encodeFrame(f.flags, f.payload, null)));
          assert.deepEqual(
            run('client', {}, split(wire, cuts), true),
            run('client', {}, [Buffer.from(wire)], true),
          );
        },
      ),
      RUNS,
    );
  });
});

describe('property: masking (RFC 6455 §5.3)', () => {
  it('masking twice is the identity, at every offset, length and phase', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 9000 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (bytes, offset, mask, phase) => {
          const backing = Buffer.alloc(bytes.length + offset);
          const view = backing.subarray(offset);
          view.set(bytes);
          applyMask(view, mask, phase);
          for (let i = 0; i < Math.min(bytes.length, 64); i++)
            assert.equal(view[i], bytes[i] ^ mask[(phase + i) & 3]);
          applyMask(view, mask, phase);
          assert.ok(view.equals(bytes));
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Byte strings that are often valid UTF-8 and often broken in interesting places. */
const textish = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
  fc
    .tuple(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
    )
    .map(([s, at, byte]) => {
      const bytes = Buffer.from(s);
      if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes;
    }),
);

describe('property: the incremental UTF-8 validator agrees with TextDecoder({ fatal: true })', () => {
  it('isValidUtf8 (JavaScript below 24 bytes, isUtf8 above) on whole byte strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          textish,
          fc.tuple(textish, textish, textish).map((parts) => Buffer.concat(parts)),
        ),
        (bytes) => {
          let decodable = true;
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            decodable = false;
          }
          assert.equal(isValidUtf8(bytes), decodable);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('on random byte strings split randomly: same verdict, on the same fragment', () => {
    fc.assert(
      fc.property(textish, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const fragments = split(bytes, cuts);
        const decoder = new TextDecoder('utf-8', { fatal: true });
        const validator = new Utf8Validator();
        for (let i = 0; i < fragments.length; i++) {
          const last = i === fragments.length - 1;
          let decoderOk = true;
          try {
            decoder.decode(fragments[i], { stream: !last });
          } catch {
            decoderOk = false;
          }
          const validatorOk = validator.push(fragments[i], last);
          assert.equal(validatorOk, decoderOk, `fragment ${i} of ${fragments.length}`);
          if (!decoderOk) return;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const DOCUMENTED: ReadonlySet<ProtocolErrorReason> = new Set<ProtocolErrorReason>([
  'UNMASKED_FRAME',
  'MASKED_FRAME',
  'RESERVED_BITS',
  'RESERVED_OPCODE',
  'LENGTH_MSB_SET',
  'CONTROL_FRAME_TOO_LONG',
  'FRAGMENTED_CONTROL_FRAME',
  'UNEXPECTED_CONTINUATION',
  'EXPECTED_CONTINUATION',
  'INVALID_CLOSE_PAYLOAD',
  'INVALID_CLOSE_CODE',
  'INVALID_UTF8',
  'INVALID_CLOSE_REASON',
  'FRAME_TOO_BIG',
  'MESSAGE_TOO_BIG',
  'INCOMPLETE_FRAME',
]); // everything but INTERNAL_ERROR, which would be a bug of ours

describe('property: arbitrary bytes end in events or documented errors only', () => {
  const configurations: Array<[string, Role, ConnectionOptions]> = [
    ['server, RFC policy', 'server', {}],
    ['client, RFC policy', 'client', {}],
    ['server, RFC policy, small limits', 'server', { maxFrameSize: 64, maxMessageSize: 128 }],
    ['server, POCO policy', 'server', POCO_POLICY],
    ['client, POCO policy, small limit', 'client', { ...POCO_POLICY, maxFrameSize: 16 }],
  ];
  for (const [name, role, options] of configurations) {
    it(name, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.uint8Array({ maxLength: 64 }),
              clientFrame.map((f) =>
                Buffer.concat(
                  encodeFrame(
                    f.flags,
                    f.payload,
                    role === 'server' ? fixedMask([5, 6, 7, 8]) : null,
                  ),
                ),
              ),
            ),
          ),
          fc.boolean(),
          (chunks, eof) => {
            const connection = new Connection(role, options);
            let input = 0;
            let output = 0;
            for (const chunk of chunks) {
              input += chunk.length;
              connection.receiveData(Buffer.from(chunk)); // must not throw
              for (const buffer of connection.takeOutgoing()) output += buffer.length;
              const events = connection.takeEvents();
              for (const [index, event] of events.entries()) {
                if (event.type !== 'failure') continue;
                // The I/O layer relies on it: nothing is read after a failure.
                assert.equal(index, events.length - 1, 'a failure is the last event of its batch');
                assert.ok(event.error instanceof ProtocolError);
                assert.ok(
                  DOCUMENTED.has(event.error.reason),
                  `undocumented failure ${event.error.reason}: ${event.error.message}`,
                );
              }
              // Memory: nothing is buffered beyond what arrived, output is pongs plus one close.
              assert.ok(connection.bufferedBytes <= input);
              assert.ok(output <= input + 2 * 131 + 8, `${output} bytes out for ${input} in`);
            }
            if (eof) {
              connection.receiveEof();
              for (const event of connection.takeEvents())
                if (event.type === 'failure') assert.ok(DOCUMENTED.has(event.error.reason));
            }
          },
        ),
        { numRuns: 500 },
      );
    });
  }
});
