/**
 * The code blocks of the project's Markdown (README.md and the guides in docs/), with what the
 * test suite is to do with each, as the Markdown says in an HTML comment right before a block:
 *
 *   <!-- test: compile-only (why it cannot run by itself) -->
 *   <!-- test: compile-only (why)
 *   declare const socket: import('node:net').Socket;
 *   -->
 *   <!-- test: with echo-server at 127.0.0.1:8080 -->
 *   <!-- test: with tls-files; stdout includes "hello" -->
 *   <!-- test: nginx (what the test changes in it) -->
 *
 * Directives are separated by `;`:
 * - `compile-only (reason)`: type-checked, not run; the reason is required. Lines after the first
 *   are a prelude of declarations prepended to the block, for a fragment that uses names its
 *   surroundings would give it (the prelude is checked as part of the block).
 * - `with echo-server at HOST:PORT`: run, with a message-API echo server that the test starts on
 *   a free port; HOST:PORT in the block is replaced with that server's address.
 * - `with redis-server at HOST:PORT`: run, with a redis-server (test/helpers/redis-server.ts)
 *   that the test starts on a free port; HOST:PORT in the block is replaced with its address.
 * - `with tls-files`: run in a directory holding `key.pem` and `cert.pem` (a self-signed
 *   certificate for localhost, 127.0.0.1 and ::1).
 * - `stdout includes "text"` (a JSON string): the run's output must contain it.
 * - `SIGTERM after "text"` (a JSON string): for a program that runs until it is asked to stop
 *   (a server waiting for a termination request): once its output contains the text, the test
 *   sends it SIGTERM, and it must then exit by itself with status 0.
 * - `nginx (reason)`: an nginx configuration that test/docs/deployment-nginx.test.ts runs.
 * A TypeScript or JavaScript block without a comment is compiled and run; it must exit by itself
 * with status 0. Blocks in other languages are not compiled, except as `nginx` says.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The languages compiled (and run): TypeScript and JavaScript. */
export const COMPILED_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript']);

export interface CodeBlock {
  /** The Markdown file, relative to the project's root. */
  readonly file: string;
  /** The line of the block's first line of code (1-based). */
  readonly line: number;
  /** The fence's info string's first word, lower case ('' for none). */
  readonly language: string;
  readonly code: string;
  readonly directives: Directives;
}

export interface Directives {
  /** Set for compile-only blocks: why the block cannot run by itself. */
  readonly compileOnly?: string;
  /** Declarations prepended to a compile-only block. */
  readonly prelude: string;
  /** `with echo-server at HOST:PORT`: the address to replace with the test's echo server's. */
  readonly echoServerAt?: string;
  /** `with redis-server at HOST:PORT`: the address to replace with the test's redis-server's. */
  readonly redisServerAt?: string;
  readonly tlsFiles: boolean;
  readonly stdoutIncludes: readonly string[];
  /** `SIGTERM after "text"`: the output that says the program is ready to be asked to stop. */
  readonly sigtermAfter?: string;
  /** Set for nginx blocks: what the test changes in it. */
  readonly nginx?: string;
}

