/**
 * `npm run bench [suite...]`: wsnet side by side with ws, in one process, ratios printed.
 * Suites: mask, parse, utf8, echo, client, messages, messages-client, connects, deflate, cli (all
 * by default), and the opt-in ones, run only when named: handshakes (the handshake row of echo and
 * messages alone, for A/B runs), the long hold and soak (their options, such as
 * `--duration 10m`, follow the suite names), and fanout (issue 13's topics, with a Redis server).
 * BENCH_ROUNDS and BENCH_ROUND_MS tune the effort.
 */
import os from 'node:os';
import { cliSuite } from './cli.bench.js';
import { clientSuite, connectsSuite, messagesClientSuite } from './client.bench.js';
import { deflateSuite } from './deflate.bench.js';
import { echoSuite, handshakesSuite, messagesSuite } from './echo.bench.js';
import { fanoutSuite } from './fanout.bench.js';
import { holdSuite } from './hold.bench.js';
import { maskSuite } from './mask.bench.js';
import { parseSuite } from './parse.bench.js';
import { soakSuite } from './soak.bench.js';
import { utf8Suite } from './utf8.bench.js';

const suites: Record<string, () => void | Promise<void>> = {
  mask: maskSuite,
  parse: parseSuite,
  utf8: utf8Suite,
  echo: echoSuite,
  client: clientSuite,
  messages: messagesSuite,
  handshakes: handshakesSuite,
  'messages-client': messagesClientSuite,
  connects: connectsSuite,
  deflate: deflateSuite,
  cli: cliSuite,
  hold: holdSuite,
  soak: soakSuite,
  fanout: fanoutSuite,
};
/**
 * Run only when named: minutes long (hold, soak, fanout: 10,000 connections per server and a
 * Redis server), or a part of another suite (handshakes).
 */
const optIn = new Set(['hold', 'soak', 'handshakes', 'fanout']);
// Suite names come first; what follows the first `--option` is the suites' options.
const args = process.argv.slice(2);
const firstOption = args.findIndex((arg) => arg.startsWith('--'));
const selected = firstOption === -1 ? args : args.slice(0, firstOption);
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
const defaults = Object.keys(suites).filter((name) => !optIn.has(name));
for (const name of selected.length > 0 ? selected : defaults) await suites[name]();
