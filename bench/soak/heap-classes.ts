/**
 * Heap snapshots grouped by class: for the hold's `--snapshot DIR`, what a server holds per
 * connection, by constructor (`WebSocketConnection`, `Socket`, `Timeout`…) or, for V8's own
 * objects, by kind (`(closure)`, `(string)`, `(array) (object properties)`, `(hidden) system /
 * Context`…), self sizes only. The difference of two snapshots of the same server (before the
 * clients connect and while they are held) divided by the connections held is a per-connection
 * figure that does not depend on when the GC ran or on the machine's load.
 */
import { readFileSync } from 'node:fs';

export interface ClassTotal {
  count: number;
  bytes: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** The kinds of V8's own objects whose name says what they are (the rest group by kind alone). */
const NAMED_KINDS = new Set(['object', 'native', 'hidden', 'array', 'code', 'object shape']);

/** The self sizes of a `.heapsnapshot` file's objects, by class. */
export function heapClasses(path: string): Map<string, ClassTotal> {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = parsed.snapshot.meta.node_fields;
  const types = parsed.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const totals = new Map<string, ClassTotal>();
  const nodes = parsed.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    let key: string;
    if (type === 'object' || type === 'native') key = parsed.strings[nodes[i + nameAt]];
    else if (NAMED_KINDS.has(type)) key = `(${type}) ${parsed.strings[nodes[i + nameAt]]}`;
    else if (type.endsWith('string')) key = '(string)';
    else key = `(${type})`;
    const total = totals.get(key);
    if (total === undefined) totals.set(key, { count: 1, bytes: nodes[i + sizeAt] });
    else {
      total.count++;
      total.bytes += nodes[i + sizeAt];
    }
  }
  return totals;
}

export interface ClassPerConnection {
  name: string;
  /** Objects per connection. */
  count: number;
  /** Bytes per connection. */
  bytes: number;
}

/**
 * `after` minus `before`, per connection, largest first; classes under `minBytes` per connection
 * are summed into one "(the rest)" row.
 */
export function perConnection(
  before: Map<string, ClassTotal>,
  after: Map<string, ClassTotal>,
  connections: number,
  minBytes = 8,
): { rows: ClassPerConnection[]; total: number } {
  const rows: ClassPerConnection[] = [];
  let rest = 0;
  let restCount = 0;
  let total = 0;
  for (const [name, { count, bytes }] of after) {
    const base = before.get(name) ?? { count: 0, bytes: 0 };
    const row = {
      name,
      count: (count - base.count) / connections,
      bytes: (bytes - base.bytes) / connections,
    };
    total += row.bytes;
    if (Math.abs(row.bytes) >= minBytes) rows.push(row);
    else {
      rest += row.bytes;
      restCount += row.count;
    }
  }
  for (const [name, { count, bytes }] of before)
    if (!after.has(name)) {
      total -= bytes / connections;
      rest -= bytes / connections;
      restCount -= count / connections;
    }
  rows.sort((a, b) => b.bytes - a.bytes);
  rows.push({ name: '(the rest)', count: restCount, bytes: rest });
  return { rows, total };
}
