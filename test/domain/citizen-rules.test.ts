import t from 'tap';
import { newDossierCode, normalizeDossierCode, formatDossierCode, DOSSIER_ALPHABET } from '../../src/domain/dossier-code.js';
import { durations } from '../../src/config/durations.js';
import { loadConfig } from '../../src/config/load.js';
import { hashOtp, newOtp, otpMatches, sendWaitMs, triesAllowed } from '../../src/domain/otp.js';

/** The policy the locker ships with (config/default.yaml). */
const SHIPPED = durations(loadConfig({ env: {} })).otp;
import { parseVnMobile, maskPhone } from '../../src/domain/phone.js';
import { PhoneVault, deriveKeys } from '../../src/domain/phone-vault.js';
import type { AppError } from '../../src/domain/errors.js';

t.test('Vietnamese mobile numbers in any usual form', async (t) => {
  for (const input of ['0912 345 678', '+84912345678', '84912345678', '+84 (91) 234-5678', '091.234.5678', ' 0912345678 ']) {
    t.same(parseVnMobile(input), { e164: '+84912345678', national: '0912345678' }, input);
  }
  t.equal(parseVnMobile('0386 123 456').e164, '+84386123456', '03x (Viettel)');
  t.equal(parseVnMobile('0523456789').e164, '+84523456789', '05x');
  t.equal(parseVnMobile('0703456789').e164, '+84703456789', '07x');
  t.equal(parseVnMobile('0862345678').e164, '+84862345678', '08x');
  const refused: [string, string][] = [
    ['091234567', 'PHONE_INVALID'],
    ['0123456789', 'PHONE_INVALID'],
    ['0912345678 ; drop table', 'PHONE_INVALID'],
    ["' OR 1=1 --", 'PHONE_INVALID'],
    ['', 'PHONE_INVALID'],
    ['9'.repeat(200), 'PHONE_INVALID'],
    ['+1 202 555 0143', 'PHONE_NOT_VIETNAMESE_MOBILE'],
    ['+33 6 12 34 56 78', 'PHONE_NOT_VIETNAMESE_MOBILE'],
    ['028 3123 4567', 'PHONE_NOT_VIETNAMESE_MOBILE'],
  ];
  for (const [input, code] of refused) {
    const err = t.throws(() => parseVnMobile(input), input) as AppError;
    t.equal(err.code, code, `${input}: ${code}`);
  }
  t.equal(maskPhone('+84912345678'), '+84*****678', 'one masking rule: a fixed run of stars, the length hidden');
});

t.test('dossier codes: unambiguous characters and a check character', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const code = newDossierCode();
    t.equal(code.length, 9);
    for (const c of code) if (!DOSSIER_ALPHABET.includes(c)) t.fail(`${c} in ${code}`);
    t.equal(normalizeDossierCode(code), code);
    seen.add(code);
  }
  t.equal(seen.size, 2000, 'no repeats in 2000');
  t.notOk(/[01ILOUVZ]/.test([...seen].join('')), 'no look-alike characters');
  const code = newDossierCode();
  t.equal(normalizeDossierCode(formatDossierCode(code).toLowerCase()), code, 'dash and case do not matter');
  let caught = 0;
  let tried = 0;
  for (let i = 0; i < 8; i++) {
    for (const c of DOSSIER_ALPHABET) {
      if (c === code[i]) continue;
      tried++;
      if (normalizeDossierCode(code.slice(0, i) + c + code.slice(i + 1)) === null) caught++;
    }
  }
  t.equal(caught, tried, 'every single-character mistake is caught');
  // Luhn mod N catches every swap of neighbours but one: the first and last characters of the
  // alphabet (2 and Y), whose doubled values sum alike. Checked over many codes, not one.
  const missed = new Set<string>();
  for (let n = 0; n < 3000; n++) {
    const c = newDossierCode();
    for (let i = 0; i < 8; i++) {
      if (c[i] === c[i + 1]) continue;
      const swapped = c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2);
      if (normalizeDossierCode(swapped) !== null) missed.add([c[i], c[i + 1]].sort().join(''));
    }
  }
  t.ok(
    [...missed].every((pair) => pair === '2Y'),
    `only the 2/Y swap goes unnoticed (missed: ${[...missed].join(', ') || 'none'})`,
  );
  t.equal(normalizeDossierCode('K7M3-9P2X'), null, 'too short');
  t.equal(normalizeDossierCode("'; DROP TABLE"), null);
});

