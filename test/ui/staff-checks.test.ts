import t from 'tap';
import { ADMIN_TOKEN, STAFF_TOKEN, type TestLocker } from '../helpers/controller.js';
import { codeFor, depositProcedure, inbox } from '../helpers/citizens.js';
import { until } from '../helpers/mqtt.js';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

const trayView = async (locker: TestLocker, tray: number) => (await locker.staff.get(`/api/trays/${tray}`)).json();
const depositStatus = async (locker: TestLocker, id: string) => (await locker.anonymous.get(`/api/deposits/${id}`)).json().status;

/**
 * Puts released trays to check (ADR 0012): their boards stop answering while the locks are
 * released, come back, and the door-open timeout passes. The watch had a gap, so nothing is freed.
 */
async function gapInTheWatch(locker: TestLocker, trays: number[]): Promise<void> {
  const boards = new Set<string>();
  for (const tray of trays) boards.add((await trayView(locker, tray)).board);
  for (const board of boards) locker.controller.cabinet!.setFault(board, 'no_answer');
  for (const tray of trays) {
    await until(async () => (await trayView(locker, tray)).state === 'out_of_service', `tray ${tray} out of service`);
  }
  for (const board of boards) locker.controller.cabinet!.setFault(board, 'none');
  for (const tray of trays) {
    await until(async () => (await trayView(locker, tray)).state !== 'out_of_service', `tray ${tray} back`);
  }
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
}

t.test(
  'a tray to check: the kiosk says so, the dashboard counts it, the officer answers from the staff screen',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);

    // Citizen A drops off at the kiosk: the tray opens.
    const kiosk = await locker.page();
    await kiosk.goto(`${locker.url}/`);
    await kiosk.getByRole('button', { name: /Nộp hồ sơ/ }).click();
    await kiosk
      .getByRole('button', { name: /Đăng ký khai sinh/ })
      .first()
      .click();
    await tap(kiosk, '0912345678');
    await kiosk.getByRole('button', { name: 'Gửi mã OTP' }).click();
    await kiosk.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
    await tap(kiosk, await codeFor(locker, '0912345678'));
    const verified = kiosk.waitForResponse((r) => /\/api\/deposits\/[^/]+\/verify$/.test(r.url()));
    await kiosk.getByRole('button', { name: 'Xác nhận' }).click();
    const a = (await (await verified).json()) as { depositId: string; dossierCode: string; tray: number };
    await kiosk.getByRole('heading', { name: `Khay số ${a.tray} đã mở. Đặt hồ sơ vào khay và đóng cửa.` }).waitFor();

    // Citizen B, through the API: a second tray released at the same time.
    const procedureCode = await depositProcedure(locker);
    const started = (await locker.anonymous.post('/api/deposits', { phone: '0912000002', procedureCode })).json();
    const b = (
      await locker.anonymous.post(`/api/deposits/${started.challengeId}/verify`, { otp: await codeFor(locker, '0912000002') })
    ).json();
    t.not(b.tray, a.tray);

    await gapInTheWatch(locker, [a.tray, b.tray]);
    const statuses = [await depositStatus(locker, a.depositId), await depositStatus(locker, b.depositId)];
    if (statuses.some((s) => s !== 'to_check')) {
      t.fail(`the deposits are ${statuses.join(', ')}, not to_check: is the door-truth work (ADR 0012) in this tree?`);
      return;
    }
    t.equal((await trayView(locker, a.tray)).state, 'to_check');

    // The kiosk, still on the tray-open screen, tells A the truth: no receipt, an officer will look.
    await kiosk.getByRole('heading', { name: 'Máy chưa xác nhận được hồ sơ' }).waitFor();
    await kiosk
      .getByText(`Máy chưa xác nhận được hồ sơ trong khay số ${a.tray}. Cán bộ sẽ kiểm tra khay trong đợt thu hồ sơ tiếp theo`)
      .waitFor();
    t.equal(await kiosk.getByTestId('dossier-code').count(), 0, 'no dossier code shown as a receipt');
    t.notOk(await kiosk.getByText(a.dossierCode).isVisible(), 'the dossier code is not on the screen');
    await screenshot(kiosk, 'kiosk-deposit-to-check');
    await kiosk.getByRole('button', { name: 'Switch to English' }).click();
    await kiosk
      .getByText(`The machine could not confirm the dossier in tray ${a.tray}. An officer will check the tray at the next collection round`)
      .waitFor();
    t.same(kiosk.errors, [], 'no script errors on the kiosk');

    // The dashboard draws both trays to check, in their own colour, and counts them.
    const admin = await locker.page({ width: 1440, height: 1000 });
    await admin.goto(`${locker.url}/admin`);
    await admin.getByLabel('Mã truy cập (bearer token)').fill(ADMIN_TOKEN);
    await admin.getByRole('button', { name: 'Đăng nhập' }).click();
    await admin.locator(`[data-tray="${a.tray}"][data-state="to_check"]`).waitFor();
    await admin.locator(`[data-tray="${b.tray}"][data-state="to_check"]`).waitFor();
    const legend = admin.getByRole('list', { name: 'Chú thích' }).getByRole('listitem').filter({ hasText: 'Cần kiểm tra' });
    t.match(await legend.textContent(), /Cần kiểm tra: 2/, 'the legend counts the trays to check');
    const colour = (n: number) => admin.locator(`[data-tray="${n}"]`).evaluate((el) => getComputedStyle(el).backgroundColor);
    const free = locker.config.hardware.map.trays.find((x) => x.number !== a.tray && x.number !== b.tray)!.number;
    t.not(await colour(a.tray), await colour(free), 'a tray to check does not look free');
    await screenshot(admin, 'admin-to-check', true);
    t.same(admin.errors, [], 'no script errors on the dashboard');

    // The officer signs in: both trays wait in the panel of trays to check.
    const staff = await locker.page({ width: 1280, height: 900 });
    await staff.goto(`${locker.url}/staff`);
    await staff.getByRole('tab', { name: 'Mã truy cập' }).click();
    await staff.getByLabel('Mã truy cập (bearer token)').fill(STAFF_TOKEN);
    await staff.getByRole('button', { name: 'Đăng nhập' }).click();
    const panel = staff.getByRole('region', { name: /Khay cần kiểm tra/ });
    await panel.getByRole('heading', { name: 'Khay cần kiểm tra (2)' }).waitFor();
    const cardA = panel.locator(`li.check-card[data-tray="${a.tray}"]`);
    await cardA.getByText('Hủy giao dịch nộp, khay được dùng lại; người nộp được nhắn tin báo.').waitFor();
    await screenshot(staff, 'staff-checks', true);

    // Tray A is empty: the deposit is cancelled and the tray free again.
    await cardA.getByRole('button', { name: 'Khay trống' }).click();
    await staff.getByText(`Khay ${a.tray}: khay trống. Giao dịch nộp ${a.dossierCode} đã hủy`).waitFor();
    await screenshot(staff, 'staff-check-answered');
    t.equal((await trayView(locker, a.tray)).state, 'free', 'the tray is free');
    t.equal(await depositStatus(locker, a.depositId), 'cancelled', 'the deposit is cancelled');
    await until(async () => (await inbox(locker, '0912345678')).find((m) => m.kind === 'deposit_not_found'), 'the citizen is told');
    await cardA.waitFor({ state: 'detached' });
    await panel.getByRole('heading', { name: 'Khay cần kiểm tra (1)' }).waitFor();

    // Tray B in the round: started early, answered "there is a dossier" on the manifest.
    await staff.getByRole('button', { name: 'Bắt đầu lượt thu (mở các khay lần lượt)' }).click();
    const roundCard = staff.locator(`li.check-card[data-tray="${b.tray}"]`);
    await roundCard.getByRole('button', { name: `Mở khay ${b.tray}` }).waitFor();
    t.equal(await staff.locator('.notice, .error').count(), 0, "the earlier answer's message is gone");
    t.equal(await staff.locator(`li.check-card[data-tray="${b.tray}"]`).count(), 1, 'shown once: in the round, not again below');
    await panel.getByText('Các khay cần kiểm tra đều nằm trong lượt thu ở trên.').waitFor();
    await screenshot(staff, 'staff-round-check', true);
    await roundCard.getByRole('button', { name: 'Có hồ sơ' }).click();
    await staff.getByText(`Khay ${b.tray}: có hồ sơ ${b.dossierCode}. Đã ghi nhận là đã thu`).waitFor();
    t.equal(await depositStatus(locker, b.depositId), 'collected', 'found: taken with the round');
    t.equal((await trayView(locker, b.tray)).state, 'free');
    const receipt = await until(async () => (await inbox(locker, '0912000002')).find((m) => m.kind === 'deposit_receipt'), 'the receipt');
    t.ok(receipt.text.includes(b.dossierCode), 'the receipt goes out now, with the dossier code');

    await staff.getByRole('button', { name: 'Hoàn tất lượt thu' }).click();
    await staff.getByText(/Đã hoàn tất lượt thu \d\d:\d\d: 1 có hồ sơ\./).waitFor();
    t.equal(await staff.locator('.notice, .error').count(), 1, 'one message at a time');
    t.same(staff.errors, [], 'no script errors on the staff screen');
  },
);

