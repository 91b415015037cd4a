/**
 * The admins' reconciliation of one local day (issue 13): the payments asked for, the transfers
 * received and what became of each (matched, or flagged with the amount due back), the receipts
 * issued with the numbers missing from each series (there should be none), and totals by
 * procedure. As JSON for the screen and as CSV for the accounts office.
 */
import { formatReceiptNumber } from '../domain/receipts.js';
import type { Database, PaymentStore, TransferRow } from './ports.js';

export interface ReconciliationDay {
  date: string;
  totals: {
    received: number;
    matched: number;
    refundDue: number;
    refunded: number;
    unpaidAtCounter: number;
    receipts: number;
  };
  byProcedure: { procedureCode: string; paid: number; amount: number; unpaid: number }[];
  payments: {
    paymentId: string;
    procedureCode: string;
    amount: number;
    reference: string;
    mode: string;
    status: string;
    createdAt: string;
    paidAt: string | null;
  }[];
  transfers: {
    transferId: string;
    provider: string;
    providerTxId: string;
    amount: number;
    reference: string | null;
    outcome: string;
    refundDue: number;
    bookedAt: string;
    receivedAt: string;
    /** The refund as recorded by an admin (POST /api/admin/transfers/:id/refund), else null. */
    refundedAt: string | null;
    refundedBy: string | null;
    refundReference: string | null;
  }[];
  receipts: { receiptId: string; kind: string; series: string | null; number: string | null; amount: number; issuedAt: string }[];
  /** Per series (and year): numbers missing between this locker's first and last of the day (every locker's count). */
  gaps: { series: string; year: number; missing: number[] }[];
}

export class ReconciliationService {
  constructor(private readonly deps: { db: Database; payments: PaymentStore; timezone: string }) {}

  async day(date: string): Promise<ReconciliationDay> {
    const { payments, transfers, receipts } = await this.deps.payments.day(this.deps.db, date, this.deps.timezone);
    const byProcedure = new Map<string, { procedureCode: string; paid: number; amount: number; unpaid: number }>();
    for (const p of payments) {
      const row = byProcedure.get(p.procedureCode) ?? { procedureCode: p.procedureCode, paid: 0, amount: 0, unpaid: 0 };
      if (p.status === 'paid' || p.status === 'paid_at_counter') {
        row.paid++;
        row.amount += p.amount;
      } else if (p.status === 'unpaid') row.unpaid++;
      byProcedure.set(p.procedureCode, row);
    }
    const gaps = new Map<string, { series: string; year: number; numbers: number[] }>();
    for (const r of receipts) {
      if (r.kind !== 'fee' || r.number === null) continue;
      const key = `${r.series}/${r.year}`;
      const g = gaps.get(key) ?? { series: r.series!, year: r.year!, numbers: [] };
      g.numbers.push(r.number);
      gaps.set(key, g);
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return {
      date,
      totals: {
        received: sum(transfers.map((t) => t.amount)),
        matched: sum(transfers.filter((t) => t.outcome === 'matched').map((t) => t.amount - t.refundDue)),
        refundDue: sum(transfers.filter((t) => !t.refundedAt).map((t) => t.refundDue)),
        refunded: sum(transfers.filter((t) => t.refundedAt).map((t) => t.refundDue)),
        unpaidAtCounter: sum(payments.filter((p) => p.status === 'unpaid').map((p) => p.amount)),
        receipts: receipts.filter((r) => r.kind === 'fee').length,
      },
      byProcedure: [...byProcedure.values()].sort((a, b) => a.procedureCode.localeCompare(b.procedureCode)),
      payments: payments.map((p) => ({
        paymentId: p.id,
        procedureCode: p.procedureCode,
        amount: p.amount,
        reference: p.reference,
        mode: p.mode,
        status: p.status,
        createdAt: p.createdAt.toISOString(),
        paidAt: p.paidAt?.toISOString() ?? null,
      })),
      transfers: transfers.map(transferView),
      receipts: receipts.map((r) => ({
        receiptId: r.id,
        kind: r.kind,
        series: r.series,
        number: r.number === null ? null : formatReceiptNumber(r.number),
        amount: r.body.kind === 'fee' ? r.body.amount : 0,
        issuedAt: r.issuedAt.toISOString(),
      })),
      gaps: await Promise.all(
        [...gaps.values()].map(async (g) => {
          // Between this locker's first and last of the day, against every locker's numbers (a shared series).
          const issued = await this.deps.payments.numbersIssued(
            this.deps.db,
            g.series,
            g.year,
            Math.min(...g.numbers),
            Math.max(...g.numbers),
          );
          return { series: g.series, year: g.year, missing: missingBetween(issued) };
        }),
      ),
    };
  }

  /** The day as CSV: one section per table, `;`-free values quoted as needed. */
  csv(d: ReconciliationDay): string {
    const lines: string[] = [];
    const row = (...cells: (string | number | null)[]) => lines.push(cells.map(cell).join(','));
    row('section', 'date', 'received', 'matched', 'refund_due', 'refunded', 'unpaid_at_counter', 'receipts');
    row(
      'totals',
      d.date,
      d.totals.received,
      d.totals.matched,
      d.totals.refundDue,
      d.totals.refunded,
      d.totals.unpaidAtCounter,
      d.totals.receipts,
    );
    row('section', 'procedure', 'paid', 'amount', 'unpaid');
    for (const p of d.byProcedure) row('procedure', p.procedureCode, p.paid, p.amount, p.unpaid);
    row(
      'section',
      'transfer_id',
      'provider',
      'provider_tx_id',
      'amount',
      'reference',
      'outcome',
      'refund_due',
      'booked_at',
      'received_at',
      'refunded_at',
      'refund_reference',
    );
    for (const t of d.transfers) {
      row(
        'transfer',
        t.transferId,
        t.provider,
        t.providerTxId,
        t.amount,
        t.reference,
        t.outcome,
        t.refundDue,
        t.bookedAt,
        t.receivedAt,
        t.refundedAt,
        t.refundReference,
      );
    }
    row('section', 'receipt_id', 'kind', 'series', 'number', 'amount', 'issued_at');
    for (const r of d.receipts) row('receipt', r.receiptId, r.kind, r.series, r.number, r.amount, r.issuedAt);
    row('section', 'series', 'year', 'missing_numbers');
    for (const g of d.gaps) row('gap', g.series, g.year, g.missing.join(' '));
    return `${lines.join('\r\n')}\r\n`;
  }
}

/** A transfer as the admins see it (the day's list, the refunds due). */
export function transferView(t: TransferRow): ReconciliationDay['transfers'][number] {
  return {
    transferId: t.id,
    provider: t.provider,
    providerTxId: t.providerTxId,
    amount: t.amount,
    reference: t.reference,
    outcome: t.outcome,
    refundDue: t.refundDue,
    bookedAt: t.bookedAt.toISOString(),
    receivedAt: t.receivedAt.toISOString(),
    refundedAt: t.refundedAt?.toISOString() ?? null,
    refundedBy: t.refundedBy ?? null,
    refundReference: t.refundReference ?? null,
  };
}

function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  // A leading =, +, - or @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function missingBetween(numbers: number[]): number[] {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let i = 1; i < sorted.length; i++) for (let n = sorted[i - 1] + 1; n < sorted[i]; n++) missing.push(n);
  return missing;
}
