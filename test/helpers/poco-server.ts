/**
 * The server side of POCO's WebSocketTest, ported: an HTTPServer on a ServerSocket bound to a
 * free loopback port, whose factory hands every request a WebSocketRequestHandler that echoes
 * frames (HEAD's loop: echo while n > 0, stop after a CLOSE) and answers a refused handshake
 * with 400, as Net/testsuite/src/WebSocketTest.cpp does.
 */
import {
  Context,
  HTTPServer,
  HTTPServerParams,
  IOException,
  SecureServerSocket,
  ServerSocket,
  SocketAddress,
  WebSocket,
  WebSocketException,
  type HTTPRequestHandler,
  type HTTPRequestHandlerFactory,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { selfSignedCertificate, type SelfSigned } from './self-signed.js';

export interface EchoOptions {
  /** The handler's receive buffer (POCO's bufSize). */
  bufSize?: number;
  /** Called with each WebSocket once it is created (to set options or keep a reference). */
  onWebSocket?: (ws: WebSocket) => void;
  /** Called with whatever ends the echo loop (an exception, or null after a CLOSE or EOF). */
  onEnd?: (error: unknown) => void;
}

export class WebSocketRequestHandler implements HTTPRequestHandler {
  constructor(private readonly options: EchoOptions = {}) {}

  async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): Promise<void> {
    const bufSize = this.options.bufSize ?? 1024;
    try {
      const ws = new WebSocket(request, response);
      this.options.onWebSocket?.(ws);
      const buffer = new Uint8Array(bufSize);
      let n: number;
      let flags: number;
      do {
        ({ n, flags } = await ws.receiveFrame(buffer));
        if (n > 0) await ws.sendFrame(buffer, n, flags);
      } while (n > 0 && (flags & WebSocket.FRAME_OP_BITMASK) !== WebSocket.FRAME_OP_CLOSE);
      this.options.onEnd?.(null);
    } catch (error) {
      this.options.onEnd?.(error);
      if (error instanceof WebSocketException) {
        if (error.code() === WebSocket.WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION)
          response.set('Sec-WebSocket-Version', WebSocket.WEBSOCKET_VERSION);
        switch (error.code()) {
          case WebSocket.WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION:
          case WebSocket.WS_ERR_NO_HANDSHAKE:
          case WebSocket.WS_ERR_HANDSHAKE_NO_VERSION:
          case WebSocket.WS_ERR_HANDSHAKE_NO_KEY:
            response.setStatusAndReason(400);
            response.setContentLength(0);
            response.send();
            break;
        }
      } else if (!(error instanceof IOException)) {
        throw error;
      }
    }
  }
}

export class WebSocketRequestHandlerFactory implements HTTPRequestHandlerFactory {
  constructor(private readonly options: EchoOptions = {}) {}

  createRequestHandler(): HTTPRequestHandler {
    return new WebSocketRequestHandler(this.options);
  }
}

export interface RunningServer {
  server: HTTPServer;
  port: number;
  /** The certificate clients trust, for a secure server. */
  tls?: SelfSigned;
  stop(): void;
}

let certificate: SelfSigned | undefined;

/** The test certificate (made once per test file). */
export function testCertificate(): SelfSigned {
  certificate ??= selfSignedCertificate();
  return certificate;
}

export async function startServer(
  factory: HTTPRequestHandlerFactory,
  options: { secure?: boolean; params?: HTTPServerParams; host?: string } = {},
): Promise<RunningServer> {
  const address = new SocketAddress(options.host ?? '127.0.0.1', 0);
  let socket: ServerSocket;
  let tlsMaterial: SelfSigned | undefined;
  if (options.secure === true) {
    tlsMaterial = testCertificate();
    const context = new Context(Context.TLS_SERVER_USE, {
      privateKey: tlsMaterial.key,
      certificate: tlsMaterial.cert,
      verificationMode: Context.VERIFY_NONE,
    });
    socket = await SecureServerSocket.createSecure(address, context);
  } else {
    socket = await ServerSocket.create(address);
  }
  const server = new HTTPServer(factory, socket, options.params ?? new HTTPServerParams());
  server.start();
  return {
    server,
    port: socket.address().port(),
    ...(tlsMaterial === undefined ? {} : { tls: tlsMaterial }),
    stop: () => server.stopAll(true),
  };
}

export async function startEchoServer(
  options: EchoOptions & { secure?: boolean; params?: HTTPServerParams } = {},
): Promise<RunningServer> {
  return startServer(new WebSocketRequestHandlerFactory(options), options);
}
