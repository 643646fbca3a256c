/**
 * The layering rules of src/ (see README "Layout"), as an ESLint rule and config.
 *
 *   protocol/  pure: may import only node:buffer, node:crypto, node:zlib and itself;
 *              no timers and no `process` (time and environment belong to the I/O layer).
 *   io/        may import protocol/ and Node's built-ins.
 *   poco/      may import protocol/ and io/.
 *   messages/  may import protocol/ and io/ (a sibling of poco/, not built on it).
 *   cli/       may import only the message API's public entry (src/messages/index.ts): the
 *              command line is written as a user of the package would write it.
 *   redis/     the Redis adapter (wsnet/redis): may import the message API's public entry and
 *              its optional peer dependency ioredis; nothing else imports redis/, so the root
 *              and wsnet/messages load without ioredis installed.
 *   whatwg/    the WHATWG-compatible client (wsnet/whatwg): may import only the message API's
 *              public entry and Node's built-ins; written as a user of the package would.
 * Nothing else in src/ imports a third-party package: wsnet has no runtime dependencies, and
 * Node built-ins are named with the `node:` prefix.
 *
 * Plain JavaScript so that ESLint loads it without a build; test/tooling/layers.test.ts checks
 * that it catches each kind of violation.
 */
import path from 'node:path';

const PROTOCOL_BUILTINS = new Set(['node:buffer', 'node:crypto', 'node:zlib']);

/** Which layers each layer may import from (itself included). */
const ALLOWED = {
  protocol: ['protocol'],
  io: ['protocol', 'io'],
  poco: ['protocol', 'io', 'poco'],
  messages: ['protocol', 'io', 'messages'],
  cli: ['messages', 'cli'],
  redis: ['messages', 'redis'],
  whatwg: ['messages', 'whatwg'],
  '(root)': ['protocol', 'io', 'poco', 'messages', 'cli', '(root)'],
};

/** Layers built on the message API's public entry only, as a user of the package is. */
const ENTRY_ONLY = new Set(['cli', 'redis', 'whatwg']);

/** Optional peer dependencies, each importable by one layer only. */
const PEER_DEPENDENCIES = { redis: new Set(['ioredis']) };

/** The layer of a path inside src/, or null outside it. */
function layerOf(file) {
  const parts = path.normalize(file).split(path.sep);
  const src = parts.lastIndexOf('src');
  if (src === -1) return null;
  return parts.length - src > 2 ? parts[src + 1] : '(root)';
}

const rule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'keep the layers of src/ apart: protocol ← io ← poco | messages ← cli | redis | whatwg',
    },
    schema: [],
    messages: {
      upward: "src/{{from}}/ may not import from src/{{to}}/ ('{{source}}')",
      cliEntry:
        "src/{{from}}/ is built on the message API's public entry only: import from '../messages/index.js', not '{{source}}'",
      protocolIo:
        "src/protocol/ is pure: it may import only node:buffer, node:crypto and node:zlib, not '{{source}}'",
      thirdParty: "src/ has no runtime dependencies: '{{source}}' is not a Node built-in",
      prefix: "name Node built-ins with the node: prefix ('node:{{source}}')",
    },
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (from === null || !(from in ALLOWED)) return {};
    function check(node, source) {
      if (typeof source !== 'string') return;
      if (source.startsWith('.')) {
        const target = path.resolve(path.dirname(file), source);
        const to = layerOf(target);
        if (to !== null && !ALLOWED[from].includes(to))
          context.report({ node, messageId: 'upward', data: { from, to, source } });
        else if (
          ENTRY_ONLY.has(from) &&
          to === 'messages' &&
          !/index\.[jt]s$/.test(path.basename(target))
        )
          context.report({ node, messageId: 'cliEntry', data: { from, source } });
        return;
      }
      if (PEER_DEPENDENCIES[from]?.has(source)) return;
      if (!source.startsWith('node:')) {
        const builtin = BUILTINS.has(source.split('/')[0]);
        context.report({ node, messageId: builtin ? 'prefix' : 'thirdParty', data: { source } });
        return;
      }
      if (from === 'protocol' && !PROTOCOL_BUILTINS.has(source))
        context.report({ node, messageId: 'protocolIo', data: { source } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

import { builtinModules } from 'node:module';
const BUILTINS = new Set(builtinModules);

export const plugin = { rules: { layers: rule } };

/** Timers, `process` and other ambient I/O that src/protocol/ must not touch. */
const PROTOCOL_FORBIDDEN_GLOBALS = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'process',
  'performance',
  'fetch',
  'require',
].map((name) => ({
  name,
  message: 'src/protocol/ is pure: time, the environment and I/O belong to src/io/',
}));

/** The flat-config entries that enforce the layers (used by eslint.config.js and by the test). */
export const layersConfig = [
  {
    files: ['src/**/*.ts'],
    plugins: { wsnet: plugin },
    rules: { 'wsnet/layers': 'error' },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', ...PROTOCOL_FORBIDDEN_GLOBALS] },
  },
];
