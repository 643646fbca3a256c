/**
 * The topics of a server: which connections subscribe to each topic, and which topics each
 * connection subscribes to (so that a connection that closes leaves every topic at once).
 *
 * Nothing is held for a connection that subscribes to nothing: its entry is made on its first
 * subscribe and removed with its last topic (memory per idle connection is measured), and a
 * topic is removed with its last subscriber, so millions of short-lived topics leave nothing
 * behind. The server learns when a topic gets its first local subscriber and loses its last one:
 * its adapter listens to the topics that have local subscribers, and to those only.
 */
import { InvalidArgumentError } from '../protocol/errors.js';
import type { WebSocketConnection } from './connection.js';

/**
 * Longest topic, in UTF-16 code units: long enough for any naming scheme (a room, a user, a path
 * of ids), short enough that a peer-chosen topic cannot grow a server's maps without bound per
 * subscription, and that a relayed topic fits in any adapter's channel name.
 */
export const MAX_TOPIC_LENGTH = 1024;

/** Refuses what cannot be a topic: not a string, empty, or over {@link MAX_TOPIC_LENGTH}. */
export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `a topic is a string, not ${topic === null ? 'null' : typeof topic}`,
    );
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `a topic is 1 to ${MAX_TOPIC_LENGTH} characters long, got ${topic.length}`,
    );
  return topic;
}

/** @internal Where a server keeps its registry, for its connections' `subscribe()`. */
export const TOPICS: unique symbol = Symbol('wsnet.topics');

/** What the registry tells its server. */
export interface TopicEvents {
  /** `topic` got its first subscriber. */
  first(topic: string): void;
  /** `topic` lost its last subscriber: it is gone. */
  last(topic: string): void;
}

export class TopicRegistry {
  readonly #subscribers = new Map<string, Set<WebSocketConnection>>();
  readonly #topicsOf = new Map<WebSocketConnection, Set<string>>();
  readonly #events: TopicEvents;

  constructor(events: TopicEvents) {
    this.#events = events;
  }

  /** True if `connection` was not subscribed to `topic` and now is. */
  subscribe(connection: WebSocketConnection, topic: string): boolean {
    let subscribers = this.#subscribers.get(topic);
    if (subscribers?.has(connection) === true) return false;
    const first = subscribers === undefined;
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#subscribers.set(topic, subscribers);
    }
    subscribers.add(connection);
    let topics = this.#topicsOf.get(connection);
    if (topics === undefined) {
      topics = new Set();
      this.#topicsOf.set(connection, topics);
    }
    topics.add(topic);
    if (first) this.#events.first(topic);
    return true;
  }

  /** True if `connection` was subscribed to `topic` and no longer is. */
  unsubscribe(connection: WebSocketConnection, topic: string): boolean {
    const topics = this.#topicsOf.get(connection);
    if (topics === undefined || !topics.delete(topic)) return false;
    if (topics.size === 0) this.#topicsOf.delete(connection);
    this.#leave(connection, topic);
    return true;
  }

  /** Unsubscribes `connection` from every topic (it closed). */
  unsubscribeAll(connection: WebSocketConnection): void {
    const topics = this.#topicsOf.get(connection);
    if (topics === undefined) return;
    this.#topicsOf.delete(connection);
    for (const topic of topics) this.#leave(connection, topic);
  }

  #leave(connection: WebSocketConnection, topic: string): void {
    const subscribers = this.#subscribers.get(topic)!;
    subscribers.delete(connection);
    if (subscribers.size > 0) return;
    this.#subscribers.delete(topic);
    this.#events.last(topic);
  }

  /** The subscribers of `topic` (live: do not change it), or undefined if it has none. */
  subscribers(topic: string): ReadonlySet<WebSocketConnection> | undefined {
    return this.#subscribers.get(topic);
  }

  count(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /** The topics `connection` subscribes to, in the order it subscribed. */
  topicsOf(connection: WebSocketConnection): string[] {
    const topics = this.#topicsOf.get(connection);
    return topics === undefined ? [] : [...topics];
  }

  /** The topics with at least one subscriber. */
  topics(): string[] {
    return [...this.#subscribers.keys()];
  }

  /** Connections subscribed to at least one topic. */
  get subscribedConnections(): number {
    return this.#topicsOf.size;
  }
}
