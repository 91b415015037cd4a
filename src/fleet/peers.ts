/**
 * The fleet instances watch each other, so that a crash loses nothing (ADR 0023). Mosquitto 2.0
 * drops, with a crashed instance's session, the events it had handed that instance and not had
 * acknowledged, and its queued share behind them (ADR 0022); the lockers still have them in their
 * outboxes. So:
 * - every run of an instance has a row in `fleet_instances` (migrations/fleet/002_instances.sql)
 *   and beats in it every `heartbeatMs`, with `caught_up_at`: by then it had stored everything the
 *   broker had given it (FleetIngest.caughtUpAt). A planned stop that left the group with nothing
 *   in hand deletes the row, unless no other instance is running: then the fleet is down, the
 *   broker gives the lockers' events to nobody (ADR 0022), and the row stays, marked stopped;
 * - a row whose heartbeat is older than `staleMs`, one marked stopped, or one that an instance of
 *   the same name left behind (its last heartbeat before this run started: the same client id
 *   cannot be connected twice) belongs to a run whose share of the events nobody read. One live
 *   instance claims it (an UPDATE only one can win) and asks every locker it knows to publish again
 *   its events since `caught_up_at` less `marginMs` (`<base>/<lockerId>/replay`, docs/mqtt.md). A
 *   claim not done within `staleMs` (its claimant died too) may be taken over;
 * - an instance whose own link to the broker was lost and came back asks the same for itself: the
 *   broker ended its clean session and what it held for it;
 * - a locker that (re)connects to the broker (its `online` heard live, FleetIngest.onLockerConnected)
 *   is asked by one instance, which claims that connect in `fleet_lockers.replay_asked_at`
 *   (migrations/fleet/004_replay_on_reconnect.sql). A broker that restarted has lost the lockers'
 *   sessions: a request published before a locker was back on it went nowhere, though the broker
 *   acknowledged it, and what the broker had acknowledged to the locker and not delivered to the
 *   fleet died with it. `since` is the latest `at` of the locker's events the fleet holds, less
 *   `marginMs`, or earlier: the `since` of a request to every locker made after its previous
 *   connect (`fleet_replays`, each written before it goes out), which it may have missed; about
 *   the 24 h a locker replays at most when the fleet holds none of its events.
 * A request to every locker that some did not acknowledge (the broker slow, a PUBACK timed out)
 * goes again to those only, under the same request id and `since`, a heartbeat later, then twice
 * as long each time up to `retryMaxMs`; it is written to `fleet_replays` once. A dead run's request
 * is kept on its row (migrations/fleet/005_replay_retries.sql), so that the next claimant goes on
 * with it.
 * The fleet stores events once by id: what was not lost arrives twice and is counted a duplicate.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { replayTopic, type ReplayRequest } from '../events/topics.js';
import type { FleetIngest } from './ingest.js';

export interface FleetPeersTiming {
  /** How often this instance beats and looks at the others. Default 5 s. */
  heartbeatMs?: number;
  /**
   * A heartbeat older than this is a dead run. Default 60 s: more than the broker takes to drop a
   * hung instance (1.5 × its 30 s keepalive), so that none of the replay goes to it.
   */
  staleMs?: number;
  /** How much earlier than the dead run's `caught_up_at` the lockers replay from. Default 60 s (clocks apart, messages on the wire). */
  marginMs?: number;
  /**
   * A locker's connect is asked for once: an instance that hears of it within this long after
   * another instance claimed it takes it for the same connect. Default 2 s: both instances hear an
   * `online` at once, and two connects of one locker are further apart (its reconnect period,
   * `mqtt.reconnectPeriodMs`, is 2 s). An instance running behind the other asks a second time: a
   * duplicate, harmless.
   */
  connectClaimMs?: number;
  /**
   * How long after a locker's `online` its request goes out. Default 2 s: on its first connection
   * after a start, a locker subscribes to its replay topic just after it publishes `online`, and on
   * a mobile link the subscription can reach the broker a round trip later than the fleet's request.
   */
  connectDelayMs?: number;
  /**
   * A request some lockers did not acknowledge goes again to those a heartbeat later, then twice as
   * long each time, up to this. Default 5 min: a slow broker is not flooded, and each retry is a
   * replay back to the same `since` at the locker.
   */
  retryMaxMs?: number;
}

