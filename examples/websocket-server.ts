/**
 * `npm start`: the equivalent of POCO's WebSocketServer sample (Net/samples/WebSocketServer),
 * written with wsnet's POCO facade. An HTTPServer on 127.0.0.1:9980 serves a page at `/`, and
 * the page talks to a WebSocket echo endpoint at `/ws` on the same port.
 *
 *   npm start                # http://127.0.0.1:9980/
 *   npm start -- --port 8080 # or PORT=8080 npm start
 *
 * As POCO's sample, it is a `ServerApplication` whose `main` starts the server and waits for a
 * termination request (Ctrl+C, SIGTERM or SIGQUIT). Then, unlike the sample (whose `srv.stop()`
 * leaves the WebSockets to be cut off when the process exits), it closes each open WebSocket
 * with 1001 (going away, RFC 6455 §7.4.1) and waits for the peer's answer, briefly, before it
 * stops the server and exits with status 0.
 */
import { pathToFileURL } from 'node:url';
import {
  HTTPServer,
  HTTPServerParams,
  ServerApplication,
  ServerSocket,
  SocketAddress,
  Timespan,
  WebSocket,
  WebSocketException,
  type HTTPRequestHandler,
  type HTTPRequestHandlerFactory,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../src/poco/index.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsnet WebSocketServer</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; border-radius: 4px; padding: .5rem; min-height: 10rem; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
  form { display: flex; gap: .5rem; margin: 1rem 0; } input[type=text] { flex: 1; }
</style>
</head>
<body>
<h1>wsnet WebSocket echo</h1>
<p>This page opens a WebSocket to <code>/ws</code> on the server that sent it; every message comes back.</p>
<p>Status: <strong id="status">connecting…</strong></p>
<form id="form"><input id="text" type="text" value="Hello, world!" autocomplete="off"><button>Send text</button><button type="button" id="binary">Send 16 random bytes</button><button type="button" id="close">Close</button></form>
<div id="log"></div>
<script>
  const log = (line) => { const el = document.getElementById('log'); el.textContent += line + '\\n'; };
  const status = (text) => { document.getElementById('status').textContent = text; };
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { status('open'); ws.send('Hello, world!'); log('sent: Hello, world!'); };
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') log('received: ' + event.data);
    else log('received ' + event.data.byteLength + ' bytes: ' + Array.from(new Uint8Array(event.data), (b) => b.toString(16).padStart(2, '0')).join(' '));
  };
  ws.onclose = (event) => status('closed (' + event.code + (event.reason ? ' ' + event.reason : '') + ')');
  ws.onerror = () => status('error');
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    const text = document.getElementById('text').value;
    ws.send(text); log('sent: ' + text);
  };
  document.getElementById('binary').onclick = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    ws.send(bytes); log('sent 16 bytes');
  };
  document.getElementById('close').onclick = () => ws.close(1000, 'bye');
