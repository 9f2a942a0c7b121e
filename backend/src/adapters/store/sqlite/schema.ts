/** Idempotent: runs at every init. JSON columns hold the nested shapes the store never queries into. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS apps (
  name TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  owner_login TEXT NOT NULL,
  repo TEXT NOT NULL,
  live_deployment_id TEXT,
  url TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS apps_owner ON apps (owner_id);

CREATE TABLE IF NOT EXISTS deployments (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  repo TEXT NOT NULL,
  ref TEXT NOT NULL,
  commit_sha TEXT,
  status TEXT NOT NULL,
  url TEXT,
  error TEXT,
  overrides TEXT NOT NULL DEFAULT '{}',
  artifact TEXT,
  plan TEXT,
  source_deployment_id TEXT,
  timings TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_owner_created ON deployments (owner_id, created_at);
CREATE INDEX IF NOT EXISTS deployments_owner_repo ON deployments (owner_id, repo, created_at);
CREATE INDEX IF NOT EXISTS deployments_owner_app ON deployments (owner_id, app, created_at);
CREATE INDEX IF NOT EXISTS deployments_status ON deployments (status);

-- A deployment's log as chunks of consecutive lines (see logChunks.ts); last_seq keys "lines after seq N" lookups.
CREATE TABLE IF NOT EXISTS log_chunks (
  deployment_id TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (deployment_id, last_seq)
) WITHOUT ROWID;

-- App names once claimed stay with their owner and repo, even after the app is deleted: a name is never reassigned.
CREATE TABLE IF NOT EXISTS app_names (
  name TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  repo TEXT NOT NULL
);
INSERT OR IGNORE INTO app_names (name, owner_id, repo) SELECT name, owner_id, repo FROM apps;

CREATE TABLE IF NOT EXISTS env (
  app TEXT PRIMARY KEY,
  sealed TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS processed_events (
  consumer TEXT NOT NULL,
  event_id TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (consumer, event_id)
) WITHOUT ROWID;
`;

/** Databases written before logs were chunked hold one row per line: each becomes a one-line chunk, once. */
export const MIGRATE_LINE_ROWS = `
INSERT OR IGNORE INTO log_chunks (deployment_id, last_seq, first_seq, lines)
  SELECT deployment_id, seq, seq, json_array(json_object('ts', ts, 'stage', stage, 'text', text)) FROM logs;
DROP TABLE logs;
`;
