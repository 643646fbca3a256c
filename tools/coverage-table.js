/**
 * A node:test reporter that prints per-module line and branch coverage of src/protocol/ and
 * src/io/ (`npm run coverage:protocol`), with the source line of every branch no test took.
 *
 * Node 20's coverage reads the compiled JavaScript in build/ (it cannot follow TypeScript source
 * maps), so the figures are those of build/src/**.js. To point at the TypeScript line, each
 * module is transpiled again with a source map (typescript's transpileModule, which emits what
 * tsc emits under isolatedModules) and the line is looked up there; if the emit differs from
 * build/ the JavaScript line is printed instead, marked `.js:`.
 *
 * Pass/fail of the tests is left to a second reporter (see package.json); this one only sets the
 * exit code when src/protocol/ is below COVERAGE_PROTOCOL_MIN_BRANCH percent of branches: 100 by
 * default, the bar src/protocol/ is held at (test/tooling/protocol-coverage.test.ts checks it
 * under `npm test`).
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const MODULE_DIRS = ['src/protocol/', 'src/io/'];

/** Maps a line of build/src/x.js to src/x.ts, or returns undefined if the emits differ. */
function lineMapper(root, buildFile) {
  const source = path
    .join(root, path.relative(path.join(root, 'build'), buildFile))
    .replace(/\.js$/, '.ts');
  let text;
  try {
    text = readFileSync(source, 'utf8');
  } catch {
    return undefined;
  }
  const out = ts.transpileModule(text, {
    fileName: source,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      sourceMap: true,
    },
  });
  const emitted = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  if (emitted.trimEnd() !== readFileSync(buildFile, 'utf8').trimEnd()) return undefined;
  const map = new SourceMap(JSON.parse(out.sourceMapText));
  return (line) => {
    // Take the first mapped column on the line (the branch starts there or further right).
    const jsLine = out.outputText.split('\n')[line - 1] ?? '';
    for (let col = jsLine.search(/\S/); col >= 0 && col < jsLine.length; col++) {
      const entry = map.findEntry(line - 1, col);
      if (entry.generatedLine === line - 1 && entry.originalLine !== undefined)
        return entry.originalLine + 1;
    }
    return undefined;
  };
}

const pct = (covered, total) => (total === 0 ? 100 : (100 * covered) / total);

export default async function* coverageTable(source) {
  for await (const event of source) {
    if (event.type !== 'test:coverage') continue;
    const { workingDirectory: root, files } = event.data.summary;
    const rows = [];
    const sums = new Map(MODULE_DIRS.map((dir) => [dir, { lines: [0, 0], branches: [0, 0] }]));
    for (const file of files) {
      const rel = path.relative(path.join(root, 'build'), file.path).split(path.sep).join('/');
      const dir = MODULE_DIRS.find((d) => rel.startsWith(d));
      if (!dir) continue;
      const sum = sums.get(dir);
      sum.lines[0] += file.coveredLineCount;
      sum.lines[1] += file.totalLineCount;
      sum.branches[0] += file.coveredBranchCount;
      sum.branches[1] += file.totalBranchCount;
      const missed = [...new Set(file.branches.filter((b) => b.count === 0).map((b) => b.line))];
      let where = '';
      if (missed.length > 0) {
        const map = lineMapper(root, file.path);
        where = missed
          .map((line) => {
            const tsLine = map?.(line);
            return tsLine === undefined ? `.js:${line}` : String(tsLine);
          })
          .join(' ');
      }
      rows.push([
        rel.replace(/\.js$/, '.ts'),
        file.coveredLinePercent,
        file.coveredBranchPercent,
        where,
      ]);
    }
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    const width = Math.max(...rows.map((r) => r[0].length), 20);
    let text = `${'module'.padEnd(width)} | lines % | branches % | branches not taken (line)\n`;
    text += `${'-'.repeat(width)}-|---------|------------|--------------------------\n`;
    for (const [name, lines, branches, where] of rows)
      text += `${name.padEnd(width)} | ${lines.toFixed(2).padStart(7)} | ${branches.toFixed(2).padStart(10)} | ${where}\n`;
    text += '\n';
    for (const [dir, sum] of sums) {
      text += `${(dir + '** (all)').padEnd(width)} | ${pct(...sum.lines)
        .toFixed(2)
        .padStart(7)} | ${pct(...sum.branches)
        .toFixed(2)
        .padStart(10)} | ${sum.branches[0]}/${sum.branches[1]} branches\n`;
    }
    const setting = process.env.COVERAGE_PROTOCOL_MIN_BRANCH ?? '100';
    const min = Number(setting);
    if (setting.trim() === '' || !(min >= 0 && min <= 100))
      throw new Error(
        `COVERAGE_PROTOCOL_MIN_BRANCH must be a percentage, not ${JSON.stringify(setting)}`,
      );
    const protocol = sums.get('src/protocol/');
    if (pct(...protocol.branches) < min) {
      text += `\nsrc/protocol/ branch coverage is below ${min} % (COVERAGE_PROTOCOL_MIN_BRANCH)\n`;
      process.exitCode = 1;
    }
    yield text;
  }
}
