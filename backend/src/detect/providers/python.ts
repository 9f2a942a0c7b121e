import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserFacingError } from '../../domain/errors';
import type { RepoDir } from '../repo';
import { findPython } from '../toolchains';
import { satisfies } from '../versions';
import { findDjangoProject, findPythonEntry } from './pythonEntry';
import { readPythonProject, type PythonProject } from './pythonProject';
import type { Detected, Provider } from './types';

const MANIFESTS = ['requirements.txt', 'pyproject.toml', 'Pipfile'];
/** Where the app's virtualenv lives in the release (in the artifact, or its dependency layer): a release needs no network. */
export const VENV = '.venv';

/** Quiet, non-interactive pip; its cache stays in the builds' shared HOME (~/.cache/pip). */
const PYTHON_BUILD_ENV: Record<string, string> = {
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_NO_INPUT: '1',
  PIP_PROGRESS_BAR: 'off',
  PYTHONUNBUFFERED: '1',
  // Installers then write hash-checked .pyc files (py_compile's default with it set): the same bytes on every
  // install, and valid whatever the files' mtimes, so a venv packed with fixed mtimes (a dependency layer, read-only
  // at run time) neither differs per build nor recompiles on every start.
  SOURCE_DATE_EPOCH: '315532800',
  // uv and Poetry compile only when asked; without .pyc files a read-only venv compiles every module on every start.
  UV_COMPILE_BYTECODE: '1',
  UV_LINK_MODE: 'copy',
  UV_PYTHON_DOWNLOADS: 'never',
  // The system's CA store: behind a TLS-intercepting proxy uv's bundled roots fail where pip (pip.conf's cert) works.
  UV_SYSTEM_CERTS: '1',
};

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The venv on PATH: Procfile lines and start commands name its scripts (gunicorn, uvicorn) directly. */
export function inVenv(shell: string): string {
  return `export VIRTUAL_ENV="$PWD/${VENV}" PATH="$PWD/${VENV}/bin:$PATH" PYTHONUNBUFFERED=1; ${shell}`;
}

/**
 * The install commands; `extra` (the server the platform adds) joins pip's own invocation where pip resolves
 * everything, as one would type it. After a lockfile install it is a step of its own, so the lock decides first.
 */
function installSteps(dir: RepoDir, project: PythonProject, pipCmd: string, extra: string[]): string[] {
  const venvEnv = `VIRTUAL_ENV="$PWD/${VENV}"`;
  const pip = (args: string[]) => (args.length ? [`${pipCmd} install ${args.join(' ')}`] : []);
  switch (project.manager) {
    case 'pip-requirements':
      return pip(['-r requirements.txt', ...extra]);
    case 'uv':
      // uv fills the existing venv from uv.lock exactly; --inexact keeps uv itself and the server added below.
      return [
        `${pipCmd} install uv`,
        `UV_PROJECT_ENVIRONMENT=${VENV} ${VENV}/bin/uv sync --frozen --no-dev --inexact --no-install-project`,
        ...pip(extra),
      ];
    case 'poetry':
      return [
        `${pipCmd} install poetry`,
        `${venvEnv} ${VENV}/bin/poetry install --only main --no-root --no-interaction --compile`,
        ...pip(extra),
      ];
    case 'pipenv':
      return [
        `${pipCmd} install pipenv`,
        // --deploy refuses a Pipfile.lock that is out of date, the frozen install of pipenv.
        `${venvEnv} PIPENV_VERBOSITY=-1 ${VENV}/bin/pipenv install${dir.has('Pipfile.lock') ? ' --deploy' : ' --skip-lock'}`,
        ...pip(extra),
      ];
    case 'pip-project':
      return pip([...(project.buildable ? ['.'] : project.projectDeps.map(shellQuote)), ...extra]);
  }
}

interface StartDecision {
  start: string;
  server?: 'gunicorn' | 'uvicorn';
  build?: string;
  why: string;
}

function inferStart(dir: RepoDir, project: PythonProject): StartDecision | undefined {
  const bind = '${HOST:-0.0.0.0}';
  if (dir.isFile('manage.py')) {
    const django = findDjangoProject(dir);
    if (django) {
      // Django itself says whether static files are configured: collectstatic only runs with STATIC_ROOT set.
      const build =
        `if python manage.py shell -c "import sys; from django.conf import settings; sys.exit(0 if getattr(settings, 'STATIC_ROOT', None) else 3)"; ` +
        'then python manage.py collectstatic --noinput; else echo "collectstatic skipped: STATIC_ROOT is not set"; fi';
      if (django.asgi && project.deps.has('uvicorn'))
        return {
          start: `uvicorn ${django.module}.asgi:application --host ${bind} --port $PORT`,
          server: 'uvicorn',
          build,
          why: `Django (manage.py, ${django.module}/asgi.py): uvicorn ${django.module}.asgi:application`,
        };
      return {
        start: `gunicorn --bind ${bind}:$PORT ${django.module}.wsgi:application`,
        server: 'gunicorn',
        build,
        why: `Django (manage.py, ${django.module}/wsgi.py): gunicorn ${django.module}.wsgi:application`,
      };
    }
  }
  const frameworks = (['fastapi', 'starlette', 'flask'] as const).filter((f) => project.deps.has(f));
  const entry = findPythonEntry(dir, frameworks.length ? [...frameworks] : ['fastapi', 'starlette', 'flask']);
  if (!entry) return undefined;
  if (entry.framework === 'flask') {
    const target = entry.factory ? `'${entry.target}()'` : entry.target;
    return {
      start: `gunicorn --bind ${bind}:$PORT ${target}`,
      server: 'gunicorn',
      why: `Flask app in ${entry.file}: gunicorn ${entry.target}${entry.factory ? '()' : ''}`,
    };
  }
  return {
    start: `uvicorn ${entry.factory ? '--factory ' : ''}${entry.target} --host ${bind} --port $PORT`,
    server: 'uvicorn',
    why: `${entry.framework === 'fastapi' ? 'FastAPI' : 'Starlette'} app in ${entry.file}: uvicorn ${entry.target}`,
  };
}

