/**
 * A scaled-out deployment as the end-to-end tests (test/redis/end-to-end*.test.ts) drive it:
 * `ServerProcess` is one WebSocketServer with a RedisAdapter in a child process of its own
 * (test/fixtures/redis-ws-server.ts, driven over IPC), and `Subscriber` a real WebSocket client of
 * one of them (wsnet's `connect` or ws) that records every text it receives. Every wait has a
 * deadline; processes are ended by their handles.
 */
import WebSocketClient from 'ws';
import { connect, type WebSocketConnection } from '../../src/messages/index.js';
import type { RedisAdapterOptions } from '../../src/redis/index.js';
import { FixtureChild } from './fixture-child.js';
import { Signal } from './wait.js';

export interface ServerReport {
  /** The server's 'adapterError's. */
  errors: Array<{ kind: string; message: string }>;
  /** Unhandled rejections and uncaught exceptions in the server's process. */
  problems: string[];
  clients: number;
  topics: string[];
}

/** One server of the deployment, in its own process. */
export class ServerProcess {
  readonly name: string;
  readonly child: FixtureChild;

  private constructor(name: string, child: FixtureChild) {
    this.name = name;
    this.child = child;
  }

  static async start(name: string, adapter: RedisAdapterOptions): Promise<ServerProcess> {
    const child = await FixtureChild.start('redis-ws-server', [name, JSON.stringify(adapter)]);
    return new ServerProcess(name, child);
  }

  get pid(): number {
    return this.child.process.pid!;
  }

  /** The process has not exited. */
  get running(): boolean {
    return this.child.process.exitCode === null && this.child.process.signalCode === null;
  }

  /** The URL a client connects to for `topics`. */
  url(topics: readonly string[] = []): string {
    return `ws://127.0.0.1:${this.child.port}/?topics=${topics.map(encodeURIComponent).join(',')}`;
  }

  /** `server.publish(topic, prefix + i)` for i < count; how many local connections took them. */
  async publish(topic: string, prefix: string, count: number): Promise<number> {
    this.child.send({ type: 'publish', topic, prefix, count });
    return (await this.child.next('published')).delivered as number;
  }

  /** `server.broadcast(prefix + i)` for i < count (with an accept-all filter if `local`). */
  async broadcast(prefix: string, count: number, local = false): Promise<number> {
    this.child.send({ type: 'broadcast', prefix, count, local });
    return (await this.child.next('broadcasted')).delivered as number;
  }

  /** Resolves once Redis answered the server's (re)subscriptions. */
  async settled(timeoutMs = 15_000): Promise<void> {
    this.child.send({ type: 'settled' });
    await this.child.next('settled', timeoutMs);
  }

  async report(): Promise<ServerReport> {
    this.child.send({ type: 'report' });
    return (await this.child.next('report')) as unknown as ServerReport;
  }

  /** The next 'adapterError' of `kind` the server emitted (already or to come). */
  async adapterError(kind: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const error = await this.child.next('adapterError', Math.max(1, deadline - Date.now()));
      if (error.kind === kind) return error.message as string;
    }
  }

  /** `server.close()`; the process then exits by itself (checked). */
  async close(): Promise<void> {
    this.child.send({ type: 'close' });
    await this.child.next('closed', 15_000);
    const exit = await this.child.exited(10_000);
    if (exit?.code !== 0)
      throw new Error(`${this.name} did not exit by itself: ${JSON.stringify(exit)}`);
  }

  kill(): void {
    this.child.kill();
  }
}

/** A WebSocket client that records the texts it receives (the welcome apart). */
export class Subscriber {
  readonly label: string;
  /** Every text received after the welcome, in order. */
  readonly texts: string[] = [];
  /** The server's welcome (the first text that starts with the welcome's prefix). */
  welcome: Record<string, unknown> | undefined;
  closed = false;
  /** The close code, once closed. */
  closeCode: number | undefined;
  readonly #welcomePrefix: string;
  readonly #changed = new Signal();
  readonly #send: (text: string) => void;
  readonly #close: () => void;

  private constructor(
    label: string,
    welcomePrefix: string,
    send: (text: string) => void,
    close: () => void,
  ) {
    this.label = label;
    this.#welcomePrefix = welcomePrefix;
    this.#send = send;
    this.#close = close;
  }

  /**
   * Connects with wsnet's `connect` or with ws, and waits for the server's welcome: a JSON text
   * that starts with `welcomePrefix` (test/fixtures/redis-ws-server.ts's by default).
   */
  static async connect(
    kind: 'wsnet' | 'ws',
    url: string,
    { timeoutMs = 15_000, welcomePrefix = '{"welcome"' } = {},
  ): Promise<Subscriber> {
    let subscriber: Subscriber;
    if (kind === 'wsnet') {
      const connection: WebSocketConnection = await connect(url);
      subscriber = new Subscriber(
        `wsnet ${url}`,
        welcomePrefix,
        (text) => void connection.send(text).catch(() => {}),
        () => void connection.close().catch(() => {}),
      );
      connection.on('message', (data) => subscriber.#received(String(data)));
      connection.on('close', (code) => subscriber.#ended(code));
      connection.on('error', () => {});
    } else {
      const ws = new WebSocketClient(url);
      subscriber = new Subscriber(
        `ws ${url}`,
        welcomePrefix,
        (text) => ws.send(text),
        () => ws.close(),
      );
      ws.on('message', (data: Buffer) => subscriber.#received(data.toString('utf8')));
      ws.on('close', (code: number) => subscriber.#ended(code));
      ws.on('error', () => {});
    }
    await subscriber.until(() => subscriber.welcome !== undefined, timeoutMs, 'the welcome');
    return subscriber;
  }

  #received(text: string): void {
    if (this.welcome === undefined && text.startsWith(this.#welcomePrefix))
      this.welcome = JSON.parse(text) as Record<string, unknown>;
    else this.texts.push(text);
    this.#changed.notify();
  }

  #ended(code: number): void {
    this.closed = true;
    this.closeCode = code;
    this.#changed.notify();
  }

  /** Resolves once `condition()` holds; fails with what was received after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs = 15_000, what = 'the condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.closed) throw new Error(`${this.label} closed before ${what}`);
      if (!(await this.#changed.until(deadline)))
        throw new Error(
          `${this.label}: no ${what} within ${timeoutMs} ms; received ${JSON.stringify(this.texts.slice(-20))}`,
        );
    }
  }

  /** Waits for `text` (a marker) to arrive. */
  async received(text: string, timeoutMs = 15_000): Promise<void> {
    await this.until(() => this.texts.includes(text), timeoutMs, JSON.stringify(text));
  }

  /** The texts starting with `prefix`, in the order they came. */
  from(prefix: string): string[] {
    return this.texts.filter((text) => text.startsWith(prefix));
  }

  /** Sends `text` as it is. */
  send(text: string): void {
    this.#send(text);
  }

  /** Asks its server to publish `data` on `topic` for it (`connection.publish`). */
  publish(topic: string, data: string, includeSelf = false): void {
    this.#send(JSON.stringify({ publish: topic, data, includeSelf }));
  }

  close(): void {
    this.#close();
  }
}

/** `prefix0` ... `prefix{count-1}`. */
export function sequence(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
