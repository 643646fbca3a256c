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

/**
 * Loads one of ws's lib/ files afresh, with or without the native addon: ws reads
 * WS_NO_BUFFER_UTIL when lib/buffer-util.js loads, so every ws module is dropped from the
 * require cache before and after.
 */
function loadWsFile<T>(file: string, native: boolean): T {
  const forget = () => {
    for (const key of Object.keys(require.cache))
      if (key.startsWith(wsDir)) delete require.cache[key];
  };
  forget();
  if (native) delete process.env['WS_NO_BUFFER_UTIL'];
  else process.env['WS_NO_BUFFER_UTIL'] = '1';
  try {
    return require(path.join(wsDir, file)) as T;
  } finally {
    delete process.env['WS_NO_BUFFER_UTIL'];
    forget();
  }
}

/** ws's masking without its native addon. */
export const wsPureJs = loadWsFile<BufferUtil>('lib/buffer-util.js', false);
/** ws's masking with `bufferutil` (for 32 bytes and up). */
export const wsNative = loadWsFile<BufferUtil>('lib/buffer-util.js', true);

/** The part of ws's Receiver (a Writable) that the benchmarks use. */
export interface WsReceiver {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

type ReceiverClass = new (options: object) => WsReceiver;

/** ws's Receiver, unmasking in JavaScript. */
export const WsReceiverJs = loadWsFile<ReceiverClass>('lib/receiver.js', false);
/** ws's Receiver with `bufferutil`, as it runs where the addon is installed. */
export const WsReceiverNative = loadWsFile<ReceiverClass>('lib/receiver.js', true);

export const wsIsValidUtf8 = (
  require(path.join(wsDir, 'lib/validation.js')) as { isValidUTF8: (buf: Buffer) => boolean }
).isValidUTF8;
