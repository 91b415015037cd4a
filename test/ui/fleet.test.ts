/**
 * The fleet dashboard in a browser: two real cabinet controllers publish to a real Mosquitto, a
 * fleet service stores what they send in PostgreSQL and serves its screen; an admin signs in,
 * sees both lockers live, opens one locker's grid and watches a forced door there, filters by
 * district, sees a locker drop, and downloads the figures' CSV.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { FleetService } from '../../src/fleet/service.js';
import { silentLogger } from '../../src/log.js';
import { launchBrowser, noBrowser, screenshot } from '../helpers/browser.js';
import { startTestLocker } from '../helpers/controller.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { noMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { lifo } from '../helpers/mqtt.js';

const TOKEN = 'fleet-admin-token-0123456789';

t.test('the fleet dashboard follows two lockers live', { skip: noBrowser || noMosquitto }, async (t) => {
  const scope = lifo(t);
  const broker = await startMosquitto(scope);
  const db = await freshDatabaseUrl();
  scope.teardown(() => db.drop());
  const fleet = new FleetService({
    databaseUrl: db.url,
    mqttUrl: broker.url,
    baseTopic: 'atm247test',
    instance: `ui-${randomUUID().slice(0, 8)}`,
    adminToken: TOKEN,
    logger: silentLogger(),
    gatherMs: 100,
  });
  await fleet.start();
  scope.teardown(() => fleet.stop());
  const url = await fleet.listen('127.0.0.1', 0);

  const onBroker = { configure: (c: { mqtt: { url: string | null } }) => void (c.mqtt.url = broker.url) };
  const a = await startTestLocker(scope, {}, onBroker);
  const b = await startTestLocker(scope, {}, onBroker);
  const site = (lockerId: string, body: object) =>
    fleet.http.inject({
      method: 'PUT',
      url: `/api/fleet/lockers/${lockerId}/site`,
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: body,
    });
  t.equal((await site(a.lockerId, { name: 'UBND Phường 1', district: 'Quận 6', ward: 'Phường 1' })).statusCode, 201);
  t.equal((await site(b.lockerId, { name: 'UBND Phường Bến Nghé', district: 'Quận 1', ward: 'Bến Nghé' })).statusCode, 201);

  const { page: newPage } = await launchBrowser(scope);
  const page = await newPage({ width: 1440, height: 1000 });
  await page.goto(url);
  await page.getByLabel('Mã truy cập (bearer token)').fill('not-the-token-at-all');
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByText('Mã truy cập không hợp lệ').waitFor();
  await page.getByLabel('Mã truy cập (bearer token)').fill(TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('status').getByText('Trực tiếp').waitFor();

  // Both lockers online with their 90 free trays, from what they published at their start.
  const rowA = page.locator(`tr[data-locker="${a.lockerId}"]`);
  const rowB = page.locator(`tr[data-locker="${b.lockerId}"]`);
  await rowA.locator('[data-count="free"]', { hasText: '90' }).waitFor({ timeout: 15_000 });
  await rowB.locator('[data-count="free"]', { hasText: '90' }).waitFor({ timeout: 15_000 });
  t.equal(await rowA.getAttribute('data-online'), 'true');
  t.equal(await page.locator('[data-total="lockers"] strong').textContent(), '2');
  t.equal(await page.locator('[data-total="free"] strong').textContent(), '180');
  t.equal(await page.locator('table.districts tbody tr').count(), 2, 'a line per district');

  // One locker's grid, drawn as its cabinet's /admin draws it.
  await page.getByRole('button', { name: 'Xem tủ UBND Phường 1' }).click();
  const detail = page.getByRole('region', { name: 'Tủ UBND Phường 1' });
  await detail.locator('[data-tray="90"]').waitFor({ timeout: 10_000 });
  t.equal(await detail.locator('[data-tray]').count(), 90, 'all 90 trays');
  t.equal(await detail.locator('figure.cabinet').count(), 2, 'in two cabinets');

  // A forced door on tray 37 of A: shown open on the grid, an alarm on the list, live.
  const started = Date.now();
  t.match(a.controller.cabinet!.setDoor(37, true, { force: true }), { ok: true }, 'forced open, as a thief would');
  await detail.locator('[data-tray="37"][data-door="open"]').waitFor({ timeout: 10_000 });
  t.ok(Date.now() - started < 10_000, `shown open after ${Date.now() - started} ms`);
  await rowA.locator('[data-count="alarms"]', { hasText: '1' }).waitFor({ timeout: 10_000 });
  await detail.getByText('Cửa mở bất thường').waitFor();
  await screenshot(page, 'fleet-dashboard', true);
  a.controller.cabinet!.setDoor(37, false);
  await detail.locator('[data-tray="37"][data-door="closed"]').waitFor({ timeout: 10_000 });
  await rowA.locator('[data-count="alarms"]', { hasText: '0' }).waitFor({ timeout: 10_000 });
  await detail.getByText('Không có cảnh báo.').waitFor();

  // District 1 only; then its locker stops and shows offline.
  await page.getByRole('combobox', { name: 'Quận / huyện' }).selectOption('Quận 1');
  await rowA.waitFor({ state: 'detached' });
  t.equal(await page.locator('[data-total="lockers"] strong').textContent(), '1');
  await b.controller.stop();
  await page.locator(`tr[data-locker="${b.lockerId}"][data-online="false"]`).waitFor({ timeout: 15_000 });
  await rowB.getByText('Mất kết nối').waitFor();
  t.equal(await page.locator('[data-total="offline"] strong').textContent(), '1');

  // The figures of the last 30 days for district 1, and their CSV.
  const figures = page.getByRole('region', { name: 'Số liệu' });
  await figures.locator(`[data-figures-locker="${b.lockerId}"]`).waitFor();
  t.equal(await figures.locator('[data-figures-locker]').count(), 1, "district 1's locker only");
  const [download] = await Promise.all([page.waitForEvent('download'), figures.getByRole('button', { name: 'Tải CSV' }).click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  const lines = csv
    .replace(/^\ufeff/, '')
    .trimEnd()
    .split('\r\n');
  t.equal(lines[0], 'day,locker_id,name,district,ward,received,returned,picked_up,due,on_time,unclaimed,on_time_share');
  t.equal(lines.length, 31, 'a line per day');
  t.match(lines[30], new RegExp(`^\\d{4}-\\d{2}-\\d{2},${b.lockerId},UBND Phường Bến Nghé,Quận 1,Bến Nghé,`));
  t.same(page.errors, [], 'no script errors');
});
