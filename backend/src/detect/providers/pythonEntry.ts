import type { RepoDir } from '../repo';

export type PythonWebFramework = 'fastapi' | 'starlette' | 'flask';

export interface PythonEntry {
  framework: PythonWebFramework;
  /** module:attribute for the server, e.g. "app.main:app" or "app:create_app()". */
  target: string;
  factory: boolean;
  file: string;
}

/** Where apps usually keep their entry module, looked at first; then every other top-level module. */
const LIKELY = [
  'app.py',
  'main.py',
  'server.py',
  'wsgi.py',
  'asgi.py',
  'application.py',
  'api.py',
  'app/main.py',
  'app/__init__.py',
  'app/app.py',
  'src/main.py',
  'src/app.py',
];

// Line-anchored: an import or assignment at the start of a line is code, never part of a `#` comment.
const IMPORTS: Record<PythonWebFramework, RegExp> = {
  fastapi: /^(from\s+fastapi(\.\w+)*\s+import\s|import\s+fastapi\b)/m,
  starlette: /^(from\s+starlette(\.\w+)*\s+import\s|import\s+starlette\b)/m,
  flask: /^(from\s+flask\s+import\s|import\s+flask\b)/m,
};
const CONSTRUCTORS: Record<PythonWebFramework, string> = { fastapi: 'FastAPI', starlette: 'Starlette', flask: 'Flask' };

function moduleName(file: string): string {
  return file
    .replace(/\.py$/, '')
    .replace(/\/__init__$/, '')
    .split('/')
    .join('.');
}

/** Finds the module that creates the app object of `frameworks` (in order), from the modules that import them. */
export function findPythonEntry(dir: RepoDir, frameworks: PythonWebFramework[]): PythonEntry | undefined {
  const others = dir.list('.').filter((f) => f.endsWith('.py') && !LIKELY.includes(f));
  for (const file of [...LIKELY, ...others]) {
    const text = dir.read(file);
    if (text === undefined) continue;
    for (const framework of frameworks) {
      if (!IMPORTS[framework].test(text)) continue;
      const ctor = CONSTRUCTORS[framework];
      const assigned = new RegExp(`^(\\w+)\\s*(?::\\s*[\\w.]+\\s*)?=\\s*(?:\\w+\\.)?${ctor}\\(`, 'm').exec(text);
      if (assigned) return { framework, target: `${moduleName(file)}:${assigned[1]}`, factory: false, file };
      if (/^def\s+create_app\s*\(/m.test(text))
        return { framework, target: `${moduleName(file)}:create_app`, factory: true, file };
    }
  }
  return undefined;
}

/** A Django project's package: the directory with wsgi.py (and asgi.py), as `django-admin startproject` lays it out. */
export function findDjangoProject(dir: RepoDir): { module: string; asgi: boolean } | undefined {
  const candidates = dir.list('.').filter((d) => dir.isFile(`${d}/wsgi.py`) && dir.isFile(`${d}/settings.py`));
  const fallback = dir.list('.').filter((d) => dir.isFile(`${d}/wsgi.py`));
  const pick = candidates.at(0) ?? fallback.at(0);
  return pick === undefined ? undefined : { module: pick, asgi: dir.isFile(`${pick}/asgi.py`) };
}
