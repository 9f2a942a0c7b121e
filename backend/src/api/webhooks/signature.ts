import { createHmac, timingSafeEqual } from 'node:crypto';

/** GitHub's `X-Hub-Signature-256`: "sha256=" + hex HMAC-SHA256 of the raw body, compared in constant time. */
export function signatureMatches(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

export function sign(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
