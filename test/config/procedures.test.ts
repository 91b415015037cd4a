import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProcedures } from '../../src/config/procedures.js';
import { ConfigError } from '../../src/config/load.js';
import { depositProcedures, findProcedure, onlineDossierEntry, resultProcedures } from '../../src/domain/procedures.js';

t.test('the catalogue: 49 procedures received, 42 returned, as in the field', async (t) => {
  const procedures = loadProcedures();
  t.equal(procedures.filter((p) => p.deposit && !p.online).length, 49);
  t.equal(procedures.filter((p) => p.result).length, 42);
  // Dossiers filed online (ADR 0029): one entry beside the procedures, received only, no fee.
  t.match(
    procedures.filter((p) => p.online),
    [{ code: 'TRUC-TUYEN', deposit: true, result: false, fee: 0, traySize: 'M' }],
  );
  const idCards = procedures.filter((p) => p.field === 'Căn cước');
  t.equal(idCards.length, 5, 'five ID-card procedures');
  t.ok(
    idCards.every((p) => p.result && !p.deposit && p.traySize === 'S'),
    'returned only, small trays',
  );
  t.equal(new Set(procedures.map((p) => p.code)).size, procedures.length, 'codes unique');
  t.ok(
    procedures.every((p) => p.short.vi.length <= 40 && p.short.en.length <= 40),
    'short names fit an SMS',
  );
  t.ok(procedures.filter((p) => p.fee === 0).length > procedures.length / 2, 'most are free');
  for (const needle of ['khai sinh', 'kết hôn', 'tình trạng hôn nhân', 'Chứng thực bản sao', 'hộ kinh doanh', 'giấy phép xây dựng']) {
    t.ok(
      procedures.some((p) => p.name.vi.toLowerCase().includes(needle.toLowerCase())),
      needle,
    );
  }
});

t.test('a wrong catalogue stops the start naming the field', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'procedures-'));
  const write = (yaml: string) => {
    const file = path.join(dir, `${Math.random()}.yaml`);
    writeFileSync(file, yaml);
    return file;
  };
  const ok = `  - { code: A-1, field: X, name: { vi: a, en: a }, short: { vi: a, en: a }, deposit: true, result: false, fee: 0, traySize: S }\n`;
  const cases: [string, string, RegExp][] = [
    [
      'bad size',
      `procedures:\n${ok}${ok.replace('A-1', 'A-2').replace('traySize: S', 'traySize: XL')}`,
      /procedures\[1\]\.traySize must be one of S, M, L/,
    ],
    ['duplicate code', `procedures:\n${ok}${ok}`, /procedures\[1\]\.code "A-1" is used twice/],
    [
      'neither deposit nor result',
      `procedures:\n${ok.replace('deposit: true', 'deposit: false')}`,
      /procedures\[0\] must have deposit or result/,
    ],
    ['short too long', `procedures:\n${ok.replace('short: { vi: a', `short: { vi: ${'a'.repeat(41)}`)}`, /procedures\[0\]\.short\.vi/],
    ['missing fee', `procedures:\n${ok.replace('fee: 0, ', '')}`, /procedures\[0\]\.fee is required/],
    ['lower-case code', `procedures:\n${ok.replace('A-1', 'a-1')}`, /procedures\[0\]\.code must be 2 to 20 upper-case/],
    ['negative fee', `procedures:\n${ok.replace('fee: 0', 'fee: -2000')}`, /procedures\[0\]\.fee must be >= 0/],
    ['fee with decimals', `procedures:\n${ok.replace('fee: 0', 'fee: 2000.5')}`, /procedures\[0\]\.fee must be integer/],
    ['blank name', `procedures:\n${ok.replace('name: { vi: a', 'name: { vi: "  "')}`, /procedures\[0\]\.name\.vi must not be blank/],
    ['empty name', `procedures:\n${ok.replace('name: { vi: a, en: a }', 'name: { vi: a, en: "" }')}`, /procedures\[0\]\.name\.en/],
    [
      'missing English name',
      `procedures:\n${ok.replace('name: { vi: a, en: a }', 'name: { vi: a }')}`,
      /procedures\[0\]\.name\.en is required/,
    ],
    ['unknown field', `procedures:\n${ok.replace('fee: 0', 'fee: 0, price: 3')}`, /procedures\[0\]\.price is not a known field/],
    ['deposit as text', `procedures:\n${ok.replace('deposit: true', 'deposit: "yes"')}`, /procedures\[0\]\.deposit must be boolean/],
    [
      'two online entries',
      `procedures:\n${ok.replace('traySize: S', 'traySize: S, online: true')}${ok.replace('A-1', 'A-2').replace('traySize: S', 'traySize: S, online: true')}`,
      /procedures\[1\]\.online is set on one entry only \(also procedures\[0\]\)/,
    ],
    [
      'online entry with results',
      `procedures:\n${ok.replace('result: false', 'result: true').replace('traySize: S', 'traySize: S, online: true')}`,
      /procedures\[0\]\.online is for an entry with deposit true and result false/,
    ],
    [
      'online entry with a fee',
      `procedures:\n${ok.replace('fee: 0', 'fee: 5000').replace('traySize: S', 'traySize: S, online: true')}`,
      /procedures\[0\]\.fee must be 0 for dossiers filed online/,
    ],
    ['empty list', `procedures: []`, /procedures must NOT have fewer than 1 items/],
    ['empty file', ``, /procedures file must hold a mapping/],
    ['not YAML', `procedures: [`, /procedures cannot be read/],
    ['missing file', '', /procedures cannot be read/],
  ];
  for (const [name, yaml, message] of cases) {
    const file = name === 'missing file' ? path.join(dir, 'nowhere.yaml') : write(yaml);
    const err = t.throws(() => loadProcedures(file), name) as Error;
    t.ok(err instanceof ConfigError, `${name}: ConfigError`);
    t.match(err.message, message, name);
  }
});

