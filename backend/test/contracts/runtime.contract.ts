import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ArtifactRef, RunPlan } from '../../src/domain/deployment';
import { UserFacingError } from '../../src/domain/errors';
import type { ArtifactStore } from '../../src/ports/artifacts';
import type { ReleaseContext, RuntimeOutput, Runtime } from '../../src/ports/runtime';

/**
 * Fixtures every runtime harness provides:
 * - `static`: serves a page whose body contains "static fixture";
 * - `node`: a Node server whose body contains "node fixture";
 * - `never-healthy`: prints a line containing "never-healthy fixture", keeps running, and answers 500 to everything.
 */
export type RuntimeFixture = 'static' | 'node' | 'never-healthy';

export interface RuntimeHarness {
  runtime: Runtime;
  artifacts: ArtifactStore;
  /** A request to the app the way users reach it (through the harness's reverse proxy or load balancer). */
  fetchApp(app: string, path?: string): Promise<{ status: number; body: string }>;
  makeArtifact(fixture: RuntimeFixture): Promise<{ artifact: ArtifactRef; plan: RunPlan }>;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every Runtime adapter owes Docksage: health-gated, zero-downtime swaps; the previous
 * release keeps serving when a new one fails or is cancelled; rollback by re-releasing an artifact.
 * The harness's health timeout should be a few seconds (the never-healthy case waits for all of it).
 * The factory gets the mocha context, so it can fail or skip (backend/test/peers.ts) when its engine is not provisioned.
 */
export function describeRuntimeContract(
  adapterName: string,
  factory: (suite: Mocha.Context) => Promise<RuntimeHarness>,
): void {
  describe(`Runtime contract: ${adapterName}`, function () {
    this.timeout(240_000);
    let h: RuntimeHarness;
    const prefix = `c${randomUUID().slice(0, 6)}`;

    before(async function () {
      h = await factory(this);
    });

    after(async () => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
      await h?.cleanup();
    });

    function context(signal = new AbortController().signal): ReleaseContext & { lines: string[] } {
      const lines: string[] = [];
      return { signal, lines, log: (text) => lines.push(text) };
    }

    async function release(app: string, built: { artifact: ArtifactRef; plan: RunPlan }, ctx = context()) {
      return h.runtime.release(
        { app, deploymentId: randomUUID(), artifact: built.artifact, plan: built.plan, env: { GREETING: 'hi' } },
        ctx,
      );
    }

    it('releases an app and serves it at its URL', async () => {
      const app = `${prefix}-serve`;
      const ctx = context();
      const { url } = await release(app, await h.makeArtifact('node'), ctx);
      assert.equal(url, h.runtime.urlFor(app));
      const answer = await h.fetchApp(app, '/');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /node fixture/);
      assert.ok(ctx.lines.length > 0, 'the release reports progress through ctx.log');
      assert.ok(Array.isArray(await h.runtime.logs(app)));

      const site = `${prefix}-site`;
      await release(site, await h.makeArtifact('static'));
      const page = await h.fetchApp(site, '/');
      assert.equal(page.status, 200);
      assert.match(page.body, /static fixture/);
    });

    it('swaps to a second release with zero downtime', async () => {
      const app = `${prefix}-swap`;
      await release(app, await h.makeArtifact('node'));
      const second = await h.makeArtifact('static');
      const seen: string[] = [];
      const failures: string[] = [];
      let swapping = true as boolean; // cleared by the test once the swap is done
      const loop = (async () => {
        while (swapping) {
          try {
            const answer = await h.fetchApp(app, '/');
            if (answer.status !== 200) failures.push(`status ${answer.status}: ${answer.body.slice(0, 200)}`);
            else
              seen.push(
                /static fixture/.test(answer.body)
                  ? 'static'
                  : /node fixture/.test(answer.body)
                    ? 'node'
                    : `other: ${answer.body.slice(0, 100)}`,
              );
          } catch (err) {
            failures.push(String(err));
          }
        }
      })();
      try {
        await release(app, second);
        // A few more requests after the swap, all of which must reach the new release.
        const after = seen.length;
        while (seen.length < after + 5 && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
      } finally {
        swapping = false;
        await loop;
      }
      assert.deepEqual(failures, []);
      assert.ok(seen.includes('node') && seen.includes('static'), `requests saw both releases: ${seen.join(',')}`);
      const firstStatic = seen.indexOf('static');
      assert.ok(
        seen.slice(firstStatic).every((s) => s === 'static'),
        `once switched, traffic stays on the new release: ${seen.join(',')}`,
      );
    });

    it('keeps the previous release serving when the new one never becomes healthy', async () => {
      const app = `${prefix}-sick`;
      await release(app, await h.makeArtifact('node'));
      await assert.rejects(release(app, await h.makeArtifact('never-healthy')), (err: unknown) => {
        assert.ok(err instanceof UserFacingError, `a UserFacingError, got ${String(err)}`);
        assert.match(err.message, /did not become healthy/);
        assert.match(err.message, /previous release keeps serving/);
        assert.match(err.message, /never-healthy fixture/, "the error carries the app's last log lines");
        return true;
      });
      const answer = await h.fetchApp(app, '/');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /node fixture/);
    });

    it('rolls back by releasing an earlier artifact again', async () => {
      const app = `${prefix}-back`;
      const first = await h.makeArtifact('node');
      await release(app, first);
      await release(app, await h.makeArtifact('static'));
      assert.match((await h.fetchApp(app, '/')).body, /static fixture/);
      await release(app, first);
      const answer = await h.fetchApp(app, '/');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /node fixture/);
    });