export interface FleetPeersOptions extends FleetPeersTiming {
  pool: pg.Pool;
  ingest: Pick<FleetIngest, 'caughtUpAt' | 'publish' | 'onLinkLost' | 'onLockerConnected' | 'stoppedCleanly'>;
  /** This instance's name (FLEET_INSTANCE). */
  instance: string;
  /** The lockers' `mqtt.baseTopic`. Default `atm247`. */
  baseTopic?: string;
  logger: Logger;
}

export interface PeersStatus {
  run: string;
  /**
   * Requests to every locker this instance wrote down (dead runs, its own lost link), and lockers
   * that acknowledged one (a retry counts only those it asked again).
   */
  replays: number;
  lockersAsked: number;
  /** Lockers this instance asked after they (re)connected to the broker (requests the broker acknowledged). */
  connectsAsked: number;
}

/** Requests published at once. */
const CONCURRENCY = 50;
/**
 * How far back a request on a connect reaches at most: an hour short of the 24 h a locker replays
 * at most (src/events/replay.ts, `maxWindowMs`), so that a locker whose clock is ahead does not
 * find it beyond that (it would cut it and log it).
 */
const CONNECT_REACH_MS = 23 * 3_600_000;

/** A request to every locker, until each has acknowledged it. */
interface Replay {
  since: Date;
  /** Whose events (a dead run's instance, or this one) and why (`fleet_replays.cause`). */
  instance: string;
  cause: string;
  /** Set once the request is written to `fleet_replays`. */
  requestId?: string;
  /** The lockers yet to acknowledge it; undefined: every locker known. */
  lockers?: string[];
  /** Rounds that left some unacknowledged. */
  attempts: number;
  /** Not sent again before this (ms since the epoch). */
  retryAt: number;
}

/** A locker back on the broker whose connect this instance claimed, not asked yet. */
interface Connect {
  since: Date;
  /** Not sent before this (ms since the epoch). */
  notBefore: number;
}

export class FleetPeers {
  private run = randomUUID();
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** Its own lost link, not yet asked for: the earliest moment to replay from. */
  private ownLoss: number | undefined;
  /** The request for its own lost link, until every locker has acknowledged it. */
  private ownReplay: Replay | undefined;
  /** Since when its heartbeats have all gone through (undefined while they fail). */
  private beatingSince: number | undefined;
  /** Its requests failed (its own link, most likely): it leaves dead runs to the others until then. */
  private holdOffUntil = 0;
  private readonly counts = { replays: 0, lockersAsked: 0, connectsAsked: 0 };
  /** Lockers back on the broker, claimed here, to be asked: by locker id. */
  private readonly connects = new Map<string, Connect>();
  private connectsTimer: NodeJS.Timeout | undefined;
  private asking: Promise<void> | undefined;

  constructor(private readonly options: FleetPeersOptions) {
    this.log = options.logger.child({ module: 'fleet-peers' });
    options.ingest.onLinkLost((caughtUpAt) => {
      this.ownLoss = Math.min(this.ownLoss ?? Infinity, caughtUpAt);
      this.kick();
    });
    options.ingest.onLockerConnected((lockerId) => this.lockerConnected(lockerId));
  }

  private get heartbeatMs(): number {
    return this.options.heartbeatMs ?? 5_000;
  }
  private get staleMs(): number {
    return this.options.staleMs ?? 60_000;
  }
  private get marginMs(): number {
    return this.options.marginMs ?? 60_000;
  }
  private get connectClaimMs(): number {
    return this.options.connectClaimMs ?? 2_000;
  }
  private get connectDelayMs(): number {
    return this.options.connectDelayMs ?? 2_000;
  }
  private get retryMaxMs(): number {
    return this.options.retryMaxMs ?? 300_000;
  }
  /** The wait before the next round of a request after `attempts` rounds that left some unacknowledged. */
  private retryDelay(attempts: number): number {
    return Math.min(this.retryMaxMs, this.heartbeatMs * 2 ** Math.min(Math.max(0, attempts - 1), 30));
  }

