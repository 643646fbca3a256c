/**
 * What the facade fuzz targets share: the encoding of one input and the fuzzed peer that plays it
 * to a facade over the in-memory stream pair (test/helpers/duplex-pair.ts).
 *
 * An input is `[config][k][k chunk sizes][stream]`: the configuration byte (bits below), how many
 * chunk-size bytes follow (k % 9), the sizes the stream is cut into as it arrives (cycled; none:
 * all at once), and the bytes the peer sends after the opening handshake. A size byte is 1..32
 * bytes (low 5 bits) times 4^(high 3 bits), so that a 64 KiB message can arrive in a few chunks
 * as well as byte by byte; past MAX_CHUNKS chunks the rest arrives at once, which keeps the turns
 * of the event loop an input takes bounded.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import fc from 'fast-check';
import { peerStream } from '../peer-streams.js';
import { OutputChecker } from '../wire-check.js';

/** Configuration bits. */
export const DEFLATE = 0x01; // permessage-deflate negotiated
export const ALTERNATE = 0x02; // messages: 'message' events, not for await; POCO: a caller's buffer
export const TURNS = 0x04; // a turn of the event loop between chunks
export const RESET = 0x08; // the peer ends by destroying its end, not with a FIN
export const HEAD = 0x10; // the first chunk came with the handshake (the bytes read past its head)
export const SMALL = 0x20; // messages: no echo; POCO: a 1 KiB buffer, a 4 KiB payload limit
export const LOCAL_CLOSE = 0x40; // the application closes after the bytes; the peer waits for it

export interface FacadeInput {
  readonly config: number;
  /** Bytes that came with the handshake (HEAD), else empty. */
  readonly head: Buffer;
  /** The rest, as it arrives. */
  readonly chunks: Buffer[];
}

const MAX_CHUNKS = 64;

function cut(stream: Buffer, sizes: Buffer): Buffer[] {
  if (sizes.length === 0) return stream.length === 0 ? [] : [stream];
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < stream.length; i++) {
    const b = sizes[i % sizes.length];
    const size = i === MAX_CHUNKS - 1 ? stream.length : ((b & 0x1f) + 1) * 4 ** (b >> 5);
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

export function decodeFacadeInput(input: Buffer): FacadeInput {
  const config = input[0] ?? 0;
  const k = (input[1] ?? 0) % 9;
  const sizes = input.subarray(2, 2 + k);
  const chunks = cut(input.subarray(2 + k), sizes);
  const head = (config & HEAD) !== 0 && chunks.length > 0 ? chunks.shift()! : Buffer.alloc(0);
  return { config, head, chunks };
}

/** Structure-aware inputs for a facade whose peer is a client (`masked`) or a server. */
export function facadeInputs(masked: boolean): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat(255), fc.uint8Array({ maxLength: 8 }), peerStream(masked))
    .map(([config, sizes, stream]) =>
      Buffer.concat([Buffer.from([config, sizes.length]), Buffer.from(sizes), stream]),
    );
}

/**
 * The fuzzed peer: plays the chunks into its end of the pair and holds every byte the facade
 * sends back to RFC 6455 (`checker`), counting them.
 */
export class FuzzedPeer {
  readonly checker: OutputChecker;
  received = 0;
  #sawClose: () => void = () => undefined;
  /** Resolves once the facade's close frame arrived (or its end). */
  readonly closeFrame: Promise<void>;
  error: unknown;

  constructor(
    readonly end: Duplex,
    facadeIsClient: boolean,
    deflate: boolean,
    utf8: boolean,
  ) {
    this.checker = new OutputChecker(facadeIsClient, utf8, deflate);
    this.closeFrame = new Promise((resolve) => (this.#sawClose = resolve));
    end.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      try {
        this.checker.push([chunk]);
      } catch (error) {
        this.error ??= error;
      }
      if (this.checker.closeCode !== undefined) this.#sawClose();
    });
    end.on('end', () => this.#sawClose());
    end.on('close', () => this.#sawClose());
    end.on('error', (error) => (this.error ??= error));
  }

  /** Writes the chunks, with a turn of the event loop between them if `turns`. */
  async play(chunks: readonly Buffer[], turns: boolean): Promise<void> {
    for (const chunk of chunks) {
      if (this.end.destroyed) return;
      this.end.write(chunk);
      if (turns) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Waits until the facade has nothing more to say for now (two turns of the event loop without a
   * byte from it, at most 100 turns), so that its answers to the bytes played (echoes, pongs, a
   * close) go out before the peer ends, and are checked too.
   */
  async quiet(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const before = this.received;
      await turn();
      await turn();
      if (this.received === before) return;
    }
  }

  /** Ends the peer's side: a FIN, or (reset) a close of the stream. */
  finish(reset: boolean): void {
    if (reset) this.end.destroy();
    else this.end.end();
  }

  /** After the facade settled: what it sent was valid RFC 6455, and ended on a frame boundary. */
  verify(): void {
    if (this.error !== undefined) throw this.error as Error;
    if (this.checker.closeCode !== undefined) this.checker.end();
  }
}

/** A turn of the event loop. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
