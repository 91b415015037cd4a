import t from 'tap';
import {
  encodeInfo,
  formatSmsTime,
  isGsm7Basic,
  renderSms,
  SMS_KINDS,
  splitSegments,
  stripDiacritics,
  type SmsKind,
  type SmsParams,
} from '../../src/domain/sms-text.js';

// 21:45 on 12 March in Ho Chi Minh City (UTC+7); the collect-by date is three days on.
const at = new Date('2025-03-12T14:45:00Z');
const collectBy = new Date('2025-03-15T16:59:00Z');
const LONGEST_PROCEDURE = 'Liên thông khai sinh, thường trú, BHYT';
const FORTY = 'Cấp đổi giấy chứng nhận quyền sử dụng đất'; // 41 characters

const realistic: { [K in SmsKind]: SmsParams[K][] } = {
  otp: [
    { code: '482913', minutes: 5 },
    { code: '000000', minutes: 30 },
  ],
  deposit_receipt: [
    { dossierCode: 'K7M3-9P2X4', procedure: LONGEST_PROCEDURE, at },
    { dossierCode: 'K7M3-9P2X4', procedure: FORTY, at },
    { dossierCode: 'WWWW-WWWWW', procedure: 'Khai sinh', at },
  ],
  result_ready: [
    { dossierCode: 'K7M3-9P2X4', tray: 90, collectBy },
    { dossierCode: 'K7M3-9P2X4', tray: 7, collectBy },
  ],
  result_reminder: [{ dossierCode: 'K7M3-9P2X4', collectBy }],
  result_returned_to_counter: [
    { dossierCode: 'K7M3-9P2X4', where: 'Bộ phận Một cửa UBND Quận 6' },
    { dossierCode: 'K7M3-9P2X4', where: 'Bộ phận Tiếp nhận và Trả kết quả UBND Quận 6' },
  ],
  pickup_receipt: [
    { dossierCode: 'K7M3-9P2X4', at },
    { dossierCodes: ['K7M3-9P2X4', 'ABCD-EFGHJ', 'QRST-WXY23'], at },
  ],
  deposit_to_check: [{ dossierCode: 'K7M3-9P2X4', tray: 90, checkAt: collectBy }],
  deposit_not_found: [{ dossierCode: 'K7M3-9P2X4', tray: 90 }],
};

t.test('every template fits one GSM-7 segment unaccented, in the default alphabet proper', async (t) => {
  for (const kind of SMS_KINDS) {
    for (const params of realistic[kind]) {
      const text = renderSms(kind, params as never, { brand: 'UBNDQ6' });
      const info = encodeInfo(text);
      t.equal(info.encoding, 'GSM-7', `${kind}: GSM-7`);
      t.equal(info.segments, 1, `${kind}: one segment (${info.length}/160) "${text}"`);
      t.ok(isGsm7Basic(text), `${kind}: no extension or non-GSM characters`);
      t.ok(text.startsWith('UBNDQ6: '), `${kind}: opens with the brand`);
      t.notMatch(text, /tra loi|soan tin|reply/i, `${kind}: never asks for a reply`);
    }
  }
});

t.test('accented templates are UCS-2, at most 3 segments', async (t) => {
  const counts: Record<string, number> = {};
  for (const kind of SMS_KINDS) {
    for (const params of realistic[kind]) {
      const text = renderSms(kind, params as never, { brand: 'UBNDQ6', accented: true });
      const info = encodeInfo(text);
      t.equal(info.encoding, 'UCS-2', `${kind}: UCS-2`);
      t.ok(info.segments <= 3, `${kind}: ${info.segments} segments (${info.length} code units)`);
      counts[kind] = Math.max(counts[kind] ?? 0, info.segments);
    }
  }
  // What docs/sms.md reports: two segments each accented, three with a long counter name.
  t.same(counts, {
    otp: 2,
    deposit_receipt: 2,
    result_ready: 2,
    result_reminder: 2,
    result_returned_to_counter: 3,
    pickup_receipt: 2,
    deposit_to_check: 2,
    deposit_not_found: 2,
  });
});

