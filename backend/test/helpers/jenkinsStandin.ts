/**
 * A Jenkins stand-in for tests. No Jenkins server can be installed on these machines (no jenkins.io downloads,
 * no Debian package), so this implements the REST endpoints the JenkinsBuilder uses, as Jenkins documents them:
 *
 *   GET  /crumbIssuer/api/json                 crumb bound to the session cookie; a POST without it gets 403
 *   POST /credentials/store/system/domain/_/createCredentials            (XML body, credentials plugin)
 *   DELETE /credentials/store/system/domain/_/credential/<id>/config.xml
 *   POST /job/<job>/buildWithParameters        201 + Location: <root>/queue/item/<n>/
 *   GET  /queue/item/<n>/api/json              quiet period, `why`, then `executable: {number, url}`; `cancelled`
 *   POST /queue/cancelItem?id=<n>
 *   GET  /job/<job>/<n>/logText/progressiveText?start=<byte>   X-Text-Size, X-More-Data while building
 *   POST /job/<job>/<n>/stop                   SIGTERM to the step's process group, result ABORTED
 *   GET  /job/<job>/<n>/api/json               building, result, artifacts[relativePath]
 *   GET  /job/<job>/<n>/artifact/<path>        archived artifacts
 * with HTTP basic auth by API token (401 otherwise).
 *
 * It REALLY runs the pipeline: it reads jenkins/Jenkinsfile, and for each stage, in order, runs that stage's
 * `sh` scripts with `sh -xe` the way the durable-task plugin does, in a workspace whose .pipeline/ is this
 * repository (what `checkout scm` gives), with the build parameters as environment variables and the
 * credentials a stage binds (`usernamePassword` around checkout, the app env's `string` around
 * install/build) masked as **** in the log. A failed stage skips the rest; `post { failure / aborted }` run
 * their notify step, `cleanup` deletes the workspace; `archiveArtifacts` keeps out/artifact.tar.gz.
 * jenkins/README.md lists what it reproduces and what it does not.
 *
 * Test-only extras (not Jenkins behaviour): `s3` stands in for S3 behind an `aws s3 cp` shim on the steps'
 * PATH (unless `aws` points the real AWS CLI at moto, as the build cache tests do); a `git` shim records every git argv; `failNext` injects 5xx answers; `holdQueue` keeps items queued;
 * `markUnstable` makes a finished build UNSTABLE as an `unstable` step would; `/__callback` records
 * CALLBACK_URL posts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodePlan, PLAN_METADATA } from '../../src/adapters/artifacts/planMetadata';
import type { ArtifactStore } from '../../src/ports/artifacts';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const JENKINSFILE = path.join(REPO_ROOT, 'jenkins', 'Jenkinsfile');
const CREDENTIALS_PREFIX = '/credentials/store/system/domain/_';

export interface StageSpec {
  name: string;
  /** `checkout scm` inside `dir('.pipeline')`. */
  checkoutScm: boolean;
  bindsGit: boolean;
  bindsAppEnv: boolean;
  scripts: string[];
  /** `archiveArtifacts` path, when the stage archives (only without ARTIFACT_BUCKET). */
  archives?: string;
}

export interface PipelineSpec {
  stages: StageSpec[];
  post: { failure: string[]; aborted: string[]; cleanup: boolean };
}

