// The command line as a user meets it: the packed tarball installed into an empty project, then
// `npx wsnet serve` (a server), `npx wsnet connect` (a message there and back) and `npx wsnet
// bench` (a load run) against it, and the installed bin under Node 22 and 24 too.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/messages/index.js';
import { CliProcess } from '../helpers/cli.js';
import {
  assertSucceeded,
  installTarball,
  nodeBinaries,
  packTarball,
  run,
} from '../helpers/package.js';

const INSTALL_TIMEOUT = 240_000; // npm on a busy machine; offline, so no network wait
const RUN_TIMEOUT = 60_000;
const NPX = ['npx', '--offline', 'wsnet'];
// The bin's `#!/usr/bin/env node` takes the first node on PATH; under `npm test` that would be
// the node22 dev dependency's (node_modules/.bin/node). This Node comes first, as for a user.
const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

let work: string;
let project: string;
let server: CliProcess | undefined;
let url: string;

before(
  async () => {
    work = await mkdtemp(path.join(tmpdir(), 'wsnet-cli-package-'));
    const tarball = await packTarball(work);
    project = path.join(work, 'empty-project');
    await installTarball(tarball.path, project, 'commonjs');
    server = new CliProcess(['serve', '--port', '0', '--quiet'], {
      command: NPX,
      cwd: project,
      env,
    });
    [, url] = await server.waitFor(/^listening on (ws:\/\/\S+)$/m, { timeoutMs: RUN_TIMEOUT });
  },
  { timeout: INSTALL_TIMEOUT },
);

after(async () => {
  server?.kill('SIGKILL');
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('npx wsnet from the packed tarball, in an empty project', () => {
  it(
    'connect sends a message to serve (echo) and prints the answer',
    { timeout: RUN_TIMEOUT },
    async () => {
      const result = await run(
        'npx',
        [...NPX.slice(1), 'connect', url, '--execute', 'hello from npx', '--wait', '1'],
        { cwd: project, timeoutMs: RUN_TIMEOUT, env },
      );
      assertSucceeded(result, 'npx wsnet connect');
      assert.equal(result.stdout, 'hello from npx\n');
    },
  );

  it(
    'bench runs a counted load against serve and reports every echo',
    { timeout: RUN_TIMEOUT },
    async () => {
      const result = await run(
        'npx',
        [
          ...NPX.slice(1),
          'bench',
          url,
          '--connections',
          '4',
          '--count',
          '400',
          '--pipeline',
          '4',
          '--json',
        ],
        { cwd: project, timeoutMs: RUN_TIMEOUT, env },
      );
      assertSucceeded(result, 'npx wsnet bench');
      const report = JSON.parse(result.stdout) as {
        messages: { sent: number; received: number; mismatched: number; lost: number };
        errors: { total: number };
        connections: { opened: number };
      };
      assert.equal(report.connections.opened, 4);
      assert.equal(report.messages.received, 400);
      assert.deepEqual(
        [report.messages.mismatched, report.messages.lost, report.errors.total],
        [0, 0, 0],
      );
    },
  );

  for (const node of nodeBinaries.filter((binary) => binary.path !== process.execPath))
    it(`the installed bin runs connect on ${node.name}`, { timeout: RUN_TIMEOUT }, async () => {
      const bin = path.join(project, 'node_modules/wsnet/dist/cli/bin.js');
      const result = await run(node.path, [bin, 'connect', url, '-x', node.name, '-w', '1'], {
        cwd: project,
        timeoutMs: RUN_TIMEOUT,
      });
      assertSucceeded(result, `${node.name} wsnet connect`);
      assert.equal(result.stdout, `${node.name}\n`);
    });

  it(
    'serve closes its connections with 1001 on SIGTERM and ends',
    { timeout: RUN_TIMEOUT },
    async () => {
      const client = await connect(url);
      const closed = new Promise<number>((resolve) => client.once('close', resolve));
      // To the whole group: npx itself dies of the signal (npm does not forward it), wsnet serve
      // closes what it serves and exits; what the user sees is the client's close.
      server!.kill('SIGTERM');
      assert.equal(await closed, 1001);
      await server!.exit(RUN_TIMEOUT);
    },
  );
});