t.test('the texts say what a citizen needs', async (t) => {
  const o = { brand: 'UBNDQ6' };
  t.equal(
    renderSms('otp', { code: '482913', minutes: 5 }, o),
    'UBNDQ6: Ma xac thuc ATM 24/7 la 482913, hieu luc 5 phut. Khong dua ma nay cho bat ky ai.',
  );
  t.equal(
    renderSms('deposit_receipt', { dossierCode: 'K7M3-9P2X4', procedure: 'Đăng ký khai sinh', at }, o),
    'UBNDQ6: ATM 24/7 da nhan ho so K7M3-9P2X4 (Dang ky khai sinh) luc 21:45 ngay 12/03. Tra cuu bang ma ho so nay.',
  );
  t.equal(
    renderSms('result_ready', { dossierCode: 'K7M3-9P2X4', tray: 37, collectBy }, o),
    'UBNDQ6: Da co ket qua ho so K7M3-9P2X4 tai ATM 24/7, khay so 37. Han nhan: het ngay 15/03. Nhan bang so dien thoai nay va ma xac thuc.',
  );
  t.equal(
    renderSms('result_reminder', { dossierCode: 'K7M3-9P2X4', collectBy }, o),
    'UBNDQ6: Nhac: ket qua ho so K7M3-9P2X4 dang cho tai ATM 24/7. Han nhan: het ngay 15/03. Qua han se chuyen ve Bo phan Mot cua.',
  );
  t.match(
    renderSms('result_returned_to_counter', { dossierCode: 'K7M3-9P2X4', where: 'Bộ phận Một cửa UBND Quận 6' }, o),
    /K7M3-9P2X4 da chuyen ve Bo phan Mot cua UBND Quan 6/,
  );
  t.match(renderSms('pickup_receipt', { dossierCodes: ['K7M3-9P2X4', 'ABCD-EFGHJ'], at }, o), /K7M3-9P2X4, ABCD-EFGHJ.*21:45 ngay 12\/03/);
  t.match(
    renderSms('deposit_receipt', { dossierCode: 'K7M3-9P2X4', procedure: 'Kết hôn', at: at.toISOString() }, { ...o, accented: true }),
    /đã nhận hồ sơ K7M3-9P2X4 \(Kết hôn\) lúc 21:45 ngày 12\/03/,
  );
  t.equal(formatSmsTime(at), '12/03 21:45');
  t.equal(formatSmsTime(new Date('2025-03-12T17:30:00Z')), '13/03 00:30', 'the date in Ho Chi Minh City, not UTC');
});

t.test('plain, unambiguous words in every text: a tray is a "khay", a deadline reads "Han nhan: het ngay"', async (t) => {
  for (const accented of [false, true]) {
    for (const kind of SMS_KINDS) {
      for (const params of realistic[kind]) {
        const text = stripDiacritics(renderSms(kind, params as never, { brand: 'UBNDQ6', accented }));
        // "Nhan truoc het ngay" reads as "first of all"; "o" is not what the kiosk calls a tray.
        t.notMatch(text, /truoc het/i, `${kind}: no "truoc het": ${text}`);
        t.notMatch(text, /\bo so\b/i, `${kind}: no "o so": ${text}`);
        if ('tray' in params) t.match(text, new RegExp(`khay (so )?${params.tray}\\b`), `${kind}: the tray is a "khay": ${text}`);
        if ('collectBy' in params) t.match(text, /Han nhan: het ngay \d\d\/\d\d\./, `${kind}: the deadline in plain words: ${text}`);
        // The kiosk's and the district's form of address, never "ban".
        t.notMatch(text, /\bban\b/i, `${kind}: no "ban": ${text}`);
      }
    }
  }
});

t.test('an online-system number (25 characters) still fits one segment unaccented', async (t) => {
  const dossierCode = '000.00.22.H29-251120-0042';
  const texts = [
    renderSms('result_ready', { dossierCode, tray: 90, collectBy }, { brand: 'UBNDQ6' }),
    renderSms('result_reminder', { dossierCode, collectBy }, { brand: 'UBNDQ6' }),
    renderSms('result_returned_to_counter', { dossierCode, where: 'Bộ phận Tiếp nhận và Trả kết quả UBND Quận 6' }, { brand: 'UBNDQ6' }),
    renderSms('pickup_receipt', { dossierCode, at }, { brand: 'UBNDQ6' }),
  ];
  for (const text of texts) {
    t.ok(text.includes(dossierCode), `the number unchanged: ${text}`);
    t.equal(encodeInfo(text).segments, 1, `one segment (${encodeInfo(text).length}/160): ${text}`);
  }
});

