import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each app's uid, kept under `dir` (the data dir's sandbox/) and shared by every platform process on that data dir
 * (an API, Buildrelays and Docksages of one host). A number is reserved by making `uid-claims/<uid>` (mkdir: one
 * process wins it) and given to the app by hard-linking `uids/<app>` into place (link: one process wins that too).
 * So no two apps ever share a uid, and an app keeps the first one it got, whichever processes ask at once. A single
 * `uids.json` written whole by each process lost or doubled entries when two processes added apps together (one
 * app's tree was handed to a uid its build then did not run as), so it is only read, for the apps it names.
 */
export function appUid(dir: string, app: string, base: number): number {
  const uids = join(dir, 'uids');
  const known = readUid(uids, app);
  if (known !== undefined) return known;
  const legacy = readLegacy(dir);
  if (Object.hasOwn(legacy, app)) return legacy[app];
  const taken = join(dir, 'uid-claims');
  mkdirSync(uids, { recursive: true, mode: 0o700 });
  mkdirSync(taken, { recursive: true, mode: 0o700 });
  // Numbers are dense: start past those already out, above every number the old file gave.
  let uid = Math.max(base + readdirSync(taken).length, ...Object.values(legacy).map((u) => u + 1));
  for (; ; uid++) {
    try {
      mkdirSync(join(taken, String(uid)));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const draft = join(uids, `.${app}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(draft, String(uid), { mode: 0o600 });
  try {
    linkSync(draft, join(uids, app));
    return uid;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process gave the app its uid first: that one stands, and this number goes back.
    rmdirSync(join(taken, String(uid)));
    const theirs = readUid(uids, app);
    if (theirs === undefined) throw new Error(`the uid of ${app} is unreadable`);
    return theirs;
  } finally {
    unlinkSync(draft);
  }
}

function readUid(uids: string, app: string): number | undefined {
  try {
    const uid = Number(readFileSync(join(uids, app), 'utf8'));
    return Number.isSafeInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}

function readLegacy(dir: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(join(dir, 'uids.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}
