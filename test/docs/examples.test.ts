// The `@example` blocks of the API docs are correct TypeScript against the real API: each is
// extracted from its doc comment in src/, written out as a module that imports 'wsnet' (mapped to
// src/), and type-checked with the project's strictness. The main entry points must have one.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import { projectRoot } from '../helpers/paths.js';

interface Example {
  /** Where it is: `src/...ts:line` of the code fence. */
  readonly origin: string;
  /** The first line of the declaration the comment documents, e.g. `export class WebSocket {`. */
  readonly documents: string;
  readonly code: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * The ```ts fences that follow an `@example` tag in the doc comments of `file`. A fence ends its
 * example; a block tag other than `@example` ends the comment's examples.
 */
function examplesOf(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const examples: Example[] = [];
  let inComment = false;
  let inExample = false;
  let fence: { start: number; code: string[] } | null = null;
  let found: Array<{ start: number; code: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inComment) {
      if (/^\s*\/\*\*/.test(line) && !/\*\/\s*$/.test(line)) {
        inComment = true;
        inExample = false;
        found = [];
      }
      continue;
    }
    if (/^\s*\*\/\s*$/.test(line)) {
      inComment = false;
      const documents = lines.slice(i + 1).find((l) => l.trim() !== '') ?? '';
      for (const { start, code } of found)
        examples.push({
          origin: `${path.relative(projectRoot, file)}:${start + 1}`,
          documents: documents.trim(),
          code,
        });
      continue;
    }
    const content = line.replace(/^\s*\* ?/, '');
    if (fence !== null) {
      if (content.startsWith('```')) {
        found.push({ start: fence.start, code: fence.code.join('\n') + '\n' });
        fence = null;
      } else {
        fence.code.push(content);
      }
      continue;
    }
    if (content.startsWith('@example')) inExample = true;
    else if (/^@\w/.test(content)) inExample = false;
    else if (inExample && /^```(ts|typescript)\s*$/.test(content)) fence = { start: i, code: [] };
  }
  return examples;
}

const srcDir = path.join(projectRoot, 'src');
const examples = sourceFiles(srcDir).flatMap((file) =>
  examplesOf(file, readFileSync(file, 'utf8')),
);

const scratch = await mkdtemp(path.join(tmpdir(), 'wsnet-examples-'));
after(() => rm(scratch, { recursive: true, force: true }));

describe('@example blocks of the API docs', () => {
  it('are found in the doc comments (the extraction itself works)', () => {
    const sample = examplesOf(
      path.join(srcDir, 'sample.ts'),
      [
        '/**',
        ' * Text with a fence that is not an example:',
        ' * ```ts',
        ' * not(an, example);',
        ' * ```',
        ' *',
        ' * @example A title',
        ' * ```ts',
        " * import { connect } from 'wsnet';",
        ' * ```',
        ' * @throws not an example',
        ' * ```ts',
        ' * nor(this);',
        ' * ```',
        ' */',
        'export function sample(): void {}',
      ].join('\n'),
    );
    assert.deepEqual(sample, [
      {
        origin: 'src/sample.ts:8',
        documents: 'export function sample(): void {}',
        code: "import { connect } from 'wsnet';\n",
      },
    ]);
  });

  it('cover the main entry points', () => {
    const documented = new Set(examples.map((e) => e.documents));
    const required = [
      'export async function connect(',
      'export class WebSocketServer',
      'export class WebSocketConnection',
      'export class WebSocket {',
      'static async connect(',
      'export class HTTPServer {',
      'export class HTTPClientSession {',
      'export class Connection {',
    ];
    assert.deepEqual(
      required.filter((declaration) => ![...documented].some((d) => d.startsWith(declaration))),
      [],
      'entry points without an @example',
    );
    // POCO's WebSocket shows both sides.
    assert.ok(
      examples.filter((e) => e.documents.startsWith('export class WebSocket {')).length >= 2,
    );
  });

  it('type-check against the real API', async () => {
    const files = new Map<string, Example>();
    await Promise.all(
      examples.map(async (example, index) => {
        // .mts: an ES module whatever the directory, so top-level await is allowed.
        const file = path.join(scratch, `example-${index}.mts`);
        files.set(file, example);
        await writeFile(file, example.code);
      }),
    );
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(projectRoot, 'node_modules/@types')],
      // The package's name resolves to its sources (the entry points of package.json's exports).
      paths: {
        wsnet: [path.join(srcDir, 'index.ts')],
        'wsnet/protocol': [path.join(srcDir, 'protocol/index.ts')],
        'wsnet/messages': [path.join(srcDir, 'messages/index.ts')],
        'wsnet/whatwg': [path.join(srcDir, 'whatwg/index.ts')],
      },
    };
    const program = ts.createProgram([...files.keys()], options);
    const problems: string[] = [];
    for (const [file, example] of files) {
      const source = program.getSourceFile(file);
      assert.ok(source !== undefined, `${example.origin}: not compiled`);
      for (const diagnostic of [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ]) {
        const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        problems.push(`${example.origin} (example line ${line + 1}): ${message}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(files.size >= 10, `only ${files.size} examples found`);
  });
});
