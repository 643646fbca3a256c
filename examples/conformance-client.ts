/**
 * A client driver for the conformance harness's client mode (Autobahn's fuzzingserver): asks
 * for the number of cases, runs each one echoing every message, then asks for the report.
 *
 *   node build/examples/conformance-client.js --url ws://127.0.0.1:9001 [--agent wsnet]
 */
import { connect } from '../src/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

const base = argument('url', 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = argument('agent', 'wsnet');
const caseTimeoutMs = Number(argument('case-timeout-ms', '120000'));

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
  const timer = setTimeout(() => connection.terminate(), caseTimeoutMs);
  try {
    for await (const message of connection) {
      received.push(message);
      if (path.startsWith('/runCase')) await connection.send(message);
    }
  } catch {
    // Failed connections are part of the tests.
  }
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
console.log(`conformance-client: ran ${total} case(s) as agent ${agent}`);
