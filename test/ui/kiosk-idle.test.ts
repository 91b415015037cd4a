import t from 'tap';
import { noBrowser, screenshot, startUiLocker, tap } from '../helpers/browser.js';

t.test(
  'waiting for a slow SMS: not sent home when send-again unlocks; asked "Cần thêm thời gian?" first',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);
    const page = await locker.page();
    // The page's clock runs on (test/helpers/browser.ts), and the test moves it on: the shipped times (60 s) are used.
    await page.goto(`${locker.url}/`);
    await page.getByRole('button', { name: /Nhận kết quả/ }).click();
    await tap(page, '0987650001');
    await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
    const otp = page.getByRole('heading', { name: 'Nhập mã OTP' });
    await otp.waitFor();
    const resend = page.getByRole('button', { name: /Gửi lại mã/ });
    t.ok(await resend.isDisabled(), 'send-again waits');

    // No touch: the citizen waits for the text. The wait ends; the screen is still there.
    await page.clock.fastForward(30_000);
    await page.clock.fastForward(31_000);
    await page.getByRole('button', { name: 'Gửi lại mã', exact: true }).waitFor();
    t.ok(await resend.isEnabled(), 'send-again unlocked after 61 s');
    t.equal(await otp.count(), 1, 'still on the code screen');
    t.equal(await page.getByRole('alertdialog').count(), 0, 'no prompt yet: the idle time runs from the end of the wait');

    // Well after: first the prompt, with a button that gives more time.
    await page.clock.fastForward(46_000);
    const prompt = page.getByRole('alertdialog', { name: 'Cần thêm thời gian?' });
    await prompt.waitFor();
    t.match(await prompt.textContent(), /\d+ giây/, 'it says how long is left');
    await screenshot(page, 'kiosk-idle-prompt');
    await prompt.getByRole('button', { name: 'Có, tiếp tục' }).click();
    await prompt.waitFor({ state: 'detached' });
    t.equal(await otp.count(), 1, 'more time: still on the code screen');

    // Then nothing at all: the prompt, and the start screen only after it.
    await page.clock.fastForward(46_000);
    await prompt.waitFor();
    t.equal(await otp.count(), 1, 'the prompt comes before the screen goes');
    await page.clock.fastForward(21_000);
    await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();
    t.equal(await page.getByRole('alertdialog').count(), 0, 'the prompt is gone with the session');
    t.same(page.errors, []);
  },
);

t.test('the prompt in English, and the way home from it', { skip: noBrowser }, async (t) => {
  const locker = await startUiLocker(t);
  const page = await locker.page();
  await page.goto(`${locker.url}/?lang=en`);
  await page.getByRole('button', { name: /Check a dossier/ }).click();
  await page.getByRole('heading', { name: 'Check a dossier' }).waitFor();
  await page.clock.fastForward(46_000);
  const prompt = page.getByRole('alertdialog', { name: 'Need more time?' });
  await prompt.waitFor();
  await prompt.getByRole('button', { name: 'Start again' }).click();
  await page.getByRole('heading', { name: /Hello!/ }).waitFor();
  t.same(page.errors, []);
});
