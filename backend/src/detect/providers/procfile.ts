import type { RepoDir } from '../repo';
import type { Provider } from './types';

/** Heroku's Procfile: `type: command` lines; `web` serves, `release` runs once before a release goes live. */
export function readProcfile(dir: RepoDir): Map<string, string> {
  const lines = new Map<string, string>();
  const text = dir.read('Procfile');
  if (text === undefined) return lines;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(line);
    if (m && !lines.has(m[1])) lines.set(m[1], m[2]);
  }
  return lines;
}

/** A Procfile in a repo no language provider recognises: its web line runs as is, with nothing to install. */
export const procfileProvider: Provider = {
  name: 'procfile',
  detect(dir) {
    const web = readProcfile(dir).get('web');
    if (web === undefined) return null;
    return { kind: 'procfile', start: { shell: web }, reason: `Procfile in ${dir.label}: web: ${web}` };
  },
};