</script>
</body>
</html>
`;

/** Serves the page (POCO sample: PageRequestHandler). */
class PageRequestHandler implements HTTPRequestHandler {
  handleRequest(_request: HTTPServerRequest, response: HTTPServerResponse): void {
    response.setChunkedTransferEncoding(false);
    response.setContentType('text/html; charset=utf-8');
    response.sendBuffer(PAGE);
  }
}

/**
 * The WebSockets being served, so that a shutdown can close them with 1001 and wait for their
 * handlers to end.
 */
class OpenWebSockets {
  readonly #open = new Map<WebSocket, Promise<void>>();
  #goingAway = false;

  /** True once the server sent every WebSocket its close frame. */
  get goingAway(): boolean {
    return this.#goingAway;
  }

  /** Tracks `ws` until the returned function is called (its handler ended). */
  add(ws: WebSocket): () => void {
    let ended!: () => void;
    this.#open.set(ws, new Promise<void>((resolve) => (ended = resolve)));
    return () => {
      this.#open.delete(ws);
      ended();
    };
  }

  /** Sends 1001 to every open WebSocket; resolves when their handlers ended, or after `timeoutMs`. */
  async closeAll(timeoutMs: number): Promise<void> {
    this.#goingAway = true;
    const handlersEnded = [...this.#open].map(([ws, ended]) => {
      // A peer already gone makes the send fail: its handler ends anyway.
      ws.shutdown(WebSocket.WS_ENDPOINT_GOING_AWAY, 'server shutting down').catch(() => undefined);
      return ended;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(handlersEnded),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

/** Echoes frames until the peer closes (POCO sample: WebSocketRequestHandler). */
class WebSocketRequestHandler implements HTTPRequestHandler {
  constructor(
    private readonly log: (line: string) => void,
    private readonly open: OpenWebSockets,
  ) {}

  async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): Promise<void> {
    try {
      const ws = new WebSocket(request, response);
      const ended = this.open.add(ws);
      try {
        await this.#echo(ws);
      } finally {
        ended();
      }
    } catch (error) {
      if (!(error instanceof WebSocketException)) throw error;
      this.log(`WebSocket error: ${error.displayText()}`);
      if (response.sent()) return;
      if (error.code() === WebSocket.WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION)
        response.set('Sec-WebSocket-Version', WebSocket.WEBSOCKET_VERSION);
      response.setStatusAndReason(400);
      response.setContentLength(0);
      response.send();
    }
  }

  async #echo(ws: WebSocket): Promise<void> {
    // The sample waits for frames without a timeout; POCO's default would end idle tabs after 60 s.
    ws.setReceiveTimeout(new Timespan(0));
    this.log(`WebSocket connection established with ${ws.peerAddress().toString()}.`);
    const buffer = new Uint8Array(1 << 20);
    let n: number;
    let flags: number;
    // As the sample, but an empty message is echoed too: only end of stream (0, flags 0) or
    // the peer's CLOSE ends the loop. That CLOSE is echoed back, which completes the closing
    // handshake, unless it answers the server's own (a shutdown's 1001).
    do {
      ({ n, flags } = await ws.receiveFrame(buffer));
      this.log(`Frame received (length=${n}, flags=0x${flags.toString(16)}).`);
      if (n === 0 && flags === 0) break;
      const isClose = (flags & WebSocket.FRAME_OP_BITMASK) === WebSocket.FRAME_OP_CLOSE;
      if (isClose && this.open.goingAway) break;
      await ws.sendFrame(buffer, n, flags);
    } while ((flags & WebSocket.FRAME_OP_BITMASK) !== WebSocket.FRAME_OP_CLOSE);
    this.log('WebSocket connection closed.');
  }
}

class RequestHandlerFactory implements HTTPRequestHandlerFactory {
  constructor(
    private readonly log: (line: string) => void,
    private readonly open: OpenWebSockets,
  ) {}

  createRequestHandler(request: HTTPServerRequest): HTTPRequestHandler | null {
    this.log(
      `Request from ${request.clientAddress().toString()}: ${request.getMethod()} ${request.getURI()} ${request.getVersion()}`,
    );
    if (request.getURI() === '/ws') return new WebSocketRequestHandler(this.log, this.open);
    if (request.getURI() === '/' || request.getURI() === '/index.html')
      return new PageRequestHandler();
    return null;
  }
}

/** The running sample: its HTTPServer, and the shutdown that closes its WebSockets first. */
export interface SampleServer {
  readonly server: HTTPServer;
  /**
   * Stops accepting connections, closes every open WebSocket with 1001 and waits up to
   * `timeoutMs` for the peers' answers, then closes whatever is still open.
   */
  shutDown(timeoutMs?: number): Promise<void>;
}

/** Starts the sample server; resolves once it listens. */
export async function startWebSocketServer(
  port: number,
  host = '127.0.0.1',
  log: (line: string) => void = () => undefined,
): Promise<SampleServer> {
  const open = new OpenWebSockets();
  const socket = await ServerSocket.create(new SocketAddress(host, port));
  const server = new HTTPServer(
    new RequestHandlerFactory(log, open),
    socket,
    new HTTPServerParams(),
  );
  server.start();
  return {
    server,
    async shutDown(timeoutMs = 2000) {
      server.stop();
      await open.closeAll(timeoutMs);
      server.stopAll(true);
    },
  };
}

/** The port from `--port N` or `PORT`; 9980 by default; undefined if invalid. */
function portFromArguments(args: readonly string[]): number | undefined {
  const flag = args.indexOf('--port');
  const text = flag !== -1 ? args[flag + 1] : process.env['PORT'];
  if (text === undefined) return 9980;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return port;
}

/** POCO's sample is a ServerApplication: `main` serves until a termination request. */
class WebSocketServerApplication extends ServerApplication {
  protected override async main(args: readonly string[]): Promise<number> {
    const port = portFromArguments(args);
    if (port === undefined) {
      console.error(`invalid port: ${args[args.indexOf('--port') + 1] ?? process.env['PORT']}`);
      return ServerApplication.EXIT_USAGE;
    }
    const sample = await startWebSocketServer(port, '127.0.0.1', (line) => console.log(line));
    // Listening for the signals before saying "ready": whoever reads that line may signal at once.
    const terminationRequested = this.waitForTerminationRequest();
    console.log(
      `wsnet WebSocketServer: open http://127.0.0.1:${sample.server.port()}/ (Ctrl+C to stop)`,
    );
    const signal = await terminationRequested;
    console.log(`${signal}: shutting down.`);
    await sample.shutDown();
    return ServerApplication.EXIT_OK;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await new WebSocketServerApplication().run();
