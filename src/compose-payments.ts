/**
 * Part of the composition root (with controller.ts): the payment adapters around the payment
 * flow (issue 13, docs/payments.md). The receipts' signing key; the transfer sources — a real
 * provider's signed webhook (always offered) and its transaction list polled as a fallback, or,
 * with `payments.provider: simulator`, the simulated bank on loopback (paid from the simulator
 * panel), which notifies the webhook once the daemon listens and is polled meanwhile; the QR and
 * the receipts' page and PDF, handed to HTTP as functions.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from './config/load.js';
import { loadReceiptKey } from './config/secrets.js';
import type { Config } from './config/types.js';
import { verifyReceipt } from './domain/receipts.js';
import type { PaymentHttp } from './http/routes/payments.js';
import { parseTransfers } from './payments/notifications.js';
import { TransferPoller } from './payments/poller.js';
import { checkSignature } from './payments/signature.js';
import { SimulatedBank } from './payments/sim-bank.js';
import type { PaymentService } from './services/payments.js';
import type { PaymentStore } from './services/ports.js';
import { AppError } from './domain/errors.js';
import { ReconciliationService } from './services/reconciliation.js';
import type { Db } from './store/db.js';
import { PaymentRepository } from './store/payments.js';

/** How often the simulated bank's list is read while the daemon does not listen (tests, a start under way). */
const SIM_POLL_MS = 500;

export interface PaymentAdapters {
  http: PaymentHttp;
  /** The simulated bank (provider simulator), for the simulator panel. */
  simBank: SimulatedBank | null;
  start(): Promise<void>;
  /** The daemon listens at `baseUrl`: the simulated bank notifies its webhook from now on. */
  listening(baseUrl: string): void;
  stop(): Promise<void>;
  status(): { ok: boolean; detail?: string };
}

/**
 * The provider in effect: `auto` is the simulated bank beside the simulated cabinet and none beside
 * a real one (fees then all paid at the counter, as before payments came). The simulated bank
 * beside a real cabinet would let anyone "pay" a real tray open: refused.
 */
export function paymentProvider(config: Config): 'simulator' | 'bank' | 'none' {
  const { provider } = config.payments;
  const simulatedCabinet = config.hardware.driver === 'simulator';
  if (provider === 'auto') return simulatedCabinet ? 'simulator' : 'none';
  if (provider === 'simulator' && !simulatedCabinet) {
    throw new ConfigError(
      'payments.provider',
      'the simulated bank runs only beside the simulated cabinet (HARDWARE=simulator); use bank or none',
    );
  }
  return provider;
}

export function receiptKeyFor(config: Config, logger: Logger) {
  return loadReceiptKey(config, logger);
}

export function composePayments(u: {
  config: Config;
  db: Db;
  service: PaymentService;
  receiptKey: ReturnType<typeof loadReceiptKey>;
  log: (module: string) => Logger;
}): PaymentAdapters {
  const { config, service, receiptKey, log } = u;
  const p = config.payments;
  const kind = paymentProvider(config);
  if (kind === 'none' && (p.webhookSecret || p.poll.url)) {
    log('payments').warn(
      { provider: p.provider },
      'a payment provider is set up (webhook secret or poll URL) but payments.provider resolves to none: fees are all paid at the counter; set PAYMENT_PROVIDER=bank',
    );
  }
  const simulated = kind === 'simulator';
  if (kind === 'bank' && !p.webhookSecret) {
    throw new ConfigError('payments.webhookSecret', 'a bank provider signs its notifications: set PAYMENT_WEBHOOK_SECRET (32+ characters)');
  }
  const secret = p.webhookSecret ?? randomBytes(32).toString('base64url');
  const provider = simulated ? 'simbank' : 'bank';
  const simToken = randomBytes(24).toString('base64url');
  const simBank = simulated ? new SimulatedBank({ secret, token: simToken, logger: log('sim-bank') }) : null;
  let poller: TransferPoller | null = null;
  if (kind === 'bank' && p.poll.url) {
    if (!p.poll.token)
      throw new ConfigError('payments.poll.token', 'the provider list is read with a bearer token: set PAYMENT_POLL_TOKEN');
    poller = new TransferPoller({
      provider,
      url: p.poll.url,
      token: p.poll.token,
      intervalMs: p.poll.intervalSec * 1000,
      logger: log('payments-poll'),
    });
  }
  const payments: PaymentStore = new PaymentRepository(config.locker.id);
  const publicKeyPem = receiptKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  const http: PaymentHttp = {
    service,
    reconciliation: new ReconciliationService({ db: u.db, payments, timezone: config.locker.timezone }),
    readNotification(raw, signature) {
      if (!checkSignature(secret, raw, signature, Date.now() / 1000)) {
        throw new AppError('PAYMENT_SIGNATURE_INVALID', 'the notification is not signed with the provider secret (X-Signature)');
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AppError('PAYMENT_NOTIFICATION_INVALID', 'the notification is not JSON', { path: 'body' });
      }
      return parseTransfers(provider, json);
    },
    // Loaded with the first QR shown, not at start (vietnam-qr-pay, qrcode: ADR 0020).
    async qr(payment) {
      const { qrSvg, vietQrPayload } = await import('./payments/vietqr.js');
      const payload = vietQrPayload({
        bankBin: p.account.bankBin,
        accountNumber: p.account.accountNumber,
        amount: payment.amount,
        reference: payment.reference,
      });
      return { payload, svg: await qrSvg(payload) };
    },
    account: p.account,
    receipts: {
      publicKeyPem,
      verify: (body, signature) => verifyReceipt(body, signature, receiptKey.publicKey),
      // Loaded on the first receipt shown, not at start (pdf-lib, the fonts: ADR 0020).
      html: async (r, genuine, urls) =>
        (await import('./receipts/render.js')).receiptHtml({
          body: r.body,
          signature: r.signature,
          genuine,
          ...urls,
          voidedAt: r.voidedAt?.toISOString() ?? null,
        }),
      pdf: async (r, verifyUrl) => (await import('./receipts/render.js')).receiptPdf({ body: r.body, signature: r.signature, verifyUrl }),
    },
    publicUrl: p.publicUrl ?? null,
    ...(simBank ? { simBank } : {}),
  };

  return {
    http,
    simBank,
    async start() {
      if (simBank) {
        await simBank.start();
        // Until the daemon listens, its transfers come through the list (the same path as a real fallback).
        poller = new TransferPoller({
          provider,
          url: `${simBank.url}/transactions`,
          token: simToken,
          intervalMs: SIM_POLL_MS,
          logger: log('payments-poll'),
        });
      }
      poller?.start(service);
    },
    listening(baseUrl) {
      simBank?.setWebhook(`${baseUrl}/api/payments/webhook`);
    },
    async stop() {
      await poller?.stop();
      await simBank?.stop();
    },
    status() {
      return poller ? poller.status() : { ok: true };
    },
  };
}
