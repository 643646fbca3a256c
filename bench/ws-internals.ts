/**
 * ws's own building blocks, loaded from its files for side-by-side measurements: the masking
 * functions (pure JavaScript and with the native `bufferutil` addon), the Receiver and the UTF-8
 * check. ws's package `exports` hide lib/, so the files are required by absolute path.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const wsDir = path.dirname(require.resolve('ws'));

interface BufferUtil {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

function loadBufferUtil(native: boolean): BufferUtil {
  const file = path.join(wsDir, 'lib/buffer-util.js');
  delete require.cache[file];
  // ws reads WS_NO_BUFFER_UTIL when lib/buffer-util.js loads.
  if (native) delete process.env['WS_NO_BUFFER_UTIL'];
  else process.env['WS_NO_BUFFER_UTIL'] = '1';
  const util = require(file) as BufferUtil;
  delete process.env['WS_NO_BUFFER_UTIL'];
  delete require.cache[file];
  return util;
}

/** ws's masking without its native addon. */
export const wsPureJs = loadBufferUtil(false);
/** ws's masking with `bufferutil` (for 32 bytes and up). */
export const wsNative = loadBufferUtil(true);

/** The part of ws's Receiver (a Writable) that the benchmarks use. */
export interface WsReceiver {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export const WsReceiver = (require('ws') as { Receiver: new (options: object) => WsReceiver })
  .Receiver;

export const wsIsValidUtf8 = (
  require(path.join(wsDir, 'lib/validation.js')) as { isValidUTF8: (buf: Buffer) => boolean }
).isValidUTF8;
