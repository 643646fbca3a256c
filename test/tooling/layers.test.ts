// The lint rule that keeps src/ layered (tools/eslint-layers.js): each kind of violation is
// caught, and the real tree has none.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { projectRoot } from '../helpers/paths.js';

const { layersConfig } = (await import(
  pathToFileURL(path.join(projectRoot, 'tools/eslint-layers.js')).href
)) as {
  layersConfig: Linter.Config[];
};

const eslint = new ESLint({
  cwd: projectRoot,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...layersConfig,
  ],
});

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(projectRoot, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layering lint rule', () => {
  const violations: Array<[string, string, string]> = [
    ['src/protocol/x.ts', "import net from 'node:net';", 'protocol/ is pure'],
    ['src/protocol/x.ts', "import { request } from 'node:http';", 'protocol/ is pure'],
    ['src/protocol/x.ts', "export { connect } from 'node:tls';", 'protocol/ is pure'],
    ['src/protocol/x.ts', "const fs = await import('node:fs');", 'protocol/ is pure'],
    [
      'src/protocol/x.ts',
      'setTimeout(() => {}, 1);',
      'time, the environment and I/O belong to src/io/',
    ],
    [
      'src/protocol/x.ts',
      'export const env = process.env;',
      'time, the environment and I/O belong to src/io/',
    ],
    [
      'src/protocol/handshake/x.ts',
      "import { Transport } from '../../io/transport.js';",
      'src/protocol/ may not import from src/io/',
    ],
    [
      'src/protocol/x.ts',
      "import type { WebSocket } from '../poco/websocket.js';",
      'src/protocol/ may not import from src/poco/',
    ],
    [
      'src/io/x.ts',
      "import { WebSocket } from '../poco/websocket.js';",
      'src/io/ may not import from src/poco/',
    ],
    [
      'src/messages/x.ts',
      "import { WebSocket } from '../poco/websocket.js';",
      'src/messages/ may not import from src/poco/',
    ],
    [
      'src/poco/x.ts',
      "import { serve } from '../messages/server.js';",
      'src/poco/ may not import from src/messages/',
    ],
    [
      'src/cli/x.ts',
      "import { WebSocketServer } from '../messages/server.js';",
      "src/cli/ is built on the message API's public entry only",
    ],
    [
      'src/cli/x.ts',
      "import { Connection } from '../protocol/connection.js';",
      'src/cli/ may not import from src/protocol/',
    ],
    [
      'src/redis/x.ts',
      "import { WebSocketServer } from '../messages/server.js';",
      "src/redis/ is built on the message API's public entry only",
    ],
    [
      'src/redis/x.ts',
      "import { Transport } from '../io/transport.js';",
      'src/redis/ may not import from src/io/',
    ],
    [
      'src/index.ts',
      "export { RedisAdapter } from './redis/index.js';",
      'may not import from src/redis/',
    ],
    [
      'src/whatwg/x.ts',
      "import { connect } from '../messages/client.js';",
      "src/whatwg/ is built on the message API's public entry only",
    ],
    [
      'src/whatwg/x.ts',
      "import { HttpConnection } from '../io/http-client.js';",
      'src/whatwg/ may not import from src/io/',
    ],
    [
      'src/whatwg/x.ts',
      "import { CloseCode } from '../protocol/constants.js';",
      'src/whatwg/ may not import from src/protocol/',
    ],
    [
      'src/index.ts',
      "export { WebSocket } from './whatwg/index.js';",
      'may not import from src/whatwg/',
    ],
    ['src/whatwg/x.ts', "import { WebSocket } from 'undici';", 'no runtime dependencies'],
    ['src/whatwg/x.ts', "import { Blob } from 'buffer';", 'with the node: prefix'],
    ['src/messages/x.ts', "import { Redis } from 'ioredis';", 'no runtime dependencies'],
    ['src/redis/x.ts', "import { createClient } from 'redis';", 'no runtime dependencies'],
    ['src/io/x.ts', "import WebSocket from 'ws';", 'no runtime dependencies'],
    ['src/io/x.ts', "import net from 'net';", 'with the node: prefix'],
  ];
  for (const [file, code, expected] of violations) {
    it(`${file}: ${code}`, async () => {
      const found = await problems(file, code);
      assert.ok(
        found.some((p) => p.includes(expected)),
        `expected "${expected}", got ${JSON.stringify(found)}`,
      );
    });
  }

  const allowed: Array<[string, string]> = [
    [
      'src/protocol/x.ts',
      "import { Buffer } from 'node:buffer';\nimport { createHash } from 'node:crypto';\nimport zlib from 'node:zlib';",
    ],
    ['src/protocol/handshake/x.ts', "import { ProtocolError } from '../errors.js';"],
    [
      'src/io/x.ts',
      "import net from 'node:net';\nimport { Connection } from '../protocol/connection.js';\nsetTimeout(() => {}, 1);",
    ],
    ['src/poco/x.ts', "import { Transport } from '../io/transport.js';"],
    ['src/cli/x.ts', "import { connect } from '../messages/index.js';"],
    ['src/index.ts', "export * from './poco/index.js';"],
    [
      'src/redis/x.ts',
      "import type { Redis } from 'ioredis';\nconst m = await import('ioredis');\nimport { connect } from '../messages/index.js';",
    ],
    [
      'src/whatwg/x.ts',
      "import { Blob } from 'node:buffer';\nimport { connect } from '../messages/index.js';",
    ],
  ];
  for (const [file, code] of allowed) {
    it(`allows ${file}: ${code.split('\n')[0]}`, async () => {
      assert.deepEqual(await problems(file, code), []);
    });
  }

  it('the source tree itself has no violations', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const found = results.flatMap((r) =>
      r.messages.map((m) => `${path.relative(projectRoot, r.filePath)}: ${m.message}`),
    );
    assert.deepEqual(found, []);
    assert.ok(results.length >= 10, `linted ${results.length} files`);
  });
});
