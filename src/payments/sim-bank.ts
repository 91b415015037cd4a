/**
 * A simulated bank on 127.0.0.1 standing in for the district's real provider, so the locker takes
 * payments on a fresh machine and the tests drive the real webhook and polling paths: it books
 * transfers, notifies the webhook with a signed body (retrying like a provider would) and serves
 * its transaction list to the poller behind a bearer token.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { signBody } from './signature.js';

/** A booked transaction as the bank lists and notifies it. */
export interface SimTransaction {
  id: string;
  amount: number;
  description: string;
  /** ISO date-time. */
  bookedAt: string;
}

export interface SimulatedBankOptions {
  provider?: string;
  /** Signs the webhook notifications. */
  secret: string;
  /** The bearer token GET /transactions requires. */
  token: string;
  logger: Logger;
  /** 0 (the default) for an ephemeral port. */
  port?: number;
}

const MAX_TRIES = 8;
const FIRST_BACKOFF_MS = 500;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function simId(): string {
  let id = 'SIM';
  for (let i = 0; i < 12; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export class SimulatedBank {
  readonly provider: string;
  private readonly transactions: SimTransaction[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly server: http.Server;
  private webhook: string | null = null;
  private port: number | null = null;
  // Aborted by stop(): waiting deliveries give up.
  private readonly stopping = new AbortController();

  constructor(private readonly options: SimulatedBankOptions) {
    this.provider = options.provider ?? 'simbank';
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<void> {
    this.server.listen(this.options.port ?? 0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settled();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Its base URL: the transaction list is `${url}/transactions`. */
  get url(): string {
    if (this.port === null) throw new Error('the simulated bank is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where notifications go; null: nowhere (only the list shows the transfers). */
  setWebhook(url: string | null): void {
    this.webhook = url;
  }

  /** Every transaction booked, in booking order. */
  list(): SimTransaction[] {
    return this.transactions.map((tx) => ({ ...tx }));
  }

  /**
   * A citizen's transfer to the collecting account: booked at now + delayMs, and then notified
   * (unless `notify` is false: the webhook stays silent, as a real one sometimes does).
   */
  transfer(t: { amount: number; description: string; delayMs?: number; notify?: boolean }): { id: string } {
    if (!Number.isInteger(t.amount) || t.amount < 1) throw new RangeError('amount must be a positive whole number of VND');
    if (t.description.length > 500) throw new RangeError('description must be at most 500 characters');
    const delayMs = Math.max(0, t.delayMs ?? 0);
    const tx: SimTransaction = {
      id: simId(),
      amount: t.amount,
      description: t.description,
      bookedAt: new Date(Date.now() + delayMs).toISOString(),
    };
    this.transactions.push(tx);
    this.options.logger.info({ id: tx.id, amount: tx.amount, delayMs }, 'simulated bank: transfer booked');
    if (t.notify !== false) this.deliver(tx, delayMs);
    return { id: tx.id };
  }

  /** Posts a transaction's notification again, as a provider replaying its webhook would. */
  redeliver(id: string): void {
    const tx = this.transactions.find((x) => x.id === id);
    if (!tx) throw new RangeError(`no transaction ${id}`);
    this.deliver(tx, 0);
  }

  /** Resolves once no notification is waiting or being delivered. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private deliver(tx: SimTransaction, delayMs: number): void {
    const run = this.post(tx, delayMs).catch((err: unknown) => {
      if (!this.stopping.signal.aborted) this.options.logger.error({ id: tx.id, err }, 'simulated bank: delivery crashed');
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  private async post(tx: SimTransaction, delayMs: number): Promise<void> {
    const { signal } = this.stopping;
    const { logger } = this.options;
    if (delayMs > 0) await sleep(delayMs, undefined, { signal });
    const body = JSON.stringify({ transactions: [tx] });
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const url = this.webhook;
      if (!url) {
        logger.info({ id: tx.id }, 'simulated bank: no webhook set; the transfer is only listed');
        return;
      }
      let failure: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': signBody(this.options.secret, body, Date.now() / 1000) },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          logger.info({ id: tx.id, attempt }, 'simulated bank: webhook notified');
          return;
        }
        failure = `HTTP ${res.status}`;
      } catch (err) {
        if (signal.aborted) return;
        failure = (err as Error).name === 'TimeoutError' ? 'no answer in time' : 'network error';
      }
      if (attempt === MAX_TRIES) {
        logger.warn({ id: tx.id, attempt, failure }, 'simulated bank: webhook delivery given up');
        return;
      }
      const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
      logger.warn({ id: tx.id, attempt, failure, retryInMs: backoff }, 'simulated bank: webhook delivery failed; retrying');
      await sleep(backoff, undefined, { signal });
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/health') return reply(200, { ok: true });
    if (req.method !== 'GET' || url.pathname !== '/transactions') return reply(404, { error: 'not found' });
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return reply(401, { error: 'a valid bearer token is required' });
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam === null ? 0 : Date.parse(sinceParam);
    if (Number.isNaN(since)) return reply(400, { error: 'since must be an ISO date-time' });
    // Only what is booked by now: a transfer scheduled with a delay shows up when it happens.
    const now = Date.now();
    const transactions = this.transactions
      .filter((tx) => Date.parse(tx.bookedAt) >= since && Date.parse(tx.bookedAt) <= now)
      .sort((a, b) => a.bookedAt.localeCompare(b.bookedAt));
    reply(200, { transactions });
  }
}
