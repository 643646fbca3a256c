/**
 * The server `wsnet serve` runs: the message API's standalone `WebSocketServer`, or, with
 * `--static`, a `node:http` (`node:https`) server of our own that serves the files, with the
 * WebSocket server attached to its upgrades. Either way one port, TLS from PEM files, and
 * failures to start turned into exit status 6 with what to do about them.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { WebSocketServer, type ServerOptions } from '../../messages/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { serveFiles } from './static-files.js';

/** How long a client has to send its request head (node:http's own default is 60 s). */
const REQUEST_TIMEOUT = 30_000;

export interface PemFiles {
  readonly key: string;
  readonly cert: string;
}

export interface ListenSettings {
  readonly port: number;
  readonly host: string;
  readonly tls?: PemFiles;
  /** A directory's real path (see `staticRoot`): serve its files to plain HTTP requests. */
  readonly staticRoot?: string;
  /** What the WebSocket server is given besides where to listen. */
  readonly webSocket: Omit<ServerOptions, 'port' | 'host' | 'tls' | 'server' | 'noServer'>;
}

export interface RunningServer {
  readonly webSocket: WebSocketServer;
  /** The URL of the static files, with --static. */
  readonly filesUrl?: string;
  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void>;
}

/** Reads the key and certificate and checks that they make a TLS context; else exit 6. */
export async function readPemFiles(keyFile: string, certFile: string): Promise<PemFiles> {
  const read = async (file: string, option: string) => {
    try {
      return await fs.readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(
        `cannot read ${option} ${file}: ${(error as Error).message}`,
        ExitCode.LOCAL,
      );
    }
  };
  const pem = { key: await read(keyFile, '--key'), cert: await read(certFile, '--cert') };
  try {
    tls.createSecureContext(pem);
  } catch (error) {
    throw new CliError(
      `cannot use --key ${keyFile} with --cert ${certFile}: ${(error as Error).message}`,
      ExitCode.LOCAL,
      "Both must be PEM files, the key the certificate's private key.",
    );
  }
  return pem;
}

export async function startServer(settings: ListenSettings): Promise<RunningServer> {
  try {
    return settings.staticRoot === undefined
      ? await startStandalone(settings)
      : await startWithFiles(settings, settings.staticRoot);
  } catch (error) {
    throw listenFailure(error, settings);
  }
}

/** Only WebSocket handshakes: plain HTTP requests get the message API's 426. */
async function startStandalone(settings: ListenSettings): Promise<RunningServer> {
  const webSocket = await WebSocketServer.listen({
    ...settings.webSocket,
    port: settings.port,
    host: settings.host,
    ...(settings.tls === undefined ? {} : { tls: settings.tls }),
  });
  return { webSocket, close: () => webSocket.close() };
}

async function startWithFiles(settings: ListenSettings, root: string): Promise<RunningServer> {
  const options: http.ServerOptions = {
    headersTimeout: REQUEST_TIMEOUT,
    requestTimeout: REQUEST_TIMEOUT,
  };
  const files = serveFiles(root);
  const server =
    settings.tls === undefined
      ? http.createServer(options, files)
      : https.createServer({ ...options, ...settings.tls }, files);
  const webSocket = new WebSocketServer({ ...settings.webSocket, server });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => webSocket.emit('error', error));
  const { address, family, port } = webSocket.address();
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    webSocket,
    filesUrl: `${settings.tls === undefined ? 'http' : 'https'}://${host}:${port}/`,
    close: async () => {
      // The WebSocket connections first (1001, closing handshakes), then the HTTP ones.
      await webSocket.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Why the server could not listen, and what to do about it. */
function listenFailure(error: unknown, { port, host }: ListenSettings): Error {
  if (error instanceof CliError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(
        `cannot listen on ${where}: the port is in use`,
        ExitCode.LOCAL,
        'Choose another with --port (--port 0 picks a free one).',
      );
    case 'EACCES':
      return new CliError(
        `cannot listen on ${where}: permission denied`,
        ExitCode.LOCAL,
        'Ports below 1024 need privileges: choose another with --port.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(
        `cannot listen on ${where}: the name ${host} does not resolve`,
        ExitCode.LOCAL,
        'Use an address: --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).',
      );
    case 'EADDRNOTAVAIL':
      return new CliError(
        `cannot listen on ${where}: ${host} is not an address of this machine`,
        ExitCode.LOCAL,
        'Use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).',
      );
    default:
      return new CliError(`cannot listen on ${where}: ${(error as Error).message}`, ExitCode.LOCAL);
  }
}
