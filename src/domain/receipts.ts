/**
 * Receipts (issue 13): the electronic receipt (biên lai điện tử) issued for every paid fee, and the
 * deposit receipt (phiếu tiếp nhận) issued for every deposit. A receipt is a small JSON body signed
 * by the locker with an Ed25519 key; anyone holding the public key can check that the body is the
 * one the machine issued, field for field.
 *
 * What is signed is the UTF-8 of the body's canonical JSON (keys sorted at every level, no
 * whitespace), so the same body always gives the same bytes, whatever order its keys were built or
 * stored in.
 */
import { type KeyObject, randomBytes, sign, verify } from 'node:crypto';

/** The collecting body (đơn vị thu) named on every receipt. */
export interface ReceiptIssuer {
  name: string;
  taxCode: string;
  address: string;
}

export interface FeeReceiptBody {
  v: 1;
  kind: 'fee';
  /** the receipt's public id (its link is /r/<id>) */
  id: string;
  issuer: ReceiptIssuer;
  /** mẫu số, e.g. '01BLP0-001' */
  template: string;
  /** ký hiệu, e.g. 'BL-26E' */
  series: string;
  year: number;
  /** unique and consecutive within series and year (1, 2, 3 …) */
  number: number;
  procedureCode: string;
  /** in Vietnamese */
  procedureName: string;
  /** e.g. 'Lệ phí cấp bản sao trích lục hộ tịch' */
  feeName: string;
  /** VND, a positive integer */
  amount: number;
  /** amountInWords(amount) */
  amountWords: string;
  /** ISO 8601 */
  issuedAt: string;
  /** as shown to the citizen */
  dossierCode: string;
  /** the masked phone only (maskPhone) */
  payer: string;
  paymentReference: string;
}

export interface DepositReceiptBody {
  v: 1;
  kind: 'deposit';
  id: string;
  issuer: ReceiptIssuer;
  dossierCode: string;
  procedureCode: string;
  procedureName: string;
  tray: number;
  /** ISO 8601 */
  depositedAt: string;
  /** none: the procedure is free; unpaid: paid at the counter; paid: with the fee receipt's id */
  fee: { amount: number; state: 'none' | 'paid' | 'unpaid'; receiptId: string | null };
}

export type ReceiptBody = FeeReceiptBody | DepositReceiptBody;

/** What the public verification page may show: the receipt without the payer. */
export type PublicReceiptView = Omit<FeeReceiptBody, 'payer'> | DepositReceiptBody;

// ---------------------------------------------------------------------------------------------
// Canonical JSON and the signature

/**
 * Deterministic JSON: object keys sorted (by UTF-16 code units) at every level, no whitespace.
 * Keys whose value is undefined are left out, as JSON.stringify does. Values JSON cannot carry
 * (functions, bigints, NaN, Infinity, undefined on its own) are refused with a TypeError.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} is not JSON`);
}

function signedBytes(body: unknown): Buffer {
  return Buffer.from(canonicalJson(body), 'utf8');
}

/** The locker's Ed25519 signature of the body, base64url (86 characters). */
export function signReceipt(body: ReceiptBody, privateKey: KeyObject): string {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('signReceipt: the key must be an Ed25519 private key');
  }
  return sign(null, signedBytes(body), privateKey).toString('base64url');
}

/**
 * Whether `signature` is the locker's signature of exactly this body. Any changed, added or removed
 * field, at any depth, makes it false; so does a signature that is not one (wrong length, not
 * base64url, or not written the one way base64url writes its bytes). Never throws.
 */