  status(): PeersStatus {
    return { run: this.run, ...this.counts };
  }

  /** Records this run, looks at once for dead runs (its own previous one first), then every heartbeat. */
  async start(): Promise<void> {
    await this.options.pool.query('INSERT INTO fleet_instances (run, instance) VALUES ($1, $2)', [this.run, this.options.instance]);
    this.log.info({ run: this.run }, 'fleet instance registered');
    this.timer = setInterval(() => this.kick(), this.heartbeatMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Stops beating. After a planned stop that lost nothing (FleetIngest.stoppedCleanly) the row
   * goes while another instance runs, and is marked stopped when none does: the next instance to
   * start asks the lockers for what they publish meanwhile. After any other stop it is left to go
   * stale, and another instance replays for this one.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.connectsTimer);
    await this.ticking;
    await this.asking;
    if (this.connects.size) {
      this.log.warn(
        { lockers: [...this.connects.keys()].slice(0, 10), count: this.connects.size },
        'stopping before asking lockers back on the broker',
      );
    }
    if (this.ownReplay) {
      this.log.warn(
        { requestId: this.ownReplay.requestId, since: this.ownReplay.since, lockers: this.ownReplay.lockers?.slice(0, 10) },
        'stopping before every locker acknowledged the request for its lost link',
      );
    }
    if (!this.options.ingest.stoppedCleanly) {
      this.log.warn({ run: this.run }, 'stopped with messages maybe lost; another instance will ask the lockers for them');
      return;
    }
    const client = await this.options.pool.connect().catch((err: unknown) => {
      this.log.warn({ err }, 'fleet instance row left as it was (database away); another instance will replay for it');
    });
    if (!client) return;
    try {
      await client.query('BEGIN');
      // Two instances stopping at once: one after the other, so that the second sees itself last.
      await client.query('SELECT pg_advisory_xact_lock(247249)');
      const { rows } = await client.query<{ others: number }>(
        `SELECT count(*)::int AS others FROM fleet_instances
          WHERE run <> $1 AND stopped_at IS NULL AND replay_by IS NULL
            AND seen_at >= now() - $2::double precision * interval '1 millisecond'`,
        [this.run, this.staleMs],
      );
      if (rows[0].others > 0) {
        await client.query('DELETE FROM fleet_instances WHERE run = $1', [this.run]);
      } else {
        await client.query('UPDATE fleet_instances SET stopped_at = now(), caught_up_at = now() WHERE run = $1', [this.run]);
        this.log.info(
          { run: this.run },
          'the last fleet instance stopped: the next to start asks the lockers for what they publish meanwhile',
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.log.warn({ err }, 'fleet instance row left as it was; another instance will replay for it');
    } finally {
      client.release();
    }
  }

  /** One round now (after the one under way). Resolves when it is done; never throws. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
      this.beatingSince ??= Date.now();
      if (this.ownLoss !== undefined) {
        // Lost again while the last request was still going out: the broker dropped, with the new
        // session, what the lockers had replayed for it too. A new request to every locker.
        let since = this.ownLoss - this.marginMs;
        if (this.ownReplay) since = Math.min(since, this.ownReplay.since.getTime());
        this.ownLoss = undefined;
        this.ownReplay = { since: new Date(since), instance: this.options.instance, cause: 'link lost', attempts: 0, retryAt: 0 };
        this.log.warn({ since: new Date(since) }, 'the link to the broker was lost: asking the lockers for what it held');
      }
      if (this.ownReplay && Date.now() >= this.ownReplay.retryAt) {
        const replay = this.ownReplay;
        if ((await this.askLockers(replay)) && this.ownReplay === replay) this.ownReplay = undefined;
      }
      for (const dead of await this.claim()) {
        if (this.stopped) break;
        const cause = dead.stopped_at ? 'fleet stopped' : 'instance gone';
        const replay: Replay = {
          since: dead.since,
          instance: dead.instance,
          cause,
          requestId: dead.replay_request_id ?? undefined,
          lockers: dead.replay_pending ?? undefined,
          attempts: dead.replay_attempts,
          retryAt: 0,
        };
        if (!replay.requestId) {
          this.log.warn(
            { deadRun: dead.run, deadInstance: dead.instance, lastHeartbeat: dead.seen_at, since: dead.since, cause },
            dead.stopped_at
              ? 'the fleet was stopped: asking the lockers for what they published meanwhile'
              : 'a fleet instance stopped without leaving: asking the lockers for what it held',
          );
        }
        if (await this.askLockers(replay, dead.run)) {
          await this.options.pool.query(
            `UPDATE fleet_instances SET replay_done_at = now(), replay_pending = '{}' WHERE run = $1 AND replay_by = $2`,
            [dead.run, this.run],
          );
        } else {
          // Released for an instance that can publish (or for this one, after the hold-off), with
          // the lockers yet to acknowledge and the back-off: the next claimant asks those only.
          await this.options.pool.query(
            `UPDATE fleet_instances SET replay_by = NULL, replay_claimed_at = NULL, replay_pending = $3, replay_attempts = $4,
                    replay_retry_at = now() + $5::double precision * interval '1 millisecond'
              WHERE run = $1 AND replay_by = $2`,
            [dead.run, this.run, replay.lockers, replay.attempts, this.retryDelay(replay.attempts)],
          );
          this.holdOffUntil = Date.now() + this.staleMs;
        }
      }
      await this.options.pool.query(`DELETE FROM fleet_instances WHERE replay_done_at < now() - interval '1 day'`);
      await this.options.pool.query(`DELETE FROM fleet_replays WHERE asked_at < now() - interval '1 day'`);
    } catch (err) {
      // The database away: nobody beats or claims meanwhile. A needless replay would be harmless.
      if (this.beatingSince !== undefined) this.log.warn({ err }, 'fleet heartbeat failed; trying again');
      this.beatingSince = undefined;
    }
  }

  /** This run's heartbeat. A run taken for dead meanwhile (its row claimed or gone) goes on as a new run. */
  private async beat(): Promise<void> {
    const { pool, ingest, instance } = this.options;
    const age = Math.max(0, Date.now() - ingest.caughtUpAt());
    const res = await pool.query(
      `UPDATE fleet_instances SET seen_at = now(), caught_up_at = now() - $2::double precision * interval '1 millisecond'
        WHERE run = $1 AND replay_by IS NULL`,
      [this.run, age],
    );
    if (res.rowCount) return;
    const run = randomUUID();
    await pool.query(
      `INSERT INTO fleet_instances (run, instance, caught_up_at) VALUES ($1, $2, now() - $3::double precision * interval '1 millisecond')`,
      [run, instance, age],
    );
    this.log.warn({ run, previous: this.run }, 'this instance was taken for dead (its heartbeat was late); going on as a new run');
    this.run = run;
  }

  /**
   * Runs gone that this instance won: stopped last, its own name's previous run, or stale; not
   * replayed yet; unclaimed or claimed by a run that died too. Stale ones only once its own
   * heartbeats have gone through for two periods: after a database outage the live instances get
   * the time to beat again first. None for a while after its own requests failed, nor a run whose
   * request is waiting out its back-off. `since`: that of the run's request if one was written.
   */
  private async claim(): Promise<
    {
      run: string;
      instance: string;
      seen_at: Date;
      stopped_at: Date | null;
      since: Date;
      replay_request_id: string | null;
      replay_pending: string[] | null;
      replay_attempts: number;
    }[]
  > {
    if (Date.now() < this.holdOffUntil) return [];
    const settled = this.beatingSince !== undefined && Date.now() - this.beatingSince >= 2 * this.heartbeatMs;
    const { rows } = await this.options.pool.query(
      `UPDATE fleet_instances SET replay_by = $1, replay_claimed_at = now()
        WHERE run <> $1 AND replay_done_at IS NULL
          AND (stopped_at IS NOT NULL
            OR (instance = $2 AND seen_at < (SELECT started_at FROM fleet_instances WHERE run = $1))
            OR ($5 AND seen_at < now() - $3::double precision * interval '1 millisecond'))
          AND (replay_by IS NULL OR replay_claimed_at < now() - $3::double precision * interval '1 millisecond')
          AND (replay_retry_at IS NULL OR replay_retry_at <= now())
        RETURNING run::text, instance, seen_at, stopped_at,
          coalesce((SELECT r.since FROM fleet_replays r WHERE r.request_id = fleet_instances.replay_request_id),
                   caught_up_at - $4::double precision * interval '1 millisecond') AS since,
          replay_request_id::text, replay_pending, replay_attempts`,
      [this.run, this.options.instance, this.staleMs, this.marginMs, settled],
    );
    return rows;
  }

  /**
   * Publishes a replay request to every locker the fleet knows, or, on a retry, to those that have
   * not acknowledged it yet; true when the broker acknowledged every one. The others are kept in
   * `replay.lockers`, and `replay.retryAt` set after the back-off. An acknowledgement is not a
   * delivery: a locker with no session on the broker (a broker that restarted has lost them) gets
   * nothing. So the request is written down first, once (with `run`: on that dead run's row too, in
   * the same statement), and a locker that connects after it is asked again from its `since`
   * (`lockerConnected`).
   */
  private async askLockers(replay: Replay, run?: string): Promise<boolean> {
    const { pool } = this.options;
    const first = !replay.requestId;
    if (!replay.requestId) {
      const requestId = randomUUID();
      await pool.query(
        `WITH r AS (INSERT INTO fleet_replays (request_id, since, cause) VALUES ($1, $2, $3) RETURNING request_id)
         UPDATE fleet_instances SET replay_request_id = (SELECT request_id FROM r) WHERE run = $4 AND replay_by = $5`,
        [requestId, replay.since, replay.cause, run ?? null, this.run],
      );
      replay.requestId = requestId;
    }
    replay.lockers ??= (await pool.query<{ locker_id: string }>('SELECT locker_id FROM fleet_lockers ORDER BY locker_id')).rows.map(
      (r) => r.locker_id,
    );
    const lockers = replay.lockers;
    const request: ReplayRequest = { since: replay.since.toISOString(), requestId: replay.requestId };
    const payload = JSON.stringify(request);
    const base = this.options.baseTopic ?? 'atm247';
    const failed: string[] = [];
    let firstError: unknown;
    for (let i = 0; i < lockers.length; i += CONCURRENCY) {
      const batch = lockers.slice(i, i + CONCURRENCY);
      const results = await Promise.allSettled(batch.map((lockerId) => this.options.ingest.publish(replayTopic(base, lockerId), payload)));
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') return;
        failed.push(batch[j]);
        firstError ??= r.reason;
      });
    }
    // Counted after its first round, with the lockers that acknowledged it.
    if (first) this.counts.replays += 1;
    this.counts.lockersAsked += lockers.length - failed.length;
    const line = {
      instance: replay.instance,
      cause: replay.cause,
      requestId: request.requestId,
      since: request.since,
      lockers: lockers.length,
      failed: failed.length,
      attempt: replay.attempts + 1,
    };
    replay.lockers = failed;
    if (failed.length) {
      replay.attempts += 1;
      const retryInMs = this.retryDelay(replay.attempts);
      replay.retryAt = Date.now() + retryInMs;
      this.log.warn(
        { ...line, retryInMs, notAcknowledged: failed.slice(0, 10), err: firstError },
        'replay requests not all acknowledged; asking those lockers again later',
      );
    } else this.log.info(line, 'lockers asked to publish their events again');
    return failed.length === 0;
  }

