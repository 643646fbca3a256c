/** Every fuzz target, by name. */
import type { AsyncFuzzTarget, FuzzTarget } from '../harness.js';
import { challengeTarget } from './challenge.js';
import { connectionTarget } from './connection.js';
import { deflateTarget } from './deflate.js';
import { frameReaderTarget } from './frame-reader.js';
import { handshakeTarget } from './handshake.js';
import { messagesClientTarget, messagesServerTarget } from './messages.js';
import { pocoClientTarget, pocoServerTarget } from './poco.js';

export const targets: readonly FuzzTarget[] = [
  frameReaderTarget,
  connectionTarget,
  handshakeTarget,
  deflateTarget,
  challengeTarget,
];

/** The facades end to end over the in-memory stream pair: asynchronous, one input at a time. */
export const asyncTargets: readonly AsyncFuzzTarget[] = [
  messagesServerTarget,
  messagesClientTarget,
  pocoServerTarget,
  pocoClientTarget,
];