t.test('a missing parameter or an unknown kind is an error, not a text with "undefined"', async (t) => {
  t.throws(() => renderSms('otp', { minutes: 5 } as never, { brand: 'X' }), /otp: parameter code is missing/);
  t.throws(
    () => renderSms('deposit_receipt', { dossierCode: 'K7M3-9P2X4', procedure: 'x', at: 'soon' }, { brand: 'X' }),
    /at is not a time/,
  );
  t.throws(() => renderSms('birthday' as never, {} as never, { brand: 'X' }), /no SMS template/);
});

t.test('diacritics are stripped properly, đ/Đ included', async (t) => {
  t.equal(stripDiacritics('Đăng ký khai sinh'), 'Dang ky khai sinh');
  t.equal(stripDiacritics('Bộ phận Một cửa UBND Quận 6'), 'Bo phan Mot cua UBND Quan 6');
  t.equal(stripDiacritics('ĐƯỜNG Ỷ Ơ ư ữ ỹ đ'), 'DUONG Y O u u y d');
  t.equal(stripDiacritics('“Giấy tờ” – bản sao…'), '"Giay to" - ban sao...');
  t.equal(stripDiacritics('Hà Nội ✓'), 'Ha Noi ?', 'anything else outside GSM-7 becomes ?');
  // Decomposed input (as some keyboards produce) comes out the same.
  t.equal(stripDiacritics('Đăng ký'.normalize('NFD')), 'Dang ky');
  const all = 'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ';
  t.equal(stripDiacritics(all), 'a'.repeat(17) + 'e'.repeat(11) + 'i'.repeat(5) + 'o'.repeat(17) + 'u'.repeat(11) + 'y'.repeat(5) + 'd');
  t.equal(
    stripDiacritics(all.toUpperCase()),
    ('a'.repeat(17) + 'e'.repeat(11) + 'i'.repeat(5) + 'o'.repeat(17) + 'u'.repeat(11) + 'y'.repeat(5) + 'd').toUpperCase(),
  );
});

t.test('segment counting: GSM-7 160/153 with extension characters counting 2, UCS-2 70/67 in UTF-16 units', async (t) => {
  t.same(encodeInfo(''), { encoding: 'GSM-7', segments: 1, length: 0 });
  t.same(encodeInfo('a'.repeat(160)), { encoding: 'GSM-7', segments: 1, length: 160 });
  t.same(encodeInfo('a'.repeat(161)), { encoding: 'GSM-7', segments: 2, length: 161 });
  t.same(encodeInfo('a'.repeat(306)), { encoding: 'GSM-7', segments: 2, length: 306 });
  t.same(encodeInfo('a'.repeat(307)), { encoding: 'GSM-7', segments: 3, length: 307 });
  t.same(encodeInfo('€'.repeat(80)), { encoding: 'GSM-7', segments: 1, length: 160 }, 'extension characters count two');
  t.same(encodeInfo('{'.repeat(81)), { encoding: 'GSM-7', segments: 2, length: 162 });
  const alphabet = '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà';
  t.same(encodeInfo(alphabet), { encoding: 'GSM-7', segments: 1, length: alphabet.length }, 'the default alphabet');
  t.equal(encodeInfo('é').encoding, 'GSM-7', 'é is in the default alphabet');
  t.equal(encodeInfo('ế').encoding, 'UCS-2', 'ế is not');
  t.equal(encodeInfo('ç').encoding, 'UCS-2', 'lower-case ç is not (only Ç is)');
  t.same(encodeInfo('ă'.repeat(70)), { encoding: 'UCS-2', segments: 1, length: 70 });
  t.same(encodeInfo('ă'.repeat(71)), { encoding: 'UCS-2', segments: 2, length: 71 });
  t.same(encodeInfo('ă'.repeat(134)), { encoding: 'UCS-2', segments: 2, length: 134 });
  t.same(encodeInfo('ă'.repeat(135)), { encoding: 'UCS-2', segments: 3, length: 135 });
  t.same(encodeInfo('😀'.repeat(35)), { encoding: 'UCS-2', segments: 1, length: 70 }, 'astral characters count two code units');
});

t.test('splitting never cuts an escape pair or a surrogate pair', async (t) => {
  const gsm = splitSegments('a'.repeat(152) + '€' + 'b'.repeat(10));
  t.same(
    gsm.parts.map((p) => p.length),
    [152, 11],
    'the € moves whole to the next part',
  );
  const ucs = splitSegments('ă'.repeat(66) + '😀' + 'ă'.repeat(10));
  t.same(
    ucs.parts.map((p) => p.length),
    [66, 12],
  );
  t.equal(ucs.parts.join(''), 'ă'.repeat(66) + '😀' + 'ă'.repeat(10));
});
