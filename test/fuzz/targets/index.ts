/** Every fuzz target, by name. */
import type { FuzzTarget } from '../harness.js';
import { challengeTarget } from './challenge.js';
import { connectionTarget } from './connection.js';
import { deflateTarget } from './deflate.js';
import { frameReaderTarget } from './frame-reader.js';
import { handshakeTarget } from './handshake.js';

export const targets: readonly FuzzTarget[] = [
  frameReaderTarget,
  connectionTarget,
  handshakeTarget,
  deflateTarget,
  challengeTarget,
];
