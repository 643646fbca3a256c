/**
 * A client driver for the conformance harness's client mode, in the event form users write with
 * ws: a 'message' listener attached right after `await connect()`, each message echoed with a
 * `send()` that is not awaited, and `await connection.closed` for the end of the case. Compare
 * examples/conformance-client.ts, which iterates with `for await`.
 *
 *   node build/examples/conformance-client-events.js --url ws://127.0.0.1:9001 [--agent NAME]
 */
import { connect } from '../src/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

const base = argument('url', 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = argument('agent', 'wsnet-events');
const caseTimeoutMs = Number(argument('case-timeout-ms', '120000'));

/** One connection: echoes each message (on /runCase), returns them all once it is closed. */
async function session(path: string): Promise<Array<string | Buffer>> {
  const received: Array<string | Buffer> = [];
  let connection;
  try {
    connection = await connect(`${base}${path}`, { maxMessageSize: 64 * 1024 * 1024 });
  } catch (error) {
    console.error(`conformance-client-events: ${path}: ${String(error)}`);
    return received;
  }
  const c = connection;
  const runCase = path.startsWith('/runCase');
  const timer = setTimeout(() => c.terminate(), caseTimeoutMs);
  c.on('message', (message) => {
    received.push(message);
    if (runCase) void c.send(message); // not awaited, as with ws
  });
  await c.closed;
  clearTimeout(timer);
  return received;
}

const [count] = await session('/getCaseCount');
if (count === undefined) {
  console.error(`conformance-client-events: no case count from ${base}/getCaseCount`);
  process.exit(2);
}
const total = Number(String(count));
for (let n = 1; n <= total; n++)
  await session(`/runCase?case=${n}&agent=${encodeURIComponent(agent)}`);
await session(`/updateReports?agent=${encodeURIComponent(agent)}`);
console.log(`conformance-client-events: ran ${total} case(s) as agent ${agent}`);
