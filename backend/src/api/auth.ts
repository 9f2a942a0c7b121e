import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { UnauthorizedError, UserFacingError } from '../domain/errors';
import type { Authspire } from '../services/authspire/authspire';
import type { Caller } from './operations';
import type { SoleOwner } from './soleOwner';

/** The token from `Authorization: Bearer <token>` (or GitHub's `token <token>`); tokens in URLs are never accepted. */
export function bearerToken(headers: IncomingMessage['headers']): string | undefined {
  const match = /^(?:Bearer|token)\s+([^\s]+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export interface TokenGateOptions {
  /** Unknown tokens one address may have checked by GitHub at once, before it must wait for refills. */
  burst: number;
  /** Refills per minute of that allowance. */
  perMinute: number;
  /** How long a token's verdict is remembered by its hash. */
  rememberMs: number;
  /** Set where builds run unsandboxed: only its first user may use the platform. */
  soleOwner?: SoleOwner;
}

const DEFAULTS: TokenGateOptions = { burst: 30, perMinute: 20, rememberMs: 10 * 60_000 };
/** Bounds the memory an attacker can make the gate hold; the oldest entries go first. */
const MAX_ENTRIES = 20_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Every request's first check, before its body is read. A token already known (by its SHA-256, never the token)
 * passes or fails at once; an unknown one costs its address one unit of a per-address allowance before GitHub is
 * asked, so thousands of bogus tokens cost a few dozen GitHub calls and then a 429, not one call each.
 */
export class TokenGate {
  private readonly verdicts = new Map<string, { ok: boolean; expires: number }>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: TokenGateOptions;

  constructor(
    private readonly authspire: Authspire,
    options: Partial<TokenGateOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async authenticate(req: IncomingMessage): Promise<Caller> {
    const token = bearerToken(req.headers);
    if (!token) throw new UnauthorizedError();
    const key = createHash('sha256').update(token).digest('hex');
    const known = this.verdicts.get(key);
    if (known && known.expires > Date.now()) {
      if (!known.ok) throw new UnauthorizedError('the token was refused by GitHub');
    } else {
      this.spend(req.socket.remoteAddress ?? 'unknown');
    }
    try {
      const user = await this.authspire.authenticate(token);
      this.remember(this.verdicts, key, { ok: true, expires: Date.now() + this.options.rememberMs });
      this.options.soleOwner?.admit(user);
      return { user, token };
    } catch (err) {
      if (err instanceof UnauthorizedError)
        this.remember(this.verdicts, key, { ok: false, expires: Date.now() + this.options.rememberMs });
      throw err;
    }
  }

  /** Express middleware: the caller is in `res.locals` for `callerOf`. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      this.authenticate(req).then((caller) => {
        res.locals.caller = caller;
        next();
      }, next);
    };
  }

  private spend(address: string): void {
    const now = Date.now();
    const { burst, perMinute } = this.options;
    const bucket = this.buckets.get(address) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const wait = Math.ceil(((1 - bucket.tokens) * 60) / perMinute);
      throw new UserFacingError(
        `too many unknown tokens from this address; try again in ${wait} s`,
        429,
        'rate_limited',
      );
    }
    bucket.tokens -= 1;
    this.remember(this.buckets, address, bucket);
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_ENTRIES) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}