export function verifyReceipt(body: unknown, signature: string, publicKey: KeyObject): boolean {
  try {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
    if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
    const bytes = Buffer.from(signature, 'base64url');
    // Two strings may decode to the same 64 bytes (the last character's spare bits): only the
    // one base64url writes is the signature.
    if (bytes.length !== 64 || bytes.toString('base64url') !== signature) return false;
    if (publicKey.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, signedBytes(body), publicKey, bytes);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The amount in words

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];

/**
 * A group of three digits (0–999, not 0). `full`: the group follows a higher one (a thousand, a
 * million …) and is read with all three places, "không trăm" included, as on invoices and in the
 * school rule: 1 005 000 is "một triệu không trăm lẻ năm nghìn".
 */
function groupWords(n: number, full: boolean): string {
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor(n / 10) % 10;
  const ones = n % 10;
  const words: string[] = [];
  if (hundreds > 0 || full) words.push(DIGITS[hundreds], 'trăm');
  if (tens === 0) {
    // "lẻ" stands for the empty tens place between the hundreds and the ones (105: một trăm lẻ năm).
    if (ones > 0) words.push(...(words.length ? ['lẻ'] : []), DIGITS[ones]);
  } else if (tens === 1) {
    // 10–19: mười, mười một … mười lăm (never "mười năm").
    words.push('mười', ...(ones === 0 ? [] : [ones === 5 ? 'lăm' : DIGITS[ones]]));
  } else {
    // 20–99: hai mươi mốt, hai mươi lăm, hai mươi bốn.
    words.push(DIGITS[tens], 'mươi', ...(ones === 0 ? [] : [ones === 1 ? 'mốt' : ones === 5 ? 'lăm' : DIGITS[ones]]));
  }
  return words.join(' ');
}

/** 0 < n < 10⁹: millions, thousands and units, empty groups left out. */
function belowBillionWords(n: number, full: boolean): string {
  const groups: [number, string][] = [
    [Math.floor(n / 1_000_000), 'triệu'],
    [Math.floor(n / 1000) % 1000, 'nghìn'],
    [n % 1000, ''],
  ];
  const words: string[] = [];
  for (const [group, scale] of groups) {
    if (group === 0) continue;
    words.push(groupWords(group, full || words.length > 0), ...(scale ? [scale] : []));
  }
  return words.join(' ');
}

/** n > 0; above a billion the scale repeats: một nghìn tỷ, một triệu tỷ, một tỷ tỷ. */
function numberWords(n: number, full = false): string {
  if (n < 1_000_000_000) return belowBillionWords(n, full);
  const billions = Math.floor(n / 1_000_000_000);
  const rest = n % 1_000_000_000;
  return `${numberWords(billions, full)} tỷ${rest ? ` ${belowBillionWords(rest, true)}` : ''}`;
}

/**
 * An amount of đồng in Vietnamese words, as written on a receipt: 8000 → "Tám nghìn đồng",
 * 1 250 000 → "Một triệu hai trăm năm mươi nghìn đồng", 0 → "Không đồng". The southern "lẻ" for an
 * empty tens place (105: một trăm lẻ năm), "mốt" and "lăm" for a final 1 and 5 (21, 25, 15).
 * A RangeError for anything but a whole number of đồng, 0 or more.
 */
export function amountInWords(amount: number): string {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`amountInWords: ${amount} is not a whole, non-negative number of đồng`);
  }
  const words = amount === 0 ? DIGITS[0] : numberWords(amount);
  return `${words[0].toUpperCase()}${words.slice(1)} đồng`;
}

// ---------------------------------------------------------------------------------------------
// Numbers, ids and the public view

/**
 * The payer as printed on a receipt: the national form with the first three and last three digits
 * kept, `+84912345678` → `091****678`. A fixed run of four stars, whatever the length (a
 * Vietnamese mobile has ten digits, so it reads as the usual mask). A RangeError if it is not an
 * E.164 number.
 */
export function maskPhone(e164: string): string {
  if (!/^\+[1-9]\d{7,14}$/.test(e164)) throw new RangeError('maskPhone: not an E.164 number');
  const national = e164.startsWith('+84') ? `0${e164.slice(3)}` : e164;
  return `${national.slice(0, 3)}****${national.slice(-3)}`;
}

/** A receipt's number as printed: seven digits, `0000001`. A RangeError outside 1–9 999 999. */
export function formatReceiptNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 9_999_999) throw new RangeError(`formatReceiptNumber: ${n} is not a receipt number`);
  return String(n).padStart(7, '0');
}

/** Crockford's base32: digits and letters without I, L, O and U. */
export const RECEIPT_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RECEIPT_ID_LENGTH = 16;

/** A receipt's public id: 16 characters of Crockford base32, the 80 bits of 10 random bytes. */
export function newReceiptId(): string {
  const bytes = randomBytes((RECEIPT_ID_LENGTH * 5) / 8);
  let id = '';
  let bits = 0;
  let buffer = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      id += RECEIPT_ID_ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return id;
}

/** The receipt as the public verification page may show it: without the payer (personal data). */
export function publicView(body: ReceiptBody): PublicReceiptView {
  if (body.kind === 'fee') {
    const { payer: _payer, ...view } = body;
    return view;
  }
  return { ...body };
}