  /**
   * A locker has just connected to the broker (called by the ingest before it acknowledges the
   * `online`, so before this instance stores anything the locker publishes after it). Claims the
   * connect, unless another instance did within `connectClaimMs`, and queues the request. `since`:
   * - the latest `at` of the locker's events the fleet holds, less `marginMs`: what the broker had
   *   acknowledged to the locker and not delivered before it restarted was published after it. On
   *   the locker's own clock, which also dates its outbox;
   * - earlier if a request to every locker was made after the locker's previous connect: it may
   *   have gone to a broker the locker was not on;
   * - with none of its events held, or further back than a locker replays anyway: 23 h ago
   *   (CONNECT_REACH_MS).
   * One statement; throws when the database is away (the ingest tries the message again).
   */
  private async lockerConnected(lockerId: string): Promise<void> {
    if (this.stopped) return;
    const { rows } = await this.options.pool.query<{ since: Date }>(
      `UPDATE fleet_lockers l SET replay_asked_at = now()
         FROM fleet_lockers prev
        WHERE l.locker_id = $1 AND prev.locker_id = $1
          AND (l.replay_asked_at IS NULL OR l.replay_asked_at < now() - $2::double precision * interval '1 millisecond')
        RETURNING GREATEST(now() - $4::double precision * interval '1 millisecond', LEAST(
          coalesce((SELECT max(e.at) FROM fleet_events e WHERE e.locker_id = $1) - $3::double precision * interval '1 millisecond',
                   now() - $4::double precision * interval '1 millisecond'),
          (SELECT min(r.since) FROM fleet_replays r WHERE r.asked_at > coalesce(prev.replay_asked_at, '-infinity')))) AS since`,
      [lockerId, this.connectClaimMs, this.marginMs, CONNECT_REACH_MS],
    );
    if (!rows.length) return; // another instance has it
    const since = rows[0].since;
    const queued = this.connects.get(lockerId);
    this.connects.set(lockerId, {
      since: queued && queued.since < since ? queued.since : since,
      notBefore: Date.now() + this.connectDelayMs,
    });
    this.scheduleConnects();
  }

