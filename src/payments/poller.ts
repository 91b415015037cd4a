/**
 * The polling fallback: when the provider's webhook is silent (down, misconfigured, a lost
 * notification), the daemon reads the provider's transaction list itself every interval and hands
 * each transfer to the sink. The sink is idempotent by provider id, so the windows overlap on
 * purpose: a transfer booked late (the bank's clock, a slow posting) is still seen.
 */
import type { Logger } from 'pino';
import type { TransferSink, TransferSource } from '../services/ports.js';
import { readTransferList } from './notifications.js';

export interface TransferPollerOptions {
  provider: string;
  /** The provider's transaction list; `?since=<ISO>` is added. */
  url: string;
  token: string;
  intervalMs: number;
  logger: Logger;
  now?: () => Date;
  /** How far each window reaches back before the newest transfer seen; 10 minutes by default. */
  overlapMs?: number;
  /** Where the first poll starts; `now - overlapMs` by default. */
  since?: Date;
  /** Per request; 15 s by default. */
  timeoutMs?: number;
}

const MAX_BACKOFF_MS = 60_000;
/** Consecutive failures after which status() reports the source unhealthy. */
const UNHEALTHY_AFTER = 3;

function isEmptyList(json: unknown): boolean {
  const list = typeof json === 'object' && json !== null ? (json as { transactions?: unknown }).transactions : undefined;
  return Array.isArray(list) && list.length === 0;
}

export class TransferPoller implements TransferSource {
  readonly name = 'poller';
  private readonly now: () => Date;
  private readonly overlapMs: number;
  private cursor: Date | null;
  private sink: TransferSink | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<number> | null = null;
  private running = false;
  private consecutiveFailures = 0;
  private totalFailures = 0;
  private lastError: string | null = null;
  private lastPollAt: Date | null = null;

  constructor(private readonly options: TransferPollerOptions) {
    this.now = options.now ?? (() => new Date());
    this.overlapMs = options.overlapMs ?? 10 * 60_000;
    this.cursor = options.since ?? null;
  }

  /** Where the next poll starts; null before the first poll (which looks back overlapMs from then). */
  get since(): Date | null {
    return this.cursor;
  }

  /** Failed polls since the start. */
  get failureCount(): number {
    return this.totalFailures;
  }

  start(sink: TransferSink): void {
    this.sink = sink;
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => {});
  }

  status(): { ok: boolean; detail?: string; lastPollAt?: string } {
    return {
      ok: this.consecutiveFailures < UNHEALTHY_AFTER,
      ...(this.consecutiveFailures > 0 ? { detail: `${this.consecutiveFailures} failed poll(s) in a row: ${this.lastError}` } : {}),
      ...(this.lastPollAt ? { lastPollAt: this.lastPollAt.toISOString() } : {}),
    };
  }

  /**
   * One poll now, after any poll in flight: how many transfers were handed to the sink. A failure
   * is counted and logged, then rethrown (the timer swallows it; a test may look at it).
   */
  pollOnce(): Promise<number> {
    const previous = this.inFlight?.catch(() => 0) ?? Promise.resolve(0);
    const run = previous.then(() => this.pollCounted());
    this.inFlight = run;
    return run;
  }

  private async pollCounted(): Promise<number> {
    try {
      const handed = await this.poll();
      this.consecutiveFailures = 0;
      this.lastPollAt = this.now();
      return handed;
    } catch (err) {
      this.consecutiveFailures++;
      this.totalFailures++;
      this.lastError = (err as Error).message;
      this.options.logger.warn(
        { provider: this.options.provider, failures: this.consecutiveFailures, err: this.lastError },
        'transfer poll failed',
      );
      throw err;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    // After failures the interval doubles each time, up to a minute (never below the interval).
    const { intervalMs } = this.options;
    const delay =
      this.consecutiveFailures === 0
        ? intervalMs
        : Math.max(intervalMs, Math.min(intervalMs * 2 ** this.consecutiveFailures, MAX_BACKOFF_MS));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pollOnce()
        .catch(() => {})
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  private async poll(): Promise<number> {
    const { sink } = this;
    if (!sink) throw new Error('the poller was not started');
    const since = (this.cursor ??= new Date(this.now().getTime() - this.overlapMs));
    const url = new URL(this.options.url);
    url.searchParams.set('since', since.toISOString());
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      // The name or code only in the message (what is logged): neither the URL nor the token.
      const e = err as Error & { cause?: { code?: unknown } };
      if (e.name === 'TimeoutError') throw new Error('no answer in time', { cause: err });
      throw new Error(`network error (${typeof e.cause?.code === 'string' ? e.cause.code : e.name})`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error('the provider answered something that is not JSON');
    }
    // An empty list is a quiet window, not an error (a notification needs at least one transfer).
    if (isEmptyList(json)) return 0;
    const { transfers, rejected } = readTransferList(this.options.provider, json);
    // Unreadable items are left out and said (the account receives transfers of every kind); the rest go on.
    if (rejected.length > 0)
      this.options.logger.warn({ rejected: rejected.slice(0, 5), count: rejected.length }, 'transactions in the list left out');
    let newest = 0;
    for (const t of transfers) {
      await sink.record(t);
      newest = Math.max(newest, t.bookedAt.getTime());
    }
    // Only now, every transfer of the page recorded: the cursor moves (never backwards).
    const next = newest - this.overlapMs;
    if (next > since.getTime()) this.cursor = new Date(next);
    return transfers.length;
  }
}
