/**
 * Fees paid by bank transfer (issue 13): the transfer reference, how a transfer's text is matched
 * to it, and what becomes of a transfer. Pure rules; the flow is src/services/payments.ts.
 */
import { randomInt } from 'node:crypto';

/** How a procedure's fee is paid: before the tray opens (by VietQR at the kiosk), or later at the counter. */
export type PaymentMode = 'before' | 'later';

/** `failed`: paid, but the reserved tray could not be opened: the deposit ended, the transfer is due back. */
export type PaymentStatus = 'awaiting' | 'paid' | 'expired' | 'cancelled' | 'unpaid' | 'paid_at_counter' | 'failed';

/** Crockford's base32 without I, L, O, U: nothing a citizen or a bank's text could confuse. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PREFIX = 'ATM';
const BODY = 8;

/**
 * A transfer reference: `ATM` and 8 characters (40 bits), short enough to type if a banking app
 * does not take the QR's text, with no separator a bank could drop.
 */
export function newTransferReference(): string {
  let s = PREFIX;
  for (let i = 0; i < BODY; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

const REFERENCE = new RegExp(`${PREFIX}[${ALPHABET}]{${BODY}}`, 'g');

/**
 * The references in a transfer's text as a bank passed it on. Banks upper-case, drop or add spaces
 * and dots, and prefix their own codes ("MBVCB.1234.ATM7K3Q9P2X.CT tu …"): the text is upper-cased
 * and stripped of everything but letters and digits before looking, and the letters a citizen may
 * type for the look-alike digits (O, I, L) are read as 0, 1, 1 after the prefix.
 */
export function findReferences(description: string): string[] {
  const squeezed = description
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
  const found = new Set<string>();
  for (let i = squeezed.indexOf(PREFIX); i >= 0; i = squeezed.indexOf(PREFIX, i + 1)) {
    const body = squeezed
      .slice(i + PREFIX.length, i + PREFIX.length + BODY)
      .replace(/O/g, '0')
      .replace(/[IL]/g, '1');
    const candidate = PREFIX + body;
    if (candidate.length === PREFIX.length + BODY && new RegExp(`^${REFERENCE.source}$`).test(candidate)) found.add(candidate);
  }
  return [...found];
}

/** What a transfer that names a payment does to it (null: the transfer names none of ours). */
export type TransferVerdict = 'matched' | 'wrong_amount' | 'duplicate' | 'late';

/**
 * A transfer naming a payment: it pays it only if the payment still waits, the amount is exact and
 * it was booked before the window closed; anything else is recorded and its whole amount is due
 * back (a transfer is never split, never silently kept).
 */
export function judgeTransfer(
  payment: { status: PaymentStatus; amount: number; payBy: Date | null },
  transfer: { amount: number; bookedAt: Date },
): TransferVerdict {
  if (payment.status === 'paid' || payment.status === 'paid_at_counter') return 'duplicate';
  if (payment.status !== 'awaiting' && payment.status !== 'unpaid') return 'late';
  if (payment.payBy && transfer.bookedAt.getTime() > payment.payBy.getTime()) return 'late';
  if (transfer.amount !== payment.amount) return 'wrong_amount';
  return 'matched';
}
