/**
 * `npm run bench [suite...]`: wsnet side by side with ws, in one process, ratios printed.
 * Suites: mask, parse, utf8, echo, client, messages, messages-client, deflate, cli (all by
 * default).
 * BENCH_ROUNDS and BENCH_ROUND_MS tune the effort.
 */
import os from 'node:os';
import { cliSuite } from './cli.bench.js';
import { clientSuite, messagesClientSuite } from './client.bench.js';
import { deflateSuite } from './deflate.bench.js';
import { echoSuite, messagesSuite } from './echo.bench.js';
import { maskSuite } from './mask.bench.js';
import { parseSuite } from './parse.bench.js';
import { utf8Suite } from './utf8.bench.js';

const suites: Record<string, () => void | Promise<void>> = {
  mask: maskSuite,
  parse: parseSuite,
  utf8: utf8Suite,
  echo: echoSuite,
  client: clientSuite,
  messages: messagesSuite,
  'messages-client': messagesClientSuite,
  deflate: deflateSuite,
  cli: cliSuite,
};
const selected = process.argv.slice(2);
const unknown = selected.filter((name) => !(name in suites));
if (unknown.length > 0) {
  console.error(
    `unknown suite(s): ${unknown.join(', ')}; choose from ${Object.keys(suites).join(', ')}`,
  );
  process.exit(2);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `wsnet benchmarks — Node ${process.version}, ${os.cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log('Each cell is the median of the rounds; ratios > 1.00x mean wsnet is faster.');
for (const name of selected.length > 0 ? selected : Object.keys(suites)) await suites[name]();
