// The POCO facade keeps POCO's behaviour with extensions (issue 9): it never negotiates one, not
// even permessage-deflate offered by a browser or by wsnet's own client, and hands RSV bits to
// the application in `flags` as they came.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../../src/messages/index.js';
import { startServer, WebSocketRequestHandlerFactory } from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';

describe('POCO facade and extensions', () => {
  it('answers an offer of permessage-deflate without Sec-WebSocket-Extensions', async () => {
    const server = await startServer(new WebSocketRequestHandlerFactory());
    try {
      const { client, head } = await RawClient.open(server.port, '/', {
        headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']],
      });
      assert.equal(
        head.headers.find(([name]) => name.toLowerCase() === 'sec-websocket-extensions'),
        undefined,
      );
      // RSV1 passes through: the echo handler sends the flags it received back.
      client.sendFrame(0x80 | 0x40 | 0x1, 'raw');
      const echo = await client.readFrame();
      assert.equal(echo.flags, 0x80 | 0x40 | 0x1);
      assert.equal(echo.payload.toString(), 'raw');
      client.destroy();
    } finally {
      server.stop();
    }
  });

  it("wsnet's connect() offers compression to a POCO server, which declines: messages go plain", async () => {
    const server = await startServer(new WebSocketRequestHandlerFactory({ bufSize: 8192 }));
    try {
      const connection = await connect(`ws://127.0.0.1:${server.port}/`);
      assert.equal(connection.extensions, '');
      await connection.send('x'.repeat(4000));
      assert.equal(await within(connection.receive()), 'x'.repeat(4000));
      await connection.close();
    } finally {
      server.stop();
    }
  });
});
