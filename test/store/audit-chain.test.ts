import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AuditRepository } from '../../src/store/audit.js';
import { AuditChainRepository, GENESIS_HASH, rowHashSql } from '../../src/store/audit-chain.js';
import type { Db } from '../../src/store/db.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { silentLogger } from '../../src/log.js';
import { dbKind, testDb } from '../helpers/db.js';

const LOCKER = 'chain-locker';
const T0 = Date.parse('2026-03-02T01:00:00.123Z');
const at = (i: number) => new Date(T0 + i * 1000);

/** Writes `n` rows, one transaction each, the way the services do. */
async function write(db: Db, n: number, from = 0): Promise<void> {
  const audit = new AuditRepository(LOCKER);
  for (let i = from; i < from + n; i++) {
    await db.tx((q) =>
      audit.record(q, { actor: 'system', action: 'test.step', subject: `tray:${i}`, details: { i, nested: { b: 1, a: [i] } }, at: at(i) }),
    );
  }
}

async function rowIds(db: Db): Promise<number[]> {
  const { rows } = await db.query(`SELECT id FROM audit_log WHERE locker_id = $1 ORDER BY seq`, [LOCKER]);
  return rows.map((r: any) => Number(r.id));
}

const verify = (db: Db, anchors: Parameters<AuditChainRepository['verify']>[1] = []) =>
  new AuditChainRepository(LOCKER).verify(db, anchors);

t.test(`rows written in transactions form one chain per locker; personal data stays out of the hash (${dbKind})`, async (t) => {
  const db = await testDb(t);
  const chain = new AuditChainRepository(LOCKER);
  t.same(await chain.head(db), { seq: 0, id: null, hash: GENESIS_HASH }, 'an empty chain');
  t.same(await chain.verify(db), { lockerId: LOCKER, ok: true, rows: 0, head: { seq: 0, id: null, hash: GENESIS_HASH }, broken: null });

  await write(db, 3);
  const audit = new AuditRepository(LOCKER);
  // Two rows in one transaction, one of another locker between them, and one on the pool itself.
  await db.tx(async (q) => {
    await audit.record(q, {
      actor: 'staff:7:Nguyễn Văn An',
      action: 'tray.open',
      subject: 'tray:4',
      details: { reason: 'maintenance' },
      personal: { note: 'for Mr An' },
      at: at(3),
    });
    await new AuditRepository('other-locker').record(q, { actor: 'system', action: 'test.other', at: at(3) });
    await audit.record(q, {
      actor: 'admin:1:Boss',
      action: 'staff.created',
      subject: 'account:7',
      details: { role: 'staff' },
      personal: { name: 'An' },
      at: at(4),
    });
  });
  await audit.record(db, { actor: 'touchscreen', action: 'staff.sign_in_failed', subject: null, at: at(5) });
  // A rolled back transaction leaves no row and no hole.
  await t.rejects(
    db.tx(async (q) => {
      await audit.record(q, { actor: 'system', action: 'test.rolled_back', at: at(6) });
      throw new Error('rolled back');
    }),
  );

  const { rows } = await db.query(`SELECT seq, prev_hash, hash, action FROM audit_log WHERE locker_id = $1 ORDER BY id`, [LOCKER]);
  t.same(
    rows.map((r: any) => [Number(r.seq), r.action]),
    [
      [1, 'test.step'],
      [2, 'test.step'],
      [3, 'test.step'],
      [4, 'tray.open'],
      [5, 'staff.created'],
      [6, 'staff.sign_in_failed'],
    ],
    'positions follow the order written',
  );
  t.equal(rows[0].prev_hash, GENESIS_HASH, 'the first row is linked to the genesis');
  for (let i = 1; i < rows.length; i++) t.equal(rows[i].prev_hash, rows[i - 1].hash, `row ${i + 1} is linked to row ${i}`);
  t.match(await chain.verify(db), { ok: true, rows: 6, head: { seq: 6, hash: rows[5].hash }, broken: null });
  t.match(await new AuditChainRepository('other-locker').verify(db), { ok: true, rows: 1 }, 'the other locker has a chain of its own');
  t.same(await chain.head(db), (await chain.verify(db)).head, 'the head is the last row verified');

  // Clearing personal data (the column, the name in an account's actor) keeps the chain intact.
  await db.query(
    `UPDATE audit_log SET personal = NULL, actor = regexp_replace(actor, '^(admin|staff):([0-9]+):.*$', '\\1:\\2') WHERE locker_id = $1`,
    [LOCKER],
  );
  const purged = await db.query(`SELECT actor FROM audit_log WHERE locker_id = $1 AND action = 'tray.open'`, [LOCKER]);
  t.equal(purged.rows[0].actor, 'staff:7', 'the name is gone');
  t.match(await chain.verify(db), { ok: true, rows: 6 }, 'still intact after the purge');
  // But the account id is hashed: another officer's id is an edit.
  await db.query(`UPDATE audit_log SET actor = 'staff:8' WHERE locker_id = $1 AND action = 'tray.open'`, [LOCKER]);
  t.match(await chain.verify(db), { ok: false, broken: { kind: 'edited', seq: 4 } });
});

