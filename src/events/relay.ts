/**
 * The outbox relay (ADR 0004): publishes committed events on `events/<type>` (QoS 1) in `seq`
 * order and marks each one sent after its PUBACK.
 *
 * It runs a pass when a use case rings the OutboxSignal after commit, on every (re)connect, and on
 * a slow poll as a safety net. One pass at a time; a pass stops at the first failure, and the next
 * try waits out a growing backoff (a reconnect cuts the wait short). Delivery is at least once:
 * an event whose PUBACK or `sent_at` update got lost is published again with the same `id`.
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { countPending, type OutboxSignal } from './outbox.js';
import type { MqttLink } from './mqtt-link.js';
import { eventTopic, isEventType, type AnyEventEnvelope, type EventEnvelope, type EventType } from './topics.js';

export interface OutboxRelayOptions {
  db: Db;
  link: MqttLink;
  signal: OutboxSignal;
  lockerId: string;
  logger: Logger;
  /** Rows read per query. Default 100. */
  batchSize?: number;
  /** Safety-net poll. Default 1 s. */
  pollMs?: number;
  /** Backoff after a failed pass: starts at min, doubles up to max. Defaults 500 ms and 30 s. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface RelayPassResult {
  sent: number;
  /** false when the pass stopped on a failure (or had no connection). */
  ok: boolean;
}

interface OutboxRow {
  seq: string;
  id: string;
  type: string;
  payload: EventEnvelope;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OutboxRelay {
  private readonly log: Logger;
  private running: Promise<RelayPassResult> | null = null;
  private again = false;
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private started = false;
  private sentTotal = 0;
  private readonly onSignal = () => this.kick('signal');
  private readonly onConnect = () => {
    // A new connection: whatever failed before deserves a try now, not after the backoff.
    this.failures = 0;
    this.retryAt = 0;
    this.kick('connect');
  };

  constructor(private readonly options: OutboxRelayOptions) {
    this.log = options.logger.child({ module: 'outbox-relay' });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.signal.on('committed', this.onSignal);
    this.options.link.on('connect', this.onConnect);
    this.pollTimer = setInterval(() => this.kick('poll'), this.options.pollMs ?? 1_000);
    this.pollTimer.unref();
    this.kick('start');
  }

  /** Stops scheduling passes and waits for the one in progress. Call `drain()` first to flush. */
  async stop(): Promise<void> {
    this.started = false;
    this.options.signal.off('committed', this.onSignal);
    this.options.link.off('connect', this.onConnect);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pollTimer = this.retryTimer = null;
    await this.running?.catch(() => undefined);
  }

  /** Events sent since start (for /health and logs). */
  get sent(): number {
    return this.sentTotal;
  }

  /**
   * For shutdown: publishes everything pending while the broker is connected, for at most
   * `timeoutMs`; does not wait for a broker that is away. Resolves with the number of events
   * still unsent (0: all out; -1: the database did not answer). What is left goes out next start.
   */
  async drain(timeoutMs: number): Promise<{ pending: number }> {
    const { db, link, lockerId } = this.options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (link.connected) await this.runPass();
      const pending = await countPending(db.pool, lockerId).catch(() => -1);
      if (pending === 0) return { pending };
      if (!link.connected || Date.now() >= deadline) {
        this.log.warn({ pending, connected: link.connected }, 'outbox not drained at shutdown; events stay queued for the next start');
        return { pending };
      }
      await sleep(Math.min(100, deadline - Date.now()));
    }
  }

  /** Asks for a pass: runs one now, or right after the one in progress. */
  kick(reason: string): void {
    if (!this.started) return;
    if (Date.now() < this.retryAt) return; // backing off; the retry timer will come back
    if (this.running) {
      this.again = true;
      return;
    }
    if (!this.options.link.connected) return; // the connect event will bring us back
    this.log.trace({ reason }, 'outbox relay pass');
    void this.runPass().then(
      (result) => this.afterPass(result),
      () => undefined, // runPass does not throw
    );
  }

  /** Runs one pass, or joins the one in progress. Never throws. */
  runPass(): Promise<RelayPassResult> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private afterPass(result: RelayPassResult): void {
    if (result.ok) {
      this.failures = 0;
      if (this.again) {
        this.again = false;
        this.kick('again');
      }
      return;
    }
    this.again = false;
    if (!this.options.link.connected) return; // a reconnect drains
    this.failures += 1;
    const min = this.options.backoffMinMs ?? 500;
    const max = this.options.backoffMaxMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** (this.failures - 1));
    this.retryAt = Date.now() + delay;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = 0;
      this.kick('retry');
    }, delay);
    this.retryTimer.unref();
  }

  private async pass(): Promise<RelayPassResult> {
    const { db, link, lockerId } = this.options;
    const batchSize = this.options.batchSize ?? 100;
    let sent = 0;
    let after = '0';
    try {
      for (;;) {
        if (!link.connected) return { sent, ok: false };
        const { rows } = await db.query<OutboxRow>(
          // seq is read as text (bigint exceeds a JS number); order by the column, not that text.
          `SELECT o.seq::text AS seq, o.id::text AS id, o.type, o.payload FROM outbox o
            WHERE o.sent_at IS NULL AND o.locker_id = $1 AND o.seq > $2::bigint
            ORDER BY o.seq LIMIT $3`,
          [lockerId, after, batchSize],
        );
        for (const row of rows) {
          after = row.seq;
          if (!isEventType(row.type)) {
            // Written by a newer version, or by hand: not ours to publish. Leave it, keep going.
            await db.query(`UPDATE outbox SET attempts = attempts + 1 WHERE seq = $1`, [row.seq]);
            this.log.error({ seq: row.seq, id: row.id, type: row.type }, 'outbox event type not in the MQTT contract; skipped');
            continue;
          }
          try {
            await link.publish(eventTopic(row.type), envelopeOf(row, row.type, lockerId));
          } catch (err) {
            await db.query(`UPDATE outbox SET attempts = attempts + 1 WHERE seq = $1`, [row.seq]).catch(() => undefined);
            this.log.warn({ err, seq: row.seq, id: row.id, type: row.type, sent }, 'outbox publish failed; will retry');
            return { sent, ok: false };
          }
          await db.query(`UPDATE outbox SET sent_at = now() WHERE seq = $1`, [row.seq]);
          sent += 1;
          this.sentTotal += 1;
        }
        if (rows.length < batchSize) break;
      }
      if (sent > 0) this.log.debug({ sent }, 'outbox events published');
      return { sent, ok: true };
    } catch (err) {
      this.log.warn({ err, sent }, 'outbox relay pass failed (database); will retry');
      return { sent, ok: false };
    }
  }
}

/** The published envelope, keys in their documented order (jsonb does not keep them). */
function envelopeOf(row: OutboxRow, type: EventType, lockerId: string): AnyEventEnvelope {
  const p = row.payload;
  return { id: row.id, type, at: p.at, lockerId: p.lockerId ?? lockerId, data: p.data } as AnyEventEnvelope;
}
