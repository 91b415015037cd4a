/**
 * Citizen ID cards scanned at the kiosk (docs/id-card.md): a scan by the kiosk page or by the
 * simulated scanner, a deposit made with it (the holder sealed on the dossier, the card's text and
 * address nowhere), the officer's manifest naming the depositor (and MQTT naming nobody).
 */
import t from 'tap';
import { request } from 'node:http';
import { IdVault } from '../../src/domain/id-vault.js';
import { deriveKeys } from '../../src/domain/phone-vault.js';
import { SAMPLE_CARD_QR } from '../../src/domain/citizen-id.js';
import { SECRET_KEY, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, door } from '../helpers/citizens.js';
import { testSubscriber, until } from '../helpers/mqtt.js';
import { dbKind } from '../helpers/db.js';

const ID_NUMBER = '079301012345';
const NAME = 'Nguyễn Thị Minh Anh';
const ADDRESS_PART = 'Bình Phú';

/** The first `scan` event of the kiosk's stream (a real connection), after `trigger` runs. */
function nextStreamScan(base: string, trigger: () => Promise<unknown>, ms = 3_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/id-cards/scans/stream`, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      let triggered = false;
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!triggered && text.includes('retry:')) {
          triggered = true;
          trigger().catch(reject);
        }
        const event = /event: scan\ndata: (.*)\n\n/.exec(text);
        if (event) {
          clearTimeout(timer);
          req.destroy();
          resolve(JSON.parse(event[1]));
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no scan on the stream within ${ms} ms`));
    }, ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** Every text-like column of every table holding `needle` (case-insensitive): "table.column". */
async function columnsHolding(locker: TestLocker, needle: string): Promise<string[]> {
  const db = locker.controller.database;
  const { rows } = await db.query(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'jsonb', 'json')`,
  );
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of rows as { table_name: string; column_name: string }[]) {
    const hit = await db.query(`SELECT 1 FROM "${table}" WHERE "${column}"::text ILIKE $1 LIMIT 1`, [`%${needle}%`]);
    if (hit.rows.length) found.push(`${table}.${column}`);
  }
  return found;
}

t.test(`a card scanned by the kiosk page: its name and masked number, bad text refused (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const good = await locker.anonymous.post('/api/id-cards/scans', { text: `${SAMPLE_CARD_QR}\r\n` });
  t.equal(good.statusCode, 201, good.body);
  t.match(good.json(), { scanId: /^[0-9a-f-]{36}$/, fullName: NAME, idNumberMasked: '••••••••2345' });
  t.same(Object.keys(good.json()).sort(), ['fullName', 'idNumberMasked', 'scanId'], 'nothing else of the card');
  t.notMatch(good.body, /079301|Bình Phú|2001/, 'neither the number nor the address nor the birth date');

  const bad = await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR.replace('079301', '999301') });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.code, 'ID_CARD_INVALID');
  t.match(bad.json().error.message, /province/, 'the message names what is wrong');
  const garbage = await locker.anonymous.post('/api/id-cards/scans', { text: 'hello' });
  t.equal(garbage.json().error.code, 'ID_CARD_INVALID');
  for (const body of [{}, { text: '' }, { text: 42 }, { text: SAMPLE_CARD_QR, extra: 1 }, { text: 'x'.repeat(600) }]) {
    const r = await locker.anonymous.post('/api/id-cards/scans', body);
    t.equal(r.statusCode, 400, JSON.stringify(body).slice(0, 40));
    t.equal(r.json().error.code, 'VALIDATION_FAILED');
  }
  const elsewhere = await locker.http.inject({
    method: 'POST',
    url: '/api/id-cards/scans',
    remoteAddress: '10.9.8.7',
    payload: { text: SAMPLE_CARD_QR },
  });
  t.equal(elsewhere.statusCode, 403, 'the kiosk only');
  t.equal(elsewhere.json().error.code, 'KIOSK_ONLY');
  const stream = await locker.http.inject({ method: 'GET', url: '/api/id-cards/scans/stream', remoteAddress: '10.9.8.7' });
  t.equal(stream.statusCode, 403, 'the stream too');
});

