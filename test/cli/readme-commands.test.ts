// The README's "Command line" block, run as written: each `wsnet …` line in a shell (sh -c) with
// `wsnet` on PATH (a wrapper around the compiled bin), the two servers first (their fixed ports
// 8080 and 8081 replaced by free ones, and the URLs in the other lines with theirs), then each
// client line against them, checking what the comment beside it promises.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/messages/index.js';
import { CliProcess, cliBin } from '../helpers/cli.js';
import { projectRoot } from '../helpers/paths.js';
import { readBlocks } from '../docs/markdown-blocks.js';

const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8');
const heading = readme.split('\n').indexOf('## Command line') + 1; // 1-based, as blocks' lines
// The Markdown reader the docs tests use: the first sh block after the heading.
const block = readBlocks(projectRoot, 'README.md').find(
  (found) => found.language === 'sh' && heading > 0 && found.line > heading,
);
/** The block's command lines, without their comments. */
const lines = (block?.code ?? '')
  .split('\n')
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter((line) => line !== '');
const serveLines = lines.filter((line) => line.startsWith('wsnet serve'));
const clientLines = lines.filter((line) => !line.startsWith('wsnet serve'));

let bin: string;
const servers: CliProcess[] = [];
/** The README's address of each server (127.0.0.1:8080) → the one it got. */
const addresses = new Map<string, string>();

function shell(line: string): CliProcess {
  return new CliProcess([], {
    command: ['sh', '-c', line],
    env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
  });
}

/** The line with the README's server addresses replaced by the running servers'. */
function localised(line: string): string {
  let result = line;
  for (const [written, actual] of addresses) result = result.replaceAll(written, actual);
  return result;
}

before(async () => {
  bin = await mkdtemp(path.join(tmpdir(), 'wsnet-readme-'));
  const wrapper = path.join(bin, 'wsnet');
  await writeFile(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${cliBin}' "$@"\n`);
  await chmod(wrapper, 0o755);
  for (const line of serveLines) {
    const port = /--port (\d+)/.exec(line)?.[1];
    assert.ok(port !== undefined, `a serve line without --port: ${line}`);
    // `exec`: the server is the shell's process itself, so SIGTERM reaches it, not a shell.
    const server = shell(`exec ${line.replace(`--port ${port}`, '--port 0')}`);
    servers.push(server);
    const [, url] = await server.waitFor(/^listening on ws:\/\/(\S+)\/$/m);
    addresses.set(`127.0.0.1:${port}`, url);
  }
});

after(async () => {
  for (const server of servers) server.kill('SIGKILL');
  if (bin !== undefined) await rm(bin, { recursive: true, force: true });
});

describe("README's command line block, run as written", () => {
  it('has the two servers and four client lines it documents', () => {
    assert.equal(serveLines.length, 2);
    assert.equal(clientLines.length, 4);
  });

  it('the echo server echoes, the --exec server answers through its program', async () => {
    for (const [written, upper] of [
      ['127.0.0.1:8080', false],
      ['127.0.0.1:8081', true],
    ] as const) {
      const connection = await connect(`ws://${addresses.get(written)}/`);
      await connection.send('hello readme');
      assert.equal(await connection.receive(), upper ? 'HELLO README' : 'hello readme');
      await connection.close();
    }
  });

  for (const line of clientLines)
    it(line, { timeout: 30_000 }, async () => {
      const client = shell(localised(line));
      client.endInput(); // not a terminal: the interactive line runs in pipe mode, input ended
      const result = await client.exit(25_000);
      assert.equal(result.code, 0, result.stderr);
      if (line.startsWith('echo hello')) assert.equal(result.stdout, 'hello\n');
      else if (line.includes('--json')) {
        const [record] = result.stdout
          .trim()
          .split('\n')
          .map((json) => JSON.parse(json) as unknown);
        assert.deepEqual(
          { ...(record as { type: string; data: string }), time: undefined },
          { type: 'text', size: 12, data: '{"op":"sub"}', time: undefined },
        );
      } else if (line.startsWith('wsnet bench')) assert.match(result.stdout, /msg\/s/);
      else assert.equal(result.stdout, '');
      assert.match(result.stderr, line.startsWith('wsnet bench') ? /^/ : /^closed: 1000 /m);
    });

  it('the servers end cleanly on SIGTERM', async () => {
    for (const server of servers) server.kill('SIGTERM');
    for (const server of servers) assert.equal((await server.exit()).code, 0);
  });
});
