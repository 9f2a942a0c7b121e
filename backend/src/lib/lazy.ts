/**
 * A resource made on first use and shared by every caller (a client connection, say). A failed attempt is
 * forgotten, so the next caller tries again: a broker still starting up must not leave the resource broken.
 */
export class Lazy<T> {
  private pending?: Promise<T>;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    this.pending ??= this.make().catch((err: unknown) => {
      this.pending = undefined;
      throw err;
    });
    return this.pending;
  }

  /** Whether a get() has started one that has not failed (so there may be something to close). */
  get started(): boolean {
    return this.pending !== undefined;
  }

  /** Hands over what was made (or is being made) to close it; the next get() makes a new one. */
  take(): Promise<T> | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }
}
