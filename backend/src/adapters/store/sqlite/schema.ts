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

CREATE TABLE IF NOT EXISTS logs (
  deployment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts TEXT NOT NULL,
  stage TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;

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
