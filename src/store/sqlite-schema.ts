import type { Database } from 'better-sqlite3';

/** Schema migrations, in order; entry i brings the database to version i + 1. Never edit a shipped one: append. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (id TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX sessions_expiry ON sessions(expires_at);
   CREATE TABLE transcripts (id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX transcripts_expiry ON transcripts(expires_at);
   CREATE TABLE messages (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
   CREATE TABLE turns (conversation_id TEXT NOT NULL, client_message_id TEXT NOT NULL, first_seq INTEGER NOT NULL, count INTEGER NOT NULL,
     expires_at INTEGER NOT NULL, PRIMARY KEY (conversation_id, client_message_id)) WITHOUT ROWID;
   CREATE INDEX turns_expiry ON turns(expires_at);
   CREATE TABLE applications (ref TEXT PRIMARY KEY, run_id TEXT UNIQUE, body TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX applications_expiry ON applications(expires_at);
   CREATE TABLE ref_counters (day TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE attempts (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;`,
  `CREATE TABLE outbox (id TEXT PRIMARY KEY, entry TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER NOT NULL, owner TEXT, last_error TEXT) WITHOUT ROWID;
   CREATE INDEX outbox_due ON outbox(state, due_at);
   CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL);
   CREATE INDEX events_at ON events(at);`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION, one transaction per migration; refuses a file written by newer code. */
export function migrate(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > SCHEMA_VERSION) throw new Error(`the database schema is version ${current}, newer than this code (${SCHEMA_VERSION}); upgrade the assistant`);
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      if (v === 0 && !row) db.prepare('INSERT INTO schema_version (version) VALUES (1)').run();
      else db.prepare('UPDATE schema_version SET version = ?').run(v + 1);
    })();
  }
}
