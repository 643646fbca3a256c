/**
 * docs/deployment.md's nginx configuration, run: Debian's nginx (/usr/sbin/nginx, which .ci/run
 * installs) started on loopback with the guide's configuration as written, except for what a test
 * must change (the listening ports become free loopback ports, the upstream this test's wsnet
 * server, the certificate a self-signed one), in a temporary prefix with `daemon off` and its pid
 * file there; stopped by the handle of the process this test started. wsnet clients go through
 * it, plain and over TLS, to a wsnet server with the guide's options, which sees what nginx
 * forwards.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandshakeError } from '../../src/protocol/errors.js';
import { WebSocketServer, connect } from '../../src/messages/index.js';
import { echo } from '../helpers/echo-servers.js';
import { projectRoot } from '../helpers/paths.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { delay, within } from '../helpers/wait.js';
import { readBlocks } from './markdown-blocks.js';

const NGINX = '/usr/sbin/nginx';
const ORIGIN = 'https://example.com';

/** A port free on 127.0.0.1 now (nginx cannot listen on port 0 and say which it got). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Replaces `from` with `to` in the guide's configuration; the guide must contain it. */
function substitute(config: string, from: string, to: string): string {
  assert.ok(config.includes(from), `docs/deployment.md's nginx configuration has no "${from}"`);
  return config.replaceAll(from, to);
}

/** Resolves once 127.0.0.1:port accepts connections; fails if nginx exits first. */
async function listening(port: number, nginx: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx.exitCode !== null || nginx.signalCode !== null)
      throw new Error(`nginx exited (${nginx.exitCode ?? nginx.signalCode}):\n${output()}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline)
      throw new Error(`nginx did not listen on ${port} within 10 s:\n${output()}`);
    await delay(50);
  }
}

describe('docs/deployment.md: the nginx configuration, run with nginx', () => {
  const blocks = readBlocks(projectRoot, 'docs/deployment.md').filter(
    (block) => block.directives.nginx !== undefined,
  );
  const { cert, key } = selfSignedCertificate();
  let prefix: string;
  let server: WebSocketServer;
  let nginx: ChildProcess | undefined;
  let nginxOutput = '';
  let plainPort: number;
  let tlsPort: number;
  const forwarded: http.IncomingHttpHeaders[] = [];

  before(async () => {
    assert.equal(blocks.length, 1, 'docs/deployment.md has one nginx configuration to test');
    prefix = await mkdtemp(path.join(tmpdir(), 'wsnet-nginx-'));
    await mkdir(path.join(prefix, 'temp'));
    await writeFile(path.join(prefix, 'cert.pem'), cert);
    await writeFile(path.join(prefix, 'key.pem'), key, { mode: 0o600 });
    // The backend, with the guide's options (a free port instead of 8080).
    server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      path: '/ws',
      origins: [ORIGIN],
      heartbeat: { interval: 30_000, timeout: 10_000 },
      accept: ({ request }) => {
        forwarded.push(request.headers);
        return true;
      },
    });
    server.on('connection', (connection) => void echo(connection));

    // Ports picked here may be taken by someone else before nginx binds them: try again then.
    for (let attempt = 1; ; attempt++) {
      plainPort = await freePort();
      tlsPort = await freePort();
      let config = blocks[0].code;
      config = substitute(config, 'listen 80;', `listen 127.0.0.1:${plainPort};`);
      config = substitute(config, 'listen 443 ssl;', `listen 127.0.0.1:${tlsPort} ssl;`);
      config = substitute(
        config,
        'server 127.0.0.1:8080;',
        `server 127.0.0.1:${server.address().port};`,
      );
      config = substitute(config, '/etc/ssl/certs/example.com.pem', path.join(prefix, 'cert.pem'));
      config = substitute(config, '/etc/ssl/private/example.com.key', path.join(prefix, 'key.pem'));
      const temp = (name: string) => path.join(prefix, 'temp', name);
      await writeFile(
        path.join(prefix, 'nginx.conf'),
        [
          'daemon off;',
          'worker_processes 1;',
          `pid ${path.join(prefix, 'nginx.pid')};`,
          'error_log stderr notice;',
          'events { worker_connections 64; }',
          'http {',
          '  access_log off;',
          `  client_body_temp_path ${temp('body')};`,
          `  proxy_temp_path ${temp('proxy')};`,
          `  fastcgi_temp_path ${temp('fastcgi')};`,
          `  uwsgi_temp_path ${temp('uwsgi')};`,
          `  scgi_temp_path ${temp('scgi')};`,
          config,
          '}',
          '',
        ].join('\n'),
      );
      nginxOutput = '';
      const child = spawn(
        NGINX,
        ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', 'stderr'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      nginx = child;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (nginxOutput += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (nginxOutput += chunk));
      const started = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', resolve);
      });
      await within(started, 5000, 'starting nginx');
      try {
        await listening(plainPort, child, () => nginxOutput);
        await listening(tlsPort, child, () => nginxOutput);
        return;
      } catch (error) {
        await stopNginx();
        if (attempt === 3 || !nginxOutput.includes('Address already in use')) throw error;
      }
    }
  });

  async function stopNginx(): Promise<void> {
    const child = nginx;
    nginx = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // nginx's fast shutdown; its workers exit with their master
    await within(exited, 10_000, 'nginx to exit');
  }

  after(async () => {
    await stopNginx();
    await server?.close();
    if (prefix !== undefined) await rm(prefix, { recursive: true, force: true });
  });

  it('carries a WebSocket through nginx to wsnet, with the forwarded headers', async () => {
    const connection = await connect(`ws://127.0.0.1:${plainPort}/ws`, { origin: ORIGIN });
    await connection.send('through nginx');
    assert.equal(await within(connection.receive()), 'through nginx');
    const large = Buffer.alloc(1024 * 1024, 7);
    await connection.send(large);
    assert.deepEqual(await within(connection.receive()), large);
    const status = await within(connection.close(1000, 'done'));
    assert.equal(status.code, 1000);
    assert.equal(status.wasClean, true, 'both close frames through nginx, then TCP closed');
    const headers = forwarded.at(-1)!;
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['origin'], ORIGIN);
    assert.equal(headers['host'], '127.0.0.1'); // $host: the request's host, without the port
  });

  it('terminates TLS for wss:// and forwards to wsnet', async () => {
    const connection = await connect(`wss://127.0.0.1:${tlsPort}/ws`, {
      origin: ORIGIN,
      tls: { ca: cert },
    });
    await connection.send('over TLS');
    assert.equal(await within(connection.receive()), 'over TLS');
    assert.equal((await within(connection.close())).wasClean, true);
    assert.equal(forwarded.at(-1)!['x-forwarded-proto'], 'https');
  });

  it("passes on wsnet's refusal (an Origin not allowed: 403)", async () => {
    const refused = await within(
      connect(`ws://127.0.0.1:${plainPort}/ws`, { origin: 'https://evil.example' }).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.ok(refused instanceof HandshakeError, String(refused));
    assert.equal(refused.status, 403);
  });
});
