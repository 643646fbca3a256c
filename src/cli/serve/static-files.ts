/**
 * `--static DIR`: the files of a directory, to plain HTTP GET and HEAD requests on the
 * WebSocket server's port (a page and its scripts beside the endpoint they talk to).
 *
 * Only what is inside DIR is served: a path with a `..` segment is refused (403), and so is a
 * symbolic link that leads out of DIR. Names that start with a dot (`.git`, `.env`) are not
 * served (404): they are rarely meant for a browser. A directory is served as its index.html (a
 * request without the trailing slash is redirected, so that the page's relative links work);
 * there are no directory listings. Anything but GET and HEAD is 405.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { CliError, ExitCode } from '../exit-codes.js';

const TEXT = 'charset=utf-8';

/** Content types by extension: what browsers need to run a page (scripts, styles, wasm...). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': `text/html; ${TEXT}`,
  '.htm': `text/html; ${TEXT}`,
  '.css': `text/css; ${TEXT}`,
  '.js': `text/javascript; ${TEXT}`,
  '.mjs': `text/javascript; ${TEXT}`,
  '.json': `application/json; ${TEXT}`,
  '.map': `application/json; ${TEXT}`,
  '.txt': `text/plain; ${TEXT}`,
  '.md': `text/markdown; ${TEXT}`,
  '.csv': `text/csv; ${TEXT}`,
  '.xml': `application/xml; ${TEXT}`,
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** DIR's real path, once it is known to be a directory the server can read; else exit 6. */
export async function staticRoot(dir: string): Promise<string> {
  try {
    const root = await fs.realpath(dir);
    const stats = await fs.stat(root);
    if (!stats.isDirectory())
      throw new CliError(`--static ${dir} is not a directory`, ExitCode.LOCAL);
    await fs.access(root, fs.constants.R_OK | fs.constants.X_OK);
    return root;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot serve --static ${dir}: ${(error as Error).message}`, ExitCode.LOCAL);
  }
}

/** A request handler that serves the files under `root` (a real path, from `staticRoot`). */
export function serveFiles(
  root: string,
): (request: http.IncomingMessage, response: http.ServerResponse) => void {
  return (request, response) => {
    serveFile(root, request, response).catch((error: unknown) => {
      // A failure of our own (not the client's): a 500 if nothing was sent yet.
      if (!response.headersSent) answer(request, response, 500, `${(error as Error).message}\n`);
      else response.destroy();
    });
  };
}

type Resolution = { file: string } | { status: number; headers?: Record<string, string> };

async function serveFile(
  root: string,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    answer(request, response, 405, 'Only GET and HEAD are served here.\n', {
      Allow: 'GET, HEAD',
    });
    return;
  }
  const resolution = await resolve(root, request.url ?? '/');
  if ('status' in resolution) {
    answer(request, response, resolution.status, undefined, resolution.headers);
    return;
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(resolution.file, 'r');
  } catch (error) {
    answer(request, response, statusOf(error));
    return;
  }
  try {
    const stats = await handle.stat();
    response.writeHead(200, {
      'Content-Type': contentType(resolution.file),
      'Content-Length': stats.size,
      'Last-Modified': stats.mtime.toUTCString(),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (request.method === 'HEAD') {
    await handle.close();
    response.end();
    return;
  }
  // pipeline closes the file (autoClose) and the response on any error of either.
  pipeline(handle.createReadStream(), response, () => undefined);
}

/** The file a request path names inside `root`, or the status that refuses it. */
async function resolve(root: string, url: string): Promise<Resolution> {
  if (!url.startsWith('/')) return { status: 400 };
  const end = url.search(/[?#]/);
  const rawPath = end === -1 ? url : url.slice(0, end);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0')) return { status: 400 };
  // Backslashes are separators too: on Windows, path.join would read them as such.
  const segments = decoded.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return { status: 403 };
  if (segments.some((segment) => segment.startsWith('.'))) return { status: 404 };

  let file: string;
  try {
    file = await fs.realpath(path.join(root, ...segments));
  } catch (error) {
    return { status: statusOf(error) };
  }
  // A symbolic link inside DIR may lead anywhere: only what is really under DIR is served.
  if (!isInside(root, file)) return { status: 403 };
  let stats = await fs.stat(file);
  if (stats.isDirectory()) {
    if (!rawPath.endsWith('/')) {
      // Rebuilt from the segments: the raw path could be `//elsewhere.example`, which a
      // browser would follow to another site.
      const location = `/${segments.map(encodeURIComponent).join('/')}/${url.slice(rawPath.length)}`;
      return { status: 301, headers: { Location: location } };
    }
    try {
      file = await fs.realpath(path.join(file, 'index.html'));
      stats = await fs.stat(file);
    } catch (error) {
      return { status: statusOf(error) };
    }
    if (!isInside(root, file)) return { status: 403 };
  }
  // Devices, sockets, FIFOs (a FIFO would hold the request open forever): not files to serve.
  if (!stats.isFile()) return { status: 404 };
  return { file };
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}

function statusOf(error: unknown): number {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG')
    return 404;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  throw error;
}

const REASONS: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** A short plain-text answer (no body to HEAD). */
function answer(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  status: number,
  body = `${status} ${REASONS[status] ?? ''}\n`,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'Content-Type': `text/plain; ${TEXT}`,
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
