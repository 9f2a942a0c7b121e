// Long on purpose: one adapter of the whole Store port (apps, name claims, deployments, logs, env, processed
// events) over one set of prepared statements; the store contract suite tests it whole.
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { allowedPredecessors, IN_FLIGHT_STATUSES } from '../../../domain/deployment';
import type { App, Deployment, DeploymentStatus, LogLine } from '../../../domain/deployment';
import type { DeploymentPatch, DeploymentQuery, NewLogLine, Store } from '../../../ports/store';
import { chunkLines } from '../logChunks';
import { MIGRATE_LINE_ROWS, SCHEMA } from './schema';
import { RuntimeLogTable } from './runtimeLogTable';
import type { NewRuntimeLogLine, RuntimeLogLine } from '../../../domain/runtimeLog';

interface AppRow {
  name: string;
  owner_id: string;
  owner_login: string;
  repo: string;
  live_deployment_id: string | null;
  url: string | null;
  created_at: string;
}

interface DeploymentRow {
  id: string;
  app: string;
  owner_id: string;
  repo: string;
  ref: string;
  commit_sha: string | null;
  status: DeploymentStatus;
  url: string | null;
  error: string | null;
  overrides: string;
  artifact: string | null;
  plan: string | null;
  source_deployment_id: string | null;
  timings: string;
  created_at: string;
  updated_at: string;
}

interface ChunkRow {
  first_seq: number;
  lines: string;
}

type StoredLine = Omit<LogLine, 'seq'>;

/** Named parameters of the patch statement: null means "leave the column as it is". */
interface PatchParams {
  id: string;
  app: string | null;
  repo: string | null;
  ref: string | null;
  commit_sha: string | null;
  url: string | null;
  error: string | null;
  overrides: string | null;
  artifact: string | null;
  plan: string | null;
  source_deployment_id: string | null;
  timings: string | null;
  updated_at: string;
}

/**
 * Only the columns a patch names change; timings merge (json_patch) so each stage adds its own figure
 * without reading the others first.
 */
const PATCH_SET = `
  app = coalesce(@app, app), repo = coalesce(@repo, repo), ref = coalesce(@ref, ref),
  commit_sha = coalesce(@commit_sha, commit_sha), url = coalesce(@url, url), error = coalesce(@error, error),
  overrides = coalesce(@overrides, overrides), artifact = coalesce(@artifact, artifact), plan = coalesce(@plan, plan),
  source_deployment_id = coalesce(@source_deployment_id, source_deployment_id),
  timings = CASE WHEN @timings IS NULL THEN timings ELSE json_patch(timings, @timings) END,
  updated_at = @updated_at`;

function toApp(r: AppRow): App {
  return {
    name: r.name,
    ownerId: r.owner_id,
    ownerLogin: r.owner_login,
    repo: r.repo,
    ...(r.live_deployment_id !== null && { liveDeploymentId: r.live_deployment_id }),
    ...(r.url !== null && { url: r.url }),
    createdAt: r.created_at,
  };
}

