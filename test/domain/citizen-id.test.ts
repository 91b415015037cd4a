import t from 'tap';
import { AppError } from '../../src/domain/errors.js';
import { maskIdNumber, minimalHolder, parseCardQr, parseIdNumber, PROVINCE_CODES, SAMPLE_CARD_QR } from '../../src/domain/citizen-id.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : `not AppError: ${String(e)}`;
  }
  return 'no error';
};
const fields = SAMPLE_CARD_QR.split('|');
const withField = (i: number, v: string) => fields.map((f, j) => (j === i ? v : f)).join('|');

t.test('the sample card parses to its fields', async (t) => {
  const card = parseCardQr(SAMPLE_CARD_QR, NOW);
  t.same(card, {
    idNumber: '079301012345',
    oldIdNumber: '025123456',
    fullName: 'Nguyễn Thị Minh Anh',
    dateOfBirth: '2001-03-15',
    sex: 'female',
    address: '12 Đường Số 3, Phường Bình Phú, Quận 6, TP. Hồ Chí Minh',
    dateOfIssue: '2021-06-20',
  });
  t.same(minimalHolder(card), { idNumber: '079301012345', fullName: 'Nguyễn Thị Minh Anh' }, 'never the address');
  t.equal(parseCardQr(`${SAMPLE_CARD_QR}\r\n`, NOW).idNumber, '079301012345', 'the scanner’s Enter is not part of it');
  t.equal(parseCardQr(`${SAMPLE_CARD_QR}|`, NOW).idNumber, '079301012345', 'a trailing separator is tolerated');
  t.equal(parseCardQr(withField(1, ''), NOW).oldIdNumber, null, 'no old number');
  t.equal(parseCardQr(withField(1, '079123456789'), NOW).oldIdNumber, '079123456789', 'an old 12-digit number');
  t.equal(parseCardQr(`${SAMPLE_CARD_QR}|extra|fields`, NOW).idNumber, '079301012345', "a newer card's extra fields are not read");
  // Issued today in Vietnam, at 06:00 there (23:00 UTC the day before): not in the future.
  t.equal(parseCardQr(withField(6, '07122026'), new Date('2026-12-06T23:00:00Z')).dateOfIssue, '2026-12-07');
  t.equal(parseCardQr(withField(4, 'NỮ'), NOW).sex, 'female');
  t.equal(parseCardQr(withField(2, 'Nguyễn   Thị  Minh Anh'), NOW).fullName, 'Nguyễn Thị Minh Anh');
  // NFD input (some keyboard wedges) comes back NFC.
  t.equal(parseCardQr(SAMPLE_CARD_QR.normalize('NFD'), NOW).fullName, 'Nguyễn Thị Minh Anh');
});

t.test('anything else is refused with ID_CARD_INVALID, saying what', async (t) => {
  const bad: [string, string][] = [
    ['', 'empty'],
    ['079301012345', 'one field'],
    [fields.slice(0, 6).join('|'), 'six fields'],
    [withField(0, '07930101234'), 'eleven digits'],
    [withField(0, '07930101234X'), 'a letter'],
    [withField(0, '003301012345'), 'no province 003'],
    [withField(0, '079201012345'), 'male digit with Nữ'],
    [withField(0, '079399012345'), 'year 99 against 2001'],
    [withField(1, '12345'), 'old number 5 digits'],
    [withField(1, '1234567890'), 'old number 10 digits'],
    [withField(2, ''), 'no name'],
    [withField(2, 'Nguyen 123'), 'digits in the name'],
    [withField(3, '31022001'), '31 February'],
    [withField(3, '2001-03-15'), 'ISO date'],
    [withField(6, '20062031'), 'issued in the future'],
    [withField(6, '20062000'), 'issued before birth'],
    [withField(4, 'X'), 'sex unknown'],
    [withField(5, ''), 'no address'],
    [SAMPLE_CARD_QR.replace('Nguyễn', 'Ngu\u0007yễn'), 'a control character'],
    ['x'.repeat(600), 'too long'],
  ];
  for (const [text, why] of bad)
    t.equal(
      code(() => parseCardQr(text, NOW)),
      'ID_CARD_INVALID',
      why,
    );
  t.match(
    (() => {
      try {
        parseCardQr(withField(0, '003301012345'), NOW);
      } catch (e) {
        return (e as Error).message;
      }
    })(),
    /province/,
  );
});

t.test('a typed ID number', async (t) => {
  t.equal(parseIdNumber('079 301 012 345', NOW), '079301012345');
  t.equal(parseIdNumber('001099000001', NOW), '001099000001', '1999, Hà Nội');
  t.equal(
    code(() => parseIdNumber('07930101234', NOW)),
    'ID_NUMBER_INVALID',
  );
  t.equal(
    code(() => parseIdNumber('000301012345', NOW)),
    'ID_NUMBER_INVALID',
    'no province 000',
  );
  t.equal(
    code(() => parseIdNumber('079299012345', NOW)),
    'ID_NUMBER_INVALID',
    'born in 2099',
  );
  t.equal(
    code(() => parseIdNumber('079801012345', NOW)),
    'ID_NUMBER_INVALID',
    'digit 4 = 8: the 2300s',
  );
  t.equal(PROVINCE_CODES.size, 63);
  t.equal(maskIdNumber('079301012345'), '••••••••2345');
});

t.test('the ID vault: a keyed hash and a sealed holder', async (t) => {
  const { deriveKeys } = await import('../../src/domain/phone-vault.js');
  const { IdVault } = await import('../../src/domain/id-vault.js');
  const vault = new IdVault(deriveKeys(Buffer.from('one master secret')));
  const other = new IdVault(deriveKeys(Buffer.from('another master secret')));
  t.match(vault.hash('079301012345'), /^[0-9a-f]{64}$/);
  t.equal(vault.hash('079301012345'), vault.hash('079301012345'));
  t.not(vault.hash('079301012345'), other.hash('079301012345'), 'keyed: another secret, another hash');
  t.not(vault.hash('079301012345'), vault.hash('079301012346'));
  const sealed = vault.seal({ idNumber: '079301012345', fullName: 'Nguyễn Thị Minh Anh' });
  t.notMatch(sealed, /079301012345|Nguy/);
  t.same(vault.open(sealed), { idNumber: '079301012345', fullName: 'Nguyễn Thị Minh Anh' });
  t.throws(() => other.open(sealed), 'another key cannot open it');
});
