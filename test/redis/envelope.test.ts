// The envelope's bytes (src/redis/envelope.ts): what is encoded decodes to the same, and what is
// not an envelope is refused with the reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HEADER_LENGTH,
  decodeEnvelope,
  encodeEnvelope,
  newOriginId,
} from '../../src/redis/envelope.js';

describe('the RedisAdapter envelope', () => {
  const origin = newOriginId();

  it('round-trips every combination of flags, with an 18-byte header', () => {
    for (const binary of [false, true])
      for (const compress of [undefined, false, true]) {
        const payload = Buffer.from(`payload ${binary} ${compress}`);
        const bytes = encodeEnvelope(origin, payload, binary, compress);
        assert.equal(bytes.length, HEADER_LENGTH + payload.length);
        assert.deepEqual(decodeEnvelope(bytes), { origin, binary, compress, payload });
      }
  });

  it('gives each adapter its own 16-byte origin id', () => {
    assert.equal(origin.length, 16);
    assert.notDeepEqual(newOriginId(), origin);
  });

  it('refuses what is not an envelope, saying why', () => {
    const valid = encodeEnvelope(origin, Buffer.from('x'), true, true);
    const withByte = (index: number, value: number) => {
      const copy = Buffer.from(valid);
      copy[index] = value;
      return copy;
    };
    assert.match(decodeEnvelope(Buffer.from('garbage')) as string, /shorter than the 18-byte/);
    assert.match(decodeEnvelope(Buffer.alloc(0)) as string, /^0 bytes/);
    assert.match(decodeEnvelope(withByte(0, 2)) as string, /version 2, expected 1/);
    assert.match(decodeEnvelope(withByte(1, 0x08)) as string, /unknown envelope flags 0x08/);
    // A compress value without the "given" bit is no state the encoder makes.
    assert.match(decodeEnvelope(withByte(1, 0x04)) as string, /unknown envelope flags 0x04/);
  });
});
