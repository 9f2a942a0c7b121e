import type Database from 'better-sqlite3';
import { runtimeLineBytes, type NewRuntimeLogLine, type RuntimeLogLine } from '../../../domain/runtimeLog';
import { chunkLines } from '../logChunks';

/**
 * An app's runtime log as chunks like a deployment's (see logChunks.ts), plus a running byte count: `end_bytes` is
 * what the app had written through the chunk, so "drop what is older than the newest N bytes" is one DELETE.
 */
export const RUNTIME_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS runtime_log_chunks (
  app TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  end_bytes INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (app, last_seq)
) WITHOUT ROWID;
`;

type StoredLine = Omit<RuntimeLogLine, 'seq'>;

/** The SQLite store's runtime logs; every write is an IMMEDIATE transaction, so processes sharing the file never clash on seq. */
export class RuntimeLogTable {
  private readonly head;
  private readonly insert;
  private readonly trim;
  private readonly read;
  private readonly drop;
  private readonly appendTx;
  private readonly deleteTx;

  constructor(db: Database.Database) {
    db.exec(RUNTIME_LOG_SCHEMA);
    this.head = db.prepare<[string], { last_seq: number; end_bytes: number }>(
      'SELECT last_seq, end_bytes FROM runtime_log_chunks WHERE app = ? ORDER BY last_seq DESC LIMIT 1',
    );
    this.insert = db.prepare<[string, number, number, number, number, string]>(
      'INSERT INTO runtime_log_chunks (app, last_seq, first_seq, bytes, end_bytes, lines) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // A chunk goes once any of it is older than the newest `keep` bytes: what stays is at most `keep`.
    this.trim = db.prepare<[string, number]>('DELETE FROM runtime_log_chunks WHERE app = ? AND end_bytes - bytes < ?');
    this.read = db.prepare<[string, number, number], { first_seq: number; lines: string }>(
      'SELECT first_seq, lines FROM runtime_log_chunks WHERE app = ? AND last_seq > ? ORDER BY last_seq LIMIT ?',
    );
    this.drop = db.prepare<[string]>('DELETE FROM runtime_log_chunks WHERE app = ?');
    this.appendTx = db.transaction((app: string, lines: NewRuntimeLogLine[], keep: number): RuntimeLogLine[] => {
      const head = this.head.get(app);
      let seq = head?.last_seq ?? 0;
      let end = head?.end_bytes ?? 0;
      const numbered = lines.map((l) => ({ seq: ++seq, ...pick(l) }));
      for (const group of chunkLines(numbered)) {
        const bytes = group.reduce((sum, l) => sum + runtimeLineBytes(l), 0);
        end += bytes;
        this.insert.run(app, group[group.length - 1].seq, group[0].seq, bytes, end, JSON.stringify(group.map(pick)));
      }
      this.trim.run(app, end - keep);
      return numbered;
    });
    // An empty chunk at the last seq and byte count stays behind, so numbering continues where it was.
    this.deleteTx = db.transaction((app: string) => {
      const head = this.head.get(app);
      this.drop.run(app);
      if (head) this.insert.run(app, head.last_seq, head.last_seq + 1, 0, head.end_bytes, '[]');
    });
  }

  append(app: string, lines: NewRuntimeLogLine[], keepBytes: number): RuntimeLogLine[] {
    return lines.length === 0 ? [] : this.appendTx.immediate(app, lines, keepBytes);
  }

  readSince(app: string, sinceSeq: number, limit?: number): RuntimeLogLine[] {
    const out: RuntimeLogLine[] = [];
    const max = limit ?? Infinity;
    for (const chunk of this.read.iterate(app, sinceSeq, limit ?? -1)) {
      (JSON.parse(chunk.lines) as StoredLine[]).forEach((l, i) => {
        const seq = chunk.first_seq + i;
        if (seq > sinceSeq && out.length < max) out.push({ seq, ...pick(l) });
      });
      if (out.length >= max) break;
    }
    return out;
  }

  delete(app: string): void {
    this.deleteTx.immediate(app);
  }
}

function pick(l: NewRuntimeLogLine): StoredLine {
  return { at: l.at, deploymentId: l.deploymentId, stream: l.stream, text: l.text };
}
