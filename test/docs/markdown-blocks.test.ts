/**
 * The Markdown reader behind the documentation tests: blocks, their lines, and the
 * `<!-- test: -->` directives, including every way an annotation can be wrong (each must fail
 * loudly, or a typo would quietly stop a block from being run).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractBlocks } from './markdown-blocks.js';

describe('extractBlocks', () => {
  it('finds fenced blocks with their language and first line, unannotated ones run', () => {
    const text = ['# Title', '', '```ts', 'const a = 1;', '```', '', '~~~sh', 'ls', '~~~', ''].join(
      '\n',
    );
    const blocks = extractBlocks('doc.md', text);
    assert.deepEqual(
      blocks.map(({ line, language, code }) => ({ line, language, code })),
      [
        { line: 4, language: 'ts', code: 'const a = 1;\n' },
        { line: 8, language: 'sh', code: 'ls\n' },
      ],
    );
    assert.equal(blocks[0].directives.compileOnly, undefined);
    assert.deepEqual(blocks[0].directives.stdoutIncludes, []);
  });

  it('reads every directive, and a prelude for compile-only blocks', () => {
    const text = [
      '<!-- test: compile-only (needs a server; really) -->',
      '```ts',
      'x;',
      '```',
      '<!-- test: compile-only (a fragment)',
      'declare const socket: unknown;',
      '-->',
      '',
      '```typescript',
      'socket;',
      '```',
      '<!-- test: with echo-server at 127.0.0.1:8080; with tls-files; stdout includes "a; b"; with redis-server at 127.0.0.1:6379 -->',
      '```js',
      '```',
      '<!-- test: nginx (ports change) -->',
      '```nginx',
      'events {}',
      '```',
    ].join('\n');
    const [first, second, third, fourth] = extractBlocks('doc.md', text);
    assert.equal(first.directives.compileOnly, 'needs a server; really');
    assert.equal(second.directives.compileOnly, 'a fragment');
    assert.equal(second.directives.prelude, 'declare const socket: unknown;');
    assert.equal(second.line, 10);
    assert.equal(third.directives.echoServerAt, '127.0.0.1:8080');
    assert.equal(third.directives.redisServerAt, '127.0.0.1:6379');
    assert.equal(third.directives.tlsFiles, true);
    assert.deepEqual(third.directives.stdoutIncludes, ['a; b']);
    assert.equal(third.code, '\n');
    assert.equal(fourth.directives.nginx, 'ports change');
  });

  it('keeps a fence of another kind or length inside a block', () => {
    const text = ['````md', '```ts', 'inner', '```', '````'].join('\n');
    const [block] = extractBlocks('doc.md', text);
    assert.equal(block.code, '```ts\ninner\n```\n');
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['an unknown directive', ['<!-- test: complie-only (typo) -->', '```ts', '```'], /unknown/],
    ['compile-only without a reason', ['<!-- test: compile-only -->', '```ts', '```'], /reason/],
    [
      'a prelude on a block that runs',
      ['<!-- test: with tls-files', 'declare const x: 1;', '-->', '```ts', '```'],
      /prelude/,
    ],
    [
      'an annotation before text',
      ['<!-- test: with tls-files -->', 'text', '```ts', '```'],
      /right before/,
    ],
    ['an annotation at the end', ['```ts', '```', '<!-- test: with tls-files -->'], /right before/],
    ['an unclosed comment', ['<!-- test: compile-only (x)', 'declare const x: 1;'], /unclosed/],
    ['an unclosed block', ['```ts', 'code'], /unclosed code block/],
  ];
  for (const [what, lines, error] of refusals)
    it(`refuses ${what}, naming the file and line`, () => {
      assert.throws(
        () => extractBlocks('doc.md', lines.join('\n')),
        (thrown: Error) => error.test(thrown.message) && /^doc\.md:\d+: /.test(thrown.message),
      );
    });
});
