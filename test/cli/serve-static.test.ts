// `wsnet serve --static DIR`: files over plain HTTP beside the WebSocket endpoint, on the same
// port, and nothing from outside DIR.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { connect, HandshakeError } from '../../src/index.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { within } from '../helpers/wait.js';
import { startServe } from './serve-process.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request, `target` sent exactly as given (no normalisation of `..`). */
function fetchRaw(
  base: string,
  target: string,
  { method = 'GET', ca }: { method?: string; ca?: string } = {},
): Promise<Answer> {
  const url = new URL(base);
  const transport = url.protocol === 'https:' ? https : http;
  return within(
    new Promise<Answer>((resolve, reject) => {
      const request = transport.request(
        { host: url.hostname, port: url.port, path: target, method, agent: false, ca },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    }),
    5000,
    `${method} ${target}`,
  );
}

const SECRET = 'the secret outside the served directory';

/** A site: DIR with pages, a sub-directory, a dotfile and symbolic links; a secret beside DIR. */
function makeSite(): { root: string; remove: () => void } {
  const top = mkdtempSync(path.join(tmpdir(), 'wsnet-static-'));
  const root = path.join(top, 'site');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(path.join(root, 'no-index'));
  writeFileSync(path.join(top, 'secret.txt'), SECRET);
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(path.join(root, 'app.js'), 'console.log("app");\n');
  writeFileSync(path.join(root, 'style.css'), 'body { margin: 0 }\n');
  writeFileSync(path.join(root, 'data.bin'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(path.join(root, '.env'), 'TOKEN=hidden');
  symlinkSync(path.join(top, 'secret.txt'), path.join(root, 'link-out.txt'));
  symlinkSync(path.join(root, 'app.js'), path.join(root, 'link-in.js'));
  return { root, remove: () => rmSync(top, { recursive: true, force: true }) };
}

describe('wsnet serve --static', () => {
  let site: { root: string; remove: () => void };
  before(() => {
    site = makeSite();
  });
  after(() => site.remove());

  async function serveSite(t: TestContext, ...args: string[]) {
    const serve = await startServe(t, ['--static', site.root, ...args]);
    assert.ok(serve.filesUrl !== undefined, serve.cli.stdout);
    return { ...serve, filesUrl: serve.filesUrl };
  }

  it('serves files with their content type, and index.html for a directory', async (t) => {
    const serve = await serveSite(t);
    assert.match(serve.filesUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const cases: Array<[string, string, string]> = [
      ['/', 'text/html; charset=utf-8', '<!doctype html><title>home</title>'],
      ['/app.js', 'text/javascript; charset=utf-8', 'console.log("app");\n'],
      ['/style.css?v=2', 'text/css; charset=utf-8', 'body { margin: 0 }\n'],
      ['/data.bin', 'application/octet-stream', '\x00\x01\x02\x03'],
      ['/sub/', 'text/html; charset=utf-8', '<p>sub</p>'],
      ['/link-in.js', 'text/javascript; charset=utf-8', 'console.log("app");\n'],
      ['/%73ub/index.html', 'text/html; charset=utf-8', '<p>sub</p>'],
    ];
    for (const [target, type, body] of cases) {
      const answer = await fetchRaw(serve.filesUrl, target);
      assert.deepEqual(
        [answer.status, answer.headers['content-type'], answer.body],
        [200, type, body],
        target,
      );
      assert.equal(answer.headers['content-length'], String(Buffer.byteLength(body)));
    }
  });

  it('HEAD: the headers without the body', async (t) => {
    const serve = await serveSite(t);
    const answer = await fetchRaw(serve.filesUrl, '/app.js', { method: 'HEAD' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(answer.headers['content-length'], String('console.log("app");\n'.length));
    assert.equal(answer.body, '');
  });

  it('404 for what is not there (a directory without index.html, a dotfile); 405 for POST', async (t) => {
    const serve = await serveSite(t);
    for (const target of ['/missing.html', '/no-index/', '/.env', '/sub/.%65nv', '/app.js/x'])
      assert.equal((await fetchRaw(serve.filesUrl, target)).status, 404, target);
    const post = await fetchRaw(serve.filesUrl, '/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('a directory without its slash is redirected to it (and never to another host)', async (t) => {
    const serve = await serveSite(t);
    const answer = await fetchRaw(serve.filesUrl, '/sub?x=1');
    assert.deepEqual([answer.status, answer.headers.location], [301, '/sub/?x=1']);
    const sneaky = await fetchRaw(serve.filesUrl, '//sub');
    assert.deepEqual([sneaky.status, sneaky.headers.location], [301, '/sub/']);
  });

  it('nothing outside DIR: `..` in any spelling, and symbolic links that lead out, are 403', async (t) => {
    const serve = await serveSite(t);
    for (const target of [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/sub%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/link-out.txt',
    ]) {
      const answer = await fetchRaw(serve.filesUrl, target);
      assert.equal(answer.status, 403, target);
      assert.ok(!answer.body.includes(SECRET), target);
    }
    assert.equal((await fetchRaw(serve.filesUrl, '/%00')).status, 400);
    assert.equal((await fetchRaw(serve.filesUrl, '/%E0%A4%A')).status, 400);
  });

  it('the WebSocket endpoint shares the port (--path keeps the other paths for files)', async (t) => {
    const serve = await serveSite(t, '--path', '/ws');
    assert.equal(serve.url, `${serve.filesUrl.replace(/^http/, 'ws')}ws`);
    const connection = await within(connect(serve.url));
    t.after(() => connection.terminate());
    await connection.send('beside the files');
    assert.equal(await within(connection.receive()), 'beside the files');
    await assert.rejects(connect(serve.filesUrl.replace(/^http/, 'ws')), (error: unknown) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 404);
      return true;
    });
    assert.equal((await fetchRaw(serve.filesUrl, '/')).status, 200);
    await within(connection.close());
    // SIGTERM closes the WebSocket and HTTP alike.
    const exit = await serve.stop();
    assert.equal(exit.code, 0, exit.stderr);
  });

  it('over TLS: https:// for the files and wss:// for the endpoint', async (t) => {
    const { key, cert } = selfSignedCertificate();
    writeFileSync(path.join(site.root, '..', 'key.pem'), key);
    writeFileSync(path.join(site.root, '..', 'cert.pem'), cert);
    const serve = await serveSite(
      t,
      '--key',
      path.join(site.root, '..', 'key.pem'),
      '--cert',
      path.join(site.root, '..', 'cert.pem'),
    );
    assert.match(serve.filesUrl, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(serve.url, /^wss:\/\//);
    const answer = await fetchRaw(serve.filesUrl, '/app.js', { ca: cert });
    assert.deepEqual([answer.status, answer.body], [200, 'console.log("app");\n']);
    const connection = await within(connect(serve.url, { tls: { ca: cert } }));
    t.after(() => connection.terminate());
    await connection.send('secure');
    assert.equal(await within(connection.receive()), 'secure');
    await within(connection.close());
  });
});
