/**
 * `npm start`: the protocol core at work, without a socket. A client and a server Connection
 * talk through plain byte arrays; every step prints the bytes on the wire and the events.
 */
import { Buffer } from 'node:buffer';
import { Connection, computeAccept, createKey, type ConnectionEvent } from '../src/index.js';
import { checkUpgradeRequest, fixedMask } from '../src/protocol/index.js';

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
const shorten = (text: string) => (text.length > 72 ? `${text.slice(0, 69)}...` : text);

function describe(event: ConnectionEvent): string {
  switch (event.type) {
    case 'message':
      return event.binary
        ? `binary message, ${event.data.length} bytes`
        : `text message ${JSON.stringify(event.data.toString())}`;
    case 'frame':
      return `frame, flags 0x${event.flags.toString(16)}`;
    case 'ping':
    case 'pong':
      return `${event.type} ${JSON.stringify(event.data.toString())}`;
    case 'close':
      return `close frame: code ${event.code}${event.reason === '' ? '' : `, reason ${JSON.stringify(event.reason)}`}`;
    case 'failure':
      return `connection failed with ${event.error.closeCode}: ${event.error.message}`;
  }
}

/** Moves what `from` wants to send into `to`, printing the bytes and what `to` makes of them. */
function deliver(from: Connection, to: Connection, label: string): void {
  const wire = Buffer.concat(from.takeOutgoing());
  if (wire.length === 0) return;
  console.log(`  ${label} → ${shorten(hex(wire))}`);
  to.receiveData(wire);
  for (const event of to.takeEvents()) console.log(`      ${to.role} sees: ${describe(event)}`);
}

function step(title: string): void {
  console.log(`\n${title}`);
}

console.log('wsnet protocol core demo: RFC 6455 without sockets');

step('1. Opening handshake: the accept value for the RFC 6455 sample key (§1.3)');
const check = checkUpgradeRequest({
  method: 'GET',
  httpVersion: '1.1',
  headers: {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
  },
});
console.log(`  Sec-WebSocket-Accept: ${check.ok ? check.accept : 'refused'}`);
const key = createKey();
console.log(`  a fresh client key: ${key} → accept ${computeAccept(key)}`);

// The client uses the RFC's example masking key so that the bytes below match RFC 6455 §5.7.
const client = new Connection('client', { mask: fixedMask([0x37, 0xfa, 0x21, 0x3d]) });
const server = new Connection('server');

step('2. A masked text frame, exactly as in RFC 6455 §5.7');
client.sendText('Hello');
deliver(client, server, 'client');

step('3. A message in three fragments, with a ping in the middle (§5.4, §5.5.2)');
client.sendText('Hel', false);
client.sendPing('are you there?');
client.sendContinuation('lo, ', false);
client.sendContinuation('wörld', true);
deliver(client, server, 'client');
deliver(server, client, 'server');

step('4. Invalid UTF-8 in a text frame fails the connection with 1007 (§8.1)');
const strict = new Connection('server');
const badClient = new Connection('client');
badClient.sendBinary(Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80])); // a surrogate, sent as binary...
const frame = Buffer.concat(badClient.takeOutgoing());
frame[0] = 0x81; // ...then relabelled as text
console.log(`  client → ${hex(frame)}`);
strict.receiveData(frame);
for (const event of strict.takeEvents()) console.log(`      server sees: ${describe(event)}`);
console.log(
  `  server → ${hex(Buffer.concat(strict.takeOutgoing()))} (close 1007), then ends TCP: ${strict.outputEnded}`,
);

step('5. The closing handshake (§5.5.1, §7.1.1)');
client.sendClose(1000, 'bye');
deliver(client, server, 'client');
deliver(server, client, 'server');
console.log(
  `  server ends TCP first: ${server.outputEnded}; client waits for it: ${client.closeExpected()}`,
);
server.receiveEof();
client.receiveEof();
console.log(`  closed: ${JSON.stringify(client.closeStatus)}`);
