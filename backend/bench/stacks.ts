/**
 * The stacks `npm run bench` measures: a fixture of backend/test/fixtures each, the steps a user would type by
 * hand to get it serving (clone, install, build, start), and the one-line code change a warm redeploy ships.
 */
export interface BenchStack {
  label: string;
  fixture: string;
  /** Hand-typed steps after the clone, run in the clone with PORT set; the last one is the server, left running. */
  steps: string[][];
  /** Toolchain dirs put first on PATH for the hand-typed steps, as the platform's plan does for its build. */
  toolPaths?: string[];
  /** The file a code change touches (its lockfile stays the same). */
  changed: string;
  /** A comment in the file's language, so the change is a real source change that does not alter behaviour. */
  comment: (n: number) => string;
}

const js = (n: number) => `\n// bench change ${n}\n`;

export const STACKS: BenchStack[] = [
  {
    label: 'Node server',
    fixture: 'node-express',
    steps: [
      ['npm', 'ci'],
      ['npm', 'start'],
    ],
    changed: 'server.js',
    comment: js,
  },
  {
    label: 'Vite SPA',
    fixture: 'vite-spa',
    steps: [
      ['npm', 'ci'],
      ['npm', 'run', 'build'],
      ['npx', 'vite', 'preview', '--host', '127.0.0.1', '--port', '$PORT', '--strictPort'],
    ],
    changed: 'src/main.js',
    comment: js,
  },
  {
    label: 'Next.js',
    fixture: 'next-standalone',
    steps: [
      ['npm', 'ci'],
      ['npm', 'run', 'build'],
      ['npm', 'start'],
    ],
    changed: 'pages/index.js',
    comment: js,
  },
  {
    label: 'Python (Flask)',
    fixture: 'python-flask',
    steps: [
      ['python3', '-m', 'venv', '.venv'],
      ['.venv/bin/pip', 'install', '-r', 'requirements.txt', 'gunicorn'],
      ['.venv/bin/gunicorn', '--bind', '127.0.0.1:$PORT', 'app:app'],
    ],
    toolPaths: ['/root/.pyenv/versions/3.11.7/bin'],
    changed: 'app.py',
    comment: (n) => `\n# bench change ${n}\n`,
  },
  {
    label: 'Go',
    fixture: 'go-server',
    steps: [['go', 'build', '-o', 'server', './cmd/go-server'], ['./server']],
    toolPaths: ['/usr/local/go/bin'],
    changed: 'cmd/go-server/main.go',
    comment: js,
  },
];
