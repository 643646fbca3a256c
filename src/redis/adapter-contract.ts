// mirrors src/messages' PubSubAdapter; the lead unifies them at merge (this file then gives way
// to an import from src/messages/index.ts).

/** What a server gives its adapter. */
export interface PubSubHost {
  /** Delivers a message that another server published to this server's local subscribers. */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void;
  /** Reports a failure the adapter cannot handle itself (the server emits it as 'adapterError'). */
  reportError(error: Error): void;
}

/** Relays publishes between servers. The in-process default does nothing remote. */
export interface PubSubAdapter {
  /** Once, when a server starts using the adapter (a server owns one adapter). */
  attach(host: PubSubHost): void | Promise<void>;
  /** This server's first local subscriber for `topic` (the adapter starts listening to it). */
  subscribe(topic: string): void;
  /** This server's last local subscriber for `topic` left. */
  unsubscribe(topic: string): void;
  /** A publish made on this server, already delivered locally: relay it to the other servers. */
  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void;
  /** The server closes: unsubscribe everything, release connections. */
  close(): Promise<void>;
}