/** A block's place, as an editor takes it: `docs/guide.md:12`. */
export function where(block: { file: string; line: number }): string {
  return `${block.file}:${block.line}`;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const COMMENT_START = /^<!--\s*test:(.*)$/;

/** The `;`-separated directives; a `;` inside parentheses or quotes belongs to a reason. */
function splitDirectives(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '(') depth++;
    else if (!quoted && char === ')') depth = Math.max(0, depth - 1);
    if (char === ';' && depth === 0 && !quoted) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** Parses one annotation's text (after `test:`, before `-->`). Throws with what is wrong. */
export function parseDirectives(first: string, rest: readonly string[]): Directives {
  let compileOnly: string | undefined;
  let echoServerAt: string | undefined;
  let redisServerAt: string | undefined;
  let tlsFiles = false;
  let nginx: string | undefined;
  const stdoutIncludes: string[] = [];
  let sigtermAfter: string | undefined;
  for (const part of splitDirectives(first)) {
    let match: RegExpMatchArray | null;
    if ((match = /^compile-only\s*\((.+)\)$/.exec(part)) !== null) compileOnly = match[1].trim();
    else if ((match = /^nginx\s*\((.+)\)$/.exec(part)) !== null) nginx = match[1].trim();
    else if ((match = /^with echo-server at (\S+:\d+)$/.exec(part)) !== null)
      echoServerAt = match[1]!;
    else if ((match = /^with redis-server at (\S+:\d+)$/.exec(part)) !== null)
      redisServerAt = match[1]!;
    else if (part === 'with tls-files') tlsFiles = true;
    else if ((match = /^stdout includes (".*")$/.exec(part)) !== null)
      stdoutIncludes.push(JSON.parse(match[1]) as string);
    else if ((match = /^SIGTERM after (".*")$/.exec(part)) !== null)
      sigtermAfter = JSON.parse(match[1]) as string;
    else
      throw new Error(
        `unknown test directive ${JSON.stringify(part)} (compile-only (reason), ` +
          'with echo-server at HOST:PORT, with redis-server at HOST:PORT, with tls-files, stdout includes "...", SIGTERM after "...", nginx (reason))',
      );
  }
  if (/^compile-only\b/.test(first.trim()) && compileOnly === undefined)
    throw new Error('compile-only needs a reason in parentheses');
  const prelude = rest.join('\n').trimEnd();
  if (prelude.trim() !== '' && compileOnly === undefined)
    throw new Error('a prelude of declarations is for compile-only blocks only');
  return {
    ...(compileOnly === undefined ? {} : { compileOnly }),
    ...(echoServerAt === undefined ? {} : { echoServerAt }),
    ...(redisServerAt === undefined ? {} : { redisServerAt }),
    ...(nginx === undefined ? {} : { nginx }),
    ...(sigtermAfter === undefined ? {} : { sigtermAfter }),
    prelude,
    tlsFiles,
    stdoutIncludes,
  };
}

const NO_DIRECTIVES: Directives = { prelude: '', tlsFiles: false, stdoutIncludes: [] };

/**
 * The fenced code blocks of a Markdown text, each with the directives of the `<!-- test: -->`
 * comment before it (blank lines may separate them). Throws, naming the line, for an unclosed
 * fence, a malformed annotation, or an annotation that no code block follows.
 */
export function extractBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let pending: { directives: Directives; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const comment = COMMENT_START.exec(line);
    if (comment !== null) {
      const start = i;
      const first: string[] = [comment[1]];
      // The comment ends on its first line or on a later `-->`.
      while (!first[first.length - 1].includes('-->')) {
        if (++i >= lines.length)
          throw new Error(`${file}:${start + 1}: unclosed <!-- test: comment`);
        first.push(lines[i]);
      }
      const body = first.join('\n').replace(/-->\s*$/, '');
      const [head = '', ...rest] = body.split('\n');
      try {
        pending = { directives: parseDirectives(head, rest), line: start + 1 };
      } catch (error) {
        throw new Error(`${file}:${start + 1}: ${(error as Error).message}`, { cause: error });
      }
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence === null) {
      if (line.trim() !== '' && pending !== undefined)
        throw new Error(
          `${file}:${pending.line}: a <!-- test: comment must come right before a code block`,
        );
      continue;
    }
    const marker = fence[1];
    const language = fence[2].toLowerCase();
    const start = i + 1;
    const code: string[] = [];
    for (i++; ; i++) {
      if (i >= lines.length) throw new Error(`${file}:${start}: unclosed code block`);
      const closing = lines[i].trim();
      if (closing.startsWith(marker[0].repeat(marker.length)) && /^(`+|~+)$/.test(closing)) break;
      code.push(lines[i]);
    }
    blocks.push({
      file,
      line: start + 1,
      language,
      code: code.join('\n') + '\n',
      directives: pending?.directives ?? NO_DIRECTIVES,
    });
    pending = undefined;
  }
  if (pending !== undefined)
    throw new Error(
      `${file}:${pending.line}: a <!-- test: comment must come right before a code block`,
    );
  return blocks;
}

/** The blocks of a Markdown file, by its path relative to `root`. */
export function readBlocks(root: string, file: string): CodeBlock[] {
  return extractBlocks(file, readFileSync(path.join(root, file), 'utf8'));
}
