// Issue 11 §3: the bound on connections nobody configured is the process's descriptor limit
// (`ulimit -n`). A peer that opens more connections than that must not crash the server: accept()
// fails with EMFILE inside the server (libuv drops the surplus connections), and once the flood
// leaves, the same server serves again. Each server runs in a child process with a soft limit of
// 128 descriptors, and 300 connections (each sending a valid handshake) are opened at once.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { FixtureChild } from '../helpers/fixture-child.js';
import {
  SERVER_KINDS,
  SERVER_NAMES,
  assertServes,
  handshakeWith,
} from '../helpers/security-server.js';

const FIXTURE_MODE = { messages: 'echo-server', poco: 'poco-echo-server' } as const;
const FD_LIMIT = 128;
const FLOOD = 300;

/** Opens `count` connections that each send `request`; resolves once each connected or failed. */
async function flood(port: number, request: string, count: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(request);
            resolve(socket);
          });
          socket.on('error', () => resolve(socket)); // a reset from the full server is expected
        }),
    ),
  );
}

/** The first good visit after the flood: libuv may still be dropping the last of it. */
async function servesAgain(port: number, deadline: number): Promise<void> {
  for (;;) {
    try {
      await assertServes(port, 'after the descriptor flood');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

for (const kind of SERVER_KINDS) {
  describe(`peer failures, connections: ${SERVER_NAMES[kind]}`, () => {
    it(`more connections than the process has descriptors (${FLOOD} against ulimit -n ${FD_LIMIT}): no crash, and it serves again once they leave`, async () => {
      const child = await FixtureChild.start('limits-peer', [FIXTURE_MODE[kind]], 10_000, {
        fdLimit: FD_LIMIT,
      });
      try {
        const sockets = await flood(child.port, handshakeWith(child.port), FLOOD);
        // Long enough for the server to accept what it can and run out of descriptors.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const open = sockets.filter((socket) => !socket.destroyed).length;
        // The server really ran out: its descriptors (the child is Node itself, exec'd by sh).
        const descriptors = readdirSync(`/proc/${child.process.pid}/fd`).length;
        assert.ok(
          descriptors >= FD_LIMIT - 4,
          `the server holds ${descriptors} of its ${FD_LIMIT} descriptors during the flood`,
        );
        assert.equal(child.process.exitCode, null, 'the server survived the flood');
        for (const socket of sockets) socket.destroy();
        await servesAgain(child.port, Date.now() + 15_000);
        assert.equal(child.process.exitCode, null, 'the server is alive after it');
        assert.ok(open > 0, `${open} of the ${FLOOD} connections were still open during the flood`);
      } finally {
        child.kill();
      }
    });
  });
}