    it("reports the app's output by stream, its start and stop as events, and its memory", async () => {
      const app = `${prefix}-output`;
      const output: RuntimeOutput[] = [];
      await release(app, await h.makeArtifact('node'), { ...context(), onOutput: (line) => output.push(line) });
      const deadline = Date.now() + 30_000;
      while (!output.some((l) => l.stream === 'stdout') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(output[0], { stream: 'event', event: 'started', text: 'started' });
      assert.ok(
        output.some((l) => l.stream === 'stdout' && l.text.startsWith('node fixture: starting')),
        JSON.stringify(output),
      );
      const usage = (await h.runtime.usage?.()) ?? [];
      assert.ok((usage.find((u) => u.app === app)?.memoryBytes ?? 0) > 0, JSON.stringify(usage));
      await h.runtime.remove(app);
      assert.deepEqual(output.at(-1), { stream: 'event', event: 'stopped', text: 'stopped' });
    });

    it('stops serving an app once it is removed', async () => {
      const app = `${prefix}-gone`;
      await release(app, await h.makeArtifact('node'));
      assert.equal((await h.fetchApp(app, '/')).status, 200);
      await h.runtime.remove(app);
      const answer = await h.fetchApp(app, '/');
      assert.notEqual(answer.status, 200);
      assert.doesNotMatch(answer.body, /node fixture/);
      assert.deepEqual(await h.runtime.logs(app), []);
      // Removing what is not there is not an error (a retried delete).
      await h.runtime.remove(app);
    });

    it('cancels a release during its health wait and keeps the previous one serving', async () => {
      const app = `${prefix}-stop`;
      await release(app, await h.makeArtifact('node'));
      const controller = new AbortController();
      const ctx = context(controller.signal);
      const sick = await h.makeArtifact('never-healthy');
      // Cancel once the new release is running (its first output), or after a second at the latest.
      const timer = setTimeout(() => {
        controller.abort(new Error('cancelled'));
      }, 1000);
      const log = ctx.log;
      ctx.log = (text, stage) => {
        log(text, stage);
        if (/never-healthy fixture/.test(text)) controller.abort(new Error('cancelled'));
      };
      try {
        await assert.rejects(release(app, sick, ctx));
      } finally {
        clearTimeout(timer);
      }
      assert.ok(controller.signal.aborted);
      const answer = await h.fetchApp(app, '/');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /node fixture/);
    });
  });
}
