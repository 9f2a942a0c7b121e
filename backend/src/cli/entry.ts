import { realpathSync } from 'node:fs';

/**
 * Whether `file` is the script node was started with. Compared by real path, because npx and npm run
 * commands through symlinks (node_modules/.bin/cloudsmith) whose names say nothing about their target.
 */
export function isEntryModule(file: string, argv1: string | undefined = process.argv[1]): boolean {
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(file);
  } catch {
    return false;
  }
}
