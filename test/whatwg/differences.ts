/**
 * The differences between wsnet's WHATWG WebSocket and undici's or Chromium's that are on
 * purpose, as recorded lines: in each, the other implementation's line and wsnet's. The
 * comparison tests replace the one by the other and then require equality; README.md's table
 * ("The browser-compatible client") says the same in prose.
 */
export type Reference = 'undici' | 'chromium';

/** Which scenario server a recording was made against (servers.ts). */
export type ServerKind = 'wsnet' | 'ws';

export interface IntendedDifference {
  readonly scenario: string;
  /** Which implementations record `theirs`. */
  readonly from: readonly Reference[];
  /** Only against this server (a line that shows what the server answered); else against both. */
  readonly server?: ServerKind;
  /** Why wsnet differs (README.md's table says the same). */
  readonly why: string;
  /** Consecutive lines the other implementation records... */
  readonly theirs: readonly string[];
  /** ...and the lines wsnet records in their place. */
  readonly ours: readonly string[];
}

export const INTENDED_DIFFERENCES: readonly IntendedDifference[] = [
  {
    scenario: 'close() while CONNECTING',
    from: ['undici'],
    why:
      'undici fires error and close inside close() and leaves readyState at CLOSING; the ' +
      'standard (and wsnet) queues them as a task, and readyState is CLOSED when close fires',
    theirs: [
      'error isEvent=true readyState=3',
      'close code=1006 reason="" wasClean=false readyState=3 bufferedAmount=0',
      'readyState after close(): 2',
      'readyState at the end: 2',
    ],
    ours: [
      'readyState after close(): 2',
      'error isEvent=true readyState=3',
      'close code=1006 reason="" wasClean=false readyState=3 bufferedAmount=0',
      'readyState at the end: 3',
    ],
  },
  {
    scenario: 'invalid binaryType values are ignored',
    from: ['undici'],
    why:
      "undici sets binaryType to 'blob' on an invalid value; WebIDL (and wsnet) ignores the " +
      'assignment, leaving the value it had',
    theirs: ["after 'arraybuffer' then 'BLOB': blob"],
    ours: ["after 'arraybuffer' then 'BLOB': arraybuffer"],
  },
  {
    scenario: 'on* handlers and listeners',
    from: ['undici'],
    why:
      'undici moves a replaced on* handler behind the listeners added since; the HTML standard ' +
      '(and wsnet) keeps it where the first handler was registered',
    theirs: ['listener added after onmessage', 'onmessage (second)'],
    ours: ['onmessage (second)', 'listener added after onmessage'],
  },
  {
    scenario: 'sends after close() and bufferedAmount',
    from: ['undici'],
    why:
      'undici drops a send() after close() without counting it; the standard (and wsnet) adds ' +
      'its size to bufferedAmount, which then never goes down',
    theirs: [
      'after 4 bytes: 0',
      'after 10 and 3 more: 0',
      'close code=1000 reason="" wasClean=true readyState=3 bufferedAmount=0',
      'send while CLOSED: ok',
      'after 2 more, CLOSED: 0',
    ],
    ours: [
      'after 4 bytes: 4',
      'after 10 and 3 more: 17',
      'close code=1000 reason="" wasClean=true readyState=3 bufferedAmount=17',
      'send while CLOSED: ok',
      'after 2 more, CLOSED: 19',
    ],
  },
  {
    scenario: 'constructor errors',
    from: ['chromium'],
    why:
      "a page resolves a relative URL against the document's; Node has no base URL, so " +
      "'not a url' does not parse (undici throws the same SyntaxError)",
    theirs: ['not a URL: ok'],
    ours: ['not a URL: throws DOMException SyntaxError'],
  },
  {
    scenario: 'constructor errors',
    from: ['chromium'],
    why:
      'subprotocols that differ only in case count as offered twice, as in undici (Node 22): ' +
      'Chromium compares them with case',
    theirs: ['a protocol twice, in two cases: ok'],
    ours: ['a protocol twice, in two cases: throws DOMException SyntaxError'],
  },
  {
    scenario: 'close() with a reason and no code',
    from: ['chromium'],
    why:
      'Chromium converts an explicit undefined code to 0 and throws InvalidAccessError; WebIDL ' +
      '(undici, wsnet) treats it as missing: 1000 with the reason',
    theirs: ['close(undefined, reason): throws DOMException InvalidAccessError'],
    ours: ['close(undefined, reason): ok'],
  },
  {
    scenario: 'close() with a reason and no code',
    from: ['chromium'],
    server: 'ws',
    why: "(the same: ws's server echoes the reason of the close that Chromium did not send)",
    theirs: ['close code=1000 reason="" wasClean=true readyState=3 bufferedAmount=0'],
    ours: ['close code=1000 reason="reason only" wasClean=true readyState=3 bufferedAmount=0'],
  },
];

/** Where `block` starts in `lines` as consecutive lines, or -1. */
export function findBlock(lines: readonly string[], block: readonly string[]): number {
  for (let i = 0; i + block.length <= lines.length; i++)
    if (block.every((line, j) => lines[i + j] === line)) return i;
  return -1;
}

/** `lines` as wsnet should record them: each intended difference applied to `reference`'s. */
export function applyDifferences(
  scenario: string,
  lines: readonly string[],
  reference: Reference,
  server: ServerKind,
): string[] {
  const result = [...lines];
  for (const difference of INTENDED_DIFFERENCES) {
    if (difference.scenario !== scenario || !difference.from.includes(reference)) continue;
    if (difference.server !== undefined && difference.server !== server) continue;
    const at = findBlock(result, difference.theirs);
    if (at !== -1) result.splice(at, difference.theirs.length, ...difference.ours);
  }
  return result;
}
