/** The deployments this process is working on, so a cancel event can abort whichever stage holds one. */
export class Cancellations {
  private readonly running = new Map<string, AbortController>();

  begin(deploymentId: string): AbortSignal {
    const controller = new AbortController();
    this.running.set(deploymentId, controller);
    return controller.signal;
  }

  /** Ends only the stage that began with `signal`: in one process the next stage may already have begun. */
  end(deploymentId: string, signal: AbortSignal): void {
    if (this.running.get(deploymentId)?.signal === signal) this.running.delete(deploymentId);
  }

  cancel(deploymentId: string): boolean {
    const controller = this.running.get(deploymentId);
    controller?.abort(new Error('cancelled'));
    return controller !== undefined;
  }

  /** Shutdown: abort everything in flight. */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort(new Error('shutting down'));
  }
}