function detectPython(dir: RepoDir): Detected | null {
  const manifest = MANIFESTS.find((m) => dir.isFile(m));
  if (!manifest) return null;
  const python = findPython();
  if (!python) {
    throw new UserFacingError(
      `this is a Python app (${manifest} in ${dir.label}), but the build host has no Python 3 that can create a ` +
        'virtualenv: install python3 with its venv module (Debian: python3-venv), or build with the Docker builder',
    );
  }
  const project = readPythonProject(dir, python.path);
  const notes: string[] = [];
  if (project.python) {
    const [wanted, where] = project.python;
    if (!satisfies(python.version, wanted)) {
      throw new UserFacingError(
        `${where} asks for Python ${wanted}, but the build host has Python ${python.version}: ` +
          `install a Python that satisfies ${wanted} on the build host, or change ${where}`,
      );
    }
    notes.push(`Python ${python.version} satisfies ${where} "${wanted}"`);
  }
  const decision = inferStart(dir, project);
  const server = decision?.server && !project.deps.has(decision.server) ? decision.server : undefined;
  if (server) notes.push(`the app does not list ${server}; adding it to the virtualenv to serve the app`);
  // --copies: the venv's python is a file, not a symlink to the host's (artifacts refuse absolute symlinks).
  // Seeding the venv with a pip of its own (ensurepip) takes seconds, most of a small app's install: where the
  // interpreter's pip can install into another environment, it fills the venv instead. Nothing needs pip in the venv
  // after the install; an image builder needs pip in its Python image (python:*-slim images have it).
  const venv = `python3 -m venv --copies${python.pipTargets ? ' --without-pip' : ''} ${VENV}`;
  const pip = python.pipTargets ? `python3 -m pip --python ${VENV}/bin/python` : `${VENV}/bin/pip`;
  const steps = [venv, ...installSteps(dir, project, pip, server ? [server] : [])];
  return {
    kind: 'python',
    install: { shell: steps.join(' && ') },
    ...(decision?.build ? { build: { shell: inVenv(decision.build) } } : {}),
    ...(decision ? { start: { shell: inVenv(`exec ${decision.start}`) } } : {}),
    buildEnv: PYTHON_BUILD_ENV,
    toolPaths: [dirname(python.path)],
    // The venv's python (a copy) runs on this interpreter's stdlib and libpython, so the running app needs its prefix too.
    toolDirs: [dirname(dirname(python.path))],
    notes,
    reason:
      `Python ${python.version} (${manifest}, ${project.manager}): virtualenv in ${VENV}/` +
      (decision ? `; ${decision.why}` : '; no web entry found yet (a Procfile web: line or startCommand names it)'),
  };
}

/**
 * A virtualenv's scripts start with the absolute path of the python they were installed for, which is the
 * build directory; the release runs elsewhere, so they are pointed at the venv's python through PATH.
 */
async function relocateVenv(root: string): Promise<void> {
  const bin = join(root, VENV, 'bin');
  const abs = join(root, VENV, 'bin', 'python');
  const entries = await readdir(bin, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const file = join(bin, e.name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined || !text.startsWith('#!') || !text.includes(abs)) continue;
    const fixed = text
      .replace(new RegExp(`^#!${escape(abs)}[\\d.]*`), '#!/usr/bin/env python3')
      .replace(new RegExp(`(['"])${escape(abs)}[\\d.]*\\1`, 'g'), '$1python3$1');
    await writeFile(file, fixed);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const pythonProvider: Provider = {
  name: 'python',
  detect: detectPython,
  wrapCommand: inVenv,
  async finalize(plan, output) {
    if (output.localRoot) await relocateVenv(output.localRoot);
    if (plan.start) return undefined;
    throw new UserFacingError(
      'this Python app has no web entry CloudSmith can find (no Django project, and no module creating a FastAPI, ' +
        'Starlette or Flask app): add a Procfile line such as `web: gunicorn myapp:app`, or set startCommand',
    );
  },
};
