/**
 * Fees paid by bank transfer, and receipts (issue 13, docs/payments.md, ADR 0027).
 *
 * A fee-charging deposit whose procedure says `before` reserves its tray at the code check and
 * asks for the fee (`request`): the kiosk shows a VietQR code with the amount and a transfer
 * reference. Every transfer a provider reports (webhook, polling fallback, the simulated bank)
 * comes to `record`, once per provider id: one naming a waiting payment with the exact amount, in
 * time, pays it, issues the fee receipt (numbered without gaps per series and year, signed) and
 * has the deposit's tray opened (`onPaid`, the deposit flow); any other is recorded and flagged
 * with its whole amount due back. A payment not made by `payBy` (or given up at the kiosk) ends
 * with nothing charged and the tray free again (`sweep`, `cancel`).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { localDate } from '../domain/calendar.js';
import type { Clock } from '../domain/clock.js';
import { displayCode } from '../domain/dossier-code.js';
import type { Dossier } from '../domain/dossier.js';
import { AppError } from '../domain/errors.js';
import { findReferences, judgeTransfer, newTransferReference, type PaymentMode } from '../domain/payments.js';
import {
  amountInWords,
  maskPhone,
  newReceiptId,
  type DepositReceiptBody,
  type FeeReceiptBody,
  type ReceiptBody,
  type ReceiptIssuer,
} from '../domain/receipts.js';
import type {
  AuditStore,
  Database,
  DossierStore,
  EventOutbox,
  IncomingTransfer,
  PaymentRow,
  PaymentStore,
  ProcedureCatalogue,
  Queryable,
  ReceiptRow,
  TransferRow,
  TransferOutcome,
  TransferSink,
  TrayStore,
} from './ports.js';
import type { AfterCommit, TrayService } from './trays.js';

export interface ReceiptSettings {
  issuer: ReceiptIssuer;
  template: string;
  series: string;
}

export interface PaymentServiceDeps {
  db: Database;
  payments: PaymentStore;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  outbox: EventOutbox;
  audit: AuditStore;
  procedures: ProcedureCatalogue;
  clock: Clock;
  logger: Logger;
  /** How long a QR waits for its transfer (payments.payWithinSec). */
  payWithinMs: number;
  receipts: ReceiptSettings;
  /** Signs a receipt's body with the locker's Ed25519 key (base64url). */
  sign: (body: ReceiptBody) => string;
  /** Reads a dossier's stored phone (for the payer's mask on a fee receipt); null when it cannot. */
  phoneOf: (phoneEnc: string | null) => string | null;
  /** The locker's time zone: a receipt's year is the local one. */
  timezone: string;
  /** False without a payment provider: fees `before` are taken at the counter instead. */
  payBefore?: boolean;
}

/** What the deposit flow does once a waiting payment is paid, in the payment's transaction. */
export type OnPaid = (q: Queryable, d: Dossier, payment: PaymentRow, at: Date) => Promise<AfterCommit>;

const SYSTEM = 'system';
const CITIZEN_ACTOR = 'citizen';
/** Refusals of a tray's release that will not pass by themselves. */
const UNOPENABLE = new Set<string>(['BOARD_OFFLINE', 'TRAY_NOT_FOUND', 'TRAY_UNAVAILABLE']);
/** After `payBy`, the sweep waits this long before ending a payment: the bank's report of a transfer made in time may lag. */
export const PAYMENT_GRACE_MS = 60_000;
/**
 * More time at the QR ("Cần thêm thời gian?"): each ask moves the time to pay on by this much, up to
 * PAYMENT_EXTENSIONS times (WCAG 2.2.1 asks for at least ten; the tray stays reserved meanwhile).
 */
export const PAYMENT_EXTENSION_MS = 120_000;
export const PAYMENT_EXTENSIONS = 10;

export class PaymentService implements TransferSink {
  /** Set by the composition root: the deposit flow opening a paid deposit's tray. */
  onPaid: OnPaid | null = null;

  constructor(private readonly deps: PaymentServiceDeps) {}

