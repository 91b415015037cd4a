/**
 * The chip citizen identity card (CCCD / thẻ căn cước): the QR code on its back and the 12-digit
 * personal identification number (số định danh cá nhân).
 *
 * The QR's text is seven fields separated by `|`: the 12-digit number, the 9-digit old ID number
 * (may be empty), the full name, the date of birth (DDMMYYYY), the sex, the permanent address and
 * the date of issue (DDMMYYYY). The number's first three digits are the province where the birth
 * was registered (Circular 07/2016/TT-BCA, codes unchanged by the 2025 merger of provinces); the
 * fourth gives the sex and the century of birth (0/1 the 1900s, 2/3 the 2000s, 4/5 the 2100s,
 * 6/7 the 2200s, 8/9 the 2300s, even for men) and the fifth and sixth the last two digits of the
 * year of birth: a scanned card is checked against its own date of birth. Dates are compared in
 * Vietnam's time (UTC+7, no summer time): a card issued today is not "in the future" before 07:00 UTC.
 *
 * Newer cards' QR texts may carry more fields after the seven (they are ignored), and an old ID
 * number of 12 digits (the 2012–2016 CMND) as well as 9.
 *
 * Only what the locker needs leaves this module's callers: the number and the name. The address
 * is parsed so that the whole text is validated, and then dropped by `minimalHolder`.
 */
import { AppError } from './errors.js';

/** Province codes of birth registration (63 provinces and cities). 079 is Hồ Chí Minh City. */
export const PROVINCE_CODES: ReadonlySet<string> = new Set(
  (
    '001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 038 ' +
    '040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 080 082 ' +
    '083 084 086 087 089 091 092 093 094 095 096'
  ).split(' '),
);

export type Sex = 'male' | 'female';

/** The card's fields as the QR holds them, checked. Dates as ISO `YYYY-MM-DD`. */
export interface CitizenCard {
  idNumber: string;
  /** The 9-digit number of the old ID card, or null. */
  oldIdNumber: string | null;
  fullName: string;
  dateOfBirth: string;
  sex: Sex;
  address: string;
  dateOfIssue: string;
}

/** What the locker keeps of a card: the number and the name, never the address or the birth date. */
export interface CardHolder {
  idNumber: string;
  fullName: string;
}

const CENTURY: Record<string, { century: number; sex: Sex }> = {
  '0': { century: 1900, sex: 'male' },
  '1': { century: 1900, sex: 'female' },
  '2': { century: 2000, sex: 'male' },
  '3': { century: 2000, sex: 'female' },
  '4': { century: 2100, sex: 'male' },
  '5': { century: 2100, sex: 'female' },
  '6': { century: 2200, sex: 'male' },
  '7': { century: 2200, sex: 'female' },
  '8': { century: 2300, sex: 'male' },
  '9': { century: 2300, sex: 'female' },
};

/** The date in Vietnam (UTC+7 all year) at `now`, as YYYY-MM-DD. */
function vietnamDate(now: Date): string {
  return new Date(now.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
}

function invalid(message: string): AppError {
  return new AppError('ID_CARD_INVALID', message);
}

/**
 * A typed or scanned personal identification number: exactly 12 digits (spaces allowed between
 * groups), a known province code, a birth year not in the future. Throws ID_NUMBER_INVALID.
 */
export function parseIdNumber(input: string, now: Date = new Date()): string {
  const digits = input.replace(/\s+/g, '');
  if (!/^[0-9]{12}$/.test(digits)) {
    throw new AppError('ID_NUMBER_INVALID', 'a personal identification number has exactly 12 digits');
  }
  if (!PROVINCE_CODES.has(digits.slice(0, 3))) {
    throw new AppError('ID_NUMBER_INVALID', `${digits.slice(0, 3)} is not a province code: check the first three digits`);
  }
  const { century } = CENTURY[digits[3]];
  if (century + Number(digits.slice(4, 6)) > Number(vietnamDate(now).slice(0, 4))) {
    throw new AppError('ID_NUMBER_INVALID', 'the birth year in this number is in the future: check digits 4 to 6');
  }
  return digits;
}

/** `DDMMYYYY` → `YYYY-MM-DD` if it is a real date, else null. */
function cardDate(text: string): string | null {
  const m = /^([0-9]{2})([0-9]{2})([0-9]{4})$/.exec(text);
  if (!m) return null;
  const [, dd, mm, yyyy] = m;
  const d = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd)));
  if (d.getUTCFullYear() !== Number(yyyy) || d.getUTCMonth() !== Number(mm) - 1 || d.getUTCDate() !== Number(dd)) return null;
  return `${yyyy}-${mm}-${dd}`;
}

