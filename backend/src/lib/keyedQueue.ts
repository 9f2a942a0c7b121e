/**
 * Runs work one at a time per key (an app's name), in the order it was queued; different keys run in
 * parallel. The runtimes use it so two releases, a removal or a restore of the same app never race: two
 * swaps running together could each retire the process or container the other just started.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier piece of work for `key` has settled; a failure does not stop the queue. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      // The map holds only keys with work pending, so a long-lived runtime does not accumulate app names.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Settles when all work queued so far has settled (for shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
