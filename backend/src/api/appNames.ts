import { createHash } from 'node:crypto';

const MAX_LABEL = 63;

/**
 * An app's name is its DNS label: `<repo>-<owner>`, lowercased, stable for the same user and repo.
 * Different repos can clean up to one label (`web.x` and `web-x`); when the label is claimed by another owner or
 * repo, a short hash of this owner and repo keeps names unique. The store's atomic claim is what decides.
 */
export function baseAppName(repo: string): string {
  const [owner = '', name = ''] = repo.toLowerCase().split('/');
  return label(`${name}-${owner}`);
}

export function disambiguatedAppName(repo: string, ownerId: string): string {
  const suffix = createHash('sha256').update(`${ownerId}\0${repo.toLowerCase()}`).digest('hex').slice(0, 8);
  return label(`${baseAppName(repo).slice(0, MAX_LABEL - suffix.length - 1)}-${suffix}`);
}

function label(raw: string): string {
  const cleaned = raw
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return cleaned.slice(0, MAX_LABEL).replace(/-$/, '') || 'app';
}
