// ioredis is an optional peer dependency: wsnet and wsnet/messages must load without it, and
// wsnet/redis must say what is missing. A child process loads the compiled entries under a
// resolve hook that fails any import of ioredis (as if it were not installed) and records it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { projectRoot } from '../helpers/paths.js';

const entry = (name: string) => pathToFileURL(path.join(projectRoot, 'build/src', name)).href;

const HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier === 'ioredis' || specifier.startsWith('ioredis/')) {
    throw Object.assign(new Error('IOREDIS-REFUSED, imported by ' + context.parentURL), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  }
  return next(specifier, context);
}`;

const SCRIPT = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
const root = await import(${JSON.stringify(entry('index.js'))});
const messages = await import(${JSON.stringify(entry('messages/index.js'))});
const loaded = { root: typeof root.WebSocketServer, messages: typeof messages.WebSocketServer };
process.stdout.write('LOADED ' + JSON.stringify(loaded) + '\\n');
const redis = await import(${JSON.stringify(entry('redis/index.js'))});
const adapter = new redis.RedisAdapter({ url: 'redis://127.0.0.1:1' });
try {
  await adapter.attach({ deliver() {}, reportError() {} });
  process.stdout.write('ATTACHED\\n');
} catch (error) {
  process.stdout.write('ATTACH-FAILED ' + error.message + '\\n');
  process.stdout.write('CAUSE ' + error.cause.message + '\\n');
}
`;

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT],
      { timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : ((error as { code?: number }).code ?? null),
          stdout,
          stderr,
        }),
    );
  });
}

describe('ioredis, an optional peer dependency', () => {
  it('wsnet and wsnet/messages never import it; wsnet/redis asks for it by name', async () => {
    const { code, stdout, stderr } = await run();
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.deepEqual(
      lines[0],
      'LOADED {"root":"function","messages":"function"}',
      'no ioredis before this line',
    );
    // The hook works: wsnet/redis's attach() asked for ioredis, was refused, and says so.
    assert.equal(
      lines[1],
      "ATTACH-FAILED wsnet/redis needs the 'ioredis' package, an optional peer dependency of wsnet: npm install ioredis",
    );
    assert.match(
      lines[2],
      /^CAUSE IOREDIS-REFUSED, imported by file:.*\/build\/src\/redis\/redis-adapter\.js$/,
    );
    assert.equal(lines.length, 3);
  });
});
