// The package as users get it: packed once (npm pack), installed offline into a fresh CommonJS
// project and a fresh ESM project, used for real (an echo over loopback) on Node 20, 22 and 24,
// compiled against by a TypeScript consumer, and checked by attw and publint.
// `npx wsnet connect/serve/bench` from the installed tarball is tested with the CLI, not here;
// this file runs `wsnet --version` and `--help` from it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertSucceeded,
  installTarball,
  nodeBinaries,
  packTarball,
  run,
  type PackedTarball,
} from '../helpers/package.js';
import { projectRoot } from '../helpers/paths.js';

const INSTALL_TIMEOUT = 240_000; // npm on a busy machine; offline, so no network wait
const RUN_TIMEOUT = 60_000;

const { version } = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as {
  version: string;
};

// Each consumer echoes one message through a WebSocketServer on port 0 with connect(), uses the
// protocol entry (RFC 6455 §1.3's accept example, §5.7's "Hi" frame), and prints what it saw.
const cjsConsumer = `
const wsnet = require('wsnet');
const messages = require('wsnet/messages');
const protocol = require('wsnet/protocol');

(async () => {
  const server = await messages.WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
  server.on('connection', async (connection) => {
    for await (const message of connection) await connection.send(message);
  });
  const connection = await wsnet.connect('ws://127.0.0.1:' + server.address().port + '/');
  await connection.send('hello from CommonJS');
  const echo = await connection.receive();
  const closed = await connection.close(1000, 'done');
  await server.close();
  const imported = await import('wsnet');
  console.log(JSON.stringify({
    echo,
    close: closed.code,
    accept: protocol.computeAccept('dGhlIHNhbXBsZSBub25jZQ=='),
    frame: Buffer.concat(protocol.encodeFrame(0x81, Buffer.from('Hi'), null)).toString('hex'),
    sameConnect: wsnet.connect === messages.connect,
    sameError: wsnet.ProtocolError === protocol.ProtocolError,
    requireIsImport: imported === wsnet,
  }));
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const esmConsumer = `
import { connect, ProtocolError } from 'wsnet';
import * as messages from 'wsnet/messages';
import { computeAccept, encodeFrame, ProtocolError as CoreProtocolError } from 'wsnet/protocol';
import { createRequire } from 'node:module';

const server = await messages.WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
server.on('connection', async (connection) => {
  for await (const message of connection) await connection.send(message);
});
const connection = await connect('ws://127.0.0.1:' + server.address().port + '/');
await connection.send('hello from ESM');
const echo = await connection.receive();
const closed = await connection.close(1000, 'done');
await server.close();
const required = createRequire(import.meta.url)('wsnet');
console.log(JSON.stringify({
  echo,
  close: closed.code,
  accept: computeAccept('dGhlIHNhbXBsZSBub25jZQ=='),
  frame: Buffer.concat(encodeFrame(0x81, Buffer.from('Hi'), null)).toString('hex'),
  sameConnect: connect === messages.connect,
  sameError: ProtocolError === CoreProtocolError,
  requireIsImport: required.connect === connect && required.ProtocolError === ProtocolError,
}));
`;

// A TypeScript consumer, compiled as ESM (.mts) and as CommonJS (.cts) under module: nodenext
// against the installed declarations, with skipLibCheck off (the published .d.ts must check).
// The @ts-expect-error lines fail the compile if the types were `any` or kept @internal members.
const tsConsumer = `
import { connect, WebSocketServer, WebSocketConnection, ProtocolError, HTTPServerRequest } from 'wsnet';
import { WebSocketServer as MessagesServer } from 'wsnet/messages';
import { computeAccept } from 'wsnet/protocol';

