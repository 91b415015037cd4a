/**
 * Numbered SQL migrations from `migrations/` (NNN_name.sql), applied in order, each in its own
 * transaction, recorded in `schema_migrations`. Applied at start and by `npm run migrate`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { PACKAGE_ROOT } from '../config/package-root.js';
import type { Db } from './db.js';

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, file.indexOf('_')));
    if (migrations.some((m) => m.version === version)) throw new Error(`two migrations numbered ${version}`);
    migrations.push({ version, name: file, sql: await readFile(path.join(dir, file), 'utf8') });
  }
  return migrations;
}

/** Applies what is missing; returns the names applied. Safe to run concurrently (advisory lock). */
export async function migrate(db: Db, logger: Logger, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  const applied: string[] = [];
  await db.tx(
    async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(247247)');
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        applied.push(m.name);
        logger.info({ migration: m.name }, 'migration applied');
      }
      // A migration may rewrite a big table, and may wait for another instance's lock: no timeout.
    },
    { statementTimeoutMs: null },
  );
  return applied;
}
