import t from 'tap';
import type { Page } from 'playwright-core';
import { noBrowser, startUiLocker, tap } from '../helpers/browser.js';

/** "bạn" as a word, in the page's visible text: the kiosk says "Ông/Bà" or nothing. */
async function saysBan(page: Page): Promise<string | null> {
  const text = await page.locator('body').innerText();
  const m = /(^|[^\p{L}])(bạn)(?![\p{L}])/iu.exec(text);
  return m ? text.slice(Math.max(0, m.index - 30), m.index + 30) : null;
}

t.test(
  'every step: "Quay lại" to the step before, "Về màn hình đầu" to the start, and "Ông/Bà", never "bạn"',
  { skip: noBrowser },
  async (t) => {
    const locker = await startUiLocker(t);
    const page = await locker.page();
    const back = page.getByRole('button', { name: /Quay lại/ });
    const home = page.getByRole('button', { name: /Về màn hình đầu/ });
    const heading = (name: string) => page.getByRole('heading', { name, exact: true });
    const step = async (name: string) => {
      await heading(name).waitFor();
      t.equal(await saysBan(page), null, `${name}: no "bạn"`);
      t.ok((await back.isVisible()) && (await home.isVisible()), `${name}: both ways out`);
    };
    await page.goto(`${locker.url}/`);
    await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();
    t.equal(await saysBan(page), null, 'start screen: no "bạn"');

    // Drop-off: procedure ← phone ← code.
    await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
    await step('Chọn thủ tục');
    await back.click();
    await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();
    await page.getByRole('button', { name: /Nộp hồ sơ/ }).click();
    await page
      .getByRole('button', { name: /^Đăng ký khai sinh/ })
      .first()
      .click();
    await step('Nhập số điện thoại di động');
    await back.click();
    await step('Chọn thủ tục');
    await page
      .getByRole('button', { name: /^Đăng ký khai sinh/ })
      .first()
      .click();
    await tap(page, '0912345670');
    await page.getByRole('button', { name: 'Gửi mã OTP' }).click();
    await step('Nhập mã OTP');
    await back.click();
    await step('Nhập số điện thoại di động');
    t.equal(await page.getByRole('textbox', { name: 'Số điện thoại' }).inputValue(), '0912 345 670', 'the number typed is kept');
    t.match(await page.locator('.chosen').innerText(), /Đăng ký khai sinh/, 'and the procedure chosen');
    await home.click();

    // Pickup: phone ← code.
    await page.getByRole('button', { name: /Nhận kết quả/ }).click();
    await step('Nhập số điện thoại di động');
    await back.click();
    await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();

    // Lookup.
    await page.getByRole('button', { name: /Tra cứu hồ sơ/ }).click();
    await step('Tra cứu hồ sơ');
    await back.click();
    await page.getByRole('heading', { name: /Xin chào!/ }).waitFor();

    // In English: "Back".
    await page.getByRole('button', { name: 'Switch to English' }).click();
    await page.getByRole('button', { name: /Check a dossier/ }).click();
    await page.getByRole('button', { name: /^← Back$/ }).click();
    await page.getByRole('heading', { name: /Hello!/ }).waitFor();
    t.same(page.errors, []);
  },
);
