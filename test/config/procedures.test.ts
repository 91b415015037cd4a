import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProcedures } from '../../src/config/procedures.js';
import { ConfigError } from '../../src/config/load.js';

t.test('the catalogue: 49 procedures received, 42 returned, as in the field', async (t) => {
  const procedures = loadProcedures();
  t.equal(procedures.filter((p) => p.deposit).length, 49);
  t.equal(procedures.filter((p) => p.result).length, 42);
  const idCards = procedures.filter((p) => p.field === 'Căn cước');
  t.equal(idCards.length, 5, 'five ID-card procedures');
  t.ok(idCards.every((p) => p.result && !p.deposit && p.traySize === 'S'), 'returned only, small trays');
  t.equal(new Set(procedures.map((p) => p.code)).size, procedures.length, 'codes unique');
  t.ok(procedures.every((p) => p.short.vi.length <= 40 && p.short.en.length <= 40), 'short names fit an SMS');
  t.ok(procedures.filter((p) => p.fee === 0).length > procedures.length / 2, 'most are free');
  for (const needle of ['khai sinh', 'kết hôn', 'tình trạng hôn nhân', 'Chứng thực bản sao', 'hộ kinh doanh', 'giấy phép xây dựng']) {
    t.ok(procedures.some((p) => p.name.vi.toLowerCase().includes(needle.toLowerCase())), needle);
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
    ['bad size', `procedures:\n${ok}${ok.replace('A-1', 'A-2').replace('traySize: S', 'traySize: XL')}`, /procedures\[1\]\.traySize must be one of S, M, L/],
    ['duplicate code', `procedures:\n${ok}${ok}`, /procedures\[1\]\.code "A-1" is used twice/],
    ['neither deposit nor result', `procedures:\n${ok.replace('deposit: true', 'deposit: false')}`, /procedures\[0\] must have deposit or result/],
    ['short too long', `procedures:\n${ok.replace('short: { vi: a', `short: { vi: ${'a'.repeat(41)}`)}`, /procedures\[0\]\.short\.vi/],
    ['missing fee', `procedures:\n${ok.replace('fee: 0, ', '')}`, /procedures\[0\]\.fee is required/],
    ['lower-case code', `procedures:\n${ok.replace('A-1', 'a-1')}`, /procedures\[0\]\.code/],
    ['not YAML', `procedures: [`, /procedures cannot be read/],
  ];
  for (const [name, yaml, message] of cases) {
    const err = t.throws(() => loadProcedures(write(yaml)), name) as Error;
    t.ok(err instanceof ConfigError, `${name}: ConfigError`);
    t.match(err.message, message, name);
  }
});