  /** Asks the queued lockers whose time has come, after the round under way; then waits for the next. */
  private scheduleConnects(): void {
    if (this.stopped || this.asking) return;
    clearTimeout(this.connectsTimer);
    const next = Math.min(...[...this.connects.values()].map((c) => c.notBefore));
    if (!Number.isFinite(next)) return;
    this.connectsTimer = setTimeout(
      () => {
        this.connectsTimer = undefined;
        this.asking = this.askConnects().finally(() => {
          this.asking = undefined;
          this.scheduleConnects();
        });
      },
      Math.max(0, next - Date.now()),
    );
    this.connectsTimer.unref();
  }

  /**
   * Publishes the requests of the lockers due, CONCURRENCY at a time, one request id each. One not
   * acknowledged (this instance's own link down) stays queued and goes out a heartbeat later.
   */
  private async askConnects(): Promise<void> {
    const base = this.options.baseTopic ?? 'atm247';
    const due = [...this.connects].filter(([, c]) => c.notBefore <= Date.now());
    let asked = 0;
    let failed = 0;
    let firstError: unknown;
    for (let i = 0; i < due.length && !this.stopped; i += CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + CONCURRENCY).map(async ([lockerId, connect]) => {
          const request: ReplayRequest = { since: connect.since.toISOString(), requestId: randomUUID() };
          try {
            await this.options.ingest.publish(replayTopic(base, lockerId), JSON.stringify(request));
          } catch (err) {
            failed += 1;
            firstError ??= err;
            connect.notBefore = Date.now() + this.heartbeatMs;
            return;
          }
          // A newer connect claimed meanwhile is queued under the same id with its own entry.
          if (this.connects.get(lockerId) === connect) this.connects.delete(lockerId);
          asked += 1;
          this.log.debug({ lockerId, ...request }, 'locker back on the broker asked to publish its events again');
        }),
      );
    }
    this.counts.connectsAsked += asked;
    const line = { lockers: asked, failed, waiting: this.connects.size };
    if (failed) this.log.warn({ ...line, err: firstError }, 'requests to lockers back on the broker not all acknowledged; asking again');
    else if (asked) this.log.info(line, 'lockers back on the broker asked to publish their events again');
  }
}
