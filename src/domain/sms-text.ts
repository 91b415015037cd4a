/**
 * What the locker texts citizens, and how long it is on the air. Pure: no I/O, no clock.
 *
 * Templates are written once, in Vietnamese with diacritics. By default they are sent without
 * diacritics (GSM-7, 160 characters a segment) so each fits one segment for realistic values; with
 * `accented: true` they go as UCS-2 (70 a segment, 67 when concatenated), usually two or three
 * segments. See docs/sms.md and ADR 0006.
 */
import { AppError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// GSM 03.38 default alphabet and its extension table.

/** The default alphabet, indexed by septet value (0x1B is the escape to the extension table). */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: character → septet sent after the 0x1B escape (each counts two septets). */
export const GSM7_EXTENSION: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

const GSM7_INDEX: ReadonlyMap<string, number> = new Map([...GSM7_BASIC].map((c, i) => [c, i] as const).filter(([c]) => c !== '\x1b'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export const SEGMENT_LIMITS = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
} as const;

/** Septet codes of a GSM-7 text (escape + code for extension characters), or null if not GSM-7. */
export function gsm7Septets(text: string): number[] | null {
  const out: number[] = [];
  for (const c of text) {
    const basic = GSM7_INDEX.get(c);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const ext = GSM7_EXTENSION.get(c);
    if (ext === undefined) return null;
    out.push(0x1b, ext);
  }
  return out;
}

export function isGsm7(text: string): boolean {
  for (const c of text) if (!GSM7_INDEX.has(c) && !GSM7_EXTENSION.has(c)) return false;
  return true;
}

/** True when every character is in the default alphabet proper (no extension characters). */
export function isGsm7Basic(text: string): boolean {
  for (const c of text) if (!GSM7_INDEX.has(c)) return false;
  return true;
}

/**
 * Splits a text into the parts it is sent as: one part if it fits a single segment, otherwise
 * parts of at most 153 septets (GSM-7, never splitting an escape pair) or 67 UTF-16 code units
 * (UCS-2, never splitting a surrogate pair).
 */
export function splitSegments(text: string): { encoding: SmsEncoding; length: number; parts: string[] } {
  const gsm = isGsm7(text);
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  const { single, part } = SEGMENT_LIMITS[encoding];
  // Units of each character: septets (GSM-7) or UTF-16 code units (UCS-2).
  const chars = [...text];
  const units = chars.map((c) => (gsm ? (GSM7_EXTENSION.has(c) ? 2 : 1) : c.length));
  const length = units.reduce((a, b) => a + b, 0);
  if (length <= single) return { encoding, length, parts: [text] };
  const parts: string[] = [];
  let current = '';
  let used = 0;
  chars.forEach((c, i) => {
    if (used + units[i] > part) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += c;
    used += units[i];
  });
  if (current) parts.push(current);
  return { encoding, length, parts };
}

/** Encoding, segment count and length (septets for GSM-7, UTF-16 code units for UCS-2). */
export function encodeInfo(text: string): { encoding: SmsEncoding; segments: number; length: number } {
  const { encoding, length, parts } = splitSegments(text);
  return { encoding, segments: parts.length, length };
}

// ---------------------------------------------------------------------------------------------
// Diacritics.

const PUNCTUATION: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\u00b7': '.',
};

/**
 * Vietnamese without diacritics, in the GSM-7 default alphabet: "Đăng ký khai sinh" → "Dang ky khai
 * sinh". Decomposes (NFD), drops combining marks, maps đ/Đ (which do not decompose) and typographic
 * punctuation; anything else outside the GSM 03.38 alphabet (default and extension tables) becomes "?".
 */
export function stripDiacritics(text: string): string {
  let out = '';
  for (const c of text.normalize('NFD').replace(/[\u0300-\u036f]/g, '')) {
    if (c === 'đ') out += 'd';
    else if (c === 'Đ') out += 'D';
    else if (PUNCTUATION[c] !== undefined) out += PUNCTUATION[c];
    else if (c !== '\f' && (GSM7_INDEX.has(c) || GSM7_EXTENSION.has(c))) out += c;
    else out += '?';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Templates.

export interface SmsTextOptions {
  /** Send with Vietnamese diacritics (UCS-2). Default false: unaccented GSM-7. */
  accented?: boolean;
  /** The registered sender brand name, which opens every text ("UBNDQ6: ..."). */
  brand: string;
  /** Time zone for dates and times; default Asia/Ho_Chi_Minh. */
  timezone?: string;
  /** The base of receipts' short links (payments.publicUrl); without it, texts carry no link. */
  receiptBase?: string;
}

export type SmsTime = Date | string | number;

export interface OtpParams {
  code: string;
  minutes: number;
}
export interface DepositReceiptParams {
  dossierCode: string;
  procedure: string;
  at: SmsTime;
  /** The receipt to link to (the fee receipt when a fee was paid, else the deposit receipt). */
  receiptId?: string;
}
export interface ResultReadyParams {
  dossierCode: string;
  tray: number;
  collectBy: SmsTime;
}
export interface ResultReminderParams {
  dossierCode: string;
  collectBy: SmsTime;
}
export interface ResultReturnedParams {
  dossierCode: string;
  where: string;
}
export interface PickupReceiptParams {
  dossierCode?: string;
  dossierCodes?: string[];
  at: SmsTime;
}
export interface DepositToCheckParams {
  dossierCode: string;
  tray: number;
  checkAt: SmsTime;
}
export interface DepositNotFoundParams {
  dossierCode: string;
  tray: number;
}

export interface SmsParams {
  otp: OtpParams;
  deposit_receipt: DepositReceiptParams;
  result_ready: ResultReadyParams;
  result_reminder: ResultReminderParams;
  result_returned_to_counter: ResultReturnedParams;
  pickup_receipt: PickupReceiptParams;
  deposit_to_check: DepositToCheckParams;
  deposit_not_found: DepositNotFoundParams;
}

export type SmsKind = keyof SmsParams;
export const SMS_KINDS = [
  'otp',
  'deposit_receipt',
  'result_ready',
  'result_reminder',
  'result_returned_to_counter',
  'pickup_receipt',
  'deposit_to_check',
  'deposit_not_found',
] as const satisfies readonly SmsKind[];

function finish(text: string, opts: SmsTextOptions): string {
  const full = `${opts.brand}: ${text}`.replace(/\s+/g, ' ').trim();
  return opts.accented ? full.normalize('NFC') : stripDiacritics(full);
}

function need<T>(kind: string, name: string, value: T | undefined | null): T {
  if (value === undefined || value === null || value === '') {
    throw new AppError('INTERNAL', `SMS template ${kind}: parameter ${name} is missing`);
  }
  return value;
}

function toDate(kind: string, name: string, value: SmsTime | undefined): Date {
  const d = need(kind, name, value) instanceof Date ? (value as Date) : new Date(value as string | number);
  if (Number.isNaN(d.getTime())) throw new AppError('INTERNAL', `SMS template ${kind}: parameter ${name} is not a time`);
  return d;
}

function parts(date: Date, timezone: string): Record<string, string> {
  const out: Record<string, string> = {};
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** "dd/MM HH:mm" in the locker's time zone. */
export function formatSmsTime(date: Date, timezone = 'Asia/Ho_Chi_Minh'): string {
  const p = parts(date, timezone);
  return `${p.day}/${p.month} ${p.hour}:${p.minute}`;
}

/** "lúc HH:mm ngày dd/MM", as a time reads in a Vietnamese sentence. */
function atPhrase(date: Date, timezone: string): string {
  const p = parts(date, timezone);
  return `lúc ${p.hour}:${p.minute} ngày ${p.day}/${p.month}`;
}

/** "dd/MM" in the locker's time zone. */
export function formatSmsDate(date: Date, timezone = 'Asia/Ho_Chi_Minh'): string {
  const p = parts(date, timezone);
  return `${p.day}/${p.month}`;
}

const tz = (o: SmsTextOptions) => o.timezone ?? 'Asia/Ho_Chi_Minh';

/** A one-time code. No "reply" instruction: the sender is a brand name and cannot receive. */
export function otpText(p: OtpParams, o: SmsTextOptions): string {
  const code = need('otp', 'code', p.code);
  const minutes = need('otp', 'minutes', p.minutes);
  return finish(`Mã xác thực ATM 24/7 là ${code}, hiệu lực ${minutes} phút. Không đưa mã này cho bất kỳ ai.`, o);
}

export function depositReceiptText(p: DepositReceiptParams, o: SmsTextOptions): string {
  const code = need('deposit_receipt', 'dossierCode', p.dossierCode);
  const procedure = need('deposit_receipt', 'procedure', p.procedure);
  const at = atPhrase(toDate('deposit_receipt', 'at', p.at), tz(o));
  // The receipt's short link, where one is configured: the only link a text carries.
  const link = p.receiptId && o.receiptBase ? ` Biên lai: ${o.receiptBase.replace(/\/$/, '')}/r/${p.receiptId}` : '';
  return finish(`ATM 24/7 đã nhận hồ sơ ${code} (${procedure}) ${at}. Tra cứu bằng mã hồ sơ này.${link}`, o);
}

export function resultReadyText(p: ResultReadyParams, o: SmsTextOptions): string {
  const code = need('result_ready', 'dossierCode', p.dossierCode);
  const tray = need('result_ready', 'tray', p.tray);
  const by = formatSmsDate(toDate('result_ready', 'collectBy', p.collectBy), tz(o));
  // "khay" as the kiosk says; "Hạn nhận: hết ngày" because "nhận trước hết ngày" reads as "first of all".
  return finish(
    `Đã có kết quả hồ sơ ${code} tại ATM 24/7, khay số ${tray}. Hạn nhận: hết ngày ${by}. Nhận bằng số điện thoại này và mã xác thực.`,
    o,
  );
}

export function resultReminderText(p: ResultReminderParams, o: SmsTextOptions): string {
  const code = need('result_reminder', 'dossierCode', p.dossierCode);
  const by = formatSmsDate(toDate('result_reminder', 'collectBy', p.collectBy), tz(o));
  return finish(`Nhắc: kết quả hồ sơ ${code} đang chờ tại ATM 24/7. Hạn nhận: hết ngày ${by}. Quá hạn sẽ chuyển về Bộ phận Một cửa.`, o);
}

export function resultReturnedText(p: ResultReturnedParams, o: SmsTextOptions): string {
  const code = need('result_returned_to_counter', 'dossierCode', p.dossierCode);
  const where = need('result_returned_to_counter', 'where', p.where);
  return finish(`Kết quả hồ sơ ${code} đã chuyển về ${where}. Mời nhận trong giờ hành chính, mang theo CCCD.`, o);
}

export function pickupReceiptText(p: PickupReceiptParams, o: SmsTextOptions): string {
  const codes = p.dossierCodes?.length ? p.dossierCodes : [need('pickup_receipt', 'dossierCode', p.dossierCode)];
  const at = atPhrase(toDate('pickup_receipt', 'at', p.at), tz(o));
  return finish(`Ông/Bà đã nhận kết quả hồ sơ ${codes.join(', ')} tại ATM 24/7 ${at}. Xin cảm ơn.`, o);
}

/**
 * The door of a deposit's tray was not watched throughout (ADR 0012): no receipt, since the
 * dossier may not be there; an officer looks at the next round and the citizen hears the answer.
 */
export function depositToCheckText(p: DepositToCheckParams, o: SmsTextOptions): string {
  const code = need('deposit_to_check', 'dossierCode', p.dossierCode);
  const tray = need('deposit_to_check', 'tray', p.tray);
  const at = atPhrase(toDate('deposit_to_check', 'checkAt', p.checkAt), tz(o));
  return finish(`ATM 24/7 chưa xác nhận được hồ sơ ${code} ở khay ${tray}. Cán bộ sẽ kiểm tra khay ${at} và nhắn tin cho Ông/Bà.`, o);
}

/** The officer found the tray of a deposit to check empty: the deposit is cancelled. */
export function depositNotFoundText(p: DepositNotFoundParams, o: SmsTextOptions): string {
  const code = need('deposit_not_found', 'dossierCode', p.dossierCode);
  const tray = need('deposit_not_found', 'tray', p.tray);
  return finish(
    `Cán bộ không thấy hồ sơ ${code} trong khay ${tray}: giao dịch đã hủy. Mời Ông/Bà nộp lại tại ATM 24/7 hoặc Bộ phận Một cửa.`,
    o,
  );
}

const TEMPLATES: { [K in SmsKind]: (p: SmsParams[K], o: SmsTextOptions) => string } = {
  otp: otpText,
  deposit_receipt: depositReceiptText,
  result_ready: resultReadyText,
  result_reminder: resultReminderText,
  result_returned_to_counter: resultReturnedText,
  pickup_receipt: pickupReceiptText,
  deposit_to_check: depositToCheckText,
  deposit_not_found: depositNotFoundText,
};

export function isSmsKind(kind: string): kind is SmsKind {
  return Object.hasOwn(TEMPLATES, kind);
}

/** A renderer bound to the locker's options, as the SMS service takes it. */
export function smsRenderer(opts: SmsTextOptions): (kind: string, params: Record<string, unknown>) => string {
  return (kind, params) => renderSms(kind as SmsKind, params as never, opts);
}

/** Renders the text of one kind; throws for an unknown kind or a missing parameter. */
export function renderSms<K extends SmsKind>(kind: K, params: SmsParams[K], opts: SmsTextOptions): string {
  if (!isSmsKind(kind)) throw new AppError('INTERNAL', `no SMS template for kind ${String(kind)}`);
  return (TEMPLATES[kind] as (p: SmsParams[K], o: SmsTextOptions) => string)(params, opts);
}
