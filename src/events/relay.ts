/**
 * The outbox relay (ADR 0004): publishes committed events on `events/<type>` (QoS 1) and marks
 * them sent after their PUBACK.
 *
 * Events written through the events unit's port are handed over the moment their transaction's
 * COMMIT succeeded (`offer`): published at once, in commit order, with no read of the outbox
 * first; never before the commit, so nothing goes out that is not recorded. Everything else is
 * read from the outbox in `seq` order by a pass: on the OutboxSignal, on every (re)connect, on a
 * slow poll as a safety net, and whenever the outbox may hold a backlog (at start, after a
 * failure), in which case handed-over events wait for the pass rather than overtake older ones.
 *
 * One worker at a time: handed-over events and passes never overlap, and an event published in a
 * run is not published again by the same run. A batch stops at the first failure; the next try
 * waits out a growing backoff (a reconnect cuts the wait short). Delivery is at least once: an
 * event whose PUBACK or `sent_at` update got lost is published again with the same `id`.
 *
 * The same worker publishes again, when the fleet asks (`replay()`, src/events/replay.ts, ADR
 * 0023), events already sent: a batch at a time, after whatever handed-over events and passes are
 * waiting, and a batch gives way between two rows as soon as new work comes, so that a new event
 * waits for one replayed row's PUBACK at most and nothing runs beside it.
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { countPending, type OutboxEntry, type OutboxSignal } from './outbox.js';
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

export interface ReplayResult {
  /** Events published again. */
  published: number;
  /** More events fell in the window than the replay's row limit allowed. */
  truncated: boolean;
  /** When cut: the `seq` the rest starts after (give it back to `replay` to go on). */
  resumeAfter?: string;
  /** false when the relay stopped before the replay ended. */
  ok: boolean;
}

