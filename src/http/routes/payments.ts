/**
 * Fees and receipts (issue 13, docs/payments.md):
 * - `POST /api/payments/webhook`: the provider's transfer notifications, signed (X-Signature,
 *   HMAC-SHA256 of the raw body); 401 PAYMENT_SIGNATURE_INVALID, 400 PAYMENT_NOTIFICATION_INVALID;
 * - `GET /api/payments/:paymentId` and `POST …/cancel`: the kiosk's QR and its giving up;
 * - `POST /api/staff/payments/:paymentId/counter`: an officer took the fee at the counter;
 * - `GET /api/admin/payments?date=` (and `.csv`): the day's reconciliation;
 * - `GET /r/:receiptId` (the receipt's page, its short link), `GET /r/:receiptId/pdf`,
 *   `GET /api/receipts/:receiptId`, `POST /api/receipts/verify`, `GET /api/receipts/public-key`.
 * The adapters (signature, VietQR, rendering) come in as functions: HTTP does not reach them.
 */
import type { FastifyInstance } from 'fastify';
import { PaymentView } from '../../domain/api.js';
import { AppError } from '../../domain/errors.js';
import { PAYMENT_EXTENSION_MS, PAYMENT_EXTENSIONS, type PaymentService } from '../../services/payments.js';
import type { IncomingTransfer, PaymentRow, ReceiptRow, TransferOutcome } from '../../services/ports.js';
import { transferView, type ReconciliationService } from '../../services/reconciliation.js';
import { actorOf, type AuthHooks } from '../auth.js';
import { errorSchema } from '../errors.js';
import type { RouteGuards } from '../guards.js';

export interface PaymentHttp {
  service: PaymentService;
  reconciliation: ReconciliationService;
  /** Checks a notification's signature and reads its transfers; throws the 401 / 400 AppErrors. */
  readNotification(raw: Buffer, signature: string | undefined): IncomingTransfer[];
  /** The QR for a payment: its VietQR text and image. */
  qr(p: PaymentRow): Promise<{ payload: string; svg: string }>;
  account: { bankBin: string; accountNumber: string; accountName: string };
  receipts: {
    publicKeyPem: string;
    verify(body: unknown, signature: string): boolean;
    /** The page; a voided receipt says so above all. */
    html(r: ReceiptRow, genuine: boolean, urls: { verifyUrl: string; pdfUrl: string }): Promise<string>;
    pdf(r: ReceiptRow, verifyUrl: string): Promise<Uint8Array>;
  };
  /** The base of short links (payments.publicUrl), or null: the request's own host. */
  publicUrl: string | null;
  /** The simulated bank (provider simulator): the simulator panel pays a shown QR with it. */
  simBank?: {
    transfer(t: { amount: number; description: string; delayMs?: number; notify?: boolean }): { id: string };
    redeliver(id: string): void;
  };
}

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const RECEIPT_ID = '^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{16}$';
const paymentParams = {
  type: 'object',
  additionalProperties: false,
  required: ['paymentId'],
  properties: { paymentId: { type: 'string', pattern: UUID } },
} as const;
const receiptParams = {
  type: 'object',
  additionalProperties: false,
  required: ['receiptId'],
  properties: { receiptId: { type: 'string', pattern: RECEIPT_ID } },
} as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };
const OUTCOMES: TransferOutcome[] = ['matched', 'wrong_amount', 'duplicate', 'late', 'unmatched', 'already_recorded', 'other_locker'];

/** A payment as the kiosk sees it; with its QR while it waits for the transfer. */
export function paymentViewer(payments: Pick<PaymentHttp, 'qr' | 'account'>) {
  return async (p: PaymentRow, withQr = true): Promise<PaymentView> => ({
    paymentId: p.id,
    status: p.status,
    amount: p.amount,
    reference: p.reference,
    mode: p.mode,
    payBy: p.payBy?.toISOString() ?? null,
    ...(p.status === 'awaiting' && p.payBy ? { extensionsLeft: Math.max(0, PAYMENT_EXTENSIONS - (p.extensions ?? 0)) } : {}),
    ...(withQr && p.status === 'awaiting' ? { qr: await payments.qr(p), account: payments.account } : {}),
  });
}

