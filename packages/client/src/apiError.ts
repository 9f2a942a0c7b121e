/** A non-2xx answer from the API, carrying its JSON error body; `status` 0 means the API could not be reached. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** True when the API was not reachable at all (connection refused, DNS, timeout): a "retry later" condition. */
  get unreachable(): boolean {
    return this.status === 0;
  }
}
