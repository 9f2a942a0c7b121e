import { createHash } from 'node:crypto';

const MAX_LABEL = 63;

/**
 * An app's name is its DNS label: `<repo>-<owner>`, lowercased, stable for the same user and repo.
 * When another user already holds that label, a short hash of this user's id keeps names unique.
 */
export function baseAppName(repo: string): string {
  const [owner = '', name = ''] = repo.toLowerCase().split('/');
  return label(`${name}-${owner}`);
}

export function disambiguatedAppName(repo: string, ownerId: string): string {
  const suffix = createHash('sha256').update(ownerId).digest('hex').slice(0, 6);
  return label(`${baseAppName(repo).slice(0, MAX_LABEL - 7)}-${suffix}`);
}

function label(raw: string): string {
  const cleaned = raw
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return cleaned.slice(0, MAX_LABEL).replace(/-$/, '') || 'app';
}