t.test('one-time codes', async (t) => {
  const key = Buffer.alloc(32, 7);
  const codes = new Set(Array.from({ length: 500 }, () => newOtp(8)));
  t.ok(
    [...codes].every((c) => /^\d{8}$/.test(c)),
    'eight digits',
  );
  t.ok(codes.size > 480, 'varied');
  t.equal(
    newOtp(6, () => 0),
    '000000',
    'leading zeros kept',
  );
  const hash = hashOtp(key, 'c1', '123456');
  t.notMatch(hash, /123456/);
  t.ok(otpMatches(key, 'c1', '123456', hash));
  t.notOk(otpMatches(key, 'c1', '123457', hash));
  t.notOk(otpMatches(key, 'c2', '123456', hash), 'bound to its challenge');
  t.notOk(otpMatches(Buffer.alloc(32, 8), 'c1', '123456', hash), 'bound to the key');
  t.notOk(otpMatches(key, 'c1', '123456', null), 'no code sent: nothing matches');
});

t.test('failures never lock: past five, one try per code', async (t) => {
  const p = SHIPPED;
  t.equal(triesAllowed(p, 0), 3);
  t.equal(triesAllowed(p, 4), 3);
  t.equal(triesAllowed(p, 5), 1);
  t.equal(triesAllowed(p, 10_000), 1, 'never zero');
});

t.test('send limits: 3 in 15 min; past 6 a day, one every 15 min', async (t) => {
  const now = new Date('2026-11-23T15:00:00Z');
  const ago = (min: number) => new Date(now.getTime() - min * 60_000);
  const limits = SHIPPED.perPhone;
  t.equal(sendWaitMs(limits, [ago(1), ago(2)], now), 0, 'two sends: a third is fine');
  t.equal(sendWaitMs(limits, [ago(1), ago(2), ago(10)], now), 5 * 60_000, 'three: wait until the oldest leaves the window');
  const six = Array.from({ length: 6 }, (_, i) => ago(20 + i * 60));
  t.equal(sendWaitMs(limits, six, now), 0, 'six in a day, the newest 20 min ago: one more');
  const sixRecent = [ago(5), ...six.slice(1)];
  t.equal(sendWaitMs(limits, sixRecent, now), 10 * 60_000, 'the newest 5 min ago: 10 min more, never the day');
  t.equal(sendWaitMs(limits, [ago(-30), ago(-20), ago(-10)], now), 0, 'sends "in the future" (a clock stepped back) are not counted');
});

t.test('phone vault: keyed hash and authenticated encryption', async (t) => {
  const vault = new PhoneVault(deriveKeys(Buffer.from('a'.repeat(40))));
  const other = new PhoneVault(deriveKeys(Buffer.from('b'.repeat(40))));
  t.equal(vault.hash('+84912345678'), vault.hash('+84912345678'), 'stable for lookup');
  t.not(vault.hash('+84912345678'), other.hash('+84912345678'), 'keyed');
  const sealed = vault.encrypt('+84912345678');
  t.notMatch(sealed, /912345678/);
  t.not(sealed, vault.encrypt('+84912345678'), 'a fresh IV each time');
  t.equal(vault.decrypt(sealed), '+84912345678');
  t.throws(() => other.decrypt(sealed), 'another key cannot read it');
  const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  t.throws(() => vault.decrypt(tampered), 'tampering is detected');
});
