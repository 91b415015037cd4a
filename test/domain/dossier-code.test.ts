import t from 'tap';
import {
  canonicalCode,
  displayCode,
  formatDossierCode,
  isOnlineNumber,
  lookupCode,
  newDossierCode,
  onlineNumber,
} from '../../src/domain/dossier-code.js';
import type { AppError } from '../../src/domain/errors.js';

/** What the staff route lets through to the result service (src/http/routes/staff.ts). */
const STAFF_INPUT = /^[A-Za-z0-9][A-Za-z0-9. -]*$/;

t.test('every dossier number the system accepts round-trips unchanged: stored, shown, looked up', async (t) => {
  const own = newDossierCode();
  const accepted: [string, string][] = [
    ['000.00.22.H29-251120-0042', '000.00.22.H29-251120-0042'],
    [' 000.00.22.h29-251120-0042 ', '000.00.22.H29-251120-0042'],
    ['HCM-2025-000900', 'HCM-2025-000900'],
    ['KQ-2026-0001', 'KQ-2026-0001'],
    // Letters our alphabet leaves out (0, 1, O, I, L, U, V, Z) are the online system's to use.
    ['H10.OIL-UVZ-2025', 'H10.OIL-UVZ-2025'],
    [own, formatDossierCode(own)],
    [formatDossierCode(own), formatDossierCode(own)],
    [formatDossierCode(own).toLowerCase(), formatDossierCode(own)],
  ];
  for (const [input, shown] of accepted) {
    const stored = canonicalCode(input);
    t.equal(displayCode(stored), shown, `${input}: shown as ${shown}`);
    t.equal(lookupCode(input), stored, `${input}: a lookup of what was given finds it`);
    t.equal(lookupCode(shown), stored, `${input}: a lookup of what is shown finds it`);
    t.equal(displayCode(displayCode(stored)), shown, `${input}: showing twice changes nothing`);
  }
  t.equal(displayCode('000.00.22.H29-251120-0042'), '000.00.22.H29-251120-0042', 'never regrouped');
});

t.test('a number the system could not find again is refused when stored, not stored under a dead end', async (t) => {
  // Each passes the staff route's schema; none could be looked up once stored.
  for (const input of ['ABCD-12345', 'ABCD12345', 'HCM 2025 0009', 'AB12', 'HCM-ABC-DE', '12345']) {
    t.match(input, STAFF_INPUT, `${input}: the staff route lets it through`);
    t.equal(lookupCode(input), null, `${input}: a lookup refuses it`);
    const err = t.throws(() => canonicalCode(input), `${input}: refused`) as AppError;
    t.equal(err.code, 'DOSSIER_CODE_INVALID', `${input}: DOSSIER_CODE_INVALID`);
  }
});

t.test('whatever is stored can be looked up by what is shown (random input of the staff route)', async (t) => {
  let seed = 12;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789...---   ';
  let stored = 0;
  for (let i = 0; i < 20_000; i++) {
    let input = 'ABCDEFGHK0123456789'[random(19)];
    const length = 3 + random(37);
    for (let j = 0; j < length; j++) input += chars[random(chars.length)];
    let code: string;
    try {
      code = canonicalCode(input);
    } catch (err) {
      if ((err as AppError).code !== 'DOSSIER_CODE_INVALID') throw err;
      continue;
    }
    stored++;
    if (lookupCode(displayCode(code)) !== code || lookupCode(input) !== code) {
      t.fail(`${JSON.stringify(input)} stored as ${code}, shown as ${displayCode(code)}, not found again`);
      return;
    }
  }
  t.ok(stored > 1_000, `${stored} stored, each found again`);
});

t.test('a deposit of a dossier filed online: the online number as stored, never one of our codes (ADR 0029)', async (t) => {
  t.equal(onlineNumber(' 000.00.22.h29-251120-0042 '), '000.00.22.H29-251120-0042', 'trimmed and upper-cased, as a lookup reads it');
  t.equal(onlineNumber('H29.251120.0042'), 'H29.251120.0042');
  const own = newDossierCode();
  for (const ours of [own, formatDossierCode(own), formatDossierCode(own).toLowerCase()]) {
    t.equal((t.throws(() => onlineNumber(ours)) as AppError).code, 'ONLINE_NUMBER_EXPECTED', ours);
  }
  for (const bad of ['ABCD-12345', '12.34', 'ABC.DEF-GH1', '000.00.22 H29-251120-0042', '']) {
    t.equal((t.throws(() => onlineNumber(bad)) as AppError).code, 'DOSSIER_CODE_INVALID', JSON.stringify(bad));
  }
  t.ok(isOnlineNumber('000.00.22.H29-251120-0042'));
  t.notOk(isOnlineNumber(own), 'our code, stored');
  t.notOk(isOnlineNumber(formatDossierCode(own)), 'our code, displayed');
});
