import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseBuildErrors, workspacePathOf, type BuildError } from '../../src/model/buildErrors';

/** Real output of each tool, captured from failing builds (paths rewritten to a build checkout's shape). */
function captured(name: string): string[] {
  return readFileSync(path.join(__dirname, 'fixtures', 'build-output', `${name}.txt`), 'utf8').split('\n');
}

function brief(errors: BuildError[]): string[] {
  return errors.map((e) => `${e.source} ${e.file}:${e.line}:${e.column} ${e.message}`);
}

describe('build errors from real toolchain output', () => {
  it('tsc: every error with its file, line, column and code', () => {
    const errors = parseBuildErrors(captured('tsc'));
    assert.deepEqual(brief(errors), [
      "tsc src/index.ts:1:7 Type 'string' is not assignable to type 'number'.",
      "tsc src/index.ts:3:15 Property 'toUpperCas' does not exist on type 'string'. Did you mean 'toUpperCase'?",
    ]);
    assert.equal(errors[0]?.code, 'TS2322');
  });

  it('tsc --pretty: the dash form', () => {
    const errors = parseBuildErrors(["src/a.ts:4:2 - error TS2304: Cannot find name 'x'."]);
    assert.deepEqual(brief(errors), ["tsc src/a.ts:4:2 Cannot find name 'x'."]);
  });

  it('ESLint stylish: rows under their file, with the rule as the code', () => {
    const errors = parseBuildErrors(captured('eslint'));
    assert.deepEqual(brief(errors), [
      "eslint /data/builds/d-1f3a/src/eslint/bad.js:1:7 'unused' is assigned a value but never used",
      "eslint /data/builds/d-1f3a/src/eslint/bad.js:2:18 'foo' is not defined",
    ]);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['no-unused-vars', 'no-undef'],
    );
  });

  it('esbuild: the message from the ✘ line, the place from the indented location', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('esbuild'))), ['esbuild es/src/main.ts:2:10 Unexpected ";"']);
  });

  it('Vite: a transform error and an import it cannot resolve', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('vite-syntax'))), [
      'esbuild /data/builds/d-1f3a/src/fw/src/main.ts:2:10 Unexpected ";"',
    ]);
    assert.deepEqual(brief(parseBuildErrors(captured('vite-resolve'))), [
      'rollup src/main.ts:1:1 Cannot resolve import "./missing-module"',
    ]);
  });

  it('Next.js: a type error from its checker and a webpack module error', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('next-type'))), [
      "next ./pages/index.tsx:2:9 Type error: Type 'string' is not assignable to type 'number'.",
    ]);
    assert.deepEqual(brief(parseBuildErrors(captured('next-webpack'))), [
      "next ./pages/index.js:1:1 Module not found: Can't resolve './missing'",
    ]);
  });

  it('Python: a SyntaxError at start-up and a traceback ending in the user’s own frame', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('py-syntax'))), [
      'python /data/builds/d-1f3a/src/py/app.py:3:1 SyntaxError: invalid syntax',
    ]);
    assert.deepEqual(brief(parseBuildErrors(captured('py-trace'))), [
      "python /data/builds/d-1f3a/src/py/run.py:4:1 KeyError: 'MISSING_KEY'",
    ]);
  });

  it('go build and go vet', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('go-build'))), [
      'go ./main.go:6:14 undefined: undefinedThing',
      'go ./main.go:7:6 declared and not used: x',
      'go ./main.go:7:14 cannot use "s" (untyped string constant) as int value in variable declaration',
    ]);
    assert.deepEqual(brief(parseBuildErrors(captured('go-vet'))), [
      'go main.go:6:14 fmt.Printf format %d has arg "str" of wrong type string',
    ]);
  });

  it('npm: a missing script and ERESOLVE land on package.json', () => {
    assert.deepEqual(brief(parseBuildErrors(captured('npm-missing'))), [
      'npm package.json:1:1 Missing script: "build"',
    ]);
    assert.deepEqual(brief(parseBuildErrors(captured('npm-eresolve'))), [
      'npm package.json:1:1 Unable to resolve the dependency tree: peer react@"^18.2.0" from react-dom@18.2.0',
    ]);
  });

  it('ANSI colours, CRLF and repeated reports do not change the result', () => {
    const line =
      "\u001b[96msrc/index.ts\u001b[0m(1,7): error TS2322: Type 'string' is not assignable to type 'number'.";
    assert.equal(parseBuildErrors([`${line}\r\n${line}`]).length, 1);
  });

  it('ordinary log lines are not errors', () => {
    const lines = [
      '> app@1.0.0 build',
      '> tsc -p .',
      'added 12 packages in 2s',
      'Listening on :3000',
      'src/x.ts is fine',
    ];
    assert.deepEqual(parseBuildErrors(lines), []);
  });
});

describe('workspace paths of reported files', () => {
  const files = new Set(['package.json', 'app.py', 'apps/web/src/main.ts', 'apps/web/package.json']);
  const exists = (p: string) => files.has(p);

  it('a relative path is relative to the app root dir', () => {
    assert.equal(workspacePathOf('./src/main.ts', 'apps/web', exists), 'apps/web/src/main.ts');
    assert.equal(workspacePathOf('src/main.ts', '/apps/web/', exists), 'apps/web/src/main.ts');
  });

  it('an absolute path into the build checkout maps by its longest existing suffix', () => {
    assert.equal(workspacePathOf('/data/builds/d-1/src/app.py', '', exists), 'app.py');
    assert.equal(
      workspacePathOf('/data/builds/d-1/src/apps/web/src/main.ts', 'apps/web', exists),
      'apps/web/src/main.ts',
    );
  });

  it('files outside the workspace and paths climbing out of it are dropped', () => {
    assert.equal(workspacePathOf('/usr/lib/python3.11/os.py', '', exists), undefined);
    assert.equal(workspacePathOf('../../etc/passwd', '', exists), undefined);
  });
});
