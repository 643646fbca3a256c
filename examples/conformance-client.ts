/**
 * A client driver for the conformance harness's client mode (Autobahn's fuzzingserver): asks
 * for the number of cases, runs each one echoing every message, then asks for the report. Two
 * forms, as applications write them:
 * - `--form for-await` (the default): `for await (const m of connection) await connection.send(m)`;
 * - `--form events`, as ws users write it: a 'message' listener attached right after
 *   `await connect()`, each message echoed with a `send()` that is not awaited, and
 *   `await connection.closed` for the end of the case.
 *
 *   node build/examples/conformance-client.js --url ws://127.0.0.1:9001 [--agent wsnet] [--form events]
 */
import { connect, type WebSocketConnection } from '../src/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

const base = argument('url', 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const form = argument('form', 'for-await');
const agent = argument('agent', form === 'events' ? 'wsnet-events' : 'wsnet');
const caseTimeoutMs = Number(argument('case-timeout-ms', '120000'));
if (form !== 'for-await' && form !== 'events') {
  console.error(`conformance-client: --form is for-await or events, not ${form}`);
  process.exit(2);
}

/** Takes every message until the connection closes, echoing each one if `echo`. */
async function forAwait(
  connection: WebSocketConnection,
  echo: boolean,
  received: Array<string | Buffer>,
) {
  try {
    for await (const message of connection) {
      received.push(message);
      if (echo) await connection.send(message);
    }
  } catch {
    // Failed connections are part of the tests.
  }
}

async function events(
  connection: WebSocketConnection,
  echo: boolean,
  received: Array<string | Buffer>,
) {
  connection.on('message', (message) => {
    received.push(message);
    if (echo) void connection.send(message); // not awaited, as with ws
  });
  await connection.closed;
}

/** One connection: echoes each message (on /runCase), returns them all once it is closed. */
async function session(path: string): Promise<Array<string | Buffer>> {
  const received: Array<string | Buffer> = [];
  let connection;
  try {
    connection = await connect(`${base}${path}`, { maxMessageSize: 64 * 1024 * 1024 });
  } catch (error) {
    console.error(`conformance-client: ${path}: ${String(error)}`);
    return received;
  }
  const opened = connection;
  const timer = setTimeout(() => opened.terminate(), caseTimeoutMs);
  const echo = path.startsWith('/runCase');
  await (form === 'events' ? events : forAwait)(connection, echo, received);
  await connection.closed;
  clearTimeout(timer);
  return received;
}

const [count] = await session('/getCaseCount');
if (count === undefined) {
  console.error(`conformance-client: no case count from ${base}/getCaseCount`);
  process.exit(2);
}
const total = Number(String(count));
for (let n = 1; n <= total; n++)
  await session(`/runCase?case=${n}&agent=${encodeURIComponent(agent)}`);
await session(`/updateReports?agent=${encodeURIComponent(agent)}`);
console.log(`conformance-client: ran ${total} case(s) as agent ${agent} (${form})`);
