import t from 'tap';
import { testDb, dbKind } from '../helpers/db.js';
import { migrate } from '../../src/store/migrate.js';
import { silentLogger } from '../../src/log.js';

t.test(`migrations apply once and are recorded (${dbKind})`, async (t) => {
  const db = await testDb(t, { migrate: false });
  const first = await migrate(db, silentLogger());
  t.ok(first.includes('001_core.sql'), 'the core migration is applied on an empty database');
  const second = await migrate(db, silentLogger());
  t.same(second, [], 'nothing is applied twice');
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  const names = tables.rows.map((r) => r.table_name);
  for (const table of ['lockers', 'boards', 'trays', 'accounts', 'audit_log', 'outbox', 'schema_migrations']) {
    t.ok(names.includes(table), `table ${table} exists`);
  }
});
