/**
 * What a line typed in the interactive session asks for: a text message, or one of the slash
 * commands. Parsing only (no I/O), so that every command's syntax errors are the same wherever
 * the line came from.
 */
import { Buffer } from 'node:buffer';

export type Command =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'ping'; readonly data: string | undefined }
  | { readonly kind: 'binary'; readonly bytes: Buffer }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }
  | { readonly kind: 'quit' }
  | { readonly kind: 'help' }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'invalid'; readonly message: string };

export const COMMAND_HELP = `Commands:
  /ping [data]            send a ping (data: up to 125 bytes) and show the round-trip time
  /binary HEX             send a binary message given in hex, spaces allowed: /binary 01 02 ff
  /file PATH              send a file's bytes as one binary message
  /close [code] [reason]  close with that code (default 1000) and reason, and exit
  /quit                   close normally (1000) and exit; Ctrl-D does the same
  /help                   this list
  //text                  send a text message that starts with '/'
Any other line is sent as a text message.
Ctrl-C closes normally; a second Ctrl-C drops the connection.`;

/** The command a typed line asks for. */
export function parseCommand(line: string): Command {
  if (line === '') return { kind: 'nothing' };
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  const match = /^\/(\S+)\s*(.*)$/s.exec(line);
  const [, name = '', rest = ''] = match ?? [];
  switch (name) {
    case 'ping':
      return { kind: 'ping', data: rest === '' ? undefined : rest };
    case 'binary':
      return parseBinary(rest);
    case 'file':
      return rest === ''
        ? { kind: 'invalid', message: 'usage: /file PATH' }
        : { kind: 'file', path: rest };
    case 'close':
      return parseClose(rest);
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return {
        kind: 'invalid',
        message: `unknown command /${name}: /help lists the commands; //${name} sends '/${name}' as text`,
      };
  }
}

function parseBinary(rest: string): Command {
  const hex = rest.replace(/\s+/g, '').replace(/^0x/i, '');
  if (hex === '' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex))
    return {
      kind: 'invalid',
      message: `usage: /binary HEX, an even number of hex digits such as '01 02 ff', not '${rest}'`,
    };
  return { kind: 'binary', bytes: Buffer.from(hex, 'hex') };
}

function parseClose(rest: string): Command {
  if (rest === '') return { kind: 'close', code: 1000, reason: '' };
  const [, codeText = '', reason = ''] = /^(\S+)\s*(.*)$/s.exec(rest) ?? [];
  const code = /^\d{4}$/.test(codeText) ? Number(codeText) : Number.NaN;
  // The codes an endpoint may send (RFC 6455 §7.4): the wire codes 1000-2999 the RFC defines
  // for sending, and 3000-4999 for libraries and applications.
  if (!(code >= 1000 && code <= 4999))
    return {
      kind: 'invalid',
      message: `usage: /close [CODE] [REASON], CODE from 1000 to 4999, not '${codeText}'`,
    };
  if (Buffer.byteLength(reason) > 123)
    return {
      kind: 'invalid',
      message: `a close reason is at most 123 bytes of UTF-8; this one has ${Buffer.byteLength(reason)}`,
    };
  return { kind: 'close', code, reason };
}