/** A replay under way: where it is in the outbox and what is left of its row limit. */
interface ReplayJob {
  since: Date;
  /** The `seq` the next batch starts after; null until the window's first row has been looked up. */
  after: string | null;
  left: number;
  published: number;
  resolve: (result: ReplayResult) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OutboxRelay {
  private readonly log: Logger;
  /** The worker's run in progress: handed-over events and passes, one after the other. */
  private running: Promise<RelayPassResult> | null = null;
  /** A pass (a read of the outbox) is asked for. */
  private wantPass = false;
  /** Events handed over at their commit, not yet published. */
  private offered: OutboxRow[] = [];
  /** The last pass left nothing unsent and nothing failed since: handed-over events go out first. */
  private drained = false;
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private started = false;
  private sentTotal = 0;
  /** Replays asked for, oldest first; the first one is under way. */
  private replays: ReplayJob[] = [];
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
    this.offered = [];
    this.dropReplays();
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
    // What is unsent goes first; a replay asked for now is given up (the fleet's request was taken).
    this.dropReplays();
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

  /**
   * Events whose transaction has just committed (called at the commit, by the events unit): they
   * go out now, or after the pass their commit may have found running. Dropped when they cannot
   * go out now (no broker, backing off, stopped): they wait in the outbox for the next pass.
   */
  offer(entries: OutboxEntry[]): void {
    if (!entries.length) return;
    if (!this.started || !this.options.link.connected || Date.now() < this.retryAt) return;
    for (const e of entries) this.offered.push({ seq: e.seq, id: e.id, type: e.type, payload: e.payload as EventEnvelope });
    this.schedule();
  }

  /**
   * Publishes again the events of this locker that were sent (`sent_at`, set after the broker's
   * PUBACK) at or after `since`, however long before that they were written, in `seq` order, at
   * most `maxRows` of them: same ids, same topics, QoS 1, not marked again. The fleet's `since` is
   * when it lost track of what was published; an event written during an outage and published
   * just now is one it may have lost. Unsent events are the passes' business. Run by the worker a
   * batch at a time between its other work, giving way to new work between rows; one replay after
   * the other. Survives a lost link or database (it goes on after the reconnect or the backoff);
   * resolves when done, or with `ok: false` at `stop()`.
   */
  replay(since: Date, maxRows: number, after: string | null = null): Promise<ReplayResult> {
    if (!this.started) return Promise.resolve({ published: 0, truncated: false, ok: false });
    return new Promise((resolve) => {
      this.replays.push({ since, after, left: Math.max(0, maxRows), published: 0, resolve });
      if (Date.now() >= this.retryAt) this.schedule();
    });
  }

  private dropReplays(): void {
    for (const job of this.replays.splice(0)) job.resolve({ published: job.published, truncated: false, ok: false });
  }

  /** Asks for a pass: runs one now, or right after the work in progress. */
  kick(reason: string): void {
    if (!this.started) return;
    if (Date.now() < this.retryAt) return; // backing off; the retry timer will come back
    this.wantPass = true;
    if (!this.running) this.log.trace({ reason }, 'outbox relay pass');
    this.schedule();
  }

  /** Runs a pass (after the work in progress, if any) and resolves when the worker is idle. Never throws. */
  runPass(): Promise<RelayPassResult> {
    this.wantPass = true;
    return this.running ?? this.work();
  }

  private schedule(): void {
    if (this.running || !this.options.link.connected) return; // the connect event will bring us back
    void this.work().then(
      (result) => this.afterPass(result),
      () => undefined, // work() does not throw
    );
  }

  private afterPass(result: RelayPassResult): void {
    if (result.ok) {
      this.failures = 0;
      return;
    }
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

  /**
   * The worker: handed-over events and asked-for passes until there is nothing left. While the
   * outbox may hold a backlog, a pass comes first (it reads the handed-over events too: they were
   * committed before it started). Never throws.
   */
  private work(): Promise<RelayPassResult> {
    const { link } = this.options;
    /** Published (and marked, or to be marked) in this run: not published again by it. */
    const done = new Set<string>();
    const run = async (): Promise<RelayPassResult> => {
      // Not a step before `this.running` holds this run: its `finally` below must come after.
      await Promise.resolve();
      let sent = 0;
      try {
        for (;;) {
          if (!link.connected) return this.failed(sent);
          if (this.offered.length && (this.drained || !this.wantPass)) {
            const rows = this.offered.splice(0).filter((r) => !done.has(r.seq));
            const r = await this.publishRows(rows, done);
            sent += r.sent;
            if (!r.ok) return this.failed(sent);
          } else if (this.wantPass) {
            this.wantPass = false;
            // Everything handed over so far was committed before this read: the pass covers it.
            this.offered = [];
            const r = await this.pass(done);
            sent += r.sent;
            if (!r.ok) return this.failed(sent);
          } else if (this.replays.length) {
            // Last: new events (handed over, or found by a pass) go first, and a batch gives way
            // to any that come while it runs (replayBatch).
            if (!(await this.replayBatch(this.replays[0]))) return this.failed(sent);
          } else {
            if (sent > 0) this.log.debug({ sent }, 'outbox events published');
            return { sent, ok: true };
          }
        }
      } finally {
        // Synchronously with the last check above: work asked for from now on starts a new run.
        this.running = null;
      }
    };
    this.running = run();
    return this.running;
  }

  private failed(sent: number): RelayPassResult {
    this.drained = false;
    this.offered = [];
    return { sent, ok: false };
  }

  /** Reads the outbox in `seq` order and publishes what is unsent. */
  private async pass(done: Set<string>): Promise<RelayPassResult> {
    const { db, lockerId } = this.options;
    const batchSize = this.options.batchSize ?? 100;
    let sent = 0;
    let after = '0';
    try {
      for (;;) {
        if (!this.options.link.connected) return { sent, ok: false };
        const { rows } = await db.query<OutboxRow>(
          // seq is read as text (bigint exceeds a JS number); order by the column, not that text.
          `SELECT o.seq::text AS seq, o.id::text AS id, o.type, o.payload FROM outbox o
            WHERE o.sent_at IS NULL AND o.locker_id = $1 AND o.seq > $2::bigint
            ORDER BY o.seq LIMIT $3`,
          [lockerId, after, batchSize],
        );
        if (rows.length) after = rows[rows.length - 1].seq;
        const r = await this.publishRows(
          rows.filter((row) => !done.has(row.seq)),
          done,
        );
        sent += r.sent;
        if (!r.ok) return { sent, ok: false };
        if (rows.length < batchSize) break;
      }
      this.drained = true;
      return { sent, ok: true };
    } catch (err) {
      this.log.warn({ err, sent }, 'outbox relay pass failed (database); will retry');
      return { sent, ok: false };
    }
  }

  /** Handed-over events or a pass are waiting: a replay's batch gives way to them. */
  private get newWork(): boolean {
    return this.offered.length > 0 || this.wantPass;
  }

  /**
   * One batch of a replay: the next rows of the window (sent at or after `since`) in `seq` order,
   * published again as a pass publishes them (same topic, same envelope). The batch stops before
   * its next row when new work is waiting; the replay stays after the last row it published and
   * goes on once the worker has done that work. The replay ends (and resolves) when the window is
   * exhausted or its row limit reached. False on a failure: the replay goes on with the worker's
   * next run, after the last row it published.
   */
  private async replayBatch(job: ReplayJob): Promise<boolean> {
    const { db, link, lockerId } = this.options;
    const finish = (truncated: boolean) => {
      if (this.replays[0] === job) this.replays.shift(); // not if given up meanwhile (resolved then)
      job.resolve(
        truncated && job.after !== null
          ? { published: job.published, truncated, ok: true, resumeAfter: job.after }
          : { published: job.published, truncated, ok: true },
      );
      return true;
    };
    try {
      if (job.after === null) {
        // Where the window starts, read from outbox_sent_at (migrations/013_outbox_sent_at.sql):
        // the batches then walk the primary key from there, not every sent row from the first
        // one. A plain min(seq) would be planned as a walk of the primary key from its first row,
        // the window's rows being the newest; the materialized CTE keeps the scan on the window.
        const { rows } = await db.query<{ after: string | null }>(
          `WITH w AS MATERIALIZED (SELECT seq FROM outbox WHERE locker_id = $1 AND sent_at IS NOT NULL AND sent_at >= $2)
           SELECT (min(seq) - 1)::text AS after FROM w`,
          [lockerId, job.since],
        );
        if (rows[0].after === null) return finish(false);
        job.after = rows[0].after;
      }
      if (job.left === 0) {
        const { rows } = await db.query(
          `SELECT 1 FROM outbox WHERE locker_id = $1 AND sent_at IS NOT NULL AND sent_at >= $2 AND seq > $3::bigint LIMIT 1`,
          [lockerId, job.since, job.after],
        );
        return finish(rows.length > 0);
      }
      const limit = Math.min(this.options.batchSize ?? 100, job.left);
      const { rows } = await db.query<OutboxRow>(
        `SELECT o.seq::text AS seq, o.id::text AS id, o.type, o.payload FROM outbox o
          WHERE o.locker_id = $1 AND o.sent_at IS NOT NULL AND o.sent_at >= $2 AND o.seq > $3::bigint
          ORDER BY o.seq LIMIT $4`,
        [lockerId, job.since, job.after, limit],
      );
      for (const [i, row] of rows.entries()) {
        // A replay given up at stop() or drain() ends here. Between two rows, new work goes first:
        // the worker comes back to this replay after it (one row at least per turn, so it ends).
        if (this.replays[0] !== job || (i > 0 && this.newWork)) return true;
        // A type outside the contract was never published (see publishRows): nothing to repeat.
        if (isEventType(row.type)) {
          await link.publish(eventTopic(row.type), envelopeOf(row, row.type, lockerId));
          job.published += 1;
        }
        job.after = row.seq;
        job.left -= 1;
      }
      return rows.length < limit ? finish(false) : true;
    } catch (err) {
      this.log.warn({ err, published: job.published }, 'outbox replay interrupted; will go on');
      return false;
    }
  }

  /**
   * Publishes rows in order, each after the PUBACK of the one before, then marks those acknowledged
   * sent in one statement. Stops at the first failure. Never throws.
   */
  private async publishRows(rows: OutboxRow[], done: Set<string>): Promise<RelayPassResult> {
    const { db, link, lockerId } = this.options;
    const acked: string[] = [];
    let ok = true;
    try {
      for (const row of rows) {
        done.add(row.seq);
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
          this.log.warn({ err, seq: row.seq, id: row.id, type: row.type, sent: acked.length }, 'outbox publish failed; will retry');
          ok = false;
          break;
        }
        acked.push(row.seq);
      }
    } catch (err) {
      this.log.warn({ err, sent: acked.length }, 'outbox relay failed (database); will retry');
      ok = false;
    }
    if (acked.length) {
      try {
        await db.query(`UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [acked]);
      } catch (err) {
        // Published but not marked: they go out again (same ids) on a later pass.
        this.log.warn({ err, sent: acked.length }, 'outbox events published but not marked sent; will retry');
        return { sent: 0, ok: false };
      }
      this.sentTotal += acked.length;
    }
    return { sent: acked.length, ok };
  }
}

/** The published envelope, keys in their documented order (jsonb does not keep them). */
function envelopeOf(row: OutboxRow, type: EventType, lockerId: string): AnyEventEnvelope {
  const p = row.payload;
  return { id: row.id, type, at: p.at, lockerId: p.lockerId ?? lockerId, data: p.data } as AnyEventEnvelope;
}