export async function paymentRoutes(
  app: FastifyInstance,
  opts: { payments: PaymentHttp; auth: AuthHooks; guards?: RouteGuards; simulator: boolean },
) {
  const { payments, auth, guards } = opts;
  const { service } = payments;
  const kiosk = guards ? [guards.kioskOnly] : [];
  // Receipts are found by their id: counted like a lookup by dossier code.
  const lookup = guards ? [guards.dossierLookup] : [];

  const view = paymentViewer(payments);

  // The notification is authenticated over its exact bytes: read raw, parsed after the check.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    raw.post(
      '/api/payments/webhook',
      {
        schema: {
          summary: "The payment provider's transfer notifications (signed: X-Signature: t=<unix>,v1=<hex HMAC-SHA256>)",
          response: {
            200: {
              type: 'object',
              required: ['results'],
              properties: {
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['providerTxId', 'outcome', 'transferId'],
                    properties: {
                      providerTxId: { type: 'string' },
                      outcome: { type: 'string', enum: OUTCOMES },
                      transferId: { type: 'string' },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const header = request.headers['x-signature'];
        const transfers = payments.readNotification(body, typeof header === 'string' ? header : undefined);
        const results = [];
        // One by one, in the provider's order: each is its own transaction, idempotent by its id.
        for (const t of transfers) results.push({ providerTxId: t.providerTxId, ...(await service.record(t)) });
        return { results };
      },
    );
  });

  app.get<{ Params: { paymentId: string } }>(
    '/api/payments/:paymentId',
    { onRequest: kiosk, schema: { params: paymentParams, response: { 200: PaymentView, ...errors } } },
    async (request) => {
      const p = await service.get(request.params.paymentId.toLowerCase());
      if (!p) throw new AppError('PAYMENT_NOT_FOUND', 'no such payment');
      return view(p, true);
    },
  );

  app.post<{ Params: { paymentId: string } }>(
    '/api/payments/:paymentId/cancel',
    { onRequest: kiosk, schema: { params: paymentParams, response: { 200: PaymentView, ...errors } } },
    async (request) => {
      const id = request.params.paymentId.toLowerCase();
      await service.cancel(id);
      return view((await service.get(id))!, false);
    },
  );

  app.post<{ Params: { paymentId: string } }>(
    '/api/payments/:paymentId/extend',
    {
      onRequest: kiosk,
      schema: {
        summary: `More time at the QR ("Cần thêm thời gian?"): the time to pay moves on by ${PAYMENT_EXTENSION_MS / 1000} s, at most ${PAYMENT_EXTENSIONS} times`,
        params: paymentParams,
        response: { 200: PaymentView, ...errors },
      },
    },
    async (request) => view(await service.extend(request.params.paymentId.toLowerCase()), false),
  );

  app.post<{ Params: { paymentId: string }; Body: { amount?: number } | undefined }>(
    '/api/staff/payments/:paymentId/counter',
    {
      onRequest: auth.staff,
      schema: {
        summary: 'The fee of a deposit paid at the counter (its fee receipt issued)',
        params: paymentParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { amount: { type: 'integer', minimum: 1, maximum: 100_000_000, description: 'VND taken, if not the catalogue fee' } },
        },
        response: { 200: PaymentView, ...errors },
      },
    },
    async (request) =>
      view(await service.paidAtCounter(request.params.paymentId.toLowerCase(), actorOf(request), request.body?.amount), false),
  );

  const dateQuery = {
    type: 'object',
    additionalProperties: false,
    required: ['date'],
    properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } },
  } as const;
  const day = (date: string) => {
    // The pattern lets 2026-13-45 through: a real calendar day or 400.
    const d = new Date(`${date}T00:00:00Z`);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
      throw new AppError('VALIDATION_FAILED', `date ${date} is not a calendar day (YYYY-MM-DD)`, { field: 'date' });
    }
    return opts.payments.reconciliation.day(date);
  };
  app.get<{ Querystring: { date: string } }>(
    '/api/admin/payments',
    {
      onRequest: auth.admin,
      schema: {
        summary: "A day's payments, transfers and receipts, reconciled (src/services/reconciliation.ts)",
        querystring: dateQuery,
        response: {
          200: { type: 'object', additionalProperties: true, description: 'totals, byProcedure, payments, transfers, receipts, gaps' },
          ...errors,
        },
      },
    },
    async (request) => day(request.query.date),
  );
  app.get<{ Querystring: { date: string } }>(
    '/api/admin/payments.csv',
    {
      onRequest: auth.admin,
      schema: {
        summary: 'The same as CSV (UTF-8 with BOM, for a spreadsheet)',
        querystring: dateQuery,
        response: { 200: { description: 'one section per table', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    async (request, reply) => {
      const csv = opts.payments.reconciliation.csv(await day(request.query.date));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="payments-${request.query.date}.csv"`)
        .send(`\uFEFF${csv}`);
    },
  );

  // Refunds: the transfers whose money is due back (any day), and an admin's word that it went back.
  const transferItem = {
    type: 'object',
    additionalProperties: false,
    required: [
      'transferId',
      'provider',
      'providerTxId',
      'amount',
      'reference',
      'outcome',
      'refundDue',
      'bookedAt',
      'receivedAt',
      'refundedAt',
      'refundedBy',
      'refundReference',
    ],
    properties: {
      transferId: { type: 'string' },
      provider: { type: 'string' },
      providerTxId: { type: 'string' },
      amount: { type: 'integer', description: 'VND received' },
      reference: { type: ['string', 'null'], description: 'the payment reference found in its text, if any' },
      outcome: { type: 'string', enum: ['matched', 'wrong_amount', 'duplicate', 'late', 'unmatched'] },
      refundDue: { type: 'integer', description: 'VND due back to the payer (0: it paid its fee)' },
      bookedAt: { type: 'string', format: 'date-time' },
      receivedAt: { type: 'string', format: 'date-time' },
      refundedAt: { type: ['string', 'null'], format: 'date-time', description: 'when an admin recorded the refund as sent' },
      refundedBy: { type: ['string', 'null'] },
      refundReference: { type: ['string', 'null'], description: "the bank's reference of the refund" },
    },
  } as const;
  app.get(
    '/api/admin/refunds',
    {
      onRequest: auth.admin,
      schema: {
        summary: 'Transfers with money due back and no refund recorded yet, whatever their day, oldest first',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['refunds'],
            properties: { refunds: { type: 'array', items: transferItem } },
          },
          ...errors,
        },
      },
    },
    async () => ({ refunds: (await service.refundsOutstanding()).map(transferView) }),
  );
  app.post<{ Params: { transferId: string }; Body: { reference: string } }>(
    '/api/admin/transfers/:transferId/refund',
    {
      onRequest: auth.admin,
      schema: {
        summary: "Records the money due back on a transfer as sent to the payer, with the bank's reference of the refund",
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['transferId'],
          properties: { transferId: { type: 'string', pattern: UUID } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reference'],
          properties: {
            reference: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              pattern: '^ *[\\p{L}\\p{N}][\\p{L}\\p{N} ./_:#-]*$',
              description: "the bank's reference of the refund transfer (letters, digits, spaces and . / _ : # -)",
            },
          },
        },
        response: { 200: transferItem, ...errors },
      },
    },
    async (request) =>
      transferView(await service.recordRefund(request.params.transferId.toLowerCase(), request.body.reference.trim(), actorOf(request))),
  );

  // The simulated bank's controls exist only beside the simulated cabinet.
  const bank = opts.simulator ? payments.simBank : undefined;
  if (bank) {
    app.get(
      '/api/sim/payments',
      {
        schema: {
          summary: 'Simulator: the QR codes shown now (payments waiting for their transfer)',
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                required: ['paymentId', 'reference', 'amount', 'payBy'],
                properties: {
                  paymentId: { type: 'string' },
                  reference: { type: 'string' },
                  amount: { type: 'integer' },
                  payBy: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
      },
      async () =>
        (await service.awaiting()).map((p) => ({
          paymentId: p.id,
          reference: p.reference,
          amount: p.amount,
          payBy: p.payBy?.toISOString() ?? null,
        })),
    );
    app.post<{ Body: { reference: string; amount: number; delayMs?: number; notify?: boolean; description?: string } }>(
      '/api/sim/payments',
      {
        schema: {
          summary: 'Simulator: a citizen transfers money to the collecting account (right or wrong amount, late, silent webhook)',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['reference', 'amount'],
            properties: {
              reference: { type: 'string', maxLength: 40 },
              amount: { type: 'integer', minimum: 1, maximum: 500_000_000 },
              delayMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
              notify: { type: 'boolean' },
              description: { type: 'string', maxLength: 200 },
            },
          },
          response: { 202: { type: 'object', required: ['transactionId'], properties: { transactionId: { type: 'string' } } }, ...errors },
        },
      },
      async (request, reply) => {
        const { reference, amount, delayMs, notify, description } = request.body;
        // As a banking app sends it: the bank's own prefix, the reference, the citizen's words.
        const text = description ?? `MBVCB.${Math.floor(Math.random() * 1e7)}.${reference}.CT tu Nguyen Van A`;
        const { id } = bank.transfer({ amount, description: text, delayMs, notify });
        return reply.status(202).send({ transactionId: id });
      },
    );
    app.post<{ Params: { transactionId: string } }>(
      '/api/sim/payments/:transactionId/redeliver',
      {
        schema: {
          summary: "Simulator: the bank sends a transfer's notification again",
          params: {
            type: 'object',
            required: ['transactionId'],
            properties: { transactionId: { type: 'string', pattern: '^SIM[A-Z0-9]{12}$' } },
          },
          response: { 202: { type: 'object', properties: {} }, ...errors },
        },
      },
      async (request, reply) => {
        try {
          bank.redeliver(request.params.transactionId);
        } catch {
          throw new AppError('NOT_FOUND', 'no such simulated transaction');
        }
        return reply.status(202).send({});
      },
    );
  }

  const receiptOf = async (id: string): Promise<ReceiptRow> => {
    const r = await service.receipt(id.toUpperCase());
    if (!r) throw new AppError('RECEIPT_NOT_FOUND', 'no such receipt');
    return r;
  };
  const base = (request: { protocol: string; host: string }) => payments.publicUrl ?? `${request.protocol}://${request.host}`;

  app.get<{ Params: { receiptId: string } }>(
    '/r/:receiptId',
    {
      onRequest: lookup,
      schema: {
        summary: "A receipt's page (its short link, in its QR): the verdict on its signature, printable; no personal data",
        params: receiptParams,
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const r = await receiptOf(request.params.receiptId);
      const verifyUrl = `${base(request)}/r/${r.id}`;
      const html = await payments.receipts.html(r, payments.receipts.verify(r.body, r.signature), {
        verifyUrl,
        pdfUrl: `/r/${r.id}/pdf`,
      });
      return (
        reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('x-content-type-options', 'nosniff')
          // Everything is inline: its style, its QR (SVG), the print button's one line.
          .header(
            'content-security-policy',
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
          )
          .send(html)
      );
    },
  );
  app.get<{ Params: { receiptId: string } }>(
    '/r/:receiptId/pdf',
    {
      onRequest: lookup,
      schema: {
        summary: 'A receipt as a PDF (the citizen’s copy: Vietnamese fonts embedded)',
        params: receiptParams,
        response: {
          200: { description: 'PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const r = await receiptOf(request.params.receiptId);
      const pdf = await payments.receipts.pdf(r, `${base(request)}/r/${r.id}`);
      return reply.type('application/pdf').header('content-disposition', `inline; filename="bien-lai-${r.id}.pdf"`).send(Buffer.from(pdf));
    },
  );

  const verdict = {
    type: 'object',
    required: ['genuine'],
    properties: { genuine: { type: 'boolean' }, receiptId: { type: 'string' } },
  } as const;
  app.get<{ Params: { receiptId: string } }>(
    '/api/receipts/:receiptId',
    {
      onRequest: lookup,
      schema: {
        summary: 'A receipt as signed (the payer as a masked phone only), whether its signature holds, and whether it was voided',
        params: receiptParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errors },
      },
    },
    async (request) => {
      const r = await receiptOf(request.params.receiptId);
      // The body as signed (the payer only as its mask), so that anyone can check it with the public key.
      const genuine = payments.receipts.verify(r.body, r.signature);
      return { receiptId: r.id, genuine, voidedAt: r.voidedAt?.toISOString() ?? null, body: r.body, signature: r.signature };
    },
  );
  app.post<{ Body: { body: Record<string, unknown>; signature: string } }>(
    '/api/receipts/verify',
    {
      schema: {
        summary: "Checks a receipt's signature against the locker's public key: any altered field fails",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['body', 'signature'],
          properties: { body: { type: 'object', maxProperties: 40 }, signature: { type: 'string', maxLength: 200 } },
        },
        response: { 200: verdict, ...errors },
      },
    },
    async (request) => ({ genuine: payments.receipts.verify(request.body.body, request.body.signature) }),
  );
  app.get(
    '/api/receipts/public-key',
    {
      schema: {
        summary: "The locker's receipt-signing public key (Ed25519, SPKI PEM)",
        response: {
          200: {
            type: 'object',
            required: ['algorithm', 'publicKey'],
            properties: { algorithm: { type: 'string' }, publicKey: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ algorithm: 'Ed25519', publicKey: payments.receipts.publicKeyPem }),
  );
}
