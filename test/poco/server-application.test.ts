// POCO's ServerApplication::waitForTerminationRequest, in async TypeScript: real signals to a
// child process (test/fixtures/termination-wait.ts) that nothing else keeps running, and the
// AbortSignal and `run()` paths in this process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ServerApplication, waitForTerminationRequest } from '../../src/poco/index.js';
import { TERMINATION_SIGNALS } from '../../src/poco/server-application.js';
import { CliProcess } from '../helpers/cli.js';
import { within } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('../fixtures/termination-wait.js', import.meta.url));

function start(mode: string): CliProcess {
  return new CliProcess([mode], { script: fixture });
}

const signalListeners = () => TERMINATION_SIGNALS.map((name) => process.listenerCount(name));

describe('waitForTerminationRequest', () => {
  it("waits for SIGINT, SIGQUIT and SIGTERM as POCO on POSIX (POCO's console events on Windows)", () => {
    assert.deepEqual(
      [...TERMINATION_SIGNALS].sort(),
      process.platform === 'win32'
        ? ['SIGBREAK', 'SIGHUP', 'SIGINT']
        : ['SIGINT', 'SIGQUIT', 'SIGTERM'],
    );
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const)
    it(`resolves with ${signal}, keeps the process up until then, and removes its listeners`, async () => {
      const child = start('once');
      try {
        await child.waitFor(/^waiting$/m);
        child.kill(signal);
        const exit = await child.exit();
        // Status 0 and the line: the process waited for the signal and handled it (without the
        // wait, it would have exited at once with 13, an unsettled top-level await).
        assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
        assert.match(exit.stdout, new RegExp(`^got ${signal} listeners=0,0,0$`, 'm'));
      } finally {
        child.kill();
      }
    });

  it('called again after a request, it waits for a new one', async () => {
    const child = start('sequential');
    try {
      await child.waitFor(/^waiting$/m);
      child.kill('SIGTERM');
      await child.waitFor(/^waiting again$/m);
      assert.match(child.stdout, /^got SIGTERM listeners=0,0,0$/m);
      child.kill('SIGINT');
      const exit = await child.exit();
      assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
      assert.match(exit.stdout, /^got SIGINT listeners=0,0,0$/m);
    } finally {
      child.kill();
    }
  });

  it('two waits at once both get the same request', async () => {
    const child = start('concurrent');
    try {
      await child.waitFor(/^waiting$/m);
      child.kill('SIGTERM');
      const exit = await child.exit();
      assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
      assert.equal(exit.stdout.match(/^got SIGTERM listeners=0,0,0$/gm)?.length, 2, exit.stdout);
    } finally {
      child.kill();
    }
  });

  it('an abort stops the wait with its reason and removes the listeners', async () => {
    const before = signalListeners();
    const controller = new AbortController();
    const waiting = waitForTerminationRequest({ signal: controller.signal });
    assert.deepEqual(
      signalListeners(),
      before.map((count) => count + 1),
    );
    const reason = new Error('no longer needed');
    controller.abort(reason);
    await assert.rejects(within(waiting, 1000, 'the aborted wait'), (error) => error === reason);
    assert.deepEqual(signalListeners(), before);

    // Already aborted: rejects at once, and listens to nothing.
    await assert.rejects(waitForTerminationRequest({ signal: controller.signal }), (error) => {
      return error === reason;
    });
    assert.deepEqual(signalListeners(), before);
  });
});

describe('ServerApplication', () => {
  it("run() resolves with main's status; terminate() is a termination request", async () => {
    const child = start('application');
    try {
      const exit = await child.exit();
      assert.equal(exit.code, 3, exit.stderr);
      assert.match(exit.stdout, /^waiting$/m);
      assert.match(exit.stdout, /^got SIGTERM listeners=0,0,0$/m);
    } finally {
      child.kill();
    }
  });

  it('an error escaping main is written to stderr and gives EXIT_SOFTWARE (70), as POCO', async (t) => {
    const failure = new Error('main failed');
    class Failing extends ServerApplication {
      protected override main(): number {
        throw failure;
      }
    }
    const written = t.mock.method(console, 'error', () => undefined);
    assert.equal(await new Failing().run([]), ServerApplication.EXIT_SOFTWARE);
    assert.equal(ServerApplication.EXIT_SOFTWARE, 70);
    assert.deepEqual(
      written.mock.calls.map((call) => call.arguments),
      [[failure]],
    );
  });

  it('run() hands main its arguments', async () => {
    class Echo extends ServerApplication {
      protected override main(args: readonly string[]): number {
        return args.length === 2 && args[0] === '--port' && args[1] === '0'
          ? ServerApplication.EXIT_OK
          : ServerApplication.EXIT_USAGE;
      }
    }
    assert.equal(await new Echo().run(['--port', '0']), 0);
    assert.equal(await new Echo().run([]), 64);
  });
});