function parseSex(text: string): Sex | null {
  const s = text.normalize('NFC').trim().toLowerCase();
  if (s === 'nam' || s === 'male') return 'male';
  if (s === 'nữ' || s === 'nu' || s === 'female') return 'female';
  return null;
}

/** The longest QR text accepted (a real one is ~150 characters; the address is the long part). */
export const CARD_QR_MAX_LENGTH = 512;

/**
 * Parses the text of a CCCD's QR code; throws ID_CARD_INVALID naming what is wrong. The dates must
 * be real and not in the future, the birth before the issue, the number's century, sex and year
 * digits must agree with the date of birth and the sex.
 */
export function parseCardQr(text: string, now: Date = new Date()): CitizenCard {
  if (typeof text !== 'string' || text.length === 0) throw invalid('the card text is empty');
  if (text.length > CARD_QR_MAX_LENGTH) throw invalid(`the card text is longer than ${CARD_QR_MAX_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text.replace(/[\r\n]+$/, ''))) throw invalid('the card text holds control characters');
  const fields = text.replace(/[\r\n]+$/, '').split('|');
  // Seven fields, then whatever newer cards add (or a scanner's trailing separator): not read.
  if (fields.length < 7) throw invalid(`a citizen ID card's QR holds 7 fields separated by "|", this one holds ${fields.length}`);
  fields.length = 7;
  const [idText, oldText, nameText, birthText, sexText, addressText, issueText] = fields.map((f) => f.normalize('NFC').trim());

  let idNumber: string;
  try {
    idNumber = parseIdNumber(idText, now);
  } catch (e) {
    throw invalid(`the ID number field: ${(e as Error).message}`);
  }
  if (oldText !== '' && !/^(?:[0-9]{9}|[0-9]{12})$/.test(oldText)) throw invalid('the old ID number has 9 or 12 digits, or is empty');
  if (nameText.length < 2 || nameText.length > 100 || /[0-9]/.test(nameText)) throw invalid('the full name is missing or not a name');
  const dateOfBirth = cardDate(birthText);
  if (!dateOfBirth) throw invalid('the date of birth is not a real date (DDMMYYYY)');
  const dateOfIssue = cardDate(issueText);
  if (!dateOfIssue) throw invalid('the date of issue is not a real date (DDMMYYYY)');
  const today = vietnamDate(now);
  if (dateOfBirth > today || dateOfIssue > today) throw invalid('a date on the card is in the future');
  if (dateOfIssue < dateOfBirth) throw invalid('the card is issued before its holder was born');
  const sex = parseSex(sexText);
  if (!sex) throw invalid('the sex field reads neither "Nam" nor "Nữ"');
  const coded = CENTURY[idNumber[3]];
  const year = coded.century + Number(idNumber.slice(4, 6));
  if (String(year) !== dateOfBirth.slice(0, 4)) throw invalid('the ID number does not match the date of birth (digits 4 to 6)');
  if (coded.sex !== sex) throw invalid('the ID number does not match the sex (digit 4)');
  if (addressText.length === 0) throw invalid('the permanent address is missing');
  return {
    idNumber,
    oldIdNumber: oldText === '' ? null : oldText,
    fullName: nameText.replace(/\s+/g, ' '),
    dateOfBirth,
    sex,
    address: addressText,
    dateOfIssue,
  };
}

/** The minimum a deposit keeps of a card (Decree 13/2023: minimum data). */
export function minimalHolder(card: CitizenCard): CardHolder {
  return { idNumber: card.idNumber, fullName: card.fullName };
}

/** An ID number as staff screens show it: the last four digits only (`••••••••1234`). */
export function maskIdNumber(idNumber: string): string {
  return `${'•'.repeat(Math.max(0, idNumber.length - 4))}${idNumber.slice(-4)}`;
}

/** A sample card for the simulator and tests: a real shape, an invented person. */
export const SAMPLE_CARD_QR =
  '079301012345|025123456|Nguyễn Thị Minh Anh|15032001|Nữ|12 Đường Số 3, Phường Bình Phú, Quận 6, TP. Hồ Chí Minh|20062021';
