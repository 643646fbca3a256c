/**
 * The server's log on stderr: a line per connection opened, closed or refused (silenced by
 * `--quiet`), and the lines an `--exec` program writes to its stderr (never silenced: they are
 * the program's output, not wsnet's). Each connection has a number, `#1`, `#2`..., that starts
 * each of its lines, so that the lines of concurrent connections can be told apart.
 */
import type http from 'node:http';
import type { CloseStatus, WebSocketConnection } from '../../messages/index.js';

export class ServerLog {
  #lastId = 0;
  readonly #ids = new WeakMap<WebSocketConnection, number>();

  constructor(readonly quiet: boolean) {}

  /** A line of wsnet's own that `--quiet` does not silence: something went wrong. */
  notice(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  /** A line of wsnet's own that `--quiet` silences (the shutdown's progress...). */
  info(text: string): void {
    if (!this.quiet) this.notice(text);
  }

  /** Numbers a new connection and logs it; logs its close when it comes. Returns its number. */
  opened(connection: WebSocketConnection, request: http.IncomingMessage): number {
    const id = ++this.#lastId;
    this.#ids.set(connection, id);
    const started = performance.now();
    if (!this.quiet) {
      const protocol = connection.protocol === '' ? '' : ` protocol ${connection.protocol}`;
      const extensions = connection.extensions === '' ? '' : ` (${connection.extensions})`;
      this.notice(
        `#${id} open ${peer(connection.remoteAddress, connection.remotePort)} ${request.url ?? '/'}${protocol}${extensions}`,
      );
    }
    void connection.closed.then((status) => {
      if (!this.quiet) this.notice(`#${id} closed ${describeClose(status, started)}`);
    });
    return id;
  }

  /** The number `opened` gave `connection` (0 for one it never saw). */
  idOf(connection: WebSocketConnection): number {
    return this.#ids.get(connection) ?? 0;
  }

  /** A handshake the server refused (wrong path, origin, too many connections...). */
  refused(status: number, request: http.IncomingMessage, error?: Error): void {
    if (this.quiet) return;
    const from = peer(request.socket.remoteAddress ?? '', request.socket.remotePort ?? 0);
    const why = error === undefined ? '' : `: ${error.message}`;
    this.notice(`refused ${status} ${from} ${request.url ?? '/'}${why}`);
  }

  /** Something about connection `id` (an --exec program's fate...). */
  connection(id: number, text: string): void {
    if (!this.quiet) this.notice(`#${id} ${text}`);
  }

  /** A line of an --exec program's stderr. */
  programOutput(id: number, line: string): void {
    process.stderr.write(`#${id} stderr: ${line}\n`);
  }
}

function peer(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function describeClose({ code, reason, wasClean }: CloseStatus, started: number): string {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const why = reason === '' ? '' : ` ${JSON.stringify(reason)}`;
  return `${code}${why}${wasClean ? '' : ' (not clean)'} after ${seconds} s`;
}