export async function echo(text: string): Promise<string> {
  const server: MessagesServer = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
  server.on('connection', async (connection: WebSocketConnection) => {
    for await (const message of connection) await connection.send(message);
  });
  const connection = await connect(\`ws://127.0.0.1:\${server.address().port}/\`);
  await connection.send(text);
  const reply = await connection.receive();
  await connection.close();
  await server.close();
  return typeof reply === 'string' ? reply : reply.toString('hex');
}

export const accept: string = computeAccept('dGhlIHNhbXBsZSBub25jZQ==');
export const isError = (error: unknown): boolean => error instanceof ProtocolError;

// @ts-expect-error a URL is a string or a URL
export const wrong = () => connect(42);
// @ts-expect-error onChannelEvents is @internal: not in the published types
export const hidden = (connection: WebSocketConnection) => connection.onChannelEvents([]);
// @ts-expect-error connections are made by wsnet (connect(), the servers): the constructor is private
export const made = () => new WebSocketConnection();
// @ts-expect-error requests are made by HTTPServer, not by HTTPRequest's public constructor
export const request = () => new HTTPServerRequest('GET', '/');

echo('hello from TypeScript').then((reply) => console.log(JSON.stringify({ reply, accept })));
`;

interface ConsumerReport {
  echo: string;
  close: number;
  accept: string;
  frame: string;
  sameConnect: boolean;
  sameError: boolean;
  requireIsImport: boolean;
}

let work: string;
let tarball: PackedTarball;
let cjsProject: string;
let esmProject: string;

before(
  async () => {
    work = await mkdtemp(path.join(tmpdir(), 'wsnet-package-'));
    tarball = await packTarball(work);
    cjsProject = path.join(work, 'cjs');
    esmProject = path.join(work, 'esm');
    await Promise.all([
      installTarball(tarball.path, cjsProject, 'commonjs'),
      installTarball(tarball.path, esmProject, 'module'),
    ]);
    await writeFile(path.join(cjsProject, 'index.js'), cjsConsumer);
    await writeFile(path.join(esmProject, 'index.js'), esmConsumer);
  },
  { timeout: INSTALL_TIMEOUT },
);

after(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds dist/, src/, README.md, LICENSE, CHANGELOG.md and package.json, and nothing else', () => {
    const top = new Set(tarball.files.map((file) => file.path.split('/')[0]));
    assert.deepEqual([...top].sort(), [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist',
      'package.json',
      'src',
    ]);
    const paths = tarball.files.map((file) => file.path);
    assert.equal(
      paths.filter((p) => /(^|\/)(test|build)\//.test(p) || /\.test\./.test(p)).length,
      0,
    );
    for (const entry of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'])
      assert.ok(paths.includes(entry), entry);
  });

  it('has an executable bin with a node shebang', async () => {
    const bin = tarball.files.find((file) => file.path === 'dist/cli/bin.js');
    assert.ok(bin, 'dist/cli/bin.js is packed');
    assert.equal(bin.mode & 0o111, 0o111, `mode ${bin.mode.toString(8)}`);
    const text = await readFile(
      path.join(cjsProject, 'node_modules/wsnet/dist/cli/bin.js'),
      'utf8',
    );
    assert.match(text, /^#!\/usr\/bin\/env node\n/);
  });

  it('has no source map pointing at a file it does not ship', async () => {
    const shipped = new Set(tarball.files.map((file) => file.path));
    const installed = path.join(esmProject, 'node_modules/wsnet');
    const maps = [...shipped].filter((p) => p.endsWith('.map'));
    assert.ok(maps.length > 100, `${maps.length} maps`);
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(path.join(installed, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const target = path.posix.join(path.posix.dirname(map), source);
        assert.ok(shipped.has(target), `${map} points at ${target}, which is not in the tarball`);
      }
    }
    // And every file that names a map ships it.
    for (const file of [...shipped].filter((p) => /\.(c?js|d\.c?ts)$/.test(p))) {
      const text = await readFile(path.join(installed, file), 'utf8');
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (url !== undefined)
        assert.ok(shipped.has(path.posix.join(path.posix.dirname(file), url)), `${file} -> ${url}`);
    }
  });

  it('installs without the network and with no dependencies', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(cjsProject, 'node_modules/wsnet/package.json'), 'utf8'),
    ) as { dependencies?: object; engines: { node: string } };
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.engines.node, '>=20.19');
  });

  it('wsnet/redis loads without its optional peer ioredis, and attach() names it', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(cjsProject, 'node_modules/wsnet/package.json'), 'utf8'),
    ) as { peerDependenciesMeta: Record<string, { optional: boolean }> };
    assert.deepEqual(manifest.peerDependenciesMeta, { ioredis: { optional: true } });
    const script =
      "const { RedisAdapter } = require('wsnet/redis');" +
      "new RedisAdapter({ url: 'redis://127.0.0.1:1' }).attach({ deliver() {}, reportError() {} })" +
      '.then(() => console.log("attached"), (error) => console.log(error.message));';
    const result = await run(process.execPath, ['-e', script], {
      cwd: cjsProject,
      timeoutMs: RUN_TIMEOUT,
    });
    assertSucceeded(result, 'require(wsnet/redis)');
    assert.equal(
      result.stdout.trim(),
      "wsnet/redis needs the 'ioredis' package, an optional peer dependency of wsnet: npm install ioredis",
    );
  });

  it('attw reports no problem', { timeout: RUN_TIMEOUT * 2 }, async () => {
    const result = await run(
      path.join(projectRoot, 'node_modules/.bin/attw'),
      [tarball.path, '--format', 'json'],
      { timeoutMs: RUN_TIMEOUT * 2 },
    );
    const report = JSON.parse(result.stdout) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, unknown> };
    };
    assert.deepEqual(report.analysis.problems, []);
    assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), [
      '.',
      './messages',
      './package.json',
      './protocol',
      './redis',
      './whatwg',
    ]);
    assert.equal(result.code, 0, result.stderr);
  });

  it('publint reports nothing, suggestions included', { timeout: RUN_TIMEOUT * 2 }, async () => {
    const result = await run(
      path.join(projectRoot, 'node_modules/.bin/publint'),
      ['run', tarball.path, '--strict', '--level', 'suggestion'],
      { timeoutMs: RUN_TIMEOUT * 2 },
    );
    assertSucceeded(result, 'publint');
    assert.match(result.stdout, /All good!/);
  });
});