t.test('a tray never opened: the kiosk says the drop-off is cancelled and offers to start again', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const kiosk = await locker.page();
  await kiosk.goto(`${locker.url}/`);
  await kiosk.getByRole('button', { name: /Nộp hồ sơ/ }).click();
  await kiosk
    .getByRole('button', { name: /Đăng ký khai sinh/ })
    .first()
    .click();
  await tap(kiosk, '0912345670');
  await kiosk.getByRole('button', { name: 'Gửi mã OTP' }).click();
  await kiosk.getByRole('heading', { name: 'Nhập mã OTP' }).waitFor();
  await tap(kiosk, await codeFor(locker, '0912345670'));
  await kiosk.getByRole('button', { name: 'Xác nhận' }).click();
  const open = kiosk.getByRole('heading', { name: /Khay số \d+ đã mở/ });
  await open.waitFor();
  const tray = Number(/Khay số (\d+)/.exec((await open.textContent())!)![1]);

  // Watched throughout, the door never opened: cancelled, the tray freed.
  locker.controller.clock.advance(61_000);
  await locker.controller.trays.settled(); // what the bus reported, recorded first
  await locker.controller.flowTimers.tick();
  await kiosk.getByRole('heading', { name: 'Chưa nộp được hồ sơ' }).waitFor();
  await kiosk.getByText(`Cửa khay số ${tray} không được mở nên giao dịch nộp hồ sơ đã hủy.`).waitFor();
  t.equal((await trayView(locker, tray)).state, 'free');
  await screenshot(kiosk, 'kiosk-deposit-cancelled');
  await kiosk.getByRole('button', { name: 'Nộp lại từ đầu' }).click();
  await kiosk.getByRole('heading', { name: 'Chọn thủ tục' }).waitFor();
  t.same(kiosk.errors, [], 'no script errors');
});
