/**
 * Reading a provider's transfer list (the webhook's body and the polled list have the same shape):
 * `{ "transactions": [ { "id", "amount", "description", "bookedAt" } ] }`. The whole body is valid
 * or refused with PAYMENT_NOTIFICATION_INVALID naming the first bad field: never a partial list
 * (the webhook: the provider sees the refusal and fixes it). The polled list is read item by item.
 */
import { AppError } from '../domain/errors.js';
import type { IncomingTransfer } from '../services/ports.js';

export const MAX_TRANSFERS = 500;
export const MAX_TRANSFER_AMOUNT = 10_000_000_000;

function refuse(path: string, message: string): never {
  throw new AppError('PAYMENT_NOTIFICATION_INVALID', `${path} ${message}`, { path });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// RFC 3339 date-time with a zone (Z or ±hh:mm): a booking time without one is ambiguous.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** The instant of an ISO date-time, or null; Date.parse alone would take 30 February as 1 March. */
function parseDateTime(s: string): Date | null {
  const m = DATE_TIME.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
  if (m[8] !== 'Z' && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function parseTransfers(provider: string, json: unknown): IncomingTransfer[] {
  if (!isObject(json)) refuse('body', 'must be a JSON object');
  const list = json.transactions;
  if (!Array.isArray(list)) refuse('transactions', 'must be an array');
  if (list.length < 1 || list.length > MAX_TRANSFERS) refuse('transactions', `must hold 1 to ${MAX_TRANSFERS} items`);
  return list.map((item: unknown, i) => parseItem(provider, item, i));
}

/**
 * The polled list, item by item: one unreadable transaction (the account also receives transfers
 * that are nothing to do with the locker) must not keep the others out. No limit on the length.
 */
export function readTransferList(
  provider: string,
  json: unknown,
): { transfers: IncomingTransfer[]; rejected: { path: string; message: string }[] } {
  if (!isObject(json)) refuse('body', 'must be a JSON object');
  const list = json.transactions;
  if (!Array.isArray(list)) refuse('transactions', 'must be an array');
  const transfers: IncomingTransfer[] = [];
  const rejected: { path: string; message: string }[] = [];
  list.forEach((item: unknown, i) => {
    try {
      transfers.push(parseItem(provider, item, i));
    } catch (err) {
      rejected.push({ path: `transactions[${i}]`, message: (err as Error).message });
    }
  });
  return { transfers, rejected };
}

function parseItem(provider: string, item: unknown, i: number): IncomingTransfer {
  {
    const at = `transactions[${i}]`;
    if (!isObject(item)) refuse(at, 'must be an object');
    const { id, amount, description, bookedAt } = item;
    if (typeof id !== 'string' || id.length < 1 || id.length > 64) refuse(`${at}.id`, 'must be a string of 1 to 64 characters');
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_TRANSFER_AMOUNT) {
      refuse(`${at}.amount`, `must be a whole number of VND from 1 to ${MAX_TRANSFER_AMOUNT}`);
    }
    // A long text is cut (at 4,000 characters), not refused: the reference is looked for in all of it, 500 are stored.
    if (typeof description !== 'string') refuse(`${at}.description`, 'must be a string');
    const booked = typeof bookedAt === 'string' ? parseDateTime(bookedAt) : null;
    if (!booked) refuse(`${at}.bookedAt`, 'must be an ISO date-time with a time zone');
    return { provider, providerTxId: id, amount, description: description.slice(0, 4000), bookedAt: booked };
  }
}
