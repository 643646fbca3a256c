/**
 * wsnet: RFC 6455 WebSockets for Node.js.
 *
 * The public surface is curated here and pinned by test/exports.test.ts. Today it is the
 * protocol core (also published on its own as `wsnet/protocol`); the POCO facade and the message
 * API join it as they land.
 */
export * from './protocol/index.js';