t.test(`an edited row, a deleted row, a reordered pair: the first broken link is named (${dbKind})`, async (t) => {
  t.test('edited details', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const ids = await rowIds(db);
    await db.query(`UPDATE audit_log SET details = jsonb_set(details, '{i}', '99') WHERE id = $1`, [ids[3]]);
    const v = await verify(db);
    t.match(v, { ok: false, rows: 3, head: { seq: 3, id: ids[2] }, broken: { kind: 'edited', id: ids[3], seq: 4 } });
    t.match(v.broken!.message, `row ${ids[3]} (seq 4)`);
  });

  t.test('an edited time, a later row edited too: the first one is named', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const ids = await rowIds(db);
    await db.query(`UPDATE audit_log SET at = at + interval '1 millisecond' WHERE id = $1`, [ids[4]]);
    await db.query(`UPDATE audit_log SET action = 'test.other' WHERE id = $1`, [ids[1]]);
    t.match(await verify(db), { ok: false, broken: { kind: 'edited', id: ids[1], seq: 2 } });
  });

  t.test('a deleted row', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const ids = await rowIds(db);
    await db.query(`DELETE FROM audit_log WHERE id = $1`, [ids[2]]);
    const v = await verify(db);
    t.match(v, { ok: false, rows: 2, broken: { kind: 'missing', id: ids[3], seq: 3 } });
    t.match(v.broken!.message, /1 row\(s\) before row \d+ \(seq 4\) are gone \(seq 3\)/);
  });

  t.test('the first rows deleted', async (t) => {
    const db = await testDb(t);
    await write(db, 4);
    const ids = await rowIds(db);
    await db.query(`DELETE FROM audit_log WHERE id = ANY($1)`, [ids.slice(0, 2)]);
    t.match(await verify(db), { ok: false, rows: 0, broken: { kind: 'missing', id: ids[2], seq: 1 } });
  });

  t.test('a pair reordered by swapping ids', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const ids = await rowIds(db);
    const [a, b] = [ids[2], ids[3]];
    await db.tx(async (q) => {
      await q.query(`UPDATE audit_log SET id = -1 WHERE id = $1`, [a]);
      await q.query(`UPDATE audit_log SET id = $1 WHERE id = $2`, [a, b]);
      await q.query(`UPDATE audit_log SET id = $1 WHERE id = -1`, [b]);
    });
    const v = await verify(db);
    t.match(v, { ok: false, rows: 3, broken: { kind: 'reordered', id: a, seq: 4 } });
    t.match(v.broken!.message, `row ${a} (seq 4) is stored before row ${b} (seq 3)`);
  });

  t.test('a pair reordered by swapping times', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const ids = await rowIds(db);
    await db.query(
      `UPDATE audit_log a SET at = b.at FROM audit_log b WHERE (a.id, b.id) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [ids[1], ids[2]],
    );
    t.match(await verify(db), { ok: false, broken: { kind: 'edited', id: ids[1], seq: 2 } });
  });

  t.test('a row edited and the chain hashed again from there: intact alone, broken against a published head', async (t) => {
    const db = await testDb(t);
    await write(db, 6);
    const published = await new AuditChainRepository(LOCKER).head(db);
    const ids = await rowIds(db);
    // Whoever rewrites the database can recompute every hash after the edit...
    await db.query(`UPDATE audit_log SET details = '{"i": 42}' WHERE id = $1`, [ids[2]]);
    const rehash = rowHashSql('$2::text');
    let prev = (await db.query(`SELECT hash FROM audit_log WHERE id = $1`, [ids[1]])).rows[0].hash;
    for (const id of ids.slice(2)) {
      prev = (await db.query(`UPDATE audit_log SET prev_hash = $2, hash = ${rehash} WHERE id = $1 RETURNING hash`, [id, prev])).rows[0]
        .hash;
    }
    t.match(await verify(db), { ok: true, rows: 6 }, 'the database alone cannot tell');
    const v = await verify(db, [{ seq: published.seq, hash: published.hash, from: 'the broker' }]);
    t.match(v, { ok: false, rows: 6, broken: { kind: 'rewritten', id: ids[5], seq: 6 } }, 'the published head can');
    t.match(v.broken!.message, 'the broker');
  });

  t.test('a row rewritten with a fresh hash of its own: the link from the next row breaks', async (t) => {
    const db = await testDb(t);
    await write(db, 5);
    const ids = await rowIds(db);
    const rehash = rowHashSql();
    await db.query(`UPDATE audit_log SET details = '{"i": 42}' WHERE id = $1`, [ids[1]]);
    await db.query(`UPDATE audit_log SET hash = ${rehash} WHERE id = $1`, [ids[1]]);
    t.match(await verify(db), { ok: false, rows: 2, broken: { kind: 'rewritten', id: ids[1], seq: 2 } });
  });

  t.test('the last rows deleted: only a published head shows it', async (t) => {
    const db = await testDb(t);
    await write(db, 5);
    const published = await new AuditChainRepository(LOCKER).head(db);
    const ids = await rowIds(db);
    await db.query(`DELETE FROM audit_log WHERE id = ANY($1)`, [ids.slice(3)]);
    t.match(await verify(db), { ok: true, rows: 3 });
    const v = await verify(db, [{ ...published, from: 'the broker' }]);
    t.match(v, { ok: false, rows: 3, broken: { kind: 'missing', id: null, seq: 4 } });
    t.match(v.broken!.message, 'its last 2 row(s) are gone');
    t.match(await verify(db, [{ seq: 3, hash: (await new AuditChainRepository(LOCKER).head(db)).hash, from: 'x' }]), { ok: true });
  });

  t.test('a row claiming a position already taken', async (t) => {
    const db = await testDb(t);
    await write(db, 3);
    await db.query(`DROP INDEX audit_log_chain`);
    await db.query(
      `INSERT INTO audit_log (locker_id, at, actor, action, subject, details, seq, prev_hash, hash)
       SELECT locker_id, at, actor, action, subject, details, seq, prev_hash, hash FROM audit_log WHERE locker_id = $1 AND seq = 2`,
      [LOCKER],
    );
    const ids = await db.query(`SELECT max(id) AS id FROM audit_log`);
    t.match(await verify(db), { ok: false, broken: { kind: 'inserted', id: Number(ids.rows[0].id), seq: 2 } });
  });
});

t.test(`concurrent writers chain in one well-defined order, without deadlock (${dbKind})`, async (t) => {
  const db = await testDb(t);
  const audit = new AuditRepository(LOCKER);
  await db.query(`CREATE TABLE contended (id integer PRIMARY KEY, n integer NOT NULL)`);
  await db.query(`INSERT INTO contended VALUES (1, 0), (2, 0)`);
  await write(db, 2);
  // Every transaction locks the same rows in the same order; half of them record a row before
  // taking those locks. A chain lock taken at the record (and held to the commit) would deadlock
  // them: one holds the chain and waits for a row, another holds the row and waits for the chain.
  const action = (i: number) =>
    db.tx(async (q) => {
      if (i % 2) await audit.record(q, { actor: 'system', action: 'test.before', subject: `n:${i}`, details: { i }, at: at(10) });
      for (const row of [1, 2]) {
        await q.query(`UPDATE contended SET n = n + 1 WHERE id = $1`, [row]);
        await q.query(`SELECT pg_sleep(0.005)`);
      }
      await audit.record(q, { actor: 'system', action: 'test.after', subject: `n:${i}`, details: { i }, at: at(10) });
    });
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => action(i)));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  t.same(failures, [], 'every transaction committed');
  const plain = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => audit.record(db, { actor: 'system', action: 'test.plain', details: { i }, at: at(11) })),
  );
  t.same(
    plain.filter((r) => r.status === 'rejected'),
    [],
    'and so did every row written on the pool',
  );
  const v = await verify(db);
  t.match(v, { ok: true, rows: 2 + 30 + 20, head: { seq: 52 } }, 'the chain is intact and complete');
  const { rows } = await db.query(`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS seqs FROM audit_log WHERE locker_id = $1`, [
    LOCKER,
  ]);
  t.same(rows[0], { n: 52, seqs: 52 });
  t.same((await db.query(`SELECT n FROM contended ORDER BY id`)).rows, [{ n: 20 }, { n: 20 }]);
});

t.test(`existing rows are chained by the migration (${dbKind})`, async (t) => {
  const db = await testDb(t, { migrate: false });
  const before = await mkdtemp(path.join(tmpdir(), 'atm247-migrations-'));
  t.teardown(() => rm(before, { recursive: true, force: true }));
  for (const file of await readdir(MIGRATIONS_DIR)) {
    if (/^00[1-7]_/.test(file)) await cp(path.join(MIGRATIONS_DIR, file), path.join(before, file));
  }
  await migrate(db, silentLogger(), before);
  const legacy = [
    ['system', 'tray.to_check', 'dossier:1', { tray: 3, kind: 'deposit', gap: 'restart' }],
    ['admin:1:Trưởng phòng', 'tray.open', 'tray:5', { reason: 'maintenance', note: 'Ông Bình gọi 0912 345 678' }],
    ['admin:1:Trưởng phòng', 'tray.out_of_service', 'tray:6', { reason: 'khoá kẹt, báo anh Hải' }],
    ['admin:1:Trưởng phòng', 'staff.created', 'account:2', { name: 'Lê Thị Bình', role: 'staff', touchscreen: true }],
    ['staff:2:Lê Thị Bình', 'round.complete', 'round:9', { collected: 2, returned: 0, missing: 1, leftInPlace: 0, ratio: 0.5 }],
    ['touchscreen', 'staff.sign_in_failed', null, {}],
  ] as const;
  for (const [i, [actor, action, subject, details]] of legacy.entries()) {
    for (const locker of [LOCKER, 'second-locker']) {
      await db.query(`INSERT INTO audit_log (locker_id, at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5, $6)`, [
        locker,
        new Date(T0 + i * 1000).toISOString().replace('Z', '456Z'),
        actor,
        action,
        subject,
        JSON.stringify(details),
      ]);
    }
  }
  t.ok((await migrate(db, silentLogger())).includes('008_audit_chain.sql'));

  t.match(await verify(db), { ok: true, rows: 6 }, 'the rows written before the migration form a valid chain');
  t.match(await new AuditChainRepository('second-locker').verify(db), { ok: true, rows: 6 }, 'one per locker');
  const { rows } = await db.query(`SELECT action, details, personal FROM audit_log WHERE locker_id = $1 ORDER BY seq`, [LOCKER]);
  t.match(
    rows[1],
    { details: { reason: 'maintenance' }, personal: { note: 'Ông Bình gọi 0912 345 678' } },
    'an admin note moved out of the details',
  );
  t.notOk('note' in rows[1].details);
  t.same(rows[2].details, {}, 'so did an out-of-service reason');
  t.same(rows[2].personal, { reason: 'khoá kẹt, báo anh Hải' });
  t.same(rows[3].details, { role: 'staff', touchscreen: true }, 'and a new account name');
  t.same(rows[3].personal, { name: 'Lê Thị Bình' });
  t.equal(rows[0].personal, null, 'rows without personal data have none');

  // New rows follow the last of them.
  const head = await new AuditChainRepository(LOCKER).head(db);
  await write(db, 2);
  const next = await db.query(`SELECT seq, prev_hash FROM audit_log WHERE locker_id = $1 ORDER BY seq OFFSET 6 LIMIT 1`, [LOCKER]);
  t.same(next.rows[0], { seq: '7', prev_hash: head.hash }, 'the first new row is linked to the last migrated one');
  t.match(await verify(db), { ok: true, rows: 8 });

  // The migrated rows are protected like any other.
  await db.query(`UPDATE audit_log SET details = '{"tray": 4, "kind": "deposit", "gap": "restart"}' WHERE locker_id = $1 AND seq = 1`, [
    LOCKER,
  ]);
  t.match(await verify(db), { ok: false, broken: { kind: 'edited', seq: 1 } });
});