t.test(`the simulated scanner pushes its scans to the kiosk's stream (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const base = await locker.controller.http.listen({ port: 0, host: '127.0.0.1' });
  let own = '';
  const pushed = await nextStreamScan(base, async () => {
    // The kiosk page's own scan is not pushed back to it; only the daemon's scanner's are.
    own = (await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR })).json().scanId;
    const presented = await locker.anonymous.post('/api/sim/id-card', {});
    t.equal(presented.statusCode, 202, presented.body);
  });
  t.match(pushed, { scanId: /^[0-9a-f-]{36}$/, fullName: NAME, idNumberMasked: '••••••••2345' });
  t.not(pushed.scanId, own, "the first pushed is the simulated scanner's, not the page's own");

  const bare = await locker.http.inject({ method: 'POST', url: '/api/sim/id-card' });
  t.equal(bare.statusCode, 202, `no body at all: the sample card (${bare.body})`);
  // Something not a card: no scan, no crash, the scanner goes on.
  const garbage = await locker.anonymous.post('/api/sim/id-card', { text: 'not a card at all' });
  t.equal(garbage.statusCode, 202);
  const other = SAMPLE_CARD_QR.replace('Nguyễn Thị Minh Anh', 'Trần Văn Bình').replace('079301', '079201').replace('Nữ', 'Nam');
  const next = await nextStreamScan(base, () => locker.anonymous.post('/api/sim/id-card', { text: other }));
  t.equal(next.fullName, 'Trần Văn Bình', 'the next card is read');
});

t.test(`a deposit made with a scanned card: the holder sealed on the dossier, shown to the officer only (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const sub = await testSubscriber(t, locker.mqttUrl, `${locker.base}/rounds/next`);
  const procedureCode = await depositProcedure(locker);

  const unknown = await locker.anonymous.post('/api/deposits', {
    phone: '0912345670',
    procedureCode,
    idScanId: '00000000-0000-4000-8000-000000000000',
  });
  t.equal(unknown.statusCode, 404, unknown.body);
  t.equal(unknown.json().error.code, 'ID_SCAN_NOT_FOUND');
  const malformed = await locker.anonymous.post('/api/deposits', { phone: '0912345670', procedureCode, idScanId: 'abc' });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().error.code, 'VALIDATION_FAILED');

  const { scanId } = (await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR })).json();
  const start = await locker.anonymous.post('/api/deposits', { phone: '0912345670', procedureCode, idScanId: scanId });
  t.equal(start.statusCode, 202, start.body);
  const { challengeId } = start.json();
  // A wrong code first: the scan is still there for the right one.
  const code = await codeFor(locker, '0912345670');
  const wrong = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: code === '000000' ? '111111' : '000000' });
  t.equal(wrong.statusCode, 400);
  const verify = await locker.anonymous.post(`/api/deposits/${challengeId}/verify`, { otp: code });
  t.equal(verify.statusCode, 200, verify.body);
  const { depositId, tray, dossierCode } = verify.json();

  const { rows } = await locker.controller.database.query(`SELECT holder_enc FROM dossiers WHERE id = $1`, [depositId]);
  t.type(rows[0].holder_enc, 'string', 'the dossier holds the sealed holder');
  const vault = new IdVault(deriveKeys(Buffer.from(SECRET_KEY, 'utf8')));
  t.same(vault.open(rows[0].holder_enc), { idNumber: ID_NUMBER, fullName: NAME }, 'it opens to the number and the name, nothing else');

  await door(locker, tray, true);
  await door(locker, tray, false);
  await until(async () => (await locker.anonymous.get(`/api/deposits/${depositId}`)).json().status === 'deposited', 'deposited', 3_000);

  for (const needle of [ID_NUMBER, ADDRESS_PART, NAME, '15032001', SAMPLE_CARD_QR.slice(0, 20)]) {
    t.same(await columnsHolding(locker, needle), [], `"${needle}" is in no column of the database`);
  }

  // The officer's manifest names the depositor; the retained topic names nobody.
  const manifest = await locker.staff.get('/api/staff/rounds/next');
  t.equal(manifest.statusCode, 200, manifest.body);
  const item = manifest.json().collect.find((i: any) => i.tray === tray);
  t.match(item, { dossierCode, holder: { fullName: NAME, idNumberMasked: '••••••••2345' } });
  t.notMatch(manifest.body, new RegExp(ID_NUMBER), 'the whole number is never shown');
  await locker.controller.rounds.publish();
  const retained = (await sub.waitFor(`${locker.base}/rounds/next`, (p) => p.includes(dossierCode))).payload;
  t.notMatch(retained, /Nguyễn|Minh Anh|2345|holder/, 'MQTT names nobody');

  // A deposit without a card: no holder.
  const plain = await locker.anonymous.post('/api/deposits', { phone: '0912345671', procedureCode });
  const plainVerify = await locker.anonymous.post(`/api/deposits/${plain.json().challengeId}/verify`, {
    otp: await codeFor(locker, '0912345671'),
  });
  const plainRow = await locker.controller.database.query(`SELECT holder_enc FROM dossiers WHERE id = $1`, [plainVerify.json().depositId]);
  t.equal(plainRow.rows[0].holder_enc, null);
});

