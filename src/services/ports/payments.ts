/**
 * Ports: payments (issue 13). A transfer the collecting account received, as the provider reports
 * it (webhook or polled list), and the sink the use cases offer the adapters; the adapters
 * (bank-transfer webhook, polling fallback, the simulated bank) are in src/payments.
 */
import type { PaymentMode, PaymentStatus } from '../../domain/payments.js';
import type { ReceiptBody } from '../../domain/receipts.js';
import type { Queryable } from './persistence.js';

/** One incoming bank transfer to the district's collecting account, as its provider reported it. */
export interface IncomingTransfer {
  /** Which provider reported it ('simbank', a bank's or intermediary's name): ids are unique per provider. */
  provider: string;
  /** The provider's own id of the transfer: the same transfer reported twice has the same id. */
  providerTxId: string;
  /** VND, a positive integer. */
  amount: number;
  /** The transfer's free text as the bank passed it on (the reference is somewhere in it). */
  description: string;
  /** When the provider booked it. */
  bookedAt: Date;
}

/**
 * What became of a reported transfer:
 * - `matched`: it paid a waiting deposit (right reference, exact amount, in time);
 * - `wrong_amount`: its reference is a deposit's, its amount is not: recorded, refund due;
 * - `duplicate`: the deposit was already paid by another transfer: refund due;
 * - `late`: the deposit's payment window had closed (expired or cancelled): refund due;
 * - `unmatched`: no reference of ours in its text: recorded for the reconciliation, refund due;
 * - `already_recorded`: this provider's id was recorded before (a replayed notification): nothing changes;
 * - `other_locker`: its reference is another locker's (lockers sharing a database): left to that one.
 */
export type TransferOutcome = 'matched' | 'wrong_amount' | 'duplicate' | 'late' | 'unmatched' | 'already_recorded' | 'other_locker';

/** Where the adapters hand each transfer; idempotent by (provider, providerTxId). */
export interface TransferSink {
  record(t: IncomingTransfer): Promise<{ outcome: TransferOutcome; transferId: string }>;
}

/** A source of transfers that runs by itself (the polling fallback); start() hands them to the sink. */
export interface TransferSource {
  readonly name: string;
  start(sink: TransferSink): void;
  stop(): Promise<void>;
  status(): { ok: boolean; detail?: string; lastPollAt?: string };
}

/** A fee's payment as stored (migrations/015_payments.sql). */
export interface PaymentRow {
  id: string;
  dossierId: string;
  procedureCode: string;
  amount: number;
  reference: string;
  mode: PaymentMode;
  status: PaymentStatus;
  /** The tray reserved for a payment made before the tray opens. */
  tray: number | null;
  createdAt: Date;
  payBy: Date | null;
  paidAt: Date | null;
  closedAt: Date | null;
  transferId: string | null;
  /** Times the citizen asked for more time at the QR (each moves payBy on by PAYMENT_EXTENSION). */
  extensions?: number;
}

/** A reported transfer as recorded. */
export interface TransferRow {
  id: string;
  provider: string;
  providerTxId: string;
  amount: number;
  description: string;
  bookedAt: Date;
  receivedAt: Date;
  reference: string | null;
  paymentId: string | null;
  outcome: Exclude<TransferOutcome, 'already_recorded' | 'other_locker'>;
  refundDue: number;
  refundedAt: Date | null;
  /** Who recorded the refund as sent, and the bank's reference of it (set with refundedAt). */
  refundedBy?: string | null;
  refundReference?: string | null;
}

/** A signed receipt as stored. */
export interface ReceiptRow {
  id: string;
  kind: 'fee' | 'deposit';
  dossierId: string;
  paymentId: string | null;
  series: string | null;
  year: number | null;
  number: number | null;
  body: ReceiptBody;
  signature: string;
  issuedAt: Date;
  voidedAt: Date | null;
}

export interface PaymentStore {
  insert(q: Queryable, p: Omit<PaymentRow, 'paidAt' | 'closedAt' | 'transferId'>): Promise<void>;
  get(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<PaymentRow | null>;
  byDossier(q: Queryable, dossierId: string, opts?: { forUpdate?: boolean }): Promise<PaymentRow | null>;
  /** The first of `references` that is a payment of this locker (not locked: lock its dossier, then `get` it for update). */
  findByReference(q: Queryable, references: string[]): Promise<PaymentRow | null>;
  /** Whether one of `references` is another locker's payment (lockers sharing a database and an account). */
  referenceElsewhere(q: Queryable, references: string[]): Promise<boolean>;
  /** The fee receipts of a payment whose money goes back: voided. */
  voidReceipts(q: Queryable, paymentId: string, at: Date): Promise<void>;
  /** The numbers issued in a series and year between two numbers, by every locker of the database. */
  numbersIssued(q: Queryable, series: string, year: number, from: number, to: number): Promise<number[]>;
  /** Whether another locker of the database recorded this transfer (an account they share). */
  transferElsewhere(q: Queryable, provider: string, providerTxId: string): Promise<boolean>;
  update(
    q: Queryable,
    id: string,
    fields: Partial<Pick<PaymentRow, 'status' | 'paidAt' | 'closedAt' | 'transferId' | 'amount' | 'payBy' | 'extensions'>>,
  ): Promise<void>;
  /** Payments waiting for their transfer, oldest first. */
  awaiting(q: Queryable): Promise<PaymentRow[]>;
  /** Payments waiting past their time at `now`. */
  overdue(q: Queryable, now: Date): Promise<PaymentRow[]>;
  /** The transfer, unless this provider's id was recorded before (then null). */
  insertTransfer(q: Queryable, t: TransferRow): Promise<boolean>;
  transferByProviderId(q: Queryable, provider: string, providerTxId: string): Promise<TransferRow | null>;
  /** Marks a matched transfer as due back in full (its deposit could not be made after all). */
  refundTransfer(q: Queryable, transferId: string): Promise<void>;
  /** One transfer of this locker by id. */
  transfer(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<TransferRow | null>;
  /** Records the money due back as sent (an admin's word, with the bank's reference). */
  recordRefund(q: Queryable, id: string, refund: { at: Date; by: string; reference: string }): Promise<void>;
  /** Transfers with money due back and no refund recorded, whatever their day, oldest first. */
  refundsOutstanding(q: Queryable): Promise<TransferRow[]>;
  /** The next receipt number of the series and year (1 for the first), in the caller's transaction. */
  nextReceiptNumber(q: Queryable, series: string, year: number): Promise<number>;
  insertReceipt(q: Queryable, r: ReceiptRow): Promise<void>;
  receipt(q: Queryable, id: string): Promise<ReceiptRow | null>;
  receiptsOfDossier(q: Queryable, dossierId: string): Promise<ReceiptRow[]>;
  /** Payments, transfers and receipts of one local day (YYYY-MM-DD in `timezone`), for the reconciliation. */
  day(q: Queryable, date: string, timezone: string): Promise<{ payments: PaymentRow[]; transfers: TransferRow[]; receipts: ReceiptRow[] }>;
}
