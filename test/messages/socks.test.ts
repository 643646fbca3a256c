// connect() through a SOCKS5 proxy written in the test (test/helpers/socks-server.ts): socks5
// (the name resolved here, an address sent) and socks5h (the name sent), IPv4, IPv6 and domain
// destinations, RFC 1929 credentials right and wrong, the proxy's refusals by reply code, and
// proxies that answer garbage, close mid-handshake or never answer; ws:// and wss:// to wsnet's
// and ws's servers.
import assert from 'node:assert/strict';
import https from 'node:https';
import type net from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer as WsServer } from 'ws';
import {
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
  connect,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import {
  startSocksServer,
  type SocksServer,
  type SocksServerOptions,
} from '../helpers/socks-server.js';
import { refusesConnections, within } from '../helpers/wait.js';

const servers = new EchoServers();
const proxies: SocksServer[] = [];
const certificate = selfSignedCertificate();
after(async () => {
  for (const proxy of proxies) proxy.stop();
  await servers.closeAll();
});

async function socks(options: SocksServerOptions = {}): Promise<SocksServer> {
  const proxy = await startSocksServer(options);
  proxies.push(proxy);
  return proxy;
}

async function echoes(connection: WebSocketConnection, text = 'through the tunnel') {
  await connection.send(text);
  assert.equal(await within(connection.receive(), 3000, 'the echo'), text);
  await connection.close();
}

/** ws's echo server over TLS (node:https with the test's certificate). */
async function wsTlsServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = https.createServer({ key: certificate.key, cert: certificate.cert });
  const wss = new WsServer({ server });
  wss.on('connection', (socket) =>
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function proxyError(...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof NetworkError, `a NetworkError, not ${String(error)}`);
    assert.equal(error.kind, 'proxy');
    for (const fragment of fragments) assert.match(error.message, new RegExp(fragment));
    return true;
  };
}

describe('connect() through SOCKS5: name resolution and address types', () => {
  it('socks5h:// sends the name (address type domain) and the proxy resolves it', async () => {
    const server = await servers.start();
    const proxy = await socks();
    const port = server.address().port;
    const connection = await connect(`ws://localhost:${port}/`, {
      proxy: `socks5h://127.0.0.1:${proxy.port}`,
    });
    assert.deepEqual(proxy.requests, [
      { methods: [0], addressType: 'domain', host: 'localhost', port },
    ]);
    await echoes(connection);
  });

  it('socks5:// resolves the name here and sends an address', async () => {
    const server = await servers.start();
    const proxy = await socks();
    const port = server.address().port;
    const connection = await connect(`ws://localhost:${port}/`, {
      proxy: `socks5://127.0.0.1:${proxy.port}`,
    });
    const [request] = proxy.requests;
    assert.ok(request.addressType === 'ipv4' || request.addressType === 'ipv6');
    assert.ok(
      request.host === '127.0.0.1' || request.host === '0:0:0:0:0:0:0:1',
      `localhost resolved to ${request.host}`,
    );
    assert.equal(request.port, port);
    await echoes(connection);
  });

  it('an IPv4 literal goes as address type IPv4 with either scheme', async () => {
    const server = await servers.start();
    const port = server.address().port;
    for (const scheme of ['socks5', 'socks5h']) {
      const proxy = await socks();
      const connection = await connect(`ws://127.0.0.1:${port}/`, {
        proxy: `${scheme}://127.0.0.1:${proxy.port}`,
      });
      assert.deepEqual(proxy.requests, [
        { methods: [0], addressType: 'ipv4', host: '127.0.0.1', port },
      ]);
      await echoes(connection);
    }
  });

  it('an IPv6 target, ::1, goes as address type IPv6 (16 bytes)', async () => {
    const server = await servers.start({ host: '::1' });
    const proxy = await socks();
    const port = server.address().port;
    const connection = await connect(`ws://[::1]:${port}/`, {
      proxy: `socks5h://127.0.0.1:${proxy.port}`,
    });
    assert.deepEqual(proxy.requests, [
      { methods: [0], addressType: 'ipv6', host: '0:0:0:0:0:0:0:1', port },
    ]);
    assert.equal(connection.remoteAddress, '127.0.0.1', 'the socket is the proxy’s');
    await echoes(connection);
  });
});