  /** The procedure's fee and how it is paid; null when it charges none. */
  feeOf(procedureCode: string): { amount: number; mode: PaymentMode } | null {
    const p = this.deps.procedures.find(procedureCode);
    if (!p || !p.fee) return null;
    const mode = p.payment === 'before' && this.deps.payBefore !== false ? 'before' : 'later';
    return { amount: p.fee, mode };
  }

  /** In the code check's transaction: asks for the fee of a new deposit (awaiting, or unpaid for the counter). */
  async request(
    q: Queryable,
    a: { dossierId: string; dossierCode: string; procedureCode: string; tray: number | null; at: Date },
  ): Promise<PaymentRow> {
    const fee = this.feeOf(a.procedureCode);
    if (!fee) throw new AppError('INTERNAL', `procedure ${a.procedureCode} charges no fee`);
    const row: PaymentRow = {
      id: randomUUID(),
      dossierId: a.dossierId,
      procedureCode: a.procedureCode,
      amount: fee.amount,
      reference: newTransferReference(),
      mode: fee.mode,
      status: fee.mode === 'before' ? 'awaiting' : 'unpaid',
      tray: fee.mode === 'before' ? a.tray : null,
      createdAt: a.at,
      payBy: fee.mode === 'before' ? new Date(a.at.getTime() + this.deps.payWithinMs) : null,
      paidAt: null,
      closedAt: null,
      transferId: null,
    };
    await this.deps.payments.insert(q, row);
    await this.deps.audit.record(q, {
      actor: 'citizen',
      action: 'payment.requested',
      subject: `payment:${row.id}`,
      details: { dossierId: a.dossierId, amount: row.amount, mode: row.mode, reference: row.reference },
      at: a.at,
    });
    await this.deps.outbox.enqueue(
      q,
      'payment.requested',
      {
        paymentId: row.id,
        depositId: a.dossierId,
        dossierCode: a.dossierCode,
        procedureCode: a.procedureCode,
        amount: row.amount,
        mode: row.mode,
        payBy: row.payBy?.toISOString() ?? null,
      },
      a.at,
    );
    return row;
  }

  /** The payments waiting for their transfer (the simulator panel pays them). */
  awaiting(): Promise<PaymentRow[]> {
    return this.deps.payments.awaiting(this.deps.db);
  }

  get(id: string): Promise<PaymentRow | null> {
    return this.deps.payments.get(this.deps.db, id);
  }

  byDossier(dossierId: string): Promise<PaymentRow | null> {
    return this.deps.payments.byDossier(this.deps.db, dossierId);
  }

