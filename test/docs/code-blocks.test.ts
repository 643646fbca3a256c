/**
 * Every TypeScript and JavaScript code block of README.md and the guides in docs/ is compiled
 * against the project's source, and every block that can run by itself is run, as written: the
 * documentation cannot drift from the API. What a block needs is said in the Markdown, in a
 * `<!-- test: ... -->` comment before it (test/docs/markdown-blocks.ts): a compile-only block
 * says why it cannot run.
 *
 * The blocks are written to a directory under build/ as modules of their own package, whose
 * node_modules holds `wsnet`: a package whose exports are the compiled source (build/src), so
 * `import ... from 'wsnet'` (and 'wsnet/messages', 'wsnet/protocol') runs the code under test,
 * while the type check maps the same names to src/ with `paths`. Other packages (ws, node:...)
 * resolve from the project's node_modules. One TypeScript program checks every block; each
 * runnable block then runs in a child process of its own, with a deadline.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import type { WebSocketServer } from '../../src/messages/index.js';
import { CliProcess, type CliExit } from '../helpers/cli.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { projectRoot } from '../helpers/paths.js';
import { RedisServer } from '../helpers/redis-server.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { COMPILED_LANGUAGES, readBlocks, where, type CodeBlock } from './markdown-blocks.js';

/** A block runs for at most this long (it starts servers, connects, closes: a second or so). */
const RUN_TIMEOUT_MS = 20_000;