for (const node of nodeBinaries)
  describe(`on ${node.name}`, () => {
    for (const [kind, project] of [
      ['CommonJS', () => cjsProject],
      ['ESM', () => esmProject],
    ] as const)
      it(
        `a ${kind} project uses wsnet, wsnet/messages and wsnet/protocol`,
        { timeout: RUN_TIMEOUT },
        async () => {
          const result = await run(node.path, ['index.js'], {
            cwd: project(),
            timeoutMs: RUN_TIMEOUT,
          });
          assertSucceeded(result, `${kind} consumer`);
          assert.equal(
            result.stderr,
            '',
            'no warning (require(esm) is not experimental from 20.19)',
          );
          const report = JSON.parse(result.stdout) as ConsumerReport;
          assert.deepEqual(report, {
            echo: `hello from ${kind}`,
            close: 1000,
            accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
            frame: '81024869',
            sameConnect: true,
            sameError: true,
            requireIsImport: true,
          });
        },
      );

    it(
      'wsnet --version and --help run from the installed bin',
      { timeout: RUN_TIMEOUT },
      async () => {
        const bin = path.join(cjsProject, 'node_modules/.bin/wsnet');
        const versionResult = await run(node.path, [bin, '--version'], { cwd: cjsProject });
        assert.deepEqual([versionResult.code, versionResult.stdout], [0, `${version}\n`]);
        const help = await run(node.path, [bin, '--help'], { cwd: cjsProject });
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, /^Usage: wsnet <command>/);
      },
    );
  });

describe('npx wsnet', () => {
  it(
    '--version and --help, as a user runs them in a project that installed the tarball',
    { timeout: RUN_TIMEOUT * 2 },
    async () => {
      const versionResult = await run('npx', ['--offline', 'wsnet', '--version'], {
        cwd: esmProject,
        timeoutMs: RUN_TIMEOUT,
      });
      assert.deepEqual([versionResult.code, versionResult.stdout], [0, `${version}\n`]);
      const help = await run('npx', ['--offline', 'wsnet', '--help'], {
        cwd: esmProject,
        timeoutMs: RUN_TIMEOUT,
      });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: wsnet <command>/);
      for (const command of ['connect', 'serve', 'bench'])
        assert.match(help.stdout, new RegExp(`\\n  ${command} `));
    },
  );
});

describe('a TypeScript consumer (module: nodenext, skipLibCheck off)', () => {
  it(
    'compiles as ESM and as CommonJS against the installed types, and runs',
    { timeout: RUN_TIMEOUT * 3 },
    async () => {
      await writeFile(path.join(esmProject, 'app.mts'), tsConsumer);
      await writeFile(path.join(esmProject, 'app.cts'), tsConsumer);
      await writeFile(
        path.join(esmProject, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            target: 'ES2022',
            strict: true,
            skipLibCheck: false,
            outDir: 'out',
            types: ['node'],
            typeRoots: [path.join(projectRoot, 'node_modules/@types')],
          },
          files: ['app.mts', 'app.cts'],
        }),
      );
      const compiled = await run(
        process.execPath,
        [path.join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
        { cwd: esmProject, timeoutMs: RUN_TIMEOUT * 2 },
      );
      assertSucceeded(compiled, 'tsc');
      const emitted = await readFile(path.join(esmProject, 'out/app.cjs'), 'utf8');
      assert.match(emitted, /require\("wsnet"\)/, 'the .cts consumer requires wsnet');
      for (const file of ['out/app.mjs', 'out/app.cjs']) {
        const result = await run(process.execPath, [file], {
          cwd: esmProject,
          timeoutMs: RUN_TIMEOUT,
        });
        assertSucceeded(result, file);
        assert.deepEqual(JSON.parse(result.stdout), {
          reply: 'hello from TypeScript',
          accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
        });
      }
    },
  );
});