  /**
   * One reported transfer (the adapters' sink). Idempotent by (provider, providerTxId): a replayed
   * notification changes nothing and says `already_recorded`.
   */
  async record(t: IncomingTransfer): Promise<{ outcome: TransferOutcome; transferId: string }> {
    const { db, payments, outbox, audit, clock } = this.deps;
    if (!Number.isSafeInteger(t.amount) || t.amount <= 0) {
      throw new AppError('PAYMENT_NOTIFICATION_INVALID', 'a transfer amount is a positive whole number of VND');
    }
    const done = await db.tx(async (q) => {
      const known = await payments.transferByProviderId(q, t.provider, t.providerTxId);
      if (known) return { outcome: 'already_recorded' as TransferOutcome, transferId: known.id, after: null as AfterCommit | null };
      const now = clock.now();
      const references = findReferences(t.description);
      // Locked as the deposit flows lock: the dossier first, then its payment.
      const found = await payments.findByReference(q, references);
      // Lockers sharing a database and an account each hear of every transfer: one naming another
      // locker's payment is that locker's to record (it hears of it too), and one naming none is
      // recorded once, by the first to hear of it (its refund is due once).
      if (!found && (await payments.referenceElsewhere(q, references))) {
        return { outcome: 'other_locker' as TransferOutcome, transferId: '', after: null };
      }
      if (!found && (await payments.transferElsewhere(q, t.provider, t.providerTxId))) {
        return { outcome: 'already_recorded' as TransferOutcome, transferId: '', after: null };
      }
      if (found) await this.deps.dossiers.get(q, found.dossierId, { forUpdate: true });
      const payment = found ? await payments.get(q, found.id, { forUpdate: true }) : null;
      const outcome: Exclude<TransferOutcome, 'already_recorded' | 'other_locker'> = payment ? judgeTransfer(payment, t) : 'unmatched';
      const id = randomUUID();
      const inserted = await payments.insertTransfer(q, {
        id,
        provider: t.provider,
        providerTxId: t.providerTxId,
        amount: t.amount,
        // PostgreSQL text holds no NUL; other control characters are kept out of the books too.
        // eslint-disable-next-line no-control-regex
        description: t.description.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 500),
        bookedAt: t.bookedAt,
        receivedAt: now,
        reference: payment?.reference ?? references[0] ?? null,
        paymentId: payment?.id ?? null,
        outcome,
        refundDue: outcome === 'matched' ? 0 : t.amount,
        refundedAt: null,
      });
      // The same transfer reported at the same moment by the webhook and the poller: the other one recorded it.
      if (!inserted) {
        const other = await payments.transferByProviderId(q, t.provider, t.providerTxId);
        return { outcome: 'already_recorded' as TransferOutcome, transferId: other?.id ?? id, after: null };
      }
      const details = {
        transferId: id,
        provider: t.provider,
        providerTxId: t.providerTxId,
        amount: t.amount,
        outcome,
        paymentId: payment?.id ?? null,
      };
      await audit.record(q, {
        actor: SYSTEM,
        action: 'payment.transfer',
        subject: payment ? `payment:${payment.id}` : null,
        details,
        at: now,
      });
      if (outcome !== 'matched' || !payment) {
        await outbox.enqueue(
          q,
          'payment.transfer_flagged',
          {
            transferId: id,
            paymentId: payment?.id ?? null,
            outcome: outcome === 'matched' ? 'unmatched' : outcome,
            amount: t.amount,
            refundDue: t.amount,
          },
          now,
        );
        return { outcome: outcome as TransferOutcome, transferId: id, after: null };
      }
      const after = await this.paid(q, payment, id, 'transfer', now);
      return { outcome: outcome as TransferOutcome, transferId: id, after };
    });
    this.deps.outbox.committed();
    if (done.outcome !== 'already_recorded')
      this.deps.logger.info({ outcome: done.outcome, transferId: done.transferId }, 'transfer recorded');
    if (done.after) await done.after();
    return { outcome: done.outcome, transferId: done.transferId };
  }

  /** A payment is paid: its status, the fee receipt, the event, and (mode before) the deposit's tray opened. */
  private async paid(
    q: Queryable,
    payment: PaymentRow,
    transferId: string | null,
    via: 'transfer' | 'counter',
    at: Date,
  ): Promise<AfterCommit | null> {
    const { payments, dossiers, outbox } = this.deps;
    const d = await dossiers.get(q, payment.dossierId, { forUpdate: true });
    if (!d) throw new AppError('INTERNAL', `payment ${payment.id} names no dossier`);
    // The tray first (mode before): if it cannot be released now (its board down, the tray taken
    // out of service meanwhile), the money is still recorded, and due back; nothing is charged.
    let after: AfterCommit | null = null;
    if (payment.status === 'awaiting' && this.onPaid) {
      await q.query('SAVEPOINT open_paid_tray');
      try {
        after = await this.onPaid(q, d, payment, at);
        await q.query('RELEASE SAVEPOINT open_paid_tray');
      } catch (err) {
        // Only a definite refusal ends the deposit; anything passing (a door change still being
        // written, the database) fails the whole record, and the provider or the poller retries.
        if (!(err instanceof AppError && UNOPENABLE.has(err.code))) throw err;
        await q.query('ROLLBACK TO SAVEPOINT open_paid_tray');
        this.deps.logger.warn(
          { err, paymentId: payment.id, tray: payment.tray },
          'a paid deposit tray cannot be opened; the transfer is due back',
        );
        return this.unopenable(q, d, payment, transferId, at);
      }
    }
    await payments.update(q, payment.id, { status: via === 'transfer' ? 'paid' : 'paid_at_counter', paidAt: at, transferId });
    const receipt = await this.issueFeeReceipt(q, d, payment, at);
    await this.deps.audit.record(q, {
      actor: SYSTEM,
      action: 'payment.received',
      subject: `payment:${payment.id}`,
      details: { via, transferId, amount: payment.amount, receiptId: receipt.id },
      at,
    });
    await outbox.enqueue(
      q,
      'payment.received',
      { paymentId: payment.id, depositId: d.id, dossierCode: d.code, amount: payment.amount, via, receiptId: receipt.id },
      at,
    );
    return after;
  }

  /** Paid, but the tray will not open: the deposit ends, the tray is free, the transfer due back in full. */
  private async unopenable(q: Queryable, d: Dossier, p: PaymentRow, transferId: string | null, at: Date): Promise<AfterCommit | null> {
    await this.giveBack(q, p, transferId, at, { reason: 'tray_unavailable' });
    await this.releaseWaiting(q, d, p, 'lock_failed', at);
    const tray = p.tray;
    return tray === null ? null : () => this.deps.trays.publish([tray]);
  }

  /** A paid fee goes back: `failed`, its fee receipt voided, the transfer (if any) due back in full, said in the audit log. */
  private async giveBack(
    q: Queryable,
    p: PaymentRow,
    transferId: string | null,
    at: Date,
    details: Record<string, unknown>,
  ): Promise<void> {
    const { payments, outbox, audit } = this.deps;
    await payments.update(q, p.id, { status: 'failed', closedAt: at, transferId });
    await payments.voidReceipts(q, p.id, at);
    if (transferId) {
      await payments.refundTransfer(q, transferId);
      await outbox.enqueue(
        q,
        'payment.transfer_flagged',
        { transferId, paymentId: p.id, outcome: 'refund', amount: p.amount, refundDue: p.amount },
        at,
      );
    }
    await audit.record(q, {
      actor: SYSTEM,
      action: 'payment.refund_due',
      subject: `payment:${p.id}`,
      details: { amount: p.amount, ...details },
      at,
    });
  }

  /** A deposit that waited for its fee ends: cancelled (`reason`), its reserved tray free, `deposit.cancelled`. */
  private async releaseWaiting(
    q: Queryable,
    d: Dossier | null,
    p: PaymentRow,
    reason: 'lock_failed' | 'payment_timeout' | 'payment_cancelled',
    at: Date,
  ): Promise<void> {
    if (d?.status === 'verified') {
      await this.deps.dossiers.transition(q, d.id, 'verified', 'cancelled', {
        actor: SYSTEM,
        at,
        fields: { cancelledAt: at },
        details: { reason },
      });
    }
    if (p.tray !== null) await this.deps.trayStore.setContent(q, p.tray, 'free', at);
    await this.deps.outbox.enqueue(q, 'deposit.cancelled', { depositId: p.dossierId, tray: null, reason }, at);
  }

  /** An officer took the fee at the counter (a `later` payment, or one whose transfer never came). */
  async paidAtCounter(paymentId: string, actor: string, amount?: number): Promise<PaymentRow> {
    const { db, payments, audit, outbox, clock } = this.deps;
    const row = await db.tx(async (q) => {
      const seen = await payments.get(q, paymentId);
      if (!seen) throw new AppError('PAYMENT_NOT_FOUND', 'no such payment');
      await this.deps.dossiers.get(q, seen.dossierId, { forUpdate: true });
      const p = (await payments.get(q, paymentId, { forUpdate: true }))!;
      if (p.status !== 'unpaid') throw new AppError('PAYMENT_NOT_AWAITED', `this payment is ${p.status}, not waiting at the counter`);
      const now = clock.now();
      // What was taken: the catalogue's fee unless the officer says otherwise (fees per page or per copy).
      const taken = amount ?? p.amount;
      if (taken !== p.amount) await payments.update(q, p.id, { amount: taken });
      await this.paid(q, { ...p, amount: taken }, null, 'counter', now);
      await audit.record(q, {
        actor,
        action: 'payment.counter',
        subject: `payment:${p.id}`,
        details: { amount: taken, fee: p.amount },
        at: now,
      });
      return (await payments.get(q, paymentId))!;
    });
    outbox.committed();
    return row;
  }

  /**
   * An admin records the money due back on a transfer as sent, with the bank's reference of the
   * refund: the transfer leaves the list of refunds due (the day's figures then count it refunded).
   */
  async recordRefund(transferId: string, reference: string, actor: string): Promise<TransferRow> {
    const { db, payments, audit, clock } = this.deps;
    return db.tx(async (q) => {
      const t = await payments.transfer(q, transferId, { forUpdate: true });
      if (!t) throw new AppError('TRANSFER_NOT_FOUND', 'no such transfer at this locker');
      if (t.refundDue === 0) throw new AppError('REFUND_NOT_DUE', 'nothing is due back on this transfer: it paid its fee');
      if (t.refundedAt) {
        throw new AppError('REFUND_ALREADY_RECORDED', `this refund was recorded at ${t.refundedAt.toISOString()}`, {
          refundedAt: t.refundedAt.toISOString(),
          refundReference: t.refundReference,
        });
      }
      const now = clock.now();
      // Who, without the name (the audit row has it, and its retention): role and account id.
      const by = actor.replace(/^(admin|staff):([0-9]+):.*$/, '$1:$2');
      await payments.recordRefund(q, t.id, { at: now, by, reference });
      await audit.record(q, {
        actor,
        action: 'payment.refund_sent',
        subject: `transfer:${t.id}`,
        details: { amount: t.refundDue, paymentId: t.paymentId, outcome: t.outcome },
        at: now,
      });
      return (await payments.transfer(q, t.id))!;
    });
  }

  /** Transfers with money due back not yet sent, whatever their day (the admins' to-do list). */
  refundsOutstanding(): Promise<TransferRow[]> {
    return this.deps.payments.refundsOutstanding(this.deps.db);
  }

  /**
   * A deposit that ended without its dossier (its lock failed, its door never opened, its tray was
   * found empty): its fee ends with it, in the caller's transaction (the dossier is locked first).
   * Unpaid: cancelled, nothing to take at the counter. Paid: `failed`, the fee receipt voided, the
   * money due back (the transfer flagged; one taken at the counter, in the audit log).
   */
  async depositEnded(q: Queryable, dossierId: string, at: Date): Promise<void> {
    const { payments, outbox, audit } = this.deps;
    const p = await payments.byDossier(q, dossierId, { forUpdate: true });
    if (!p) return;
    if (p.status === 'unpaid' || p.status === 'awaiting') {
      await payments.update(q, p.id, { status: 'cancelled', closedAt: at });
      await outbox.enqueue(q, 'payment.expired', { paymentId: p.id, depositId: dossierId, reason: 'cancelled' }, at);
      await audit.record(q, {
        actor: SYSTEM,
        action: 'payment.cancelled',
        subject: `payment:${p.id}`,
        details: { reason: 'deposit_ended' },
        at,
      });
      return;
    }
    if (p.status !== 'paid' && p.status !== 'paid_at_counter') return;
    await this.giveBack(q, p, p.transferId, at, { via: p.transferId ? 'transfer' : 'counter' });
  }

  /**
   * The citizen at the QR asks for more time: the time to pay moves on by PAYMENT_EXTENSION_MS, at
   * most PAYMENT_EXTENSIONS times, only while the payment waits and its time is not up.
   */
  async extend(paymentId: string): Promise<PaymentRow> {
    const { db, payments, dossiers, audit, clock } = this.deps;
    return db.tx(async (q) => {
      const seen = await payments.get(q, paymentId);
      if (!seen) throw new AppError('PAYMENT_NOT_FOUND', 'no such payment');
      await dossiers.get(q, seen.dossierId, { forUpdate: true });
      const p = (await payments.get(q, paymentId, { forUpdate: true }))!;
      const now = clock.now();
      if (p.status !== 'awaiting' || !p.payBy || p.payBy.getTime() <= now.getTime()) {
        throw new AppError(
          'PAYMENT_NOT_AWAITED',
          `this payment is ${p.status === 'awaiting' ? 'past its time' : p.status}: no more time to give`,
        );
      }
      const used = p.extensions ?? 0;
      if (used >= PAYMENT_EXTENSIONS) {
        throw new AppError('PAYMENT_EXTENSIONS_USED', `more time was given ${used} times already: pay now, or stop and start again`);
      }
      const payBy = new Date(p.payBy.getTime() + PAYMENT_EXTENSION_MS);
      await payments.update(q, p.id, { payBy, extensions: used + 1 });
      await audit.record(q, {
        actor: CITIZEN_ACTOR,
        action: 'payment.extended',
        subject: `payment:${p.id}`,
        details: { payBy: payBy.toISOString(), extensions: used + 1 },
        at: now,
      });
      return (await payments.get(q, p.id))!;
    });
  }

  /** The citizen gave up at the kiosk: like a timeout, at once. 409 PAYMENT_NOT_AWAITED once paid or over. */
  async cancel(paymentId: string): Promise<void> {
    const ended = await this.end(paymentId, 'cancelled');
    if (ended === 'not_found') throw new AppError('PAYMENT_NOT_FOUND', 'no such payment');
    if (ended !== 'ended') throw new AppError('PAYMENT_NOT_AWAITED', `this payment is ${ended}: nothing to cancel`);
  }

  /** Payments past their time: each ended (nothing charged, the deposit cancelled, its tray free). Returns how many. */
  async sweep(): Promise<number> {
    const due = await this.deps.payments.overdue(this.deps.db, new Date(this.deps.clock.now().getTime() - PAYMENT_GRACE_MS));
    let n = 0;
    for (const p of due) if ((await this.end(p.id, 'expired')) === 'ended') n++;
    return n;
  }

  private async end(paymentId: string, to: 'expired' | 'cancelled'): Promise<'ended' | 'not_found' | PaymentRow['status']> {
    const { db, payments, dossiers, outbox, audit, clock } = this.deps;
    const result = await db.tx(async (q) => {
      const seen = await payments.get(q, paymentId);
      if (!seen) return { state: 'not_found' as const, tray: null };
      const d = await dossiers.get(q, seen.dossierId, { forUpdate: true });
      const p = (await payments.get(q, paymentId, { forUpdate: true }))!;
      if (p.status !== 'awaiting') return { state: p.status, tray: null };
      const now = clock.now();
      // The sweep waits a grace after the time shown: a transfer booked in time may be reported a little later.
      if (to === 'expired' && p.payBy && p.payBy.getTime() + PAYMENT_GRACE_MS > now.getTime()) return { state: p.status, tray: null };
      await payments.update(q, p.id, { status: to, closedAt: now });
      await outbox.enqueue(
        q,
        'payment.expired',
        { paymentId: p.id, depositId: p.dossierId, reason: to === 'expired' ? 'timeout' : 'cancelled' },
        now,
      );
      await this.releaseWaiting(q, d, p, to === 'expired' ? 'payment_timeout' : 'payment_cancelled', now);
      await audit.record(q, {
        actor: to === 'cancelled' ? 'citizen' : SYSTEM,
        action: `payment.${to}`,
        subject: `payment:${p.id}`,
        details: {},
        at: now,
      });
      return { state: 'ended' as const, tray: p.tray };
    });
    if (result.state === 'ended') {
      outbox.committed();
      if (result.tray !== null) await this.deps.trays.publish([result.tray]);
    }
    return result.state;
  }

  /** The fee receipt: the next number of the series and year, signed. In the payment's transaction. */
  private async issueFeeReceipt(q: Queryable, d: Dossier, p: PaymentRow, at: Date): Promise<ReceiptRow> {
    const { payments, procedures, receipts } = this.deps;
    const procedure = procedures.find(p.procedureCode);
    const year = localYear(at, this.deps.timezone);
    const number = await payments.nextReceiptNumber(q, receipts.series, year);
    const phone = this.deps.phoneOf(d.phoneEnc);
    const body: FeeReceiptBody = {
      v: 1,
      kind: 'fee',
      id: newReceiptId(),
      issuer: receipts.issuer,
      template: receipts.template,
      series: receipts.series,
      year,
      number,
      procedureCode: p.procedureCode,
      procedureName: procedure?.nameVi ?? p.procedureCode,
      feeName: `Lệ phí ${lowerFirst(procedure?.nameVi ?? p.procedureCode)}`,
      amount: p.amount,
      amountWords: amountInWords(p.amount),
      issuedAt: at.toISOString(),
      dossierCode: displayCode(d.code),
      payer: phone ? maskPhone(phone) : '',
      paymentReference: p.reference,
    };
    return this.store(q, { kind: 'fee', dossierId: d.id, paymentId: p.id, series: receipts.series, year, number, body, at, code: d.code });
  }

  /** The deposit receipt (phiếu tiếp nhận), paid or not: in the deposit's completing transaction. */
  async issueDepositReceipt(q: Queryable, d: Dossier, tray: number, at: Date): Promise<ReceiptRow> {
    const { payments, procedures, receipts } = this.deps;
    const procedure = procedures.find(d.procedureCode);
    const p = await payments.byDossier(q, d.id);
    const fee = p
      ? {
          amount: p.amount,
          state: p.status === 'paid' || p.status === 'paid_at_counter' ? ('paid' as const) : ('unpaid' as const),
          receiptId: (await payments.receiptsOfDossier(q, d.id)).find((r) => r.kind === 'fee')?.id ?? null,
        }
      : { amount: 0, state: 'none' as const, receiptId: null };
    const body: DepositReceiptBody = {
      v: 1,
      kind: 'deposit',
      id: newReceiptId(),
      issuer: receipts.issuer,
      dossierCode: displayCode(d.code),
      procedureCode: d.procedureCode,
      procedureName: procedure?.nameVi ?? d.procedureCode,
      tray,
      depositedAt: at.toISOString(),
      fee,
    };
    return this.store(q, {
      kind: 'deposit',
      dossierId: d.id,
      paymentId: p?.id ?? null,
      series: null,
      year: null,
      number: null,
      body,
      at,
      code: d.code,
    });
  }

  private async store(
    q: Queryable,
    r: Omit<ReceiptRow, 'id' | 'signature' | 'issuedAt' | 'voidedAt'> & { at: Date; code: string },
  ): Promise<ReceiptRow> {
    const row: ReceiptRow = {
      id: r.body.id,
      kind: r.kind,
      dossierId: r.dossierId,
      paymentId: r.paymentId,
      series: r.series,
      year: r.year,
      number: r.number,
      body: r.body,
      signature: this.deps.sign(r.body),
      issuedAt: r.at,
      voidedAt: null,
    };
    await this.deps.payments.insertReceipt(q, row);
    await this.deps.audit.record(q, {
      actor: SYSTEM,
      action: 'receipt.issued',
      subject: `receipt:${row.id}`,
      details: { kind: row.kind, dossierId: row.dossierId, series: row.series, year: row.year, number: row.number },
      at: r.at,
    });
    await this.deps.outbox.enqueue(
      q,
      'receipt.issued',
      {
        receiptId: row.id,
        kind: row.kind,
        dossierCode: r.code,
        series: row.series,
        number: row.number,
        amount: r.body.kind === 'fee' ? r.body.amount : 0,
      },
      r.at,
    );
    return row;
  }

  receipt(id: string): Promise<ReceiptRow | null> {
    return this.deps.payments.receipt(this.deps.db, id);
  }

  receiptsOfDossier(dossierId: string): Promise<ReceiptRow[]> {
    return this.deps.payments.receiptsOfDossier(this.deps.db, dossierId);
  }
}

function localYear(at: Date, timeZone: string): number {
  return Number(localDate(at, timeZone).slice(0, 4));
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLocaleLowerCase('vi') + s.slice(1);
}