/** Reads the stages, their sh scripts and credential bindings out of jenkins/Jenkinsfile. */
export function parseJenkinsfile(source = readFileSync(JENKINSFILE, 'utf8')): PipelineSpec {
  const stagesStart = source.indexOf('stages {');
  const postStart = source.indexOf('post {', stagesStart);
  if (stagesStart < 0 || postStart < 0) throw new Error('Jenkinsfile has no stages/post blocks');
  const stagesText = source.slice(stagesStart, postStart);
  const shScripts = (text: string) => [...text.matchAll(/sh label: '[^']*', script: '([^']*)'/g)].map((m) => m[1]);
  const stageMatches = [...stagesText.matchAll(/stage\('([^']+)'\)/g)];
  const stages = stageMatches.map((m, i) => {
    const body = stagesText.slice(m.index, stageMatches[i + 1]?.index ?? stagesText.length);
    return {
      name: m[1],
      checkoutScm: /dir\('\.pipeline'\)\s*\{\s*checkout scm/.test(body),
      bindsGit: /usernamePassword\(credentialsId: params\.GIT_CREDENTIALS_ID/.test(body),
      bindsAppEnv: /withAppEnv\s*\{/.test(body),
      scripts: shScripts(body),
      archives: /archiveArtifacts artifacts: '([^']+)'/.exec(body)?.[1],
    };
  });
  const postText = source.slice(postStart, source.indexOf('\n}', postStart));
  const block = (name: string) => /\{([^}]*)\}/.exec(postText.slice(postText.indexOf(`${name} {`)))?.[1] ?? '';
  return {
    stages,
    post: {
      failure: postText.includes('failure {') ? shScripts(block('failure')) : [],
      aborted: postText.includes('aborted {') ? shScripts(block('aborted')) : [],
      cleanup: /cleanup\s*\{\s*cleanWs\(\)/.test(postText),
    },
  };
}

type Credential = { kind: 'usernamePassword'; username: string; password: string } | { kind: 'string'; secret: string };

export interface StandinBuild {
  number: number;
  queueId: number;
  params: Record<string, string>;
  building: boolean;
  result: 'SUCCESS' | 'FAILURE' | 'ABORTED' | 'UNSTABLE' | null;
  log: Buffer;
  stagesRun: string[];
  archived: Map<string, string>;
  /** Every git argv the steps ran (through the git shim). */
  gitArgv: string[][];
  /** argv of every process the stand-in itself spawned. */
  argv: string[][];
  workspace: string;
}

interface QueueItem {
  id: number;
  params: Record<string, string>;
  enqueuedAt: number;
  cancelled: boolean;
  executable?: { number: number; url: string };
  why: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  status: number;
  crumb: boolean;
  body: string;
}

export interface JenkinsStandinOptions {
  user?: string;
  apiToken?: string;
  job?: string;
  quietPeriodMs?: number;
  executors?: number;
  /** Artifact store the `aws s3 cp` shim writes to (ARTIFACT_BUCKET builds). */
  s3?: ArtifactStore;
  /** HOME for the user's commands (kept across builds so npm's cache stays warm). */
  buildHome?: string;
  /**
   * An S3 endpoint (moto) the steps reach with the real AWS CLI, as an agent with an instance role reaches S3:
   * then there is no `aws` shim, and `s3` is unused. Its credentials reach the steps as environment variables.
   */
  aws?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

export interface JenkinsStandin {
  url: string;
  user: string;
  apiToken: string;
  job: string;
  builds: Map<number, StandinBuild>;
  queue: Map<number, QueueItem>;
  credentials: Map<string, Credential>;
  credentialEvents: { op: 'create' | 'delete'; id: string; kind?: string }[];
  requests: RequestRecord[];
  callbacks: Record<string, unknown>[];
  /** Keep new queue items waiting ("Waiting for next available executor") until released. */
  holdQueue: boolean;
  /** Builds finishing SUCCESS end UNSTABLE instead (as if a step called `unstable`). */
  markUnstable: boolean;
  /** The next `count` requests whose path starts with `prefix` get `status` (default 503). */
  failNext(count: number, prefix?: string, status?: number): void;
  releaseQueue(): void;
  /** Forgets every session, as a controller restart does: old crumbs and cookies stop working. */
  expireSessions(): void;
  /** Someone cancels the item in Jenkins' UI. */
  cancelQueueItem(id: number): void;
  /** Someone clicks the abort button. */
  abortBuild(number: number): void;
  waitForBuild(number: number): Promise<StandinBuild>;
  close(): Promise<void>;
}

export async function startJenkinsStandin(options: JenkinsStandinOptions = {}): Promise<JenkinsStandin> {
  const user = options.user ?? 'cloudsmith';
  const apiToken = options.apiToken ?? `11${randomBytes(16).toString('hex')}`;
  const job = options.job ?? 'cloudsmith-build';
  const quietPeriodMs = options.quietPeriodMs ?? 150;
  const executors = options.executors ?? 2;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'jenkins-standin-'));
  const buildHome = options.buildHome ?? path.join(os.tmpdir(), 'cloudsmith-build-home');
  const shims = path.join(root, 'shims');
  await writeShims(shims, !options.aws);

  const sessions = new Map<string, string>();
  const builds = new Map<number, StandinBuild>();
  const queue = new Map<number, QueueItem>();
  const credentials = new Map<string, Credential>();
  const running = new Map<number, { child?: ChildProcess; aborted: boolean; done: Promise<void> }>();
  let nextQueueId = 1;
  let nextBuild = 1;
  const faults: { count: number; prefix: string; status: number }[] = [];
  let url = '';

  const standin: JenkinsStandin = {
    url: '',
    user,
    apiToken,
    job,
    builds,
    queue,
    credentials,
    credentialEvents: [],
    requests: [],
    callbacks: [],
    holdQueue: false,
    markUnstable: false,
    failNext(count, prefix = '/', status = 503) {
      faults.push({ count, prefix, status });
    },
    releaseQueue() {
      standin.holdQueue = false;
      schedule();
    },
    expireSessions() {
      sessions.clear();
    },
    cancelQueueItem(id) {
      const item = queue.get(id);
      if (item && !item.executable) item.cancelled = true;
    },
    abortBuild(number) {
      abort(number);
    },
    async waitForBuild(number) {
      for (;;) {
        const build = builds.get(number);
        if (build && !build.building) return build;
        await sleep(50);
      }
    },
    async close() {
      for (const number of running.keys()) abort(number);
      await Promise.all([...running.values()].map((r) => r.done));
      const closed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      // Keep-alive connections from the adapter's fetch would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
      await fs.rm(root, { recursive: true, force: true });
    },
  };

  function schedule() {
    for (const item of queue.values()) {
      if (item.cancelled || item.executable) continue;
      if (Date.now() - item.enqueuedAt < quietPeriodMs) {
        item.why = `In the quiet period. Expires in ${Math.max(0, quietPeriodMs - (Date.now() - item.enqueuedAt))} ms`;
        setTimeout(schedule, quietPeriodMs - (Date.now() - item.enqueuedAt) + 5);
        continue;
      }
      if (standin.holdQueue || running.size >= executors) {
        item.why = 'Waiting for next available executor';
        continue;
      }
      const number = nextBuild++;
      item.executable = { number, url: `${url}/job/${job}/${number}/` };
      item.why = '';
      startBuild(number, item);
    }
  }

  function abort(number: number) {
    const run = running.get(number);
    if (!run || run.aborted) return;
    run.aborted = true;
    const build = builds.get(number);
    if (build) append(build, [`Aborted by ${user}`], []);
    killGroup(run.child);
  }

  function startBuild(number: number, item: QueueItem) {
    const workspace = path.join(root, 'workspace', `${job}-${number}`);
    const build: StandinBuild = {
      number,
      queueId: item.id,
      params: item.params,
      building: true,
      result: null,
      log: Buffer.alloc(0),
      stagesRun: [],
      archived: new Map(),
      gitArgv: [],
      argv: [],
      workspace,
    };
    builds.set(number, build);
    const run: { child?: ChildProcess; aborted: boolean; done: Promise<void> } = {
      aborted: false,
      done: Promise.resolve(),
    };
    running.set(number, run);
    run.done = runPipeline(build, run)
      .catch((err: unknown) => {
        append(build, [`ERROR: ${(err as Error).message}`], []);
        build.result = 'FAILURE';
      })
      .finally(() => {
        append(build, [`Finished: ${build.result}`], []);
        build.building = false;
        running.delete(number);
        schedule();
      });
  }

  async function runPipeline(build: StandinBuild, run: { child?: ChildProcess; aborted: boolean }) {
    const spec = parseJenkinsfile();
    const masks: string[] = [];
    await fs.mkdir(build.workspace, { recursive: true });
    const gitLog = path.join(root, `git-argv-${build.number}.log`);
    const env: Record<string, string> = {
      PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? os.homedir(),
      LANG: 'C.UTF-8',
      WORKSPACE: build.workspace,
      BUILD_NUMBER: String(build.number),
      BUILD_ID: String(build.number),
      BUILD_URL: `${url}/job/${job}/${build.number}/`,
      JOB_NAME: job,
      JENKINS_URL: `${url}/`,
      NODE_NAME: 'built-in',
      EXECUTOR_NUMBER: '0',
      CLOUDSMITH_BUILD_HOME: buildHome,
      STANDIN_GIT_ARGV_LOG: gitLog,
      STANDIN_S3_URL: `${url}/__s3`,
      ...(options.aws
        ? {
            AWS_ENDPOINT_URL: options.aws.endpoint,
            AWS_DEFAULT_REGION: options.aws.region,
            AWS_ACCESS_KEY_ID: options.aws.accessKeyId,
            AWS_SECRET_ACCESS_KEY: options.aws.secretAccessKey,
          }
        : {}),
      ...build.params,
    };
    append(
      build,
      [
        'Started by remote host 127.0.0.1',
        '[Pipeline] Start of Pipeline',
        '[Pipeline] node',
        `Running on Jenkins in ${build.workspace}`,
      ],
      masks,
    );
    let result: StandinBuild['result'] = 'SUCCESS';
    // Read through a call: abort() flips run.aborted during the awaits, which TypeScript's narrowing does not see.
    const isAborted = () => run.aborted;
    const sh = async (script: string, extraEnv: Record<string, string>) => {
      append(build, ['[Pipeline] sh'], masks);
      const code = await runScript(build, run, script, { ...env, ...extraEnv }, masks);
      if (run.aborted) throw new Aborted();
      if (code !== 0) throw new Error(`script returned exit code ${code}`);
    };
    try {
      for (const stage of spec.stages) {
        if (result !== 'SUCCESS' || run.aborted) {
          append(
            build,
            [
              `[Pipeline] stage`,
              `[Pipeline] { (${stage.name})`,
              `Stage "${stage.name}" skipped due to earlier failure(s)`,
              '[Pipeline] }',
            ],
            masks,
          );
          continue;
        }
        build.stagesRun.push(stage.name);
        append(build, ['[Pipeline] stage', `[Pipeline] { (${stage.name})`], masks);
        try {
          if (stage.checkoutScm) {
            append(build, ['[Pipeline] dir', `Running in ${build.workspace}/.pipeline`, '[Pipeline] checkout'], masks);
            await fs.rm(path.join(build.workspace, '.pipeline'), { recursive: true, force: true });
            await fs.symlink(REPO_ROOT, path.join(build.workspace, '.pipeline'));
          }
          const bound: Record<string, string> = {};
          // Partial: a build may lack a parameter at run time, whatever Record<string, string> says.
          const params: Partial<Record<string, string>> = build.params;
          if (stage.bindsGit) {
            const cred = credentials.get(params.GIT_CREDENTIALS_ID ?? '');
            if (!cred || cred.kind !== 'usernamePassword')
              throw new Error(`Could not find credentials entry with ID '${params.GIT_CREDENTIALS_ID ?? ''}'`);
            append(build, ['[Pipeline] withCredentials', 'Masking supported pattern matches of $GIT_PASSWORD'], masks);
            bound.GIT_USERNAME = cred.username;
            bound.GIT_PASSWORD = cred.password;
            masks.push(cred.password);
          }
          if (stage.bindsAppEnv && build.params.ENV_CREDENTIALS_ID) {
            const cred = credentials.get(build.params.ENV_CREDENTIALS_ID);
            if (!cred || cred.kind !== 'string')
              throw new Error(`Could not find credentials entry with ID '${build.params.ENV_CREDENTIALS_ID}'`);
            append(build, ['[Pipeline] withCredentials', 'Masking supported pattern matches of $APP_ENV_B64'], masks);
            bound.APP_ENV_B64 = cred.secret;
            masks.push(cred.secret);
          }
          for (const script of stage.scripts) await sh(script, bound);
          if (stage.archives && !build.params.ARTIFACT_BUCKET) {
            append(build, ['[Pipeline] archiveArtifacts', 'Archiving artifacts'], masks);
            const file = path.join(build.workspace, stage.archives);
            if (!existsSync(file))
              throw new Error(`No artifacts found that match the file pattern "${stage.archives}"`);
            const kept = path.join(root, 'archive', String(build.number), stage.archives);
            await fs.mkdir(path.dirname(kept), { recursive: true });
            await fs.copyFile(file, kept);
            build.archived.set(stage.archives, kept);
          }
        } catch (err) {
          if (err instanceof Aborted || isAborted()) {
            result = 'ABORTED';
          } else {
            append(build, [`ERROR: ${(err as Error).message}`], masks);
            result = 'FAILURE';
          }
        }
        append(build, ['[Pipeline] }', '[Pipeline] // stage'], masks);
      }
      if (run.aborted) result = 'ABORTED';
      const post = result === 'FAILURE' ? spec.post.failure : result === 'ABORTED' ? spec.post.aborted : [];
      if (post.length > 0) {
        append(build, ['Post stage'], masks);
        // Post steps of an aborted build still run (Jenkins runs post after the interrupt).
        run.aborted = false;
        for (const script of post) await sh(script, {}).catch(() => undefined);
      }
    } finally {
      if (spec.post.cleanup) {
        append(build, ['[Pipeline] cleanWs', '[WS-CLEANUP] Deleting project workspace...', '[WS-CLEANUP] done'], masks);
        await fs.rm(build.workspace, { recursive: true, force: true });
      }
      if (existsSync(gitLog)) {
        build.gitArgv = (await fs.readFile(gitLog, 'utf8'))
          .split('\n\0\n')
          .filter(Boolean)
          .map((entry) => entry.split('\n'));
      }
      append(build, ['[Pipeline] End of Pipeline'], masks);
    }
    build.result = result === 'SUCCESS' && standin.markUnstable ? 'UNSTABLE' : result;
  }

  function runScript(
    build: StandinBuild,
    run: { child?: ChildProcess },
    script: string,
    env: Record<string, string>,
    masks: string[],
  ): Promise<number> {
    return new Promise((resolve) => {
      // durable-task writes the step into a script file and runs it with `sh -xe`.
      const dir = path.join(`${build.workspace}@tmp`, `durable-${randomBytes(4).toString('hex')}`);
      void fs
        .mkdir(dir, { recursive: true })
        .then(() => fs.writeFile(path.join(dir, 'script.sh'), script))
        .then(() => {
          const argv = ['sh', '-xe', path.join(dir, 'script.sh')];
          build.argv.push(argv);
          const child = spawn(argv[0], argv.slice(1), {
            cwd: build.workspace,
            env,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          run.child = child;
          const partial = { out: '', err: '' };
          const onData = (which: 'out' | 'err') => (chunk: Buffer) => {
            const lines = (partial[which] + chunk.toString('utf8')).split('\n');
            partial[which] = lines.pop() ?? '';
            append(build, lines, masks);
          };
          child.stdout.on('data', onData('out'));
          child.stderr.on('data', onData('err'));
          child.on('error', (err) => {
            append(build, [`ERROR: ${err.message}`], masks);
            resolve(127);
          });
          child.on('close', (code, signal) => {
            append(build, [partial.out, partial.err].filter(Boolean), masks);
            run.child = undefined;
            resolve(code ?? (signal ? 143 : 1));
          });
        });
    });
  }

  function append(build: StandinBuild, lines: string[], masks: string[]) {
    if (lines.length === 0) return;
    let text = lines.join('\n') + '\n';
    for (const secret of masks) if (secret) text = text.split(secret).join('****');
    build.log = Buffer.concat([build.log, Buffer.from(text, 'utf8')]);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const parsed = new URL(req.url ?? '/', url || 'http://127.0.0.1');
      const record: RequestRecord = {
        method: req.method ?? 'GET',
        path: parsed.pathname,
        query: parsed.search,
        status: 0,
        crumb: typeof req.headers['jenkins-crumb'] === 'string',
        body: body.toString('utf8'),
      };
      standin.requests.push(record);
      const send = (status: number, payload: string | Buffer, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'Content-Type': 'text/plain;charset=utf-8', ...headers });
        res.end(payload);
      };
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        send(status, JSON.stringify(value), { 'Content-Type': 'application/json;charset=utf-8', ...headers });
      };
      void handle(req, parsed, body, send, json, res, record).catch((err: unknown) => {
        send(500, `stand-in error: ${(err as Error).message}`);
      });
    });
  });

  async function handle(
    req: http.IncomingMessage,
    parsed: URL,
    body: Buffer,
    send: (status: number, payload: string | Buffer, headers?: Record<string, string>) => void,
    json: (status: number, value: unknown, headers?: Record<string, string>) => void,
    res: http.ServerResponse,
    record: RequestRecord,
  ): Promise<void> {
    const p = parsed.pathname;
    const method = req.method ?? 'GET';

    if (p === '/__callback' && method === 'POST') {
      standin.callbacks.push(JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>);
      send(204, '');
      return;
    }
    const s3 = /^\/__s3\/([^/]+)\/(.+)$/.exec(p);
    if (s3 && method === 'PUT') {
      if (!options.s3) {
        send(501, 'no S3 store configured in the stand-in');
        return;
      }
      const tmp = path.join(root, `s3-${randomBytes(4).toString('hex')}`);
      await fs.writeFile(tmp, body);
      // `--metadata` as the aws CLI takes it (JSON); the run plan is what the artifact-uploaded Lambda needs.
      const metadata = JSON.parse(String(req.headers['x-standin-metadata'] ?? '{}')) as Record<string, string>;
      await options.s3.putFile(decodeURIComponent(s3[2]), tmp, { plan: decodePlan(metadata[PLAN_METADATA]) });
      await fs.rm(tmp, { force: true });
      send(200, '');
      return;
    }

    const fault = faults.find((f) => f.count > 0 && p.startsWith(f.prefix));
    if (fault) {
      fault.count--;
      send(fault.status, `<html><body>Injected ${fault.status}</body></html>`, { 'Content-Type': 'text/html' });
      return;
    }

    const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [u, t] = auth ? Buffer.from(auth[1], 'base64').toString('utf8').split(/:(.*)/s) : [];
    if (!auth) {
      send(403, 'Authentication required', { 'X-Required-Permission': 'hudson.model.Hudson.Read' });
      return;
    }
    if (u !== user || t !== apiToken) {
      send(401, `Invalid password/token for user: ${u}`, { 'WWW-Authenticate': 'Basic realm="Jenkins"' });
      return;
    }

    const session = cookieSession(req.headers.cookie);
    if (p === '/crumbIssuer/api/json' && method === 'GET') {
      const id = session ?? randomBytes(8).toString('hex');
      if (!sessions.has(id)) sessions.set(id, createHash('sha256').update(`${id}:${apiToken}`).digest('hex'));
      json(
        200,
        {
          _class: 'hudson.security.csrf.DefaultCrumbIssuer',
          crumb: sessions.get(id),
          crumbRequestField: 'Jenkins-Crumb',
        },
        session ? {} : { 'Set-Cookie': `JSESSIONID.standin=${id}; Path=/; HttpOnly` },
      );
      return;
    }
    if (method !== 'GET') {
      const expected = session ? sessions.get(session) : undefined;
      if (!expected || req.headers['jenkins-crumb'] !== expected) {
        send(403, '<html><body>HTTP ERROR 403 No valid crumb was included in the request</body></html>', {
          'Content-Type': 'text/html',
        });
        return;
      }
    }

    if (p === `${CREDENTIALS_PREFIX}/createCredentials` && method === 'POST') {
      const xml = body.toString('utf8');
      const tag = (name: string) => unescapeXml(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1] ?? '');
      const id = tag('id');
      if (!id) {
        send(400, 'missing id');
        return;
      }
      if (credentials.has(id)) {
        send(409, `A credential with id ${id} already exists`);
        return;
      }
      let cred: Credential;
      if (xml.includes('UsernamePasswordCredentialsImpl'))
        cred = { kind: 'usernamePassword', username: tag('username'), password: tag('password') };
      else if (xml.includes('StringCredentialsImpl')) cred = { kind: 'string', secret: tag('secret') };
      else {
        send(400, 'unsupported credential class');
        return;
      }
      credentials.set(id, cred);
      standin.credentialEvents.push({ op: 'create', id, kind: cred.kind });
      send(200, '');
      return;
    }
    const credPath = new RegExp(`^${CREDENTIALS_PREFIX}/credential/([^/]+)/config\\.xml$`).exec(p);
    if (credPath && method === 'DELETE') {
      const id = decodeURIComponent(credPath[1]);
      if (!credentials.delete(id)) {
        send(404, 'Not found');
        return;
      }
      standin.credentialEvents.push({ op: 'delete', id });
      send(200, '');
      return;
    }

    if (p === '/queue/cancelItem' && method === 'POST') {
      standin.cancelQueueItem(Number(parsed.searchParams.get('id')));
      send(204, '');
      return;
    }
    const queueMatch = /^\/queue\/item\/(\d+)\/api\/json$/.exec(p);
    if (queueMatch && method === 'GET') {
      const item = queue.get(Number(queueMatch[1]));
      if (!item) {
        send(404, 'Not found');
        return;
      }
      json(200, {
        _class: item.cancelled
          ? 'hudson.model.Queue$CancelledItem'
          : item.executable
            ? 'hudson.model.Queue$LeftItem'
            : 'hudson.model.Queue$WaitingItem',
        id: item.id,
        cancelled: item.cancelled,
        why: item.executable || item.cancelled ? null : item.why,
        executable: item.executable
          ? {
              _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
              number: item.executable.number,
              url: item.executable.url,
            }
          : null,
      });
      return;
    }

    const jobMatch = /^\/job\/([^/]+)\/(.*)$/.exec(p);
    if (!jobMatch) {
      send(404, 'Not found');
      return;
    }
    if (decodeURIComponent(jobMatch[1]) !== job) {
      send(404, 'Not found');
      return;
    }
    const rest = jobMatch[2];
    if (rest === 'buildWithParameters' && method === 'POST') {
      const form = new URLSearchParams(body.toString('utf8'));
      const params: Record<string, string> = {};
      for (const [k, v] of form) params[k] = v;
      const id = nextQueueId++;
      queue.set(id, { id, params, enqueuedAt: Date.now(), cancelled: false, why: 'In the quiet period.' });
      setTimeout(schedule, quietPeriodMs + 5);
      send(201, '', { Location: `${url}/queue/item/${id}/` });
      return;
    }
    const buildMatch = /^(\d+)\/(.*)$/.exec(rest);
    const build = buildMatch ? builds.get(Number(buildMatch[1])) : undefined;
    if (!buildMatch || !build) {
      send(404, 'Not found');
      return;
    }
    const action = buildMatch[2];
    if (action === 'api/json' && method === 'GET') {
      json(200, {
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
        number: build.number,
        url: `${url}/job/${job}/${build.number}/`,
        building: build.building,
        result: build.building ? null : build.result,
        queueId: build.queueId,
        artifacts: [...build.archived.keys()].map((rel) => ({
          displayPath: path.basename(rel),
          fileName: path.basename(rel),
          relativePath: rel,
        })),
        actions: [
          {
            _class: 'hudson.model.ParametersAction',
            parameters: Object.entries(build.params).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      return;
    }
    if (action === 'logText/progressiveText' && method === 'GET') {
      const start = Math.max(0, Number(parsed.searchParams.get('start') ?? 0) || 0);
      const snapshot = build.log;
      const more = build.building;
      send(200, snapshot.subarray(Math.min(start, snapshot.length)), {
        'X-Text-Size': String(snapshot.length),
        ...(more ? { 'X-More-Data': 'true' } : {}),
      });
      return;
    }
    if (action === 'stop' && method === 'POST') {
      abort(build.number);
      record.status = 302;
      res.writeHead(302, { Location: `${url}/job/${job}/${build.number}/` });
      res.end();
      return;
    }
    const artifact = /^artifact\/(.+)$/.exec(action);
    if (artifact && method === 'GET') {
      const file = build.archived.get(decodeURIComponent(artifact[1]));
      if (!file) {
        send(404, 'Not found');
        return;
      }
      record.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    send(404, 'Not found');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standin.url = url;
  return standin;
}

class Aborted extends Error {}

function cookieSession(header: string | undefined): string | undefined {
  return /(?:^|;\s*)JSESSIONID\.standin=([0-9a-f]+)/.exec(header ?? '')?.[1];
}

function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function killGroup(child: ChildProcess | undefined) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const pid = child.pid;
  setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 3000).unref();
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The git shim records argv (one entry per call) and runs the real git; the aws shim PUTs `s3 cp` uploads to the stand-in. */
async function writeShims(dir: string, aws: boolean) {
  await fs.mkdir(dir, { recursive: true });
  const realGit = ['/usr/bin/git', '/usr/local/bin/git', '/bin/git'].find((g) => existsSync(g)) ?? 'git';
  await fs.writeFile(
    path.join(dir, 'git'),
    `#!/bin/sh\nif [ -n "$STANDIN_GIT_ARGV_LOG" ]; then { for a in "$@"; do printf '%s\\n' "$a"; done; printf '\\0\\n'; } >> "$STANDIN_GIT_ARGV_LOG"; fi\nexec ${realGit} "$@"\n`,
    { mode: 0o755 },
  );
  if (!aws) return;
  await fs.writeFile(
    path.join(dir, 'aws'),
    [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      '[[ "$1 $2" == "s3 cp" ]] || { echo "aws stand-in: only s3 cp is supported" >&2; exit 2; }',
      'shift 2; args=()',
      'metadata="{}"',
      'while (($#)); do case "$1" in --only-show-errors) shift ;; --metadata) metadata="$2"; shift 2 ;; *) args+=("$1"); shift ;; esac; done',
      'src="${args[0]}"; dest="${args[1]#s3://}"',
      'curl -fsS -o /dev/null -H "x-standin-metadata: $metadata" -T "$src" "$STANDIN_S3_URL/${dest%%/*}/${dest#*/}"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
}