describe('connect() through SOCKS5: ws:// and wss:// to wsnet and ws', () => {
  it('wss:// to wsnet: TLS runs over the tunnel, with the server name of the URL', async () => {
    const server = await servers.start({ tls: { key: certificate.key, cert: certificate.cert } });
    const proxy = await socks();
    const port = server.address().port;
    const connection = await connect(`wss://localhost:${port}/`, {
      proxy: `socks5h://127.0.0.1:${proxy.port}`,
      tls: { ca: certificate.cert },
    });
    assert.equal(proxy.requests[0].host, 'localhost');
    await echoes(connection);
  });

  it('wss:// to ws, a certificate the client does not trust is a tls error', async () => {
    const server = await wsTlsServer();
    try {
      const proxy = await socks();
      const connection = await connect(`wss://localhost:${server.port}/`, {
        proxy: `socks5h://127.0.0.1:${proxy.port}`,
        tls: { ca: certificate.cert },
      });
      await echoes(connection, 'to ws');
      await assert.rejects(
        connect(`wss://localhost:${server.port}/`, { proxy: `socks5h://127.0.0.1:${proxy.port}` }),
        (error: unknown) => error instanceof NetworkError && error.kind === 'tls',
      );
    } finally {
      await server.stop();
    }
  });

  it('ws:// to ws', async () => {
    const wss = new WsServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) =>
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
    );
    try {
      const proxy = await socks();
      const port = (wss.address() as net.AddressInfo).port;
      const connection = await connect(`ws://127.0.0.1:${port}/`, {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
      });
      await echoes(connection, 'to ws, plain');
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});

describe('connect() through SOCKS5: credentials (RFC 1929)', () => {
  const credentials = { username: 'user@example', password: 'sé cret' };

  it('user:password from the URL (percent-decoded), offered with "no authentication"', async () => {
    const server = await servers.start();
    const proxy = await socks({ credentials });
    const connection = await connect(server.url, {
      proxy: `socks5://user%40example:s%C3%A9%20cret@127.0.0.1:${proxy.port}`,
    });
    assert.deepEqual(proxy.requests[0].methods, [0, 2]);
    assert.equal(proxy.requests[0].username, 'user@example');
    assert.equal(proxy.requests[0].password, 'sé cret');
    await echoes(connection);
  });

  it('a wrong password: authentication failed, and no CONNECT', async () => {
    const server = await servers.start();
    const proxy = await socks({ credentials });
    await assert.rejects(
      connect(server.url, { proxy: `socks5://user%40example:wrong@127.0.0.1:${proxy.port}` }),
      proxyError('authentication failed', 'status 0x01'),
    );
    assert.equal(proxy.requests[0].addressType, undefined);
  });

  it('no credentials for a proxy that wants them: authentication failed, naming the cure', async () => {
    const server = await servers.start();
    const proxy = await socks({ credentials });
    await assert.rejects(
      connect(server.url, { proxy: `socks5://127.0.0.1:${proxy.port}` }),
      proxyError('authentication failed', 'user:password'),
    );
    assert.deepEqual(proxy.requests[0].methods, [0]);
  });

  it('refuses a user name over 255 bytes before connecting', async () => {
    await assert.rejects(
      connect('ws://127.0.0.1:1/', { proxy: `socks5://${'u'.repeat(256)}:p@127.0.0.1:1` }),
      InvalidArgumentError,
    );
  });
});

describe('connect() through SOCKS5: refusals and broken proxies', () => {
  const refusals: Array<[number, string]> = [
    [1, 'general SOCKS server failure'],
    [2, 'connection not allowed by ruleset'],
    [3, 'network unreachable'],
    [4, 'host unreachable'],
    [5, 'connection refused by destination'],
    [6, 'TTL expired'],
    [7, 'command not supported'],
    [8, 'address type not supported'],
    [0x2a, 'unassigned reply code 0x2a'],
  ];
  for (const [code, words] of refusals)
    it(`reply ${code}: "${words}"`, async () => {
      const proxy = await socks({ refuse: code });
      await assert.rejects(
        connect('ws://127.0.0.1:9/', { proxy: `socks5://127.0.0.1:${proxy.port}` }),
        proxyError(words, `reply 0x${code.toString(16).padStart(2, '0')}`),
      );
    });

  it('a destination that refuses the proxy: reply 5 from a real connect', async () => {
    const server = await servers.start();
    const port = server.address().port;
    await server.close();
    assert.ok(await refusesConnections(port));
    const proxy = await socks();
    await assert.rejects(
      connect(`ws://127.0.0.1:${port}/`, { proxy: `socks5://127.0.0.1:${proxy.port}` }),
      proxyError('connection refused by destination'),
    );
  });

  const broken: Array<[SocksServerOptions['misbehave'], string[]]> = [
    ['http-answer', ['not a SOCKS5 proxy', '0x48']],
    ['close-mid-greeting', ['closed the connection during the greeting', '1 of 2 bytes']],
    ['close-mid-reply', ['closed the connection during the connect']],
    ['bad-reserved', ['reserved byte 0x01']],
    ['bad-address-type', ['address type 0x09']],
    ['extra-bytes', ['3 bytes more than its greeting reply']],
  ];
  for (const [misbehave, fragments] of broken)
    it(`a proxy that misbehaves (${misbehave}): NetworkError 'proxy'`, async () => {
      const server = await servers.start();
      const proxy = await socks({ misbehave });
      await assert.rejects(
        connect(server.url, { proxy: `socks5://127.0.0.1:${proxy.port}` }),
        proxyError(...fragments),
      );
    });

  it('a proxy that never answers: the handshake timeout ends it', async () => {
    const proxy = await socks({ misbehave: 'silent' });
    await assert.rejects(
      connect('ws://127.0.0.1:9/', {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
        handshakeTimeout: 200,
      }),
      (error: unknown) => error instanceof TimeoutError && error.operation === 'handshake',
    );
  });

  it('a proxy that never answers: an abort signal ends it with its reason', async () => {
    const proxy = await socks({ misbehave: 'silent' });
    const controller = new AbortController();
    const attempt = connect('ws://127.0.0.1:9/', {
      proxy: `socks5://127.0.0.1:${proxy.port}`,
      signal: controller.signal,
    });
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(attempt, (error) => error === reason);
  });

  it('a proxy that is not there: NetworkError network, naming the proxy', async () => {
    const proxy = await socks();
    proxy.stop();
    assert.ok(await refusesConnections(proxy.port));
    await assert.rejects(
      connect('ws://127.0.0.1:9/', { proxy: `socks5://127.0.0.1:${proxy.port}` }),
      (error: unknown) =>
        error instanceof NetworkError &&
        error.kind === 'network' &&
        /cannot reach the SOCKS5 proxy/.test(error.message),
    );
  });

  it('a name that does not resolve with socks5://: NetworkError network before the proxy', async () => {
    const proxy = await socks();
    await assert.rejects(
      connect('ws://no-such-host.invalid/', { proxy: `socks5://127.0.0.1:${proxy.port}` }),
      (error: unknown) =>
        error instanceof NetworkError && /cannot resolve no-such-host\.invalid/.test(error.message),
    );
    assert.equal(proxy.requests.length, 0);
  });

  it('refuses socks4:// and socks:// proxies with InvalidArgumentError', async () => {
    for (const scheme of ['socks4', 'socks4a', 'socks'])
      await assert.rejects(
        connect('ws://127.0.0.1:9/', { proxy: `${scheme}://127.0.0.1:1080` }),
        InvalidArgumentError,
      );
  });
});