const markdownFiles = [
  'README.md',
  ...readdirSync(path.join(projectRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const blocks = markdownFiles.flatMap((file) => readBlocks(projectRoot, file));
const compiled = blocks.filter((block) => COMPILED_LANGUAGES.has(block.language));

/** The entry points of the package, as its exports name them. */
const ENTRY_POINTS = {
  wsnet: 'index',
  'wsnet/messages': 'messages/index',
  'wsnet/protocol': 'protocol/index',
  'wsnet/redis': 'redis/index',
  'wsnet/whatwg': 'whatwg/index',
} as const;

interface Prepared {
  readonly block: CodeBlock;
  /** The block's source file. */
  readonly source: string;
  /** The compiled module that runs. */
  readonly output: string;
  /** Lines of the prelude before the block's first line. */
  readonly preludeLines: number;
}

function fileName(block: CodeBlock): string {
  const extension = block.language.startsWith('j') ? 'js' : 'ts';
  return `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}.${extension}`;
}

/** A fixed port in a block that runs would make the test depend on that port being free. */
function fixedPort(code: string): string | undefined {
  return /\bport:\s*[1-9]\d*|\.listen\(\s*[1-9]\d*|SocketAddress\([^)]*,\s*[1-9]\d*\s*\)/.exec(
    code,
  )?.[0];
}

/** Where a diagnostic is, in Markdown terms. */
function describeDiagnostic(diagnostic: ts.Diagnostic, prepared: Prepared | undefined): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  if (prepared === undefined)
    return `${path.relative(projectRoot, diagnostic.file.fileName)}:${line + 1}: ${message}`;
  const { block, preludeLines } = prepared;
  const place =
    line < preludeLines
      ? `${block.file}, the prelude in the comment before line ${block.line - 1}, line ${line + 1}`
      : `${block.file}:${block.line + line - preludeLines}:${character + 1}`;
  return `${place}: ${message}`;
}

/**
 * Runs a compiled block in a child process (test/helpers/cli.ts's runner, with the block as its
 * script); kills it at the deadline. With `sigtermAfter`, sends it SIGTERM once its output
 * contains that text.
 */
async function run(file: string, cwd: string, sigtermAfter?: string): Promise<CliExit> {
  const child = new CliProcess([], { script: file, cwd });
  child.endInput();
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  if (sigtermAfter !== undefined) {
    await child.waitFor(new RegExp(sigtermAfter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    child.kill('SIGTERM');
  }
  return child.exit(Math.max(1, deadline - Date.now()));
}

describe('code blocks of README.md and docs/*.md', { concurrency: 4 }, () => {
  let dir: string;
  const echoServers = new EchoServers();
  const redisAt = new Map<string, RedisServer>();
  const prepared = new Map<CodeBlock, Prepared>();
  const diagnostics = new Map<CodeBlock, string[]>();
  /** Diagnostics in no block (the project's own source): every block fails with them. */
  let elsewhere: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(projectRoot, 'build', 'docs-blocks-'));
    // A package scope of its own: 'wsnet' must not resolve to the project itself (its exports
    // name dist/, which may be stale), but to node_modules/wsnet below.
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'wsnet-docs-blocks', private: true, type: 'module' }),
    );
    const wsnet = path.join(dir, 'node_modules', 'wsnet');
    await mkdir(wsnet, { recursive: true });
    await symlink(path.join(projectRoot, 'build', 'src'), path.join(wsnet, 'build'), 'dir');
    await writeFile(
      path.join(wsnet, 'package.json'),
      JSON.stringify({
        name: 'wsnet',
        type: 'module',
        exports: Object.fromEntries(
          Object.entries(ENTRY_POINTS).map(([name, entry]) => [
            name.replace(/^wsnet/, '.'),
            `./build/${entry}.js`,
          ]),
        ),
      }),
    );
    const { key, cert } = selfSignedCertificate();
    await writeFile(path.join(dir, 'key.pem'), key);
    await writeFile(path.join(dir, 'cert.pem'), cert);

    // One echo server per address the blocks use; each block gets its real address.
    const echoAt = new Map<string, WebSocketServer>();
    for (const block of compiled) {
      const at = block.directives.echoServerAt;
      if (at !== undefined && !echoAt.has(at)) echoAt.set(at, await echoServers.start());
    }

    // One redis-server per address the blocks use, likewise.
    for (const block of compiled) {
      const at = block.directives.redisServerAt;
      if (at !== undefined && !redisAt.has(at)) redisAt.set(at, await RedisServer.start());
    }

    const out = path.join(dir, 'out');
    await mkdir(out);
    for (const block of compiled) {
      const { prelude, echoServerAt, redisServerAt } = block.directives;
      let code = block.code;
      if (echoServerAt !== undefined) {
        const { port } = echoAt.get(echoServerAt)!.address();
        assert.ok(code.includes(echoServerAt), `${where(block)}: ${echoServerAt} is not in it`);
        code = code.replaceAll(echoServerAt, `127.0.0.1:${port}`);
      }
      if (redisServerAt !== undefined) {
        const { port } = redisAt.get(redisServerAt)!;
        assert.ok(code.includes(redisServerAt), `${where(block)}: ${redisServerAt} is not in it`);
        code = code.replaceAll(redisServerAt, `127.0.0.1:${port}`);
      }
      const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
      const name = fileName(block);
      const source = path.join(dir, name);
      await writeFile(source, prelude === '' ? code : `${prelude}\n${code}`);
      prepared.set(block, {
        block,
        source,
        output: path.join(out, name.replace(/\.ts$/, '.js')),
        preludeLines,
      });
    }

    // The project's compiler options, with the package's names mapped to its source. Unused
    // names are allowed: a snippet may show a parameter (`request`) it does not use.
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(projectRoot, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    assert.ok(config !== undefined, 'tsconfig.json could not be read');
    const options: ts.CompilerOptions = {
      ...config.options,
      rootDir: undefined,
      outDir: out,
      sourceMap: false,
      noEmit: false,
      noUnusedLocals: false,
      noUnusedParameters: false,
      allowJs: true,
      checkJs: true,
      paths: Object.fromEntries(
        Object.entries(ENTRY_POINTS).map(([name, entry]) => [
          name,
          [path.join(projectRoot, 'src', `${entry}.ts`)],
        ]),
      ),
    };
    const bySource = new Map([...prepared.values()].map((p) => [p.source, p]));
    const program = ts.createProgram([...bySource.keys()], options);
    // The blocks' own diagnostics only: the checker looks into src/ as far as the blocks use it
    // (checking all of src/ is the project's tsc run, and would take most of this test's time).
    const all = [
      ...program.getConfigFileParsingDiagnostics(),
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...[...bySource.keys()].flatMap((file) => {
        const sourceFile = program.getSourceFile(file);
        return [
          ...program.getSyntacticDiagnostics(sourceFile),
          ...program.getSemanticDiagnostics(sourceFile),
        ];
      }),
    ];
    for (const diagnostic of all) {
      const owner = diagnostic.file && bySource.get(diagnostic.file.fileName);
      const text = describeDiagnostic(diagnostic, owner);
      if (owner === undefined) elsewhere.push(text);
      else diagnostics.set(owner.block, [...(diagnostics.get(owner.block) ?? []), text]);
    }
    for (const { source, output } of bySource.values()) {
      const result = program.emit(program.getSourceFile(source), (_name, text) =>
        ts.sys.writeFile(output, text),
      );
      elsewhere = elsewhere.concat(result.diagnostics.map((d) => describeDiagnostic(d, undefined)));
    }
  });

  after(async () => {
    await echoServers.closeAll();
    for (const redis of redisAt.values()) await redis.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('finds the guides and their code blocks', () => {
    assert.ok(markdownFiles.length > 1, 'docs/ has no guides');
    assert.ok(compiled.length > 0, 'no TypeScript or JavaScript blocks');
    for (const file of markdownFiles)
      assert.ok(
        blocks.some((block) => block.file === file),
        `${file} has no code block`,
      );
  });

  for (const block of compiled) {
    const mode =
      block.directives.compileOnly !== undefined
        ? `compiles (compile-only: ${block.directives.compileOnly})`
        : 'compiles and runs';
    it(`${where(block)} ${mode}`, async () => {
      const errors = [...elsewhere, ...(diagnostics.get(block) ?? [])];
      assert.deepEqual(errors, [], `${where(block)} does not compile:\n${errors.join('\n')}`);
      if (block.directives.compileOnly !== undefined) return;
      const port = fixedPort(block.code);
      assert.equal(
        port,
        undefined,
        `${where(block)} runs but listens on a fixed port (${port}): use port 0, or mark it compile-only`,
      );
      // A block that does not exit (or never prints its SIGTERM cue) in time fails here, with
      // its output.
      const result = await run(prepared.get(block)!.output, dir, block.directives.sigtermAfter);
      const output = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
      assert.equal(
        result.code,
        0,
        `${where(block)} exited with ${result.code ?? result.signal}\n${output}`,
      );
      for (const expected of block.directives.stdoutIncludes)
        assert.ok(
          result.stdout.includes(expected),
          `${where(block)} did not print ${JSON.stringify(expected)}\n${output}`,
        );
    });
  }
});