t.test(`the retention purge blanks the holder with the phone (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t, { retention: { closedDossierDays: 1, runAt: null } });
  const procedureCode = await depositProcedure(locker);
  const { scanId } = (await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR })).json();
  const start = (await locker.anonymous.post('/api/deposits', { phone: '0912345672', procedureCode, idScanId: scanId })).json();
  const verify = (
    await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp: await codeFor(locker, '0912345672') })
  ).json();
  // The door never opens: the deposit is cancelled (closed).
  locker.controller.clock.advance(61_000);
  await locker.controller.flowTimers.tick();
  t.equal((await locker.anonymous.get(`/api/deposits/${verify.depositId}`)).json().status, 'cancelled');
  const before = await locker.controller.database.query(`SELECT holder_enc FROM dossiers WHERE id = $1`, [verify.depositId]);
  t.type(before.rows[0].holder_enc, 'string', 'kept while within retention');
  locker.controller.clock.setOffset(2 * 24 * 3_600_000);
  await locker.controller.retention.run('system');
  const after = await locker.controller.database.query(`SELECT phone_enc, holder_enc FROM dossiers WHERE id = $1`, [verify.depositId]);
  t.same(after.rows[0], { phone_enc: null, holder_enc: null }, 'blanked together');
});

t.test(`a slow SMS: the card named when the code was asked stays with the deposit past the scan's 5 minutes (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const procedureCode = await depositProcedure(locker);
  const { scanId } = (await locker.anonymous.post('/api/id-cards/scans', { text: SAMPLE_CARD_QR })).json();
  // The card scanned a minute before the code is asked.
  locker.controller.clock.advance(60_000);
  const start = (await locker.anonymous.post('/api/deposits', { phone: '0912345673', procedureCode, idScanId: scanId })).json();
  const otp = await codeFor(locker, '0912345673');
  // 4 min 10 s later (the code lives 5 minutes): the scan itself is gone, the code still good.
  locker.controller.clock.advance(250_000);
  t.equal(
    (await locker.anonymous.post('/api/deposits', { phone: '0912345674', procedureCode, idScanId: scanId })).statusCode,
    404,
    'scan gone',
  );
  const verify = await locker.anonymous.post(`/api/deposits/${start.challengeId}/verify`, { otp });
  t.equal(verify.statusCode, 200, verify.body);
  const { rows } = await locker.controller.database.query(`SELECT holder_enc FROM dossiers WHERE id = $1`, [verify.json().depositId]);
  t.type(rows[0].holder_enc, 'string', 'the depositor recorded all the same');
});
