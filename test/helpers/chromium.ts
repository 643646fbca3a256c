/**
 * A real browser for the interop tests: Debian's headless Chromium, driven by playwright-core,
 * on a fresh profile, with a test page served from 127.0.0.1 by a node:http server. Also the
 * page-side JavaScript the test pages share, and the node-side check of what a page echoed.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tearDown, within } from './interop.js';
import { fillPseudoRandom } from './bytes.js';

const CHROMIUM = '/usr/bin/chromium';
/** Every wait in the page gives up after this long (the page's own timers bound evaluate()). */
export const PAGE_TIMEOUT_MS = 20_000;

export interface CloseSeen {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** What the page's echoSeen() reports of a message it sent and the echo it got back. */
export interface EchoSeen {
  /** 'text' or 'binary': the type of the message the browser got back. */
  kind: string;
  /** Bytes (binary) or UTF-16 code units (text) received. */
  length: number;
  sentSha256: string;
  receivedSha256: string;
  /** Text only: the message received is the string sent. */
  sameText: boolean;
}

/**
 * The page-side helpers, plain JavaScript run by Chromium: bounded waits, bytes.ts's
 * pseudoRandomBytes (so that no payload has to cross the DevTools protocol), SHA-256, echoSeen(),
 * and a WebSocket Session whose messages and close are recorded from the start, so none is missed.
 */
const PAGE_LIBRARY = String.raw`
'use strict';
const TIMEOUT = ${PAGE_TIMEOUT_MS};

function bounded(what, executor) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what + ': timed out in the page')), TIMEOUT);
    executor(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

${fillPseudoRandom.toString()}

function pseudoRandomBytes(length, seed) {
  return fillPseudoRandom(new Uint8Array(length), seed);
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function echoSeen(sent, received) {
  const isText = typeof received === 'string';
  const sentBytes = typeof sent === 'string' ? new TextEncoder().encode(sent) : sent;
  const receivedBytes = isText ? new TextEncoder().encode(received) : new Uint8Array(received);
  return {
    kind: isText ? 'text' : 'binary',
    length: isText ? received.length : receivedBytes.byteLength,
    sentSha256: await sha256(sentBytes),
    receivedSha256: await sha256(receivedBytes),
    sameText: isText && received === sent,
  };
}

class Session {
  constructor(url, protocols = []) {
    this.ws = new WebSocket(url, protocols);
    this.ws.binaryType = 'arraybuffer';
    this.messages = [];
    this.onMessage = null;
    this.closeEvent = null;
    this.onClose = null;
    this.errored = false;
    this.opened = false;
    this.ws.onmessage = (event) => {
      this.messages.push(event.data);
      this.onMessage?.();
    };
    this.ws.onerror = () => { this.errored = true; };
    this.ws.onclose = (event) => {
      this.closeEvent = { code: event.code, reason: event.reason, wasClean: event.wasClean };
      this.onClose?.();
      this.onMessage?.();
    };
  }
  open() {
    return bounded('open', (resolve, reject) => {
      this.ws.onopen = () => { this.opened = true; resolve(); };
      this.onClose = () => reject(new Error('closed before open: ' + JSON.stringify(this.closeEvent)));
    });
  }
  nextMessage() {
    return bounded('message', (resolve, reject) => {
      const take = () => {
        if (this.messages.length > 0) resolve(this.messages.shift());
        else if (this.closeEvent !== null) reject(new Error('closed: ' + JSON.stringify(this.closeEvent)));
        else return;
        this.onMessage = null;
      };
      this.onMessage = take;
      take();
    });
  }
  closed() {
    return bounded('close', (resolve) => {
      if (this.closeEvent !== null) return resolve(this.closeEvent);
      this.onClose = () => resolve(this.closeEvent);
    });
  }
}
`;

/** A test page: the shared page-side helpers, then `script`. */
export function testPage(title: string, script: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body><script>${PAGE_LIBRARY}${script}</script></body></html>
`;
}

/** A `page.evaluate` result, bounded: the page's own timers should have ended it sooner. */
export function fromPage<T>(evaluation: Promise<T>): Promise<T> {
  return within(evaluation, PAGE_TIMEOUT_MS + 10_000, 'page.evaluate');
}

export function sha256(payload: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload)
    .digest('hex');
}

/** Asserts that the page sent `payload` and got it back, as its echoSeen() reports. */
export function assertPageEcho(echo: EchoSeen, payload: string | Uint8Array, what: string) {
  assert.equal(echo.kind, typeof payload === 'string' ? 'text' : 'binary', what);
  assert.equal(echo.length, payload.length, what);
  assert.equal(echo.sentSha256, sha256(payload), `${what}: the page sent the payload`);
  assert.equal(echo.receivedSha256, sha256(payload), `${what}: the page got it back`);
  assert.equal(echo.sameText, typeof payload === 'string', what);
}

/** Chromium with one page open on a node:http server that serves the test page. */
export class ChromiumPage {
  /** Serves the test page at `/` (and 404 elsewhere); a WebSocketServer may be attached to it. */
  readonly httpServer: http.Server;
  #context: BrowserContext | undefined;
  #userDataDir: string | undefined;
  #page: Page | undefined;
  #origin: string | undefined;

  constructor(html: string) {
    this.httpServer = http.createServer((request, response) => {
      if (request.url === '/') {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        response.end(html);
      } else {
        response.writeHead(404).end();
      }
    });
  }

  /** `http://127.0.0.1:<port>`, once the HTTP server listens. */
  get origin(): string {
    if (this.#origin === undefined) throw new Error('the page server is not listening');
    return this.#origin;
  }

  get page(): Page {
    if (this.#page === undefined) throw new Error('Chromium is not open');
    return this.#page;
  }

  /** Starts the HTTP server on 127.0.0.1 and a free port. */
  async listen(): Promise<void> {
    const server = this.httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.#origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Launches Chromium on a fresh profile and opens the test page. */
  async open(): Promise<Page> {
    this.#userDataDir = await mkdtemp(path.join(tmpdir(), 'wsnet-chromium-'));
    // A persistent context because that is how Chromium takes a fresh --user-data-dir here.
    this.#context = await chromium.launchPersistentContext(this.#userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    this.#page = this.#context.pages()[0] ?? (await this.#context.newPage());
    await this.#page.goto(`${this.origin}/`, { timeout: 10_000 });
    return this.#page;
  }

  /**
   * Closes Chromium, then what `steps` close (the WebSocket servers: before the HTTP server,
   * which one of them may be attached to), then the HTTP server, and removes the profile.
   */
  close(steps: ReadonlyArray<readonly [string, () => unknown]> = []): Promise<void> {
    return tearDown([
      ['closing Chromium', () => this.#context?.close()],
      ...steps,
      [
        'closing the HTTP server',
        () =>
          new Promise<void>((resolve, reject) => {
            if (!this.httpServer.listening) return resolve();
            this.httpServer.closeAllConnections();
            this.httpServer.close((error) => (error ? reject(error) : resolve()));
          }),
      ],
      [
        'removing the profile',
        () =>
          this.#userDataDir !== undefined &&
          rm(this.#userDataDir, { recursive: true, force: true }),
      ],
    ]);
  }
}
