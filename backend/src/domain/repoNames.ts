/**
 * GitHub's naming rules, checked before any request so user input never reaches a URL, a git argv or a
 * shell unvalidated. The API's request schema reuses these.
 */

/** An account (user or organisation) login. */
export const OWNER_PATTERN = /^[A-Za-z0-9-]{1,39}$/;
/** A repository name (GitHub turns anything else into '-'). */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
export const MAX_REF_LENGTH = 255;

export function isValidOwner(owner: string): boolean {
  return OWNER_PATTERN.test(owner);
}

export function isValidRepoName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

/** "owner/name" split, or undefined when it is not a valid GitHub repository name. */
export function parseRepoFullName(fullName: string): { owner: string; name: string } | undefined {
  const parts = fullName.split('/');
  if (parts.length !== 2) return undefined;
  const [owner, name] = parts;
  return isValidOwner(owner) && isValidRepoName(name) ? { owner, name } : undefined;
}

export function isValidRepoFullName(fullName: string): boolean {
  return parseRepoFullName(fullName) !== undefined;
}

/**
 * A branch, tag or commit sha as `git check-ref-format --allow-onelevel` accepts it, and never one git
 * could read as an option (leading '-').
 */
export function isValidRef(ref: string): boolean {
  if (ref.length === 0 || ref.length > MAX_REF_LENGTH) return false;
  if (ref.startsWith('-') || ref === '@') return false;
  // Control characters, space and the characters git reserves for revision syntax.
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return false;
  if (ref.includes('..') || ref.includes('@{') || ref.includes('//')) return false;
  if (ref.startsWith('/') || ref.endsWith('/') || ref.endsWith('.')) return false;
  return ref.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

export function isCommitSha(ref: string): boolean {
  return /^[0-9a-f]{40}$/i.test(ref);
}
