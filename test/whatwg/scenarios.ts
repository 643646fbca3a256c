/**
 * The scenario list that test/whatwg/ runs against wsnet's WHATWG WebSocket, undici's, and
 * Chromium's: each scenario drives a WebSocket class with the same script and records what it
 * saw (events with the readyState at the time, attributes, exceptions) as lines of text, which
 * the tests compare.
 *
 * Everything is inside one function, written in the JavaScript that both Node and a browser
 * run, so that the page code is this same function's source (`scenarioLibrary.toString()`):
 * Chromium runs the very scenarios Node runs.
 */

/** What a scenario needs of a WebSocket: the standard interface, nothing of wsnet's. */
export interface WebSocketLike extends EventTarget {
  readonly url: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly extensions: string;
  binaryType: string;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
  onopen: ((event: Event) => unknown) | null;
  onmessage: ((event: MessageEvent) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  onclose: ((event: Event) => unknown) | null;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: the constructor and its four constants. */
export interface WebSocketClass {
  new (url: string, protocols?: string | string[]): WebSocketLike;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
}

/** Where the scenarios connect: a scenario server (see servers.ts) and a refused port. */
export interface ScenarioEnvironment {
  /** `ws://host:port` of a server with /echo and /close (it closes with 4001 and a reason). */
  readonly base: string;
  /** A `ws://` URL on a port where nothing listens. */
  readonly refused: string;
}

export type Scenario = (
  WebSocket: WebSocketClass,
  env: ScenarioEnvironment,
  log: (line: string) => void,
) => Promise<void>;

export function scenarioLibrary(): Record<string, Scenario> {
  /** Every wait in a scenario gives up after this long. */
  const TIMEOUT_MS = 5000;

  function describeError(error: unknown): string {
    if (error instanceof DOMException) return `DOMException ${error.name}`;
    return `${(error as Error)?.constructor?.name} (not a DOMException)`;
  }

  function bytesText(buffer: ArrayBuffer): string {
    return `[${Array.from(new Uint8Array(buffer)).join(',')}]`;
  }

  /** Runs `action`, logging `what: ok` or the exception it threw. */
  function attempt(log: (line: string) => void, what: string, action: () => unknown): void {
    try {
      const result = action();
      log(`${what}: ok`);
      // A constructor that should have thrown made a socket: close it, not leave it open.
      if (result !== null && typeof result === 'object' && 'close' in result)
        (result as WebSocketLike).close();
    } catch (error) {
      log(`${what}: throws ${describeError(error)}`);
    }
  }

  /**
   * Runs `step` in a task of its own: after every listener of the event being dispatched. (A
   * browser runs microtasks between two listeners, Node after the last one: a scenario resumed
   * by a promise would otherwise run at a different point on each.)
   */
  function later(step: () => void): void {
    setTimeout(step, 0);
  }

  /**
   * Records every event of `socket` as it fires, with the readyState then; `closed` resolves on
   * the close event, `message()` with the next message event.
   */
  function watch(socket: WebSocketLike, log: (line: string) => void) {
    const messages: MessageEvent[] = [];
    const waiting: Array<(event: MessageEvent) => void> = [];
    let settle: () => void = () => {};
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close event in time')), TIMEOUT_MS);
      settle = () => {
        clearTimeout(timer);
        later(resolve);
      };
    });
    socket.addEventListener('open', (event) => {
      log(
        `open isEvent=${event instanceof Event} readyState=${socket.readyState} ` +
          `protocol=${JSON.stringify(socket.protocol)} extensions=${JSON.stringify(socket.extensions)}`,
      );
    });
    socket.addEventListener('message', (raw) => {
      const event = raw as MessageEvent;
      const data: unknown = event.data;
      let shown: string;
      if (typeof data === 'string') shown = `text ${JSON.stringify(data)}`;
      else if (data instanceof ArrayBuffer) shown = `ArrayBuffer ${bytesText(data)}`;
      else if (data instanceof Blob)
        shown = `Blob size=${data.size} type=${JSON.stringify(data.type)}`;
      else shown = `unexpected ${Object.prototype.toString.call(data)}`;
      log(
        `message isMessageEvent=${event instanceof Event && event.constructor.name === 'MessageEvent'} ${shown} ` +
          `originIsUrlOrigin=${event.origin === new URL(socket.url).origin} readyState=${socket.readyState}`,
      );
      const waiter = waiting.shift();
      if (waiter) later(() => waiter(event));
      else messages.push(event);
    });
    socket.addEventListener('error', (event) => {
      log(`error isEvent=${event instanceof Event} readyState=${socket.readyState}`);
    });
    socket.addEventListener('close', (raw) => {
      const event = raw as Event & { code: number; reason: string; wasClean: boolean };
      log(
        `close code=${event.code} reason=${JSON.stringify(event.reason)} wasClean=${event.wasClean} ` +
          `readyState=${socket.readyState} bufferedAmount=${socket.bufferedAmount}`,
      );
      settle();
    });
    return {
      closed,
      message(): Promise<MessageEvent> {
        const queued = messages.shift();
        if (queued) return Promise.resolve(queued);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no message in time')), TIMEOUT_MS);
          waiting.push((event) => {
            clearTimeout(timer);
            resolve(event);
          });
        });
      },
      opened(): Promise<void> {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no open event in time')), TIMEOUT_MS);
          socket.addEventListener('open', () => {
            clearTimeout(timer);
            later(resolve);
          });
          socket.addEventListener('close', () => {
            clearTimeout(timer);
            reject(new Error('closed instead of opening'));
          });
        });
      },
    };
  }

  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- every scenario is async
    async 'constructor errors'(WebSocket, env, log) {
      const echo = `${env.base}/echo`;
      attempt(log, 'not a URL', () => new WebSocket('not a url'));
      attempt(log, 'ftp: scheme', () => new WebSocket('ftp://127.0.0.1/'));
      attempt(log, 'file: scheme', () => new WebSocket('file:///tmp/x'));
      attempt(log, 'a fragment', () => new WebSocket(`${echo}#part`));
      attempt(log, 'an empty fragment', () => new WebSocket(`${echo}#`));
      attempt(log, 'a protocol twice', () => new WebSocket(echo, ['chat', 'chat']));
      attempt(log, 'a protocol twice, in two cases', () => new WebSocket(echo, ['chat', 'CHAT']));
      attempt(log, 'a protocol with a space', () => new WebSocket(echo, ['a b']));
      attempt(log, 'an empty protocol', () => new WebSocket(echo, ['']));
      attempt(log, 'a comma-separated string', () => new WebSocket(echo, 'a,b'));
      attempt(log, 'a non-ASCII protocol', () => new WebSocket(echo, ['é']));
    },

    async 'constants and initial attributes'(WebSocket, env, log) {
      log(
        `class: ${WebSocket.CONNECTING} ${WebSocket.OPEN} ${WebSocket.CLOSING} ${WebSocket.CLOSED}`,
      );
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      log(`instance: ${socket.CONNECTING} ${socket.OPEN} ${socket.CLOSING} ${socket.CLOSED}`);
      log(`url=${socket.url === `${env.base}/echo`} readyState=${socket.readyState}`);
      log(`binaryType=${socket.binaryType} bufferedAmount=${socket.bufferedAmount}`);
      log(
        `protocol=${JSON.stringify(socket.protocol)} extensions=${JSON.stringify(socket.extensions)}`,
      );
      log(
        `handlers: ${String(socket.onopen)} ${String(socket.onmessage)} ` +
          `${String(socket.onerror)} ${String(socket.onclose)}`,
      );
      await seen.opened();
      socket.close();
      await seen.closed;
    },

    async 'http: is mapped to ws:'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base.replace('ws:', 'http:')}/echo?q=1`);
      const seen = watch(socket, log);
      log(`url=${socket.url.replace(/:\d+\//, ':PORT/')}`);
      await seen.opened();
      socket.close(1000);
      await seen.closed;
    },

    async 'states over time'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      log(`after the constructor: ${socket.readyState}`);
      await seen.opened();
      log(`after open: ${socket.readyState}`);
      socket.close(1000, 'done');
      log(`after close(): ${socket.readyState}`);
      await seen.closed;
      log(`after the close event: ${socket.readyState}`);
    },

    async 'text messages'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      socket.send('héllo ✓ 😀');
      await seen.message();
      socket.send('');
      await seen.message();
      socket.close(1000);
      await seen.closed;
    },

    async 'binaryType arraybuffer'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      socket.binaryType = 'arraybuffer';
      await seen.opened();
      socket.send(new Uint8Array([1, 2, 3, 255]));
      await seen.message();
      socket.send(new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 3));
      await seen.message();
      socket.send(new Uint16Array([0x0102]).buffer);
      await seen.message();
      socket.send(new DataView(new Uint8Array([4, 5, 6]).buffer, 1));
      await seen.message();
      socket.send(new ArrayBuffer(0));
      await seen.message();
      socket.close(1000);
      await seen.closed;
    },

    async 'binaryType blob'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      socket.send(new Uint8Array([10, 20, 30]));
      const event = await seen.message();
      log(`blob bytes ${bytesText(await (event.data as Blob).arrayBuffer())}`);
      socket.close(1000);
      await seen.closed;
    },

    async 'binaryType switched between messages'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      socket.send(new Uint8Array([1]));
      await seen.message();
      socket.binaryType = 'arraybuffer';
      socket.send(new Uint8Array([2]));
      await seen.message();
      socket.binaryType = 'blob';
      socket.send(new Uint8Array([3]));
      await seen.message();
      socket.close(1000);
      await seen.closed;
    },

    async 'invalid binaryType values are ignored'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      socket.binaryType = 'text';
      log(`after 'text': ${socket.binaryType}`);
      socket.binaryType = 'arraybuffer';
      socket.binaryType = 'BLOB';
      log(`after 'arraybuffer' then 'BLOB': ${socket.binaryType}`);
      await seen.opened();
      socket.close(1000);
      await seen.closed;
    },

    async 'Blob sends keep their order'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      socket.binaryType = 'arraybuffer';
      await seen.opened();
      socket.send(new Blob(['blob text']));
      socket.send('after the blob');
      socket.send(new Blob([new Uint8Array([1, 2]), new Uint8Array([3])]));
      log(`bufferedAmount after the sends: ${socket.bufferedAmount > 0}`);
      await seen.message();
      await seen.message();
      await seen.message();
      socket.close(1000);
      await seen.closed;
      log(`bufferedAmount at the end: ${socket.bufferedAmount}`);
    },

    async 'send() while CONNECTING'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      attempt(log, 'send while connecting', () => socket.send('too early'));
      log(`bufferedAmount=${socket.bufferedAmount}`);
      await seen.opened();
      socket.close(1000);
      await seen.closed;
    },

    async 'close() argument errors'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535, 70000])
        attempt(log, `close(${code})`, () => socket.close(code));
      attempt(log, 'a 124-byte ASCII reason', () => socket.close(1000, 'x'.repeat(124)));
      attempt(log, 'a 124-byte UTF-8 reason', () => socket.close(3000, 'é'.repeat(62)));
      log(`readyState after the errors: ${socket.readyState}`);
      attempt(log, 'close(4000, 123 bytes)', () => socket.close(4000, `${'é'.repeat(61)}x`));
      log(`readyState after close(): ${socket.readyState}`);
      attempt(log, 'close(999) while CLOSING', () => socket.close(999));
      await seen.closed;
    },

    async 'close() with a reason and no code'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      attempt(log, 'close(undefined, reason)', () => socket.close(undefined, 'reason only'));
      // Chromium refuses it (see differences.ts): closed here instead, with a code.
      if (socket.readyState === socket.OPEN) socket.close(1000);
      await seen.closed;
    },

    async 'close() without arguments'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      socket.close();
      await seen.closed;
    },

    async 'close() while CONNECTING'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      socket.close(1000);
      log(`readyState after close(): ${socket.readyState}`);
      await seen.closed;
      log(`readyState at the end: ${socket.readyState}`);
    },

    async 'sends after close() and bufferedAmount'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      await seen.opened();
      socket.send('a');
      await seen.message();
      socket.close(1000);
      log(`readyState=${socket.readyState} bufferedAmount=${socket.bufferedAmount}`);
      attempt(log, 'send while CLOSING', () => socket.send('abcd'));
      log(`after 4 bytes: ${socket.bufferedAmount}`);
      socket.send(new Uint8Array(10));
      socket.send(new Blob(['xyz']));
      log(`after 10 and 3 more: ${socket.bufferedAmount}`);
      await seen.closed;
      attempt(log, 'send while CLOSED', () => socket.send('é'));
      log(`after 2 more, CLOSED: ${socket.bufferedAmount}`);
    },

    async 'a refused connection'(WebSocket, env, log) {
      const socket = new WebSocket(env.refused);
      const seen = watch(socket, log);
      log(`readyState=${socket.readyState}`);
      await seen.closed;
    },

    async 'the server closes with a code and a reason'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/close`);
      const seen = watch(socket, log);
      await seen.closed;
    },

    async 'a subprotocol is chosen'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`, ['superchat', 'chat']);
      const seen = watch(socket, log);
      log(`protocol before open: ${JSON.stringify(socket.protocol)}`);
      await seen.opened();
      socket.close(1000);
      await seen.closed;
    },

    async 'on* handlers and listeners'(WebSocket, env, log) {
      const socket = new WebSocket(`${env.base}/echo`);
      const seen = watch(socket, log);
      const first = () => log('onmessage (first)');
      socket.onmessage = first;
      socket.addEventListener('message', () => log('listener added after onmessage'));
      log(`onmessage is the function: ${socket.onmessage === first}`);
      socket.onopen = function (this: unknown, event) {
        log(`onopen this=socket:${this === socket} type=${event.type}`);
      };
      await seen.opened();
      socket.send('one');
      await seen.message();
      // Replaced: the new handler keeps the first one's place, before the listener.
      socket.onmessage = () => log('onmessage (second)');
      socket.send('two');
      await seen.message();
      socket.onmessage = null;
      log(`onmessage after null: ${String(socket.onmessage)}`);
      socket.send('three');
      await seen.message();
      socket.onclose = (event) => log(`onclose type=${event.type}`);
      socket.close(1000);
      await seen.closed;
    },
  };
}
