import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/health/health';
import { apiRequest } from '../helpers/apiRequest';
import { fetchApp } from '../helpers/appFetch';
import { startGitServer } from '../helpers/gitServer';
import { startGitHubStandin } from '../helpers/githubStandin';
import { FIXTURES } from '../helpers/world';
import { requireDocker } from '../docker/helpers';
import { requirePeer } from '../peers';
import {
  alive,
  backendProcesses,
  cmdline,
  commands,
  docBlock,
  environ,
  healthy,
  kafkaBasePort,
  parentOf,
  REPO,
  runShell,
  shell,
  stopTree,
  userEnv,
  waitUntil,
  type Shell,
} from './shell';
import { descendants } from '../helpers/processes';

/**
 * The README's and docs' commands, run as written from the repository's root, against the GitHub stand-in and a
 * real git server (the only parts that are not the real thing). The shell blocks come from the documents
 * themselves (docBlock), with only what must differ on a shared machine replaced: the repo name, ports, the data dir.
 */
describe('docs: the documented commands work as written', function () {
  this.timeout(900_000);
  const alice = { login: 'alice', token: 'ghp_alice_0123456789abcdefghijklmnopqrstuv' };
  let git: Awaited<ReturnType<typeof startGitServer>> | undefined;
  let github: Awaited<ReturnType<typeof startGitHubStandin>> | undefined;
  const githubUrl = () => {
    if (!github) throw new Error('the GitHub stand-in did not start');
    return github.url;
  };
  const scratch: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    scratch.push(dir);
    return dir;
  };

  before(async () => {
    const server = await startGitServer({ tokens: { [alice.token]: ['*'] } });
    git = server;
    const standin = await startGitHubStandin({ git: server });
    github = standin;
    standin.addUser(alice.login, alice.token);
    await server.addRepo('alice/hello-world', join(FIXTURES, 'static-site'));
    standin.grant(alice.login, 'alice/hello-world', { admin: true });
  });

  after(async () => {
    await github?.close();
    await git?.close();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('plain `npm start` keeps its state in .cloudsmith/ at the repository root', () => {
    assert.equal(loadConfig({}).dataDir, join(REPO, '.cloudsmith'));
  });

  describe('README: `npm start`, then `npx cloudsmith`', () => {
    let platform: Shell | undefined;
    let url = '';

    before(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${String(port)}`;
      platform = shell(
        'npm start',
        userEnv({
          PORT: String(port),
          CLOUDSMITH_DATA_DIR: tempDir('cs-docs-start-'),
          GITHUB_API_URL: githubUrl(),
        }),
      );
      // The first start compiles the backend (tens of seconds on a busy machine).
      await waitUntil(
        'npm start answering /healthz',
        () => healthy(url),
        300_000,
        () => platform?.text() ?? '',
      );
    });

    after(async () => {
      await stopTree(platform?.child.pid);
    });

    it('runs the compiled backend as one node process under npm, and says what it runs', () => {
      const npm = platform?.child.pid ?? 0;
      const node = backendProcesses(npm);
      assert.equal(
        node.length,
        1,
        `one node process runs backend/dist/main.js: ${descendants(npm).map(cmdline).join(' | ')}`,
      );
      assert.ok(!descendants(npm).some((pid) => cmdline(pid).includes('tsx')), 'no tsx in the process tree');
      const text = platform?.text() ?? '';
      assert.match(text, /CloudSmith \(embedded: the whole platform\) is running at http:\/\/127\.0\.0\.1:\d+/);
      assert.match(text, /runtime: process; builder: local; bus: memory; store: sqlite; artifacts: fs/);
      assert.match(text, /apps: local processes behind the built-in proxy at http:\/\/<app>\.localhost:\d+/);
    });

    it('`npx cloudsmith --help` prints the usage', async () => {
      const help = await runShell('npx cloudsmith --help', userEnv({}));
      assert.equal(help.code, 0, help.text);
      assert.match(help.text, /usage: cloudsmith <command>/);
      assert.match(help.text, /deploy <owner\/name>/);
    });

    it("runs the README's CLI block: deploy, ls, logs --follow, hooks, previews, rollback, rm", async () => {
      const env = userEnv({ CLOUDSMITH_API_URL: url, GITHUB_TOKEN: alice.token });
      const lines = commands(docBlock('README.md', 'cli'))
        .filter((line) => !line.startsWith('export GITHUB_TOKEN='))
        .map((line) => line.replaceAll('octocat', 'alice'));
      const run = async (line: string) => {
        const result = await runShell(line, env);
        assert.equal(result.code, 0, `${line}\n${result.text}`);
        return result.text;
      };
      const [deploy = '', ...rest] = lines;
      assert.ok(deploy.startsWith('npx cloudsmith deploy '), lines.join('\n'));
      const first = await run(deploy);
      const live = /Live: (\S+)/.exec(first)?.[1];
      assert.ok(live, first);
      assert.equal((await fetchApp(live)).status, 200);
      const id = /Deployment (\S+) queued/.exec(first)?.[1];
      assert.ok(id, first);
      for (const line of rest) {
        // A second release first, so the block's rollback has a previous one to go back to.
        if (line.startsWith('npx cloudsmith rollback')) await run(deploy);
        const out = await run(line.replace('<deployment-id>', id));
        if (line.startsWith('npx cloudsmith ls')) assert.match(out, /hello-world-alice\s+alice\/hello-world/);
        if (line.startsWith('npx cloudsmith logs')) assert.match(out, /Live: /);
        if (line.startsWith('npx cloudsmith rollback')) assert.match(out, /Rolling back hello-world-alice/);
        if (line.startsWith('npx cloudsmith rm')) assert.match(out, /Deleted hello-world-alice/);
        if (line.startsWith('npx cloudsmith hooks')) assert.match(out, /Previews\s+on[\s\S]*On GitHub\s+hook \d+/);
        if (line.startsWith('npx cloudsmith previews')) assert.match(out, /PREVIEW\s+OF\s+URL/);
      }
      assert.ok(
        rest.some((l) => l.startsWith('npx cloudsmith rollback')),
        'the block shows rollback',
      );
    });

    it('`kill -9` of the npm process stops the service', async () => {
      const npm = platform?.child.pid ?? 0;
      const [node] = backendProcesses(npm);
      assert.ok(node, 'the service process');
      process.kill(npm, 'SIGKILL');
      await waitUntil('the service to exit after its npm was killed', () => (alive(node) ? undefined : true), 60_000);
      assert.equal(await healthy(url), undefined, 'nothing answers on the port any more');
    });
  });

  describe('docs/distributed.md: the quick start on a fresh Kafka', () => {
    let services: Shell | undefined;
    const env: Record<string, string> = {};
    const ports = new Map<string, number>();

    before(async function () {
      requirePeer(
        this,
        'kafka',
        process.env.CLOUDSMITH_TEST_KAFKA || undefined,
        'run `bash scripts/kafka.sh up` once (it caches the broker jars this test starts its own broker from)',
      );
      // A fresh single-broker cluster of its own: another port range and data dir, the cached jars.
      const kafkaPort = await kafkaBasePort();
      Object.assign(
        env,
        userEnv({
          CLOUDSMITH_KAFKA_STATE: tempDir('cs-docs-kafka-'),
          CLOUDSMITH_KAFKA_PORT: String(kafkaPort),
          GITHUB_API_URL: githubUrl(),
        }),
      );
      let block = docBlock('docs/distributed.md', 'distributed-quick-start')
        .replaceAll('127.0.0.1:19092', `127.0.0.1:${String(kafkaPort)}`)
        .replace('$PWD/.cloudsmith', tempDir('cs-docs-distributed-'));
      for (const [, port] of block.matchAll(/PORT=(\d{4,5})\b/g)) {
        if (port && !ports.has(port)) ports.set(port, await freePort());
      }
      block = block.replace(/PORT=(\d{4,5})\b/g, (_m, p: string) => `PORT=${String(ports.get(p))}`);
      assert.equal(ports.size, 6, `six services in the block:\n${block}`);
      services = shell(`${block}\nwait\n`, env);
      const urls = [...ports.values()].map((p) => `http://127.0.0.1:${String(p)}`);
      for (const url of urls)
        await waitUntil(
          `${url} answering /healthz`,
          () => healthy(url),
          420_000,
          () => services?.text() ?? '',
        );
    });

    after(async () => {
      await stopTree(services?.child.pid);
      if (env.CLOUDSMITH_KAFKA_STATE) await runShell('bash scripts/kafka.sh down', env);
    });

    it('every process stays up and a deployment goes live', async () => {
      const api = `http://127.0.0.1:${String(ports.get('8080'))}`;
      const created = await apiRequest<{ id: string }>(api, alice.token, 'POST', '/api/deployments', {
        repo: 'alice/hello-world',
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const done = await waitUntil(
        'the deployment to finish',
        async () => {
          const res = await apiRequest<{ status: string; url?: string; error?: string }>(
            api,
            alice.token,
            'GET',
            `/api/deployments/${created.body.id}`,
          );
          return ['live', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
        },
        300_000,
        () => services?.text() ?? '',
      );
      assert.equal(done.status, 'live', `${JSON.stringify(done)}\n${services?.text() ?? ''}`);
      assert.ok(done.url?.endsWith(`:${String(ports.get('8000'))}`), done.url);
      assert.equal((await fetchApp(done.url ?? '')).status, 200);
      const running = backendProcesses(services?.child.pid ?? 0);
      assert.equal(running.length, 6, `all six services still run:\n${services?.text() ?? ''}`);
    });

    it('`kill -9` of one documented npm process stops that service only', async () => {
      const before = backendProcesses(services?.child.pid ?? 0);
      const builder2 = before.find((pid) => environ(pid).CLOUDSMITH_PROXY_PORT === String(ports.get('8092')));
      assert.ok(builder2, 'the second builder');
      process.kill(parentOf(builder2), 'SIGKILL');
      await waitUntil('the second builder to exit', () => (alive(builder2) ? undefined : true), 60_000);
      assert.equal(backendProcesses(services?.child.pid ?? 0).length, 5);
    });

    it('SIGTERM to a documented npm process reaches its service, which stops gracefully', async () => {
      const api2 = backendProcesses(services?.child.pid ?? 0).find(
        (pid) => environ(pid).PORT === String(ports.get('8081')),
      );
      assert.ok(api2, 'the second API replica');
      process.kill(parentOf(api2), 'SIGTERM');
      await waitUntil('the second API replica to exit', () => (alive(api2) ? undefined : true), 60_000);
      assert.match(services?.text() ?? '', /SIGTERM: stopping CloudSmith/);
      assert.equal(backendProcesses(services?.child.pid ?? 0).length, 4);
    });
  });

  describe('docs/docker.md: builds and apps in containers', () => {
    let platform: Shell | undefined;
    let url = '';

    before(async function () {
      requireDocker(this);
      // The block as written, without its last line: `scripts/docker.sh down` would stop the suite's shared engine.
      const block = docBlock('docs/docker.md', 'docker');
      assert.match(block, /^scripts\/docker\.sh down/m);
      const port = await freePort();
      url = `http://127.0.0.1:${String(port)}`;
      platform = shell(
        block.replace(/^scripts\/docker\.sh down.*$/m, ''),
        userEnv({ PORT: String(port), CLOUDSMITH_DATA_DIR: tempDir('cs-docs-docker-'), GITHUB_API_URL: githubUrl() }),
      );
      await waitUntil(
        'the Docker-mode platform answering /healthz',
        () => healthy(url),
        300_000,
        () => platform?.text() ?? '',
      );
    });

    after(async () => {
      await stopTree(platform?.child.pid);
    });

    it('says it runs containers, and a deploy goes live in one', async () => {
      assert.match(platform?.text() ?? '', /runtime: docker; builder: docker/);
      assert.match(
        platform?.text() ?? '',
        /apps: containers behind the built-in proxy at http:\/\/<app>\.localhost:\d+/,
      );
      const env = userEnv({ CLOUDSMITH_API_URL: url, GITHUB_TOKEN: alice.token });
      const deploy = await runShell('npx cloudsmith deploy alice/hello-world', env);
      assert.equal(deploy.code, 0, `${deploy.text}\n--- platform:\n${platform?.text() ?? ''}`);
      const live = /Live: (\S+)/.exec(deploy.text)?.[1];
      assert.ok(live, deploy.text);
      assert.equal((await fetchApp(live)).status, 200);
      // Its container goes with it, so no run leaves one behind in the shared engine.
      const removed = await runShell('npx cloudsmith rm hello-world-alice', env);
      assert.equal(removed.code, 0, removed.text);
    });
  });

  describe('README: a local AWS run with one command', () => {
    let platform: Shell | undefined;
    let url = '';

    before(async function () {
      requirePeer(this, 'moto', process.env.CLOUDSMITH_TEST_AWS_ENDPOINT || undefined, 'run `bash scripts/moto.sh up`');
      const [line] = commands(docBlock('README.md', 'aws-local'));
      assert.equal(line, 'eval "$(scripts/aws-local.sh)" && npm start');
      const port = await freePort();
      url = `http://127.0.0.1:${String(port)}`;
      platform = shell(
        line,
        userEnv({
          PORT: String(port),
          CLOUDSMITH_DATA_DIR: tempDir('cs-docs-aws-'),
          GITHUB_API_URL: githubUrl(),
          // Its own names in the shared moto (tables, bucket, cluster, ALB).
          CLOUDSMITH_AWS_LOCAL_NAME: `cs-docs-${randomUUID().slice(0, 8)}`,
        }),
      );
      await waitUntil(
        'the AWS-mode platform answering /healthz',
        () => healthy(url),
        300_000,
        () => platform?.text() ?? '',
      );
    });

    after(async () => {
      await stopTree(platform?.child.pid);
    });

    it('starts on DynamoDB, S3 and ECS, and a deploy goes live through the ECS runtime', async () => {
      const text = platform?.text() ?? '';
      assert.match(text, /runtime: ecs; builder: local; bus: memory; store: dynamodb; artifacts: s3/);
      assert.match(text, /apps: ECS services behind the load balancer at https:\/\/<app>\.apps\.cloudsmith\.test/);
      const deploy = await runShell(
        'npx cloudsmith deploy alice/hello-world',
        userEnv({ CLOUDSMITH_API_URL: url, GITHUB_TOKEN: alice.token }),
      );
      assert.equal(deploy.code, 0, `${deploy.text}\n--- platform:\n${platform?.text() ?? ''}`);
      assert.match(deploy.text, /Live: https:\/\/hello-world-alice\.apps\.cloudsmith\.test/);
    });
  });
});