t.test('lookups', async (t) => {
  const procedures = loadProcedures();
  t.equal(findProcedure(procedures, 'HT-KS')?.name.vi, 'Đăng ký khai sinh');
  t.equal(findProcedure(procedures, 'ht-ks'), undefined, 'codes are exact');
  t.equal(findProcedure(procedures, 'NOPE'), undefined);
  t.equal(depositProcedures(procedures).length, 49, 'the online-dossier entry is not one to choose');
  t.equal(onlineDossierEntry(procedures)?.code, 'TRUC-TUYEN');
  t.equal(resultProcedures(procedures).length, 42);
  t.ok(resultProcedures(procedures).some((p) => p.code === 'CC-01'));
  t.notOk(
    depositProcedures(procedures).some((p) => p.field === 'Căn cước'),
    'ID cards are never deposited',
  );
});

t.test('PROCEDURES_FILE points elsewhere; decomposed accents are stored composed', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'procedures-'));
  const file = path.join(dir, 'p.yaml');
  // Typed with combining accents: 47 code units, 39 characters once composed.
  const nfd = 'Đăng ký lại khai sinh, kết hôn, khai tử'.normalize('NFD');
  t.ok(nfd.length > 40, 'longer than 40 as typed');
  writeFileSync(
    file,
    `procedures:\n  - { code: X-1, field: "Hộ tịch", name: { vi: "${nfd}", en: a }, short: { vi: "${nfd}", en: a }, deposit: true, result: true, fee: 0, traySize: M }\n`,
  );
  const before = process.env.PROCEDURES_FILE;
  process.env.PROCEDURES_FILE = file;
  t.teardown(() => {
    if (before === undefined) delete process.env.PROCEDURES_FILE;
    else process.env.PROCEDURES_FILE = before;
  });
  const [p] = loadProcedures();
  t.equal(p.code, 'X-1');
  t.equal(p.name.vi, nfd.normalize('NFC'));
  t.equal(p.short.vi, nfd.normalize('NFC'));
  t.ok(p.short.vi.length <= 40);
  t.equal(p.field, 'Hộ tịch');
});

t.test('docs/procedures.md lists every procedure with its marks, fee and tray size', async (t) => {
  const docs = readFileSync(new URL('../../docs/procedures.md', import.meta.url), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of docs.split('\n')) {
    const m = /^\| `([A-Z0-9-]+)` \|(.*)\|$/.exec(line);
    if (m)
      rows.set(
        m[1],
        m[2].split('|').map((c) => c.trim()),
      );
  }
  const procedures = loadProcedures();
  t.equal(rows.size, procedures.length, 'one row per procedure');
  for (const p of procedures) {
    const row = rows.get(p.code);
    if (!row) {
      t.fail(`${p.code} is missing from docs/procedures.md`);
      continue;
    }
    const [name, deposit, result, fee, size] = row;
    const base = p.fee === 0 ? '0' : `${p.fee.toLocaleString('vi-VN')} đ`;
    t.same(
      [name, deposit, result, fee, size],
      [p.name.vi, p.deposit ? '✓' : '–', p.result ? '✓' : '–', p.feeNote ? `${base} (${p.feeNote})` : base, p.traySize],
      p.code,
    );
  }
});
