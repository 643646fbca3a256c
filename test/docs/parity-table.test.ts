// README's "POCO parity, member by member" against the class reference of Poco::Net::WebSocket
// and against wsnet's WebSocket: every member the reference lists has a row (a name in both its
// "Member Functions" and its "Inherited Functions", such as connect, shutdown or operator =, has
// two), every row has one of the four statuses, every wsnet name a row gives exists, and every
// method of WebSocket is named in the section. (The enums' values, and the class's statics that
// carry them, are test/poco/constants.test.ts's.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as wsnet from '../../src/index.js';
import { WebSocket } from '../../src/poco/index.js';
import { projectRoot } from '../helpers/paths.js';

// The lists of the class reference (Library: Net, Package: WebSocket, Header:
// Poco/Net/WebSocket.h), as it gives them.
const MEMBER_FUNCTIONS =
  'accept, completeHandshake, computeAccept, connect, createKey, mode, operator =, receiveFrame, sendFrame, shutdown';
const INHERITED_FUNCTIONS =
  'address, available, close, connect, connectNB, getBlocking, getKeepAlive, getLinger, getNoDelay, getOOBInline, getOption, getReceiveBufferSize, getReceiveTimeout, getReuseAddress, getReusePort, getSendBufferSize, getSendTimeout, impl, init, operator !=, operator <, operator <=, operator =, operator ==, operator >, operator >=, peerAddress, poll, receiveBytes, secure, select, sendBytes, sendUrgent, setBlocking, setKeepAlive, setLinger, setNoDelay, setOOBInline, setOption, setReceiveBufferSize, setReceiveTimeout, setReuseAddress, setReusePort, setSendBufferSize, setSendTimeout, shutdown, shutdownReceive, shutdownSend, sockfd, supportsIPv4, supportsIPv6';
/** Its constructors and destructor, its static constant, and its enums (each a row). */
const OTHER_ITEMS = [
  'WebSocket(const Socket&)',
  'WebSocket(HTTPServerRequest&, HTTPServerResponse&)',
  'WebSocket(HTTPClientSession&, HTTPRequest&, HTTPResponse&)',
  'WebSocket(cs, request, response, HTTPCredentials&)',
  '~WebSocket()',
  'WEBSOCKET_VERSION',
  'Mode',
  'FrameFlags',
  'FrameOpcodes',
  'SendFlags',
  'StatusCodes',
  'ErrorCodes',
];
const STATUSES = ['same, async', 'same', 'deviation', 'not in Node'];

interface Row {
  poco: string;
  wsnet: string;
  status: string;
  afterClose: string;
}

/** The README section, up to the next section. */
function section(): string {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## POCO parity, member by member\n');
  assert.ok(start >= 0, 'README has no "POCO parity, member by member" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

function rows(text: string): Row[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      assert.equal(cells.length, 4, `a row of four cells: ${line}`);
      const [pocoCell, wsnet, status, afterClose] = cells as [string, string, string, string];
      const name = /^`([^`]+)`/.exec(pocoCell)?.[1];
      assert.ok(name !== undefined, `a POCO name in code: ${line}`);
      return { poco: name, wsnet, status, afterClose };
    });
}

const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

describe("README's parity table", () => {
  const table = rows(section());

  it('has a row for every member of the class reference (two for a name it lists twice)', () => {
    const expected = [
      ...MEMBER_FUNCTIONS.split(', '),
      ...INHERITED_FUNCTIONS.split(', '),
      ...OTHER_ITEMS,
    ].sort();
    assert.deepEqual(table.map((row) => row.poco).sort(), expected);
  });

  it('gives each row one of the four statuses, and what it does after close()', () => {
    for (const row of table) {
      assert.ok(
        STATUSES.some((status) => row.status.startsWith(status)),
        `${row.poco}: "${row.status}"`,
      );
      if (row.status.startsWith('deviation'))
        assert.match(row.status + row.wsnet, /\]\(#|as `lessThan`|protected in POCO/, row.poco);
      assert.ok(row.afterClose !== '', `${row.poco}: after close()`);
    }
  });

  it("names only members that wsnet's WebSocket has", () => {
    const prototype = WebSocket.prototype as unknown as Record<PropertyKey, unknown>;
    for (const row of table)
      for (const span of codeSpans(row.wsnet)) {
        if (/^(ws = )?new WebSocket\(/.test(span) || span === 'using') continue;
        if (span === '[Symbol.dispose]()') {
          assert.equal(typeof prototype[Symbol.dispose], 'function');
          continue;
        }
        const statics = /^WebSocket\.(\w+)/.exec(span);
        const method = /^(\w+)\(/.exec(span);
        if (statics !== null) assert.ok(statics[1] in WebSocket, `${row.poco}: ${span}`);
        else if (method !== null)
          assert.equal(typeof prototype[method[1]], 'function', `${row.poco}: ${span}`);
        else assert.ok(span in wsnet, `${row.poco}: ${span} is not exported by wsnet`);
      }
  });

  it('names every method of WebSocket in the section', () => {
    const text = section();
    const missing = Object.getOwnPropertyNames(WebSocket.prototype).filter(
      (name) => name !== 'constructor' && !new RegExp(`\`(\\w+ = )?${name}[(\`]`).test(text),
    );
    assert.deepEqual(missing, []);
  });

  it('the deviations say where accept and completeHandshake went', () => {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const deviations = readme.slice(readme.indexOf('\n## Deviations from POCO\n'));
    assert.match(deviations, /`accept` and `completeHandshake`[^.]*folded into/);
  });
});
