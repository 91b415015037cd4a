import t from 'tap';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashToken } from '../../src/domain/accounts.js';
import { silentLogger } from '../../src/log.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { dbKind, testDb } from '../helpers/db.js';

t.test(`migration 009 marks the demo accounts made before it, and only those (${dbKind})`, async (t) => {
  const db = await testDb(t, { migrate: false });
  const before = await mkdtemp(path.join(tmpdir(), 'atm247-migrations-'));
  t.teardown(() => rm(before, { recursive: true, force: true }));
  for (const file of await readdir(MIGRATIONS_DIR)) {
    if (/^\d{3}_/.test(file) && Number(file.slice(0, 3)) < 9) await copyFile(path.join(MIGRATIONS_DIR, file), path.join(before, file));
  }
  await migrate(db, silentLogger(), before);
  const accounts: [string, string, string | null][] = [
    ['demo admin (simulator)', 'admin', null],
    ['demo staff (simulator)', 'staff', null],
    ['admin (ATM247_ADMIN_TOKEN)', 'admin', null],
    ['Nguyễn Văn An', 'staff', 'admin:1:admin (ATM247_ADMIN_TOKEN)'],
  ];
  for (const [i, [name, role, createdBy]] of accounts.entries()) {
    await db.query(`INSERT INTO accounts (name, role, token_hash, created_by) VALUES ($1, $2, $3, $4)`, [
      name,
      role,
      hashToken(`token-${i}`),
      createdBy,
    ]);
  }
  const applied = await migrate(db, silentLogger());
  t.ok(applied.includes('009_demo_accounts.sql'));
  const { rows } = await db.query(`SELECT name, demo FROM accounts ORDER BY id`);
  t.same(rows, [
    { name: 'demo admin (simulator)', demo: true },
    { name: 'demo staff (simulator)', demo: true },
    { name: 'admin (ATM247_ADMIN_TOKEN)', demo: false },
    { name: 'Nguyễn Văn An', demo: false },
  ]);
});
