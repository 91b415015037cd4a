/** Payments, reported transfers, receipt numbers and signed receipts (migrations/015_payments.sql). */
import type { ReceiptBody } from '../domain/receipts.js';
import type { PaymentRow, PaymentStore, Queryable, ReceiptRow, TransferRow } from '../services/ports.js';

const PAYMENT_COLUMNS = `id, dossier_id, procedure_code, amount, reference, mode, status, tray, created_at, pay_by, paid_at, closed_at, transfer_id, extensions`;
const TRANSFER_COLUMNS = `id, provider, provider_tx_id, amount, description, booked_at, received_at, reference, payment_id, outcome, refund_due, refunded_at, refunded_by, refund_reference`;
const RECEIPT_COLUMNS = `id, kind, dossier_id, payment_id, series, year, number, body, signature, issued_at, voided_at`;

function payment(r: any): PaymentRow {
  return {
    id: r.id,
    dossierId: r.dossier_id,
    procedureCode: r.procedure_code,
    amount: r.amount,
    reference: r.reference,
    mode: r.mode,
    status: r.status,
    tray: r.tray,
    createdAt: r.created_at,
    payBy: r.pay_by,
    paidAt: r.paid_at,
    closedAt: r.closed_at,
    transferId: r.transfer_id,
    extensions: r.extensions,
  };
}

function transfer(r: any): TransferRow {
  return {
    id: r.id,
    provider: r.provider,
    providerTxId: r.provider_tx_id,
    amount: Number(r.amount),
    description: r.description,
    bookedAt: r.booked_at,
    receivedAt: r.received_at,
    reference: r.reference,
    paymentId: r.payment_id,
    outcome: r.outcome,
    refundDue: Number(r.refund_due),
    refundedAt: r.refunded_at,
    refundedBy: r.refunded_by,
    refundReference: r.refund_reference,
  };
}

function receipt(r: any): ReceiptRow {
  return {
    id: r.id,
    kind: r.kind,
    dossierId: r.dossier_id,
    paymentId: r.payment_id,
    series: r.series,
    year: r.year,
    number: r.number,
    body: r.body as ReceiptBody,
    signature: r.signature,
    issuedAt: r.issued_at,
    voidedAt: r.voided_at,
  };
}

const SNAKE: Record<string, string> = {
  status: 'status',
  paidAt: 'paid_at',
  closedAt: 'closed_at',
  transferId: 'transfer_id',
  amount: 'amount',
  payBy: 'pay_by',
  extensions: 'extensions',
};

export class PaymentRepository implements PaymentStore {
  constructor(private readonly lockerId: string) {}

  async insert(q: Queryable, p: Omit<PaymentRow, 'paidAt' | 'closedAt' | 'transferId'>): Promise<void> {
    await q.query(
      `INSERT INTO payments (id, locker_id, dossier_id, procedure_code, amount, reference, mode, status, tray, created_at, pay_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [p.id, this.lockerId, p.dossierId, p.procedureCode, p.amount, p.reference, p.mode, p.status, p.tray, p.createdAt, p.payBy],
    );
  }

  async get(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<PaymentRow | null> {
    const { rows } = await q.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      [this.lockerId, id],
    );
    return rows[0] ? payment(rows[0]) : null;
  }

  async byDossier(q: Queryable, dossierId: string, opts: { forUpdate?: boolean } = {}): Promise<PaymentRow | null> {
    const { rows } = await q.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND dossier_id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      [this.lockerId, dossierId],
    );
    return rows[0] ? payment(rows[0]) : null;
  }

  async update(
    q: Queryable,
    id: string,
    fields: Partial<Pick<PaymentRow, 'status' | 'paidAt' | 'closedAt' | 'transferId' | 'amount' | 'payBy' | 'extensions'>>,
  ): Promise<void> {
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    if (keys.length === 0) return;
    const sets = keys.map((k, i) => `${SNAKE[k]} = $${i + 3}`).join(', ');
    await q.query(`UPDATE payments SET ${sets} WHERE locker_id = $1 AND id = $2`, [this.lockerId, id, ...keys.map((k) => fields[k])]);
  }

  async awaiting(q: Queryable): Promise<PaymentRow[]> {
    const { rows } = await q.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND status = 'awaiting' ORDER BY created_at`,
      [this.lockerId],
    );
    return rows.map(payment);
  }