function toDeployment(r: DeploymentRow): Deployment {
  return {
    id: r.id,
    app: r.app,
    ownerId: r.owner_id,
    repo: r.repo,
    ref: r.ref,
    ...(r.commit_sha !== null && { commitSha: r.commit_sha }),
    status: r.status,
    ...(r.url !== null && { url: r.url }),
    ...(r.error !== null && { error: r.error }),
    overrides: JSON.parse(r.overrides) as Deployment['overrides'],
    ...(r.artifact !== null && { artifact: JSON.parse(r.artifact) as NonNullable<Deployment['artifact']> }),
    ...(r.plan !== null && { plan: JSON.parse(r.plan) as NonNullable<Deployment['plan']> }),
    ...(r.source_deployment_id !== null && { sourceDeploymentId: r.source_deployment_id }),
    timings: JSON.parse(r.timings) as Deployment['timings'],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function patchParams(id: string, p: DeploymentPatch): PatchParams {
  return {
    id,
    app: p.app ?? null,
    repo: p.repo ?? null,
    ref: p.ref ?? null,
    commit_sha: p.commitSha ?? null,
    url: p.url ?? null,
    error: p.error ?? null,
    overrides: json(p.overrides),
    artifact: json(p.artifact),
    plan: json(p.plan),
    source_deployment_id: p.sourceDeploymentId ?? null,
    timings: json(p.timings),
    updated_at: p.updatedAt ?? new Date().toISOString(),
  };
}

type ListParams = { owner_id: string; repo?: string; app?: string; limit: number };

function listStatement(db: Database.Database, filter: string) {
  return db.prepare<[ListParams], DeploymentRow>(
    `SELECT * FROM deployments WHERE owner_id = @owner_id ${filter} ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
  );
}

type Statements = ReturnType<typeof prepare>;

function notOpen(): Error {
  return new Error('SqliteStore used before init() or after close()');
}

function prepare(db: Database.Database) {
  return {
    putApp: db.prepare<[AppRow]>(
      `INSERT INTO apps (name, owner_id, owner_login, repo, live_deployment_id, url, created_at)
       VALUES (@name, @owner_id, @owner_login, @repo, @live_deployment_id, @url, @created_at)
       ON CONFLICT(name) DO UPDATE SET owner_id = excluded.owner_id, owner_login = excluded.owner_login,
         repo = excluded.repo, live_deployment_id = excluded.live_deployment_id, url = excluded.url,
         created_at = excluded.created_at`,
    ),
    getApp: db.prepare<[string], AppRow>('SELECT * FROM apps WHERE name = ?'),
    listApps: db.prepare<[string], AppRow>('SELECT * FROM apps WHERE owner_id = ? ORDER BY created_at, name'),
    listLiveApps: db.prepare<[], AppRow>(
      'SELECT * FROM apps WHERE live_deployment_id IS NOT NULL ORDER BY created_at, name',
    ),
    deleteApp: db.prepare<[string]>('DELETE FROM apps WHERE name = ?'),
    deleteEnv: db.prepare<[string]>('DELETE FROM env WHERE app = ?'),

    createDeployment: db.prepare<[DeploymentRow]>(
      `INSERT INTO deployments (id, app, owner_id, repo, ref, commit_sha, status, url, error, overrides, artifact, plan,
         source_deployment_id, timings, created_at, updated_at)
       VALUES (@id, @app, @owner_id, @repo, @ref, @commit_sha, @status, @url, @error, @overrides, @artifact, @plan,
         @source_deployment_id, @timings, @created_at, @updated_at)`,
    ),
    getDeployment: db.prepare<[string], DeploymentRow>('SELECT * FROM deployments WHERE id = ?'),
    // One statement per filter combination, so each can use its own index (newest first straight from it).
    listDeployments: {
      all: listStatement(db, ''),
      repo: listStatement(db, 'AND repo = @repo'),
      app: listStatement(db, 'AND app = @app'),
      both: listStatement(db, 'AND repo = @repo AND app = @app'),
    },
    listInFlight: db.prepare<[string], DeploymentRow>(
      `SELECT * FROM deployments WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid`,
    ),
    transition: db.prepare<[PatchParams & { to: DeploymentStatus; from: string }], DeploymentRow>(
      `UPDATE deployments SET status = @to, ${PATCH_SET}
       WHERE id = @id AND status IN (SELECT value FROM json_each(@from)) RETURNING *`,
    ),
    update: db.prepare<[PatchParams], DeploymentRow>(`UPDATE deployments SET ${PATCH_SET} WHERE id = @id RETURNING *`),

    lastSeq: db.prepare<[string], { seq: number }>(
      'SELECT coalesce(max(last_seq), 0) AS seq FROM log_chunks WHERE deployment_id = ?',
    ),
    insertChunk: db.prepare<[string, number, number, string]>(
      'INSERT INTO log_chunks (deployment_id, last_seq, first_seq, lines) VALUES (?, ?, ?, ?)',
    ),
    // Every chunk holding a line after `since`; each chunk has at least one line, so `limit` chunks are enough.
    readChunks: db.prepare<[string, number, number], ChunkRow>(
      'SELECT first_seq, lines FROM log_chunks WHERE deployment_id = ? AND last_seq > ? ORDER BY last_seq LIMIT ?',
    ),
    deleteLogs: db.prepare<[string]>('DELETE FROM log_chunks WHERE deployment_id = ?'),
    claimName: db.prepare<[string, string, string]>(
      'INSERT INTO app_names (name, owner_id, repo) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING',
    ),
    nameHolder: db.prepare<[string], { owner_id: string; repo: string }>(
      'SELECT owner_id, repo FROM app_names WHERE name = ?',
    ),

    getEnv: db.prepare<[string], { sealed: string }>('SELECT sealed FROM env WHERE app = ?'),
    putEnv: db.prepare<[string, string]>(
      'INSERT INTO env (app, sealed) VALUES (?, ?) ON CONFLICT(app) DO UPDATE SET sealed = excluded.sealed',
    ),
    // One statement, so atomic across connections: a JSON merge patch (RFC 7396, null removes a key) of the map.
    patchEnv: db.prepare<[{ app: string; patch: string }]>(
      `INSERT INTO env (app, sealed) VALUES (@app, json_patch('{}', @patch))
       ON CONFLICT(app) DO UPDATE SET sealed = json_patch(sealed, @patch)`,
    ),
    markProcessed: db.prepare<[string, string, string]>(
      'INSERT OR IGNORE INTO processed_events (consumer, event_id, at) VALUES (?, ?, ?)',
    ),
  };
}

/**
 * Platform state in one SQLite file (WAL, so readers never wait for the writer). Status changes are single
 * conditional UPDATEs, so a late or redelivered event can never move a deployment backwards, even when
 * several processes share the file.
 */
export class SqliteStore implements Store {
  private db?: Database.Database;
  private stmts?: Statements;
  private tx?: {
    appendLogs(deploymentId: string, lines: NewLogLine[]): LogLine[];
    deleteLogs(deploymentId: string): void;
    deleteApp(name: string): void;
  };
  private runtimeLogs?: RuntimeLogTable;

  /** `path` is a file (its directory is created) or ':memory:'. */
  constructor(private readonly path: string) {}

  async init(): Promise<void> {
    if (this.db) return;
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const db = new Database(this.path);
    // Sealed env values and every deployment's history: only the platform's user may read them. SQLite gives the
    // -wal and -shm files the database file's mode.
    if (this.path !== ':memory:') chmodSync(this.path, 0o600);
    db.pragma('busy_timeout = 5000');
    if (this.path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'logs'").get();
    if (legacy) db.exec(`BEGIN IMMEDIATE; ${MIGRATE_LINE_ROWS} COMMIT;`);
    const stmts = prepare(db);
    const append = db.transaction((deploymentId: string, lines: NewLogLine[]): LogLine[] => {
      let seq = stmts.lastSeq.get(deploymentId)?.seq ?? 0;
      const numbered = lines.map((l) => ({ seq: ++seq, ts: l.ts, stage: l.stage, text: l.text }));
      for (const group of chunkLines(numbered)) {
        const stored: StoredLine[] = group.map(({ ts, stage, text }) => ({ ts, stage, text }));
        stmts.insertChunk.run(deploymentId, group[group.length - 1].seq, group[0].seq, JSON.stringify(stored));
      }
      return numbered;
    });
    // An empty chunk at the last seq stays behind, so numbering continues where it was.
    const deleteLogs = db.transaction((deploymentId: string) => {
      const last = stmts.lastSeq.get(deploymentId)?.seq ?? 0;
      stmts.deleteLogs.run(deploymentId);
      if (last > 0) stmts.insertChunk.run(deploymentId, last, last + 1, '[]');
    });
    const deleteApp = db.transaction((name: string) => {
      stmts.deleteApp.run(name);
      stmts.deleteEnv.run(name);
    });
    // IMMEDIATE takes the write lock before reading max(seq): two processes can't both pick the same next seq.
    this.tx = {
      appendLogs: (id, lines) => append.immediate(id, lines),
      deleteLogs: (id) => {
        deleteLogs.immediate(id);
      },
      deleteApp: (name) => {
        deleteApp.immediate(name);
      },
    };
    this.runtimeLogs = new RuntimeLogTable(db);
    this.db = db;
    this.stmts = stmts;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
    this.tx = undefined;
    this.runtimeLogs = undefined;
  }

  private get s(): Statements {
    if (!this.stmts) throw notOpen();
    return this.stmts;
  }

  async putApp(app: App): Promise<void> {
    this.s.putApp.run({
      name: app.name,
      owner_id: app.ownerId,
      owner_login: app.ownerLogin,
      repo: app.repo,
      live_deployment_id: app.liveDeploymentId ?? null,
      url: app.url ?? null,
      created_at: app.createdAt,
    });
  }

  async getApp(name: string): Promise<App | undefined> {
    const row = this.s.getApp.get(name);
    return row && toApp(row);
  }

  async listApps(ownerId: string): Promise<App[]> {
    return this.s.listApps.all(ownerId).map(toApp);
  }

  async listLiveApps(): Promise<App[]> {
    return this.s.listLiveApps.all().map(toApp);
  }

  async deleteApp(name: string): Promise<void> {
    if (!this.tx) throw notOpen();
    this.tx.deleteApp(name);
  }

  async createDeployment(d: Deployment): Promise<void> {
    this.s.createDeployment.run({
      id: d.id,
      app: d.app,
      owner_id: d.ownerId,
      repo: d.repo,
      ref: d.ref,
      commit_sha: d.commitSha ?? null,
      status: d.status,
      url: d.url ?? null,
      error: d.error ?? null,
      overrides: JSON.stringify(d.overrides),
      artifact: json(d.artifact),
      plan: json(d.plan),
      source_deployment_id: d.sourceDeploymentId ?? null,
      timings: JSON.stringify(d.timings),
      created_at: d.createdAt,
      updated_at: d.updatedAt,
    });
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = this.s.getDeployment.get(id);
    return row && toDeployment(row);
  }

  async listDeployments(q: DeploymentQuery): Promise<Deployment[]> {
    const list = this.s.listDeployments;
    const stmt =
      q.repo !== undefined ? (q.app !== undefined ? list.both : list.repo) : q.app !== undefined ? list.app : list.all;
    const params: ListParams = { owner_id: q.ownerId, limit: q.limit ?? -1 };
    if (q.repo !== undefined) params.repo = q.repo;
    if (q.app !== undefined) params.app = q.app;
    return stmt.all(params).map(toDeployment);
  }

  async listInFlight(): Promise<Deployment[]> {
    return this.s.listInFlight.all(JSON.stringify(IN_FLIGHT_STATUSES)).map(toDeployment);
  }

  async transition(id: string, to: DeploymentStatus, patch: DeploymentPatch = {}): Promise<Deployment | undefined> {
    const row = this.s.transition.get({ ...patchParams(id, patch), to, from: JSON.stringify(allowedPredecessors(to)) });
    return row && toDeployment(row);
  }

  async updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment | undefined> {
    const row = this.s.update.get(patchParams(id, patch));
    return row && toDeployment(row);
  }

  async appendLogs(deploymentId: string, lines: NewLogLine[]): Promise<LogLine[]> {
    if (!this.tx) throw notOpen();
    if (lines.length === 0) return [];
    return this.tx.appendLogs(deploymentId, lines);
  }

  async readLogs(deploymentId: string, sinceSeq: number, limit?: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    const max = limit ?? Infinity;
    // Row by row: a page of a long log parses the few chunks it needs, not every chunk the LIMIT allows.
    for (const chunk of this.s.readChunks.iterate(deploymentId, sinceSeq, limit ?? -1)) {
      const lines = JSON.parse(chunk.lines) as StoredLine[];
      lines.forEach((l, i) => {
        const seq = chunk.first_seq + i;
        if (seq > sinceSeq && out.length < max) out.push({ seq, ts: l.ts, stage: l.stage, text: l.text });
      });
      if (out.length >= max) break;
    }
    return out;
  }

  async deleteLogs(deploymentId: string): Promise<void> {
    if (!this.tx) throw notOpen();
    this.tx.deleteLogs(deploymentId);
  }

  async appendRuntimeLogs(app: string, lines: NewRuntimeLogLine[], keepBytes: number): Promise<RuntimeLogLine[]> {
    return this.rt.append(app, lines, keepBytes);
  }

  async readRuntimeLogs(app: string, sinceSeq: number, limit?: number): Promise<RuntimeLogLine[]> {
    return this.rt.readSince(app, sinceSeq, limit);
  }

  async deleteRuntimeLogs(app: string): Promise<void> {
    this.rt.delete(app);
  }

  private get rt(): RuntimeLogTable {
    if (!this.runtimeLogs) throw notOpen();
    return this.runtimeLogs;
  }

  async claimAppName(name: string, ownerId: string, repo: string): Promise<boolean> {
    this.s.claimName.run(name, ownerId, repo);
    const holder = this.s.nameHolder.get(name);
    return holder?.owner_id === ownerId && holder.repo.toLowerCase() === repo.toLowerCase();
  }

  async getEnv(app: string): Promise<Record<string, string>> {
    const row = this.s.getEnv.get(app);
    return row ? (JSON.parse(row.sealed) as Record<string, string>) : {};
  }

  async putEnv(app: string, sealed: Record<string, string>): Promise<void> {
    this.s.putEnv.run(app, JSON.stringify(sealed));
  }

  async patchEnv(app: string, changes: Record<string, string | null>): Promise<void> {
    this.s.patchEnv.run({ app, patch: JSON.stringify(changes) });
  }

  async markProcessed(consumer: string, eventId: string): Promise<boolean> {
    return this.s.markProcessed.run(consumer, eventId, new Date().toISOString()).changes === 1;
  }
}
