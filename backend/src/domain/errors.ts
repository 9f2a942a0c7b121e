/** An error whose message is written for the user: it ends up as a deployment's `error` or an API response. */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code = 'bad_request',
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

export class NotFoundError extends UserFacingError {
  constructor(what: string) {
    super(`${what} not found`, 404, 'not_found');
  }
}

export class UnauthorizedError extends UserFacingError {
  constructor(message = 'a valid GitHub token is required (Authorization: Bearer <token>)') {
    super(message, 401, 'unauthorized');
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