  async overdue(q: Queryable, now: Date): Promise<PaymentRow[]> {
    const { rows } = await q.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND status = 'awaiting' AND pay_by <= $2 ORDER BY pay_by`,
      [this.lockerId, now],
    );
    return rows.map(payment);
  }

  async insertTransfer(q: Queryable, t: TransferRow): Promise<boolean> {
    const { rowCount } = await q.query(
      `INSERT INTO transfers (id, locker_id, provider, provider_tx_id, amount, description, booked_at, received_at, reference,
                              payment_id, outcome, refund_due)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (locker_id, provider, provider_tx_id) DO NOTHING`,
      [
        t.id,
        this.lockerId,
        t.provider,
        t.providerTxId,
        t.amount,
        t.description,
        t.bookedAt,
        t.receivedAt,
        t.reference,
        t.paymentId,
        t.outcome,
        t.refundDue,
      ],
    );
    return rowCount === 1;
  }

  async transferByProviderId(q: Queryable, provider: string, providerTxId: string): Promise<TransferRow | null> {
    const { rows } = await q.query(
      `SELECT ${TRANSFER_COLUMNS} FROM transfers WHERE locker_id = $1 AND provider = $2 AND provider_tx_id = $3`,
      [this.lockerId, provider, providerTxId],
    );
    return rows[0] ? transfer(rows[0]) : null;
  }

  async refundTransfer(q: Queryable, transferId: string): Promise<void> {
    await q.query(`UPDATE transfers SET refund_due = amount WHERE locker_id = $1 AND id = $2`, [this.lockerId, transferId]);
  }

  async transfer(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<TransferRow | null> {
    const { rows } = await q.query(
      `SELECT ${TRANSFER_COLUMNS} FROM transfers WHERE locker_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      [this.lockerId, id],
    );
    return rows[0] ? transfer(rows[0]) : null;
  }

  async recordRefund(q: Queryable, id: string, refund: { at: Date; by: string; reference: string }): Promise<void> {
    await q.query(
      `UPDATE transfers SET refunded_at = $3, refunded_by = $4, refund_reference = $5
        WHERE locker_id = $1 AND id = $2 AND refund_due > 0 AND refunded_at IS NULL`,
      [this.lockerId, id, refund.at, refund.by, refund.reference],
    );
  }

  async refundsOutstanding(q: Queryable): Promise<TransferRow[]> {
    const { rows } = await q.query(
      `SELECT ${TRANSFER_COLUMNS} FROM transfers WHERE locker_id = $1 AND refund_due > 0 AND refunded_at IS NULL ORDER BY received_at`,
      [this.lockerId],
    );
    return rows.map(transfer);
  }

  async nextReceiptNumber(q: Queryable, series: string, year: number): Promise<number> {
    // The series' row is locked until the payment commits: concurrent payments take turns, and a
    // rolled-back one gives its number back.
    const { rows } = await q.query<{ last_number: number }>(
      `INSERT INTO receipt_series (series, year, last_number) VALUES ($1, $2, 1)
       ON CONFLICT (series, year) DO UPDATE SET last_number = receipt_series.last_number + 1
       RETURNING last_number`,
      [series, year],
    );
    return rows[0].last_number;
  }

  async insertReceipt(q: Queryable, r: ReceiptRow): Promise<void> {
    await q.query(
      `INSERT INTO receipts (id, locker_id, kind, dossier_id, payment_id, series, year, number, body, signature, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [r.id, this.lockerId, r.kind, r.dossierId, r.paymentId, r.series, r.year, r.number, JSON.stringify(r.body), r.signature, r.issuedAt],
    );
  }

  async voidReceipts(q: Queryable, paymentId: string, at: Date): Promise<void> {
    await q.query(`UPDATE receipts SET voided_at = $3 WHERE locker_id = $1 AND payment_id = $2 AND kind = 'fee' AND voided_at IS NULL`, [
      this.lockerId,
      paymentId,
      at,
    ]);
  }

  async referenceElsewhere(q: Queryable, references: string[]): Promise<boolean> {
    if (references.length === 0) return false;
    const { rowCount } = await q.query(`SELECT 1 FROM payments WHERE locker_id <> $1 AND reference = ANY($2::text[]) LIMIT 1`, [
      this.lockerId,
      references,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async findByReference(q: Queryable, references: string[]): Promise<PaymentRow | null> {
    if (references.length === 0) return null;
    const { rows } = await q.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND reference = ANY($2::text[])
        ORDER BY array_position($2::text[], reference) LIMIT 1`,
      [this.lockerId, references],
    );
    return rows[0] ? payment(rows[0]) : null;
  }

  async numbersIssued(q: Queryable, series: string, year: number, from: number, to: number): Promise<number[]> {
    // Every locker's: a series is shared by the lockers of one database.
    const { rows } = await q.query<{ number: number }>(
      `SELECT number FROM receipts WHERE series = $1 AND year = $2 AND number BETWEEN $3 AND $4 ORDER BY number`,
      [series, year, from, to],
    );
    return rows.map((r) => r.number);
  }

  async transferElsewhere(q: Queryable, provider: string, providerTxId: string): Promise<boolean> {
    const { rowCount } = await q.query(`SELECT 1 FROM transfers WHERE locker_id <> $1 AND provider = $2 AND provider_tx_id = $3 LIMIT 1`, [
      this.lockerId,
      provider,
      providerTxId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async receipt(q: Queryable, id: string): Promise<ReceiptRow | null> {
    const { rows } = await q.query(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE locker_id = $1 AND id = $2`, [this.lockerId, id]);
    return rows[0] ? receipt(rows[0]) : null;
  }

  async receiptsOfDossier(q: Queryable, dossierId: string): Promise<ReceiptRow[]> {
    const { rows } = await q.query(
      `SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE locker_id = $1 AND dossier_id = $2 ORDER BY issued_at, kind`,
      [this.lockerId, dossierId],
    );
    return rows.map(receipt);
  }

  async day(
    q: Queryable,
    date: string,
    timezone: string,
  ): Promise<{ payments: PaymentRow[]; transfers: TransferRow[]; receipts: ReceiptRow[] }> {
    // The local day's bounds as the figures take them (src/store/stats.ts): midnight to midnight in the locker's zone.
    const within = (column: string) =>
      `${column} >= ($2::date::timestamp AT TIME ZONE $3) AND ${column} < (($2::date + 1)::timestamp AT TIME ZONE $3)`;
    const args = [this.lockerId, date, timezone];
    const [p, t, r] = await Promise.all([
      q.query(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE locker_id = $1 AND ${within('created_at')} ORDER BY created_at`, args),
      q.query(`SELECT ${TRANSFER_COLUMNS} FROM transfers WHERE locker_id = $1 AND ${within('received_at')} ORDER BY received_at`, args),
      q.query(
        `SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE locker_id = $1 AND ${within('issued_at')} ORDER BY series, year, number, issued_at`,
        args,
      ),
    ]);
    return { payments: p.rows.map(payment), transfers: t.rows.map(transfer), receipts: r.rows.map(receipt) };
  }
}
