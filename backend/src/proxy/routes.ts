export interface RouteTarget {
  host: string;
  port: number;
}

/**
 * Where each app's traffic goes. The runtime writes it, the reverse proxy reads it on every request, so
 * a swap is one `set`. It also counts requests in flight per target, so a runtime can retire the old
 * release only after the requests it was already serving have finished.
 */
export class RouteTable {
  private readonly routes = new Map<string, RouteTarget>();
  private readonly inFlight = new Map<string, number>();
  private readonly idleWaiters = new Map<string, Array<() => void>>();

  set(app: string, target: RouteTarget): void {
    this.routes.set(app, { host: target.host, port: target.port });
  }

  get(app: string): RouteTarget | undefined {
    return this.routes.get(app);
  }

  delete(app: string): void {
    this.routes.delete(app);
  }

  apps(): string[] {
    return [...this.routes.keys()];
  }

  /** Marks one request in flight to `target`; call the returned function (once) when it ends. */
  track(target: RouteTarget): () => void {
    const key = targetKey(target);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) {
        this.inFlight.set(key, left);
        return;
      }
      this.inFlight.delete(key);
      const waiters = this.idleWaiters.get(key) ?? [];
      this.idleWaiters.delete(key);
      for (const wake of waiters) wake();
    };
  }

  inFlightTo(target: RouteTarget): number {
    return this.inFlight.get(targetKey(target)) ?? 0;
  }

  /** Resolves when no tracked request to `target` is in flight, or after `timeoutMs` (long polls must not block a swap forever). */
  drained(target: RouteTarget, timeoutMs: number): Promise<void> {
    const key = targetKey(target);
    if (!this.inFlight.get(key)) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const waiters = this.idleWaiters.get(key);
        if (waiters)
          this.idleWaiters.set(
            key,
            waiters.filter((w) => w !== wake),
          );
        resolve();
      }, timeoutMs);
      timer.unref();
      this.idleWaiters.set(key, [...(this.idleWaiters.get(key) ?? []), wake]);
    });
  }
}

function targetKey(target: RouteTarget): string {
  return `${target.host}:${target.port}`;
}
