/**
 * Values shorter than this are not masked: masking "1" or "true" would shred unrelated log text,
 * and such values are not secrets anyway.
 */
export const MIN_SECRET_LENGTH = 6;
const MASK = '••••••';

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    out = out.split(secret).join(MASK);
  }
  return out;
}

/** What the API shows for an env value: enough to recognise it, never enough to use it. */
export function previewSecret(value: string): string {
  if (value.length <= 8) return MASK;
  return `${value.slice(0, 2)}${MASK}${value.slice(-2)}`;
}
