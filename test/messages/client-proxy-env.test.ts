/**
 * connect() with proxies from the environment, each case in a child process started with its
 * own variables (test/fixtures/connect-env.ts) against echo servers and the test proxy on
 * loopback: opt-in (`proxy: 'env'` or Node's `NODE_USE_ENV_PROXY=1`), the variable for each
 * scheme, `ALL_PROXY` as fallback, `NO_PROXY`, and credentials in the variable answering a 407.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/messages/index.js';
import { runCli } from '../helpers/cli.js';
import { echo } from '../helpers/echo-servers.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';

const fixture = fileURLToPath(new URL('../fixtures/connect-env.js', import.meta.url));

/** Every variable that could name a proxy: cleared unless a case sets it. */
const CLEARED = Object.fromEntries(
  ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'node_use_env_proxy']
    .flatMap((name) => [name, name.toUpperCase()])
    .map((name) => [name, '']),
);

interface Outcome {
  reply?: string;
  url?: string;
  error?: string;
  reason?: string;
  kind?: string;
  status?: number;
  message?: string;
}

async function run(
  url: string,
  env: Record<string, string>,
  options: Record<string, unknown> = {},
): Promise<Outcome> {
  const result = await runCli([url, JSON.stringify(options)], {
    script: fixture,
    env: { ...CLEARED, ...env },
  });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Outcome;
}

const { cert, key } = selfSignedCertificate();
let plain: WebSocketServer;
let secure: WebSocketServer;
let proxy: Proxy;
before(async () => {
  plain = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
  secure = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
  for (const server of [plain, secure])
    server.on('connection', (connection) => void echo(connection));
  proxy = await startProxy();
});
after(async () => {
  proxy.stop();
  await Promise.all([plain.close(), secure.close()]);
});

describe('connect(): proxies from the environment', () => {
  const proxyUrl = () => `http://127.0.0.1:${proxy.port}`;
  const tunnels = () => proxy.connects.splice(0).map(({ target }) => target);
  const authority = (server: WebSocketServer) => new URL(server.url).host;

  it('opt-in: without proxy: "env" (nor NODE_USE_ENV_PROXY) HTTP_PROXY is ignored; with it the connection goes through the proxy', async () => {
    const env = { HTTP_PROXY: proxyUrl() };
    assert.deepEqual(await run(plain.url, env), { reply: 'hello', url: plain.url });
    assert.deepEqual(tunnels(), []);
    assert.equal((await run(plain.url, env, { proxy: 'env' })).reply, 'hello');
    assert.deepEqual(tunnels(), [authority(plain)]);
  });

  it("NODE_USE_ENV_PROXY=1 (Node's own switch) turns it on; proxy: false turns it off again", async () => {
    const env = { http_proxy: proxyUrl(), NODE_USE_ENV_PROXY: '1' };
    assert.equal((await run(plain.url, env)).reply, 'hello');
    assert.deepEqual(tunnels(), [authority(plain)]);
    assert.equal((await run(plain.url, env, { proxy: false })).reply, 'hello');
    assert.deepEqual(tunnels(), []);
  });

  it('wss takes HTTPS_PROXY (not HTTP_PROXY); ALL_PROXY is the fallback for either', async () => {
    const tls = { ca: cert };
    assert.equal(
      (await run(secure.url, { HTTPS_PROXY: proxyUrl() }, { proxy: 'env', tls })).reply,
      'hello',
    );
    assert.deepEqual(tunnels(), [authority(secure)]);
    assert.equal(
      (await run(secure.url, { HTTP_PROXY: proxyUrl() }, { proxy: 'env', tls })).reply,
      'hello',
    );
    assert.deepEqual(tunnels(), [], 'HTTP_PROXY is for ws');
    assert.equal(
      (await run(plain.url, { https_proxy: proxyUrl() }, { proxy: 'env' })).reply,
      'hello',
    );
    assert.deepEqual(tunnels(), [], 'https_proxy is for wss');
    for (const url of [plain.url, secure.url])
      assert.equal(
        (await run(url, { ALL_PROXY: proxyUrl() }, { proxy: 'env', tls })).reply,
        'hello',
      );
    assert.deepEqual(tunnels(), [authority(plain), authority(secure)]);
  });

  it('NO_PROXY: a matching address (with or without its port) goes direct; another port, or a name, does not match', async () => {
    const port = new URL(plain.url).port;
    const cases: Array<[string, boolean]> = [
      ['127.0.0.1', false],
      [`example.com, 127.0.0.1:${port}`, false],
      ['127.0.0.0/8', false],
      ['*', false],
      [`127.0.0.1:${Number(port) + 1}`, true],
      ['localhost', true],
      ['.0.0.1', true],
    ];
    for (const [noProxy, proxied] of cases) {
      const outcome = await run(
        plain.url,
        { http_proxy: proxyUrl(), NO_PROXY: noProxy },
        { proxy: 'env' },
      );
      assert.equal(outcome.reply, 'hello', noProxy);
      assert.deepEqual(tunnels(), proxied ? [authority(plain)] : [], noProxy);
    }
  });

  it('credentials in the variable answer the Basic or Digest 407 of a proxy that demands them', async () => {
    for (const scheme of ['basic', 'digest'] as const) {
      const strict = await startProxy({ auth: { scheme, username: 'env user', password: 'p@ss' } });
      try {
        const named = `http://env%20user:p%40ss@127.0.0.1:${strict.port}`;
        const outcome = await run(plain.url, { http_proxy: named }, { proxy: 'env' });
        assert.equal(outcome.reply, 'hello', JSON.stringify(outcome));
        assert.equal(strict.connects.length, 2, scheme);
        const refused = await run(
          plain.url,
          { http_proxy: `http://env%20user:wrong@127.0.0.1:${strict.port}` },
          { proxy: 'env' },
        );
        assert.equal(refused.error, 'NetworkError');
        assert.equal(refused.kind, 'proxy');
        assert.equal(refused.status, 407);
        assert.match(refused.message ?? '', /refused the credentials/);
      } finally {
        strict.stop();
      }
    }
  });

  it('each hop of a redirect chain finds its own proxy: NO_PROXY names the first, the second goes through the proxy', async () => {
    const redirector = http.createServer();
    redirector.on('upgrade', (_request, socket: net.Socket) =>
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${plain.url}\r\nContent-Length: 0\r\n\r\n`),
    );
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const first = `127.0.0.1:${(redirector.address() as net.AddressInfo).port}`;
      const outcome = await run(
        `ws://${first}/old`,
        { http_proxy: proxyUrl(), no_proxy: first },
        { proxy: 'env', followRedirects: true },
      );
      assert.deepEqual(outcome, { reply: 'hello', url: plain.url });
      assert.deepEqual(tunnels(), [authority(plain)]);
    } finally {
      redirector.close();
    }
  });

  it('a variable that is not a proxy URL: InvalidArgumentError naming the variable', async () => {
    const outcome = await run(plain.url, { HTTP_PROXY: 'http://[broken' }, { proxy: 'env' });
    assert.equal(outcome.error, 'InvalidArgumentError');
    assert.match(outcome.message ?? '', /HTTP_PROXY/);
  });
});
