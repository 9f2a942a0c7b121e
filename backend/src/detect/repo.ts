import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { UserFacingError } from '../domain/errors';

/** Files larger than this are never read by detection: a manifest or an entry module is small. */
const MAX_READ_BYTES = 512 * 1024;

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
}

/**
 * Read-only view of the app's root dir for providers: only what is really there decides, and nothing
 * outside the dir is reachable (paths come from the providers, never from the repo's contents).
 */
export class RepoDir {
  constructor(
    readonly path: string,
    /** How the dir is named to the user: "the repository root" or the rootDir. */
    readonly label: string,
  ) {}

  has(rel: string): boolean {
    return existsSync(join(this.path, rel));
  }

  isFile(rel: string): boolean {
    const file = join(this.path, rel);
    return existsSync(file) && statSync(file).isFile();
  }

  isDir(rel: string): boolean {
    const dir = join(this.path, rel);
    return existsSync(dir) && statSync(dir).isDirectory();
  }

  /** A file's text, or undefined when it is missing, not a file, or too large to be a manifest. */
  read(rel: string): string | undefined {
    if (!this.isFile(rel)) return undefined;
    const file = join(this.path, rel);
    if (statSync(file).size > MAX_READ_BYTES) return undefined;
    return readFileSync(file, 'utf8');
  }

  /** Entries of a directory (names only), sorted so detection is deterministic. */
  list(rel = '.'): string[] {
    if (!this.isDir(rel)) return [];
    return readdirSync(join(this.path, rel)).sort();
  }

  json<T>(rel: string, schema: z.ZodType<T>): T | undefined {
    const text = this.read(rel);
    if (text === undefined) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new UserFacingError(`${rel} in ${this.label} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new UserFacingError(`${rel} in ${this.label} is invalid: ${formatIssues(parsed.error)}`);
    return parsed.data;
  }
}
