// PocoBuffer: POCO's Buffer<char> semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentException, PocoBuffer } from '../../src/poco/index.js';

describe('PocoBuffer', () => {
  it('starts at the given size, zero-filled, with that capacity', () => {
    const buffer = new PocoBuffer(4);
    assert.equal(buffer.size(), 4);
    assert.equal(buffer.capacity(), 4);
    assert.deepEqual([...buffer.begin()], [0, 0, 0, 0]);
    assert.ok(new PocoBuffer(0).empty());
  });

  it('append grows and keeps what was there', () => {
    const buffer = new PocoBuffer(0);
    buffer.append(Buffer.from('ab'));
    buffer.append(Buffer.from('cde'));
    assert.equal(buffer.size(), 5);
    assert.equal(buffer.begin().toString(), 'abcde');
    assert.ok(buffer.capacity() >= 5);
  });

  it('resize: shrinking keeps the head, growing adds zero bytes, without preserving clears', () => {
    const buffer = new PocoBuffer(0);
    buffer.append(Buffer.from('hello'));
    buffer.resize(2);
    assert.equal(buffer.begin().toString(), 'he');
    buffer.resize(4);
    assert.deepEqual([...buffer.begin()], [0x68, 0x65, 0, 0]);
    buffer.resize(100);
    assert.equal(
      buffer
        .begin()
        .subarray(2)
        .every((b) => b === 0),
      true,
    );
    buffer.resize(3, false);
    buffer.resize(6, false);
    assert.deepEqual([...buffer.begin()], [0, 0, 0, 0, 0, 0]);
  });

  it('setCapacity and clear', () => {
    const buffer = new PocoBuffer(0);
    buffer.append(Buffer.from('hello'));
    buffer.setCapacity(3);
    assert.equal(buffer.size(), 3);
    assert.equal(buffer.data().toString(), 'hel');
    buffer.clear();
    assert.equal(buffer.size(), 0);
    assert.equal(buffer.capacity(), 3);
    assert.throws(() => buffer.resize(-1), InvalidArgumentException);
  });
});
