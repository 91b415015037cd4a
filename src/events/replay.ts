/**
 * The locker's side of a replay (ADR 0023): the fleet service asks, on `<base>/<lockerId>/replay`,
 * for the events the locker has already sent since a moment, because a fleet instance crashed
 * holding some of them; the relay publishes them again (`OutboxRelay.replay`), with their own ids
 * on their own topics, in `seq` order, by its one worker.
 *
 * What keeps a request from costing the cabinet much: it reaches back `maxWindowMs` (24 h) at most
 * and publishes `maxRows` (1,000) at most at a time; one replay runs at a time, and the next starts
 * no sooner than `minIntervalMs` (10 s) after the one before. A replay cut at its row limit goes on
 * where it stopped as the next one, so that everything asked for goes out, 1,000 rows per 10 s.
 * Requests that come meanwhile are merged into that next one: one reaching back further starts it
 * from its own moment, a later one changes nothing. A storm of requests costs one replay per
 * interval. A request that is not the contract's payload is dropped with a log line.
 */
import type { Logger } from 'pino';
import type { MqttLink } from './mqtt-link.js';
import type { OutboxRelay } from './relay.js';
import { REPLAY_TOPIC, ReplayRequestSchema, type ReceivedTopic, type ReplayRequest } from './topics.js';

export interface ReplayOptions {
  /** How far back a request may reach; an earlier `since` is moved up to it. Default 24 h. */
  maxWindowMs?: number;
  /** Events published again per replay, at most. Default 1,000. */
  maxRows?: number;
  /** Least time between the starts of two replays. Default 10 s. */
  minIntervalMs?: number;
}

export interface ReplayResponderOptions extends ReplayOptions {
  link: MqttLink;
  relay: Pick<OutboxRelay, 'replay'>;
  logger: Logger;
}

/** Requests merged into the next replay. */
interface Pending {
  since: number;
  /** The `seq` a cut replay goes on after; null from the start of the window. */
  after: string | null;
  requestIds: string[];
}

/** Request ids named in one log line, at most (a storm is counted, not listed). */
const IDS_LOGGED = 10;

export class ReplayResponder {
  private readonly log: Logger;
  private pending: Pending | null = null;
  private running = false;
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** Requests dropped since the last line that said so (the lines are rate-limited too). */
  private dropped = 0;
  private droppedLoggedAt = -Infinity;
  private check: ((value: unknown) => boolean) | undefined;
  private readonly onMessage = (topic: ReceivedTopic, payload: Buffer) => {
    if (topic === REPLAY_TOPIC) void this.receive(payload);
  };

  constructor(private readonly options: ReplayResponderOptions) {
    this.log = options.logger.child({ module: 'outbox-replay' });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.link.on('message', this.onMessage);
    this.options.link.subscribe(REPLAY_TOPIC);
  }

  /** Stops taking requests; one merged and waiting is given up. A replay under way ends with the relay. */
  stop(): void {
    this.started = false;
    this.options.link.off('message', this.onMessage);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  /** Checks one request and merges it into the next replay. Never throws. */
  async receive(payload: Buffer): Promise<void> {
    const request = await this.parse(payload);
    if (!this.started) return;
    if (!request) return this.drop(payload);
    const since = Date.parse(request.since);
    if (this.pending) {
      // A continuation already covers a later moment from where it stopped: only an earlier one
      // starts it over (otherwise requests coming faster than a long replay's parts would keep it
      // at its first 1,000 rows for ever).
      if (since < this.pending.since) this.pending = { ...this.pending, since, after: null };
      this.pending.requestIds.push(request.requestId);
    } else {
      this.pending = { since, after: null, requestIds: [request.requestId] };
    }
    this.schedule();
  }

  private async parse(payload: Buffer): Promise<ReplayRequest | null> {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return null;
    }
    // Loaded on the first request, not at start: most lockers never get one (ADR 0019).
    if (!this.check) {
      const { default: Value } = await import('typebox/value');
      this.check = (v) => Value.Check(ReplayRequestSchema, v);
    }
    return this.check(value) && !Number.isNaN(Date.parse((value as ReplayRequest).since)) ? (value as ReplayRequest) : null;
  }

  private drop(payload: Buffer): void {
    this.dropped += 1;
    const now = Date.now();
    if (now - this.droppedLoggedAt < (this.options.minIntervalMs ?? 10_000)) return;
    this.log.warn(
      { dropped: this.dropped, payload: payload.toString('utf8').slice(0, 200) },
      'replay request outside the contract ({since, requestId}); ignored',
    );
    this.droppedLoggedAt = now;
    this.dropped = 0;
  }

  private schedule(): void {
    if (this.running || this.timer || !this.pending || !this.started) return;
    const wait = this.lastStart + (this.options.minIntervalMs ?? 10_000) - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
      this.timer.unref();
      return;
    }
    void this.run(this.pending);
  }

  private async run(request: Pending): Promise<void> {
    this.pending = null;
    this.running = true;
    this.lastStart = Date.now();
    const maxWindowMs = this.options.maxWindowMs ?? 24 * 3_600_000;
    const earliest = this.lastStart - maxWindowMs;
    const since = new Date(Math.max(request.since, earliest));
    const requests = { requestIds: request.requestIds.slice(0, IDS_LOGGED), requests: request.requestIds.length };
    try {
      if (request.since < earliest) {
        this.log.warn({ ...requests, asked: new Date(request.since).toISOString(), since }, 'replay reaches back too far; shortened');
      }
      const result = await this.options.relay.replay(since, this.options.maxRows ?? 1_000, request.after);
      const line = { ...requests, since, published: result.published, ...(request.after === null ? {} : { after: request.after }) };
      if (!result.ok) this.log.warn(line, 'replay given up (stopping)');
      else if (result.truncated && result.resumeAfter !== undefined) {
        this.log.info({ ...line, maxRows: this.options.maxRows ?? 1_000 }, 'replay cut at its row limit; the rest follows');
        const waiting = this.pending as Pending | null; // requests that came during this one
        if (!waiting || waiting.since >= since.getTime()) {
          // Goes on where it stopped; a request since a later moment is covered by it.
          const requestIds = [...request.requestIds, ...(waiting?.requestIds ?? [])];
          this.pending = { since: since.getTime(), after: result.resumeAfter, requestIds };
        } // else one reaching back further came: it starts from its own moment
      } else this.log.info(line, 'events published again on request');
    } catch (err) {
      this.log.error({ err, ...requests }, 'replay failed');
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
