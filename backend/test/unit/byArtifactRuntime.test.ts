import assert from 'node:assert/strict';
import { ByArtifactRuntime } from '../../src/adapters/runtime/byArtifact/byArtifactRuntime';
import type { ArtifactRef } from '../../src/domain/deployment';
import type { Release, ReleaseContext, Runtime } from '../../src/ports/runtime';

/** Records what it was asked to do; serves nothing. */
class Recorder implements Runtime {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  urlFor(app: string): string {
    return `http://${app}.localhost`;
  }
  async release(r: Release): Promise<{ url: string }> {
    this.calls.push(`release ${r.app} ${r.deploymentId}`);
    return { url: this.urlFor(r.app) };
  }
  async restore(r: Release): Promise<{ url: string }> {
    this.calls.push(`restore ${r.app} ${r.deploymentId}`);
    return { url: this.urlFor(r.app) };
  }
  async logs(app: string): Promise<string[]> {
    return [`${this.name} logs of ${app}`];
  }
  async remove(app: string): Promise<void> {
    this.calls.push(`remove ${app}`);
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

const tarball: ArtifactRef = { kind: 'tarball', key: 'k', sha256: 'x', size: 1 };
const image: ArtifactRef = { kind: 'image', image: 'registry/web:abc' };
const release = (deploymentId: string, artifact: ArtifactRef): Release => ({
  app: 'web',
  deploymentId,
  artifact,
  plan: { kind: 'node', start: ['node', 'server.js'], workdir: '.', healthPath: '/' },
  env: {},
});

describe('ByArtifactRuntime: tarballs as processes, images as containers, one proxy', () => {
  let processes: Recorder;
  let containers: Recorder | undefined;
  let runtime: ByArtifactRuntime;
  const lines: string[] = [];
  const ctx: ReleaseContext = { signal: new AbortController().signal, log: (line) => lines.push(line) };

  beforeEach(() => {
    processes = new Recorder('process');
    containers = undefined;
    runtime = new ByArtifactRuntime({
      tarballs: processes,
      images: () => (containers = new Recorder('docker')),
    });
  });

  it('makes the Docker runtime only for the first image, and never for tarball apps', async () => {
    await runtime.release(release('d1', tarball), ctx);
    await runtime.remove('web');
    await runtime.close();
    assert.equal(containers, undefined);
    assert.deepEqual(processes.calls, ['release web d1', 'remove web', 'close']);
    assert.equal(runtime.name, 'process');
  });

  it('retires the release on the other runtime only after the new one serves, both ways', async () => {
    await runtime.release(release('d1', tarball), ctx);
    await runtime.release(release('d2', image), ctx);
    assert.ok(containers);
    assert.deepEqual(containers.calls, ['release web d2']);
    assert.deepEqual(processes.calls, ['release web d1', 'remove web']);
    assert.deepEqual(await runtime.logs('web'), ['docker logs of web']);

    await runtime.restore(release('d3', tarball), ctx);
    assert.deepEqual(containers.calls, ['release web d2', 'remove web']);
    assert.deepEqual(await runtime.logs('web'), ['process logs of web']);
    assert.ok(lines.some((l) => /Stopped the previous release on the Docker runtime/.test(l)));
  });

  it('removes an app from both runtimes once it had an image, and closes both', async () => {
    await runtime.release(release('d1', image), ctx);
    await runtime.remove('web');
    await runtime.close();
    assert.ok(containers);
    assert.deepEqual(containers.calls, ['release web d1', 'remove web', 'close']);
    assert.deepEqual(processes.calls, ['remove web', 'close']);
  });
});
