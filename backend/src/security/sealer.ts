import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1';

/** Encrypts secrets at rest (app env values, tokens in flight on the bus) with AES-256-GCM. */
export class Sealer {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('CLOUDSMITH_SECRET_KEY must be at least 32 characters');
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** A key for another use, derived from the platform key: it reveals nothing of it and is the same in every process. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(purpose).digest();
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    const [version, iv, tag, body] = parts;
    if (version !== VERSION || parts.length < 4) {
      throw new Error('sealed value is malformed');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** The embedded default keeps a generated key beside the data, readable only by its owner, so `npm start` needs no setup. */
export function loadOrCreateSecret(configured: string | undefined, keyFile: string): string {
  if (configured) return configured;
  if (existsSync(keyFile)) return readFileSync(keyFile, 'utf8').trim();
  mkdirSync(dirname(keyFile), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(keyFile, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
