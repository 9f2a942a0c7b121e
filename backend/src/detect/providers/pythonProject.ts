import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../../domain/errors';
import type { RepoDir } from '../repo';

/** What the Python provider needs from a project's manifests. */
export interface PythonProject {
  /** Normalised names of the packages the app lists (PEP 503: lowercase, runs of -_. as -). */
  deps: Set<string>;
  /** Version requirement and where it came from, e.g. [">=3.10", "requires-python"]. */
  python?: [string, string];
  manager: 'uv' | 'poetry' | 'pipenv' | 'pip-requirements' | 'pip-project';
  /** pyproject.toml declares a build backend, so `pip install .` can install it. */
  buildable: boolean;
  /** PEP 621 dependencies, for a project that pip cannot build. */
  projectDeps: string[];
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The name at the start of a PEP 508 requirement ("Flask[async]>=3" → flask). */
function requirementName(req: string): string | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req);
  return m ? normalizeName(m[1]) : undefined;
}

function requirementsTxt(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('-'))
    .map((line) => requirementName(line))
    .filter((n): n is string => n !== undefined);
}

const tomlShape = z.object({
  project: z
    .object({ dependencies: z.array(z.string()).optional(), 'requires-python': z.string().optional() })
    .optional(),
  'build-system': z.looseObject({}).optional(),
  tool: z
    .object({ poetry: z.object({ dependencies: z.record(z.string(), z.unknown()).optional() }).optional() })
    .optional(),
  packages: z.record(z.string(), z.unknown()).optional(),
  requires: z.object({ python_version: z.string().optional() }).optional(),
});

// tomllib only parses: no code of the app runs. Python reads the TOML because the platform has no TOML parser of its own.
const READ_TOML = 'import json, sys, tomllib\nwith open(sys.argv[1], "rb") as f: print(json.dumps(tomllib.load(f)))';

function readToml(python: string, dir: RepoDir, rel: string): z.infer<typeof tomlShape> {
  let raw: unknown;
  try {
    raw = JSON.parse(
      execFileSync(python, ['-c', READ_TOML, join(dir.path, rel)], {
        encoding: 'utf8',
        timeout: 15_000,
        env: { PATH: '/usr/bin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  } catch (err) {
    const out = (err as { stderr?: string | Buffer }).stderr;
    const stderr = (typeof out === 'string' ? out : (out?.toString('utf8') ?? '')).trim().split('\n').pop();
    throw new UserFacingError(`${rel} in ${dir.label} is not valid TOML${stderr ? `: ${stderr}` : ''}`);
  }
  const parsed = tomlShape.safeParse(raw);
  if (!parsed.success) throw new UserFacingError(`${rel} in ${dir.label} has an unexpected shape`);
  return parsed.data;
}

export function readPythonProject(dir: RepoDir, python: string): PythonProject {
  const deps = new Set<string>();
  let python_: [string, string] | undefined;
  let manager: PythonProject['manager'] = 'pip-requirements';
  let buildable = false;
  let projectDeps: string[] = [];

  const requirements = dir.read('requirements.txt');
  if (requirements !== undefined) for (const n of requirementsTxt(requirements)) deps.add(n);

  if (dir.isFile('pyproject.toml')) {
    const toml = readToml(python, dir, 'pyproject.toml');
    projectDeps = toml.project?.dependencies ?? [];
    for (const d of projectDeps) {
      const n = requirementName(d);
      if (n) deps.add(n);
    }
    for (const n of Object.keys(toml.tool?.poetry?.dependencies ?? {})) if (n !== 'python') deps.add(normalizeName(n));
    const requires = toml.project?.['requires-python'];
    if (requires) python_ = [requires, 'requires-python in pyproject.toml'];
    buildable = toml['build-system'] !== undefined;
    if (requirements === undefined) {
      if (dir.has('uv.lock')) manager = 'uv';
      else if (dir.has('poetry.lock') || toml.tool?.poetry) manager = 'poetry';
      else manager = 'pip-project';
    }
  }
  if (dir.isFile('Pipfile') && requirements === undefined && manager === 'pip-requirements') {
    const pipfile = readToml(python, dir, 'Pipfile');
    for (const n of Object.keys(pipfile.packages ?? {})) deps.add(normalizeName(n));
    if (pipfile.requires?.python_version) python_ = [pipfile.requires.python_version, 'python_version in Pipfile'];
    manager = 'pipenv';
  }

  // The most specific pin wins: .python-version, then runtime.txt, then the manifests' ranges.
  const runtimeTxt = /^python-(\d+(?:\.\d+){0,2})/.exec(dir.read('runtime.txt')?.trim() ?? '');
  if (runtimeTxt) python_ = [runtimeTxt[1], 'runtime.txt'];
  const pinned = dir.read('.python-version')?.trim().split('\n')[0]?.trim();
  if (pinned && /^\d+(\.\d+){0,2}$/.test(pinned)) python_ = [pinned, '.python-version'];

  return { deps, manager, buildable, projectDeps, ...(python_ ? { python: python_ } : {}) };
}
