import { createHash } from 'node:crypto';

const MAX_LABEL = 63;
const HASH_LENGTH = 6;

export type PreviewTarget = { kind: 'pr'; pr: number; ref: string } | { kind: 'branch'; ref: string };

/**
 * Names a preview may take, in order of preference: `<app>-pr-<n>` / `<app>-<branch-slug>` when that is a whole,
 * exact DNS label, then the same cut short with a hash of what it previews. Two branches that slug alike
 * (`feat/x`, `feat-x`), a branch called `pr-3`, or a long name each end on the hashed name, which is the
 * same for the same app and target and differs between targets; the store's name claim settles the rest.
 */
export function previewNameCandidates(app: string, target: PreviewTarget): string[] {
  const tail = target.kind === 'pr' ? `pr-${target.pr}` : slug(target.ref);
  const plain = `${app}-${tail}`;
  const key = target.kind === 'pr' ? `pr\0${target.pr}` : `branch\0${target.ref}`;
  const hash = createHash('sha256').update(`${app}\0${key}`).digest('hex').slice(0, HASH_LENGTH);
  const hashed = `${trimLabel(plain.slice(0, MAX_LABEL - HASH_LENGTH - 1))}-${hash}`;
  const exact =
    plain.length <= MAX_LABEL &&
    tail !== '' &&
    (target.kind === 'pr' || (tail === target.ref && !/^pr-\d+$/.test(tail)));
  return exact ? [plain, hashed] : [hashed];
}

function slug(ref: string): string {
  return trimLabel(
    ref
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-'),
  );
}

function trimLabel(raw: string): string {
  return raw.replace(/^-+|-+$/g, '');
}
