/**
 * Build errors read back out of a failed deployment's log, so the editor can put them on the lines that caused
 * them. Each toolchain prints its own shape; every pattern here was taken from real output of that tool (the
 * captures live in test/unit/fixtures/build-output/). Pure: no VS Code, no file system.
 */

export type Toolchain = 'tsc' | 'eslint' | 'esbuild' | 'rollup' | 'next' | 'python' | 'go' | 'npm';

export interface BuildError {
  /** As the tool printed it: absolute inside the build's checkout, or relative to the app's root dir. */
  file: string;
  /** 1-based, as tools print them. */
  line: number;
  column: number;
  message: string;
  severity: 'error' | 'warning';
  source: Toolchain;
  code?: string;
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters by definition
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const SOURCE_FILE = String.raw`[^\s()'"]+?\.(?:[cm]?[jt]sx?|vue|svelte|astro|py|go|css|scss|json)`;

const TSC = new RegExp(String.raw`^(${SOURCE_FILE})\((\d+),(\d+)\): (error|warning) (TS\d+): (.+)$`);
const TSC_PRETTY = new RegExp(String.raw`^(${SOURCE_FILE}):(\d+):(\d+) - (error|warning) (TS\d+): (.+)$`);
const ESLINT_FILE = new RegExp(String.raw`^(/${SOURCE_FILE}|[A-Za-z]:\\${SOURCE_FILE})$`);
const ESLINT_ROW = /^\s+(\d+):(\d+)\s+(error|warning)\s+(.+?)(?:\s{2,}(\S+))?$/;
const ESBUILD_HEAD = /^[✘▲X] \[(ERROR|WARNING)\] (.+)$/;
const ESBUILD_AT = new RegExp(String.raw`^\s+(${SOURCE_FILE}):(\d+):(\d+):$`);
const ESBUILD_INLINE = new RegExp(String.raw`^(${SOURCE_FILE}):(\d+):(\d+): (ERROR|WARNING): (.+)$`);
const ROLLUP = new RegExp(String.raw`^(?:\[[\w:-]+\] )?(${SOURCE_FILE}) \((\d+):(\d+)\): (.+)$`);
const ROLLUP_RESOLVE = new RegExp(
  String.raw`(?:failed to resolve import|Could not resolve) "([^"]+)" from "(${SOURCE_FILE})"`,
  'i',
);
const NEXT_AT = new RegExp(String.raw`^(\./${SOURCE_FILE})(?::(\d+):(\d+))?$`);
const NEXT_MESSAGE = /^(Type error|Error|SyntaxError|Module not found): ?(.*)$/;
const SWC_AT = new RegExp(String.raw`^\s*[,╭]-+\[(${SOURCE_FILE}):(\d+):(\d+)\]$`);
const SWC_MESSAGE = /^\s*[x×] (.+)$/;
const PY_FRAME = /^\s*File "([^"]+)", line (\d+)(?:, in .*)?$/;
const PY_EXCEPTION = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|KeyError|StopIteration)(?:: (.*))?$/;
const GO = /^(\.{0,2}\/?[^\s:]+\.go):(\d+):(\d+): (.+)$/;
const NPM_LINE = /^npm (?:ERR!|error) ?(.*)$/;

/** Python frames that are not the user's code: the interpreter, the standard library and installed packages. */
function isLibraryFrame(file: string): boolean {
  return file.startsWith('<') || /\/(?:lib\/python[\d.]+|site-packages|dist-packages)\//.test(file);
}

interface Scan {
  out: BuildError[];
  lines: readonly string[];
}

