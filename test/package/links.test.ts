// Every relative link and every repository path that the Markdown files (README.md, CHANGELOG.md,
// docs/, bench/README.md: whatever .md files exist) and the comments in src/ mention exists in the
// repository: nothing points at a file a reader of the repository or of the package cannot open.
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

/** Generated or installed directories: not part of the repository. */
const NOT_IN_REPOSITORY = new Set(['.git', 'node_modules', 'build', 'dist', 'coverage']);
/** Made by the project's scripts and git-ignored (`npm run docs`): named, never committed. */
const GENERATED = ['docs/api'];

async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (NOT_IN_REPOSITORY.has(entry.name) || entry.name.startsWith('build-')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(full, keep)));
    else if (entry.isFile() && keep(entry.name)) found.push(full);
  }
  return found;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export interface Repository {
  root: string;
  /** The names at the top of the repository (src, test, README.md...): a path that starts with one is a repository path. */
  topLevel: ReadonlySet<string>;
  /** The base names of its Markdown files. */
  markdownNames: ReadonlySet<string>;
}

/** Inside the repository and present on disk. */
async function inRepository(repository: Repository, file: string): Promise<boolean> {
  const relative = path.relative(repository.root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return false;
  if (NOT_IN_REPOSITORY.has(relative.split(path.sep)[0])) return false;
  return exists(file);
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;
// A path-like token: optional ./ or ../ steps, then segments joined by '/'.
const PATH_TOKEN = /(?<![\w@.:/-])((?:\.{1,2}\/)*[\w@.-]+(?:\/[\w@.-]+)*\/?)/g;

/**
 * What `text` (Markdown, or a comment when `links` is false) points at that does not exist; `from`
 * is the file it is in (relative links are relative to its directory).
 */
export async function brokenReferences(
  repository: Repository,
  text: string,
  from: string,
  { links = true }: { links?: boolean } = {},
): Promise<string[]> {
  const broken: string[] = [];
  const dir = path.dirname(from);
  let prose = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, ''); // code blocks: code, not references
  if (links) {
    const targets = [
      ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
      ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ];
    for (const target of targets) {
      if (SCHEME.test(target) || target.startsWith('#')) continue;
      const file = decodeURIComponent(target.replace(/[#?].*$/, ''));
      const resolved = file.startsWith('/')
        ? path.join(repository.root, file)
        : path.resolve(dir, file);
      if (!(await inRepository(repository, resolved))) broken.push(`link ${target}`);
    }
    prose = prose.replace(/\]\([^)]*\)/g, ']').replace(/^\s*\[[^\]]+\]:.*$/gm, '');
  }
  prose = prose.replace(URL_TEXT, '');
  for (const [, raw] of prose.matchAll(PATH_TOKEN)) {
    const token = raw.replace(/[.,;:]+$/, '');
    const relative = /^\.{1,2}\//.test(token);
    const first = token.replace(/^(\.{1,2}\/)+/, '').split('/')[0];
    if (GENERATED.some((generated) => `${token}/`.startsWith(`${generated}/`))) continue;
    if (relative) {
      if (!(await inRepository(repository, path.resolve(dir, token)))) broken.push(`path ${token}`);
    } else if (token.includes('/') && repository.topLevel.has(first)) {
      if (
        !(await inRepository(repository, path.join(repository.root, token))) &&
        !(await inRepository(repository, path.resolve(dir, token)))
      )
        broken.push(`path ${token}`);
    } else if (!token.includes('/') && /^[\w.-]+\.md$/i.test(token)) {
      // A document named on its own must be one of the repository's.
      if (!repository.markdownNames.has(token)) broken.push(`document ${token}`);
    }
  }
  return broken;
}

async function loadRepository(): Promise<{ repository: Repository; markdown: string[] }> {
  const markdown = await filesUnder(projectRoot, (name) => name.endsWith('.md'));
  const topLevel = new Set(
    (await readdir(projectRoot)).filter(
      (name) => !NOT_IN_REPOSITORY.has(name) && !name.startsWith('build-'),
    ),
  );
  const markdownNames = new Set(markdown.map((file) => path.basename(file)));
  return { repository: { root: projectRoot, topLevel, markdownNames }, markdown };
}

/** The comments of a TypeScript source: line comments and block comments. */
function comments(source: string): string {
  return [...source.matchAll(/\/\*[\s\S]*?\*\/|(?<![:'"`\w])\/\/[^\n]*/g)]
    .map((m) => m[0])
    .join('\n');
}

describe('references to files', () => {
  it('finds what does not exist (the checker itself)', async () => {
    const { repository } = await loadRepository();
    const from = path.join(projectRoot, 'README.md');
    const text = [
      'See [the guide](docs/missing-guide.md), [ok](README.md#wsnet) and [web](https://example.com/x.md).',
      'The reference `../shared/reference/` and src/protocol/no-such-file.ts, but src/protocol/ exists.',
      'As poco-behaviour.md says; README.md and `node:test` and TCP/TLS are fine.',
      '```ts',
      "import { x } from './not-checked.js';",
      '```',
    ].join('\n');
    assert.deepEqual(await brokenReferences(repository, text, from), [
      'link docs/missing-guide.md',
      'path ../shared/reference/',
      'path src/protocol/no-such-file.ts',
      'document poco-behaviour.md',
    ]);
  });

  it('every link and repository path in the Markdown files exists', async () => {
    const { repository, markdown } = await loadRepository();
    assert.ok(
      markdown.includes(path.join(projectRoot, 'README.md')),
      'README.md is among the files checked',
    );
    const broken: string[] = [];
    for (const file of markdown)
      for (const problem of await brokenReferences(repository, await readFile(file, 'utf8'), file))
        broken.push(`${path.relative(projectRoot, file)}: ${problem}`);
    assert.deepEqual(broken, []);
  });

  it("every repository path in src/'s comments exists", async () => {
    const { repository } = await loadRepository();
    const sources = await filesUnder(path.join(projectRoot, 'src'), (name) => /\.c?ts$/.test(name));
    assert.ok(sources.length > 50, `${sources.length} source files`);
    const broken: string[] = [];
    for (const file of sources) {
      const text = comments(await readFile(file, 'utf8'));
      for (const problem of await brokenReferences(repository, text, file, { links: false }))
        broken.push(`${path.relative(projectRoot, file)}: ${problem}`);
    }
    assert.deepEqual(broken, []);
  });
});
