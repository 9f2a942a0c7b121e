import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { UnauthorizedError } from '../domain/errors';
import type { Authspire } from '../services/authspire/authspire';
import type { Caller } from './operations';

/** The token from `Authorization: Bearer <token>` (or GitHub's `token <token>`); tokens in URLs are never accepted. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^(?:Bearer|token)\s+([^\s]+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export async function authenticate(authspire: Authspire, headers: IncomingHttpHeaders): Promise<Caller> {
  const token = bearerToken(headers);
  if (!token) throw new UnauthorizedError();
  const user = await authspire.authenticate(token);
  return { user, token };
}

export function requireCaller(authspire: Authspire) {
  return (req: Request, res: Response, next: NextFunction) => {
    authenticate(authspire, req.headers).then((caller) => {
      res.locals.caller = caller;
      next();
    }, next);
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}