/** Every build error the log shows, in log order, each once. */
export function parseBuildErrors(rawLines: readonly string[]): BuildError[] {
  const lines = rawLines.flatMap((text) => text.split(/\r?\n/)).map((line) => line.replace(ANSI, '').trimEnd());
  const scan: Scan = { out: [], lines };
  parseLineShapes(scan);
  parsePythonTracebacks(scan);
  parseNpm(scan);
  const seen = new Set<string>();
  return scan.out.filter((e) => {
    const key = `${e.file}\u0000${e.line}\u0000${e.column}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function push(scan: Scan, e: Omit<BuildError, 'line' | 'column'> & { line: string | number; column: string | number }) {
  scan.out.push({ ...e, line: Number(e.line) || 1, column: Number(e.column) || 1 });
}

/** A Next.js error whose location line `at` matched as file, line, column. */
function pushNextError(scan: Scan, at: RegExpExecArray, message: string): void {
  push(scan, { file: at[1], line: at[2], column: at[3], severity: 'error', source: 'next', message });
}

/** The shapes a tool prints on one line, or on a head line followed by a location line. */
function parseLineShapes(scan: Scan): void {
  const { lines } = scan;
  let eslintFile: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = TSC.exec(line) ?? TSC_PRETTY.exec(line))) {
      const [, file = '', ln = 1, col = 1, sev, code, message = ''] = m;
      push(scan, {
        file,
        line: ln,
        column: col,
        severity: sev === 'warning' ? 'warning' : 'error',
        source: 'tsc',
        code,
        message,
      });
    } else if ((m = ESBUILD_INLINE.exec(line))) {
      const [, file = '', ln = 1, col = 1, sev, message = ''] = m;
      push(scan, {
        file,
        line: ln,
        column: col,
        severity: sev === 'WARNING' ? 'warning' : 'error',
        source: 'esbuild',
        message,
      });
    } else if ((m = ESBUILD_HEAD.exec(line))) {
      const at = findAhead(lines, i, 4, ESBUILD_AT);
      if (at) {
        const [, file = '', ln = 1, col = 1] = at;
        const message = m[2];
        push(scan, {
          file,
          line: ln,
          column: col,
          severity: m[1] === 'WARNING' ? 'warning' : 'error',
          source: 'esbuild',
          message,
        });
      }
    } else if ((m = ROLLUP_RESOLVE.exec(line))) {
      push(scan, {
        file: m[2],
        line: 1,
        column: 1,
        severity: 'error',
        source: 'rollup',
        message: `Cannot resolve import "${m[1]}"`,
      });
    } else if ((m = NEXT_AT.exec(line))) {
      const next = lines[i + 1];
      const msg = NEXT_MESSAGE.exec(next);
      if (msg) pushNextError(scan, m, `${msg[1]}: ${msg[2]}`.trim());
    } else if ((m = SWC_AT.exec(line))) {
      const head = findBehind(lines, i, 3, SWC_MESSAGE);
      if (head) pushNextError(scan, m, head[1]);
    } else if ((m = ROLLUP.exec(line))) {
      const [, file = '', ln = 1, col = 1, message = ''] = m;
      push(scan, { file, line: ln, column: col, severity: 'error', source: 'rollup', message });
    } else if ((m = GO.exec(line))) {
      const [, file = '', ln = 1, col = 1, message = ''] = m;
      push(scan, { file, line: ln, column: col, severity: 'error', source: 'go', message });
    } else if ((m = ESLINT_FILE.exec(line))) {
      eslintFile = m[1];
      continue;
    } else if (eslintFile && (m = ESLINT_ROW.exec(line))) {
      const [, ln = 1, col = 1, sev, message = '', rule] = m;
      push(scan, {
        file: eslintFile,
        line: ln,
        column: col,
        severity: sev === 'warning' ? 'warning' : 'error',
        source: 'eslint',
        code: rule,
        message,
      });
      continue;
    }
    if (line.trim() === '') eslintFile = undefined;
  }
}

function findAhead(lines: readonly string[], from: number, within: number, re: RegExp): RegExpExecArray | null {
  for (let j = from + 1; j <= from + within && j < lines.length; j++) {
    const m = re.exec(lines[j]);
    if (m) return m;
  }
  return null;
}

function findBehind(lines: readonly string[], from: number, within: number, re: RegExp): RegExpExecArray | null {
  for (let j = from - 1; j >= from - within && j >= 0; j--) {
    const m = re.exec(lines[j]);
    if (m) return m;
  }
  return null;
}

/**
 * A traceback (or a SyntaxError report) ends in the exception line; the error belongs on the deepest frame in the
 * user's own code, since frames in the standard library or site-packages are not lines the user can fix.
 */
function parsePythonTracebacks(scan: Scan): void {
  let frame: { file: string; line: string } | undefined;
  for (const line of scan.lines) {
    const f = PY_FRAME.exec(line);
    if (f) {
      const [, file = '', ln = '1'] = f;
      if (!isLibraryFrame(file)) frame = { file, line: ln };
      continue;
    }
    if (!frame || /^\s/.test(line)) continue;
    const e = PY_EXCEPTION.exec(line);
    if (e)
      push(scan, {
        file: frame.file,
        line: frame.line,
        column: 1,
        severity: 'error',
        source: 'python',
        message: e[2] ? `${e[1]}: ${e[2]}` : e[1],
      });
    frame = undefined;
  }
}

/** npm's own failures are about package.json: a missing script, or a dependency tree it cannot resolve. */
function parseNpm(scan: Scan): void {
  const npm = scan.lines.map((l) => NPM_LINE.exec(l)?.[1]?.trim()).filter((l): l is string => l !== undefined);
  const missing = npm.find((l) => l.startsWith('Missing script:'));
  if (missing)
    push(scan, { file: 'package.json', line: 1, column: 1, severity: 'error', source: 'npm', message: missing });
  if (npm.some((l) => l.startsWith('ERESOLVE'))) {
    const conflict = npm.find((l) => l.startsWith('peer ') || l.startsWith('Could not resolve dependency'));
    const peer = npm[npm.indexOf(conflict ?? '') + 1];
    const detail = conflict?.startsWith('Could not') && peer ? peer : conflict;
    push(scan, {
      file: 'package.json',
      line: 1,
      column: 1,
      severity: 'error',
      source: 'npm',
      code: 'ERESOLVE',
      message: `Unable to resolve the dependency tree${detail ? `: ${detail}` : ''}`,
    });
  }
}

/**
 * The workspace path of a file a tool reported. Relative paths are relative to the app's root dir; absolute ones
 * point into the build's own checkout, whose location the editor does not know, so the longest suffix that exists
 * in the workspace wins. Undefined when the file is not in the workspace (a dependency, a generated file).
 */
export function workspacePathOf(
  reported: string,
  rootDir: string,
  exists: (repoPath: string) => boolean,
): string | undefined {
  const root = rootDir.replace(/^\.?\/+|\/+$/g, '');
  const join = (rel: string) => (root ? `${root}/${rel}` : rel);
  const clean = reported.replace(/\\/g, '/');
  if (!clean.startsWith('/')) {
    const rel = clean.replace(/^\.\//, '');
    if (rel.split('/').includes('..')) return undefined;
    return exists(join(rel)) ? join(rel) : undefined;
  }
  const parts = clean.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(i).join('/');
    if (exists(join(rel))) return join(rel);
    if (root && exists(rel)) return rel;
  }
  return undefined;
}
