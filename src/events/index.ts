/**
 * The events unit: embedded broker (when no `MQTT_URL`), MQTT link, outbox relay, retained state
 * and the answer to the fleet's replay requests (ADR 0023), started and stopped together. The
 * constructor does nothing; `start()` does the work.
 *
 * Use cases get `signal` (ring it after a commit that enqueued events) and `retained`
 * (`publishRetained('occupancy', …)`); /health gets `status()`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Db, Queryable, TxQueryable } from '../store/db.js';
import type { EmbeddedBroker } from './broker.js';
import { MqttLink } from './mqtt-link.js';
import { OutboxSignal, countPending, writeEvent, type OutboxEntry } from './outbox.js';
import type { EventOutbox } from '../services/ports.js';
import { OutboxRelay, type OutboxRelayOptions } from './relay.js';
import { ReplayResponder, type ReplayOptions } from './replay.js';
import { RetainedState } from './retained.js';

export * from './topics.js';
export { enqueueEvent, writeEvent, OutboxSignal, countPending, type NewEvent, type OutboxEntry } from './outbox.js';
export { MqttLink, type MqttLinkOptions, type MqttLinkStatus, type PublishOptions } from './mqtt-link.js';
export { OutboxRelay, type OutboxRelayOptions, type RelayPassResult, type ReplayResult } from './relay.js';
export { RetainedState, type StateTopic } from './retained.js';
export { ReplayResponder, type ReplayOptions } from './replay.js';
export type { EmbeddedBroker, EmbeddedBrokerOptions } from './broker.js';

export interface EventsOptions {
  mqtt: Config['mqtt'];
  lockerId: string;
  db: Db;
  logger: Logger;
  /** Default `atm247-<lockerId>`. */
  clientId?: string;
  /** How long `stop()` keeps publishing pending events. Default 5 s. */
  drainTimeoutMs?: number;
  /** How long `start()` waits for the first connection before going on without. Default 5 s. */
  connectWaitMs?: number;
  /** Relay tuning (tests). */
  relay?: Pick<OutboxRelayOptions, 'batchSize' | 'pollMs' | 'backoffMinMs' | 'backoffMaxMs'>;
  /** Limits of the replays the fleet may ask for (tests). */
  replay?: ReplayOptions;
}

export interface EventsStatus {
  connected: boolean;
  broker: string;
  embedded: boolean;
  clientId: string;
  since: string | null;
  /** EventsUnit published since start. */
  sent: number;
}

export class EventsUnit {
  readonly signal = new OutboxSignal();
  private broker: EmbeddedBroker | null = null;
  private linkRef: MqttLink | null = null;
  private relayRef: OutboxRelay | null = null;
  private retainedRef: RetainedState | null = null;
  private replayRef: ReplayResponder | null = null;
  /** Transactions of `Db.tx` that wrote events and have not ended yet. */
  private openTx = 0;
  /** An event was written outside such a transaction since the relay was last woken. */
  private loose = false;

  constructor(private readonly options: EventsOptions) {}

  get link(): MqttLink {
    if (!this.linkRef) throw new Error('events unit not started');
    return this.linkRef;
  }

  get retained(): RetainedState {
    if (!this.retainedRef) throw new Error('events unit not started');
    return this.retainedRef;
  }

  get relay(): OutboxRelay {
    if (!this.relayRef) throw new Error('events unit not started');
    return this.relayRef;
  }

  async start(): Promise<void> {
    const { mqtt, logger, lockerId, db } = this.options;
    let url = mqtt.url;
    if (!url) {
      // Loaded only when it is used: a locker on the district's broker does not pay for aedes.
      const { EmbeddedBroker } = await import('./broker.js');
      this.broker = new EmbeddedBroker({ port: mqtt.embeddedPort, logger });
      url = (await this.broker.start()).url;
    }
    const link = new MqttLink({
      url,
      lockerId,
      baseTopic: mqtt.baseTopic,
      clientId: this.options.clientId,
      username: mqtt.username,
      password: mqtt.password,
      keepaliveSec: mqtt.keepaliveSec,
      reconnectPeriodMs: mqtt.reconnectPeriodMs,
      logger,
    });
    this.linkRef = link;
    this.retainedRef = new RetainedState(link, logger);
    this.relayRef = new OutboxRelay({ db, link, signal: this.signal, lockerId, logger, ...this.options.relay });
    this.replayRef = new ReplayResponder({ link, relay: this.relayRef, logger, ...this.options.replay });
    this.retainedRef.start();
    this.relayRef.start();
    this.replayRef.start();
    link.start();
    if (!(await link.waitConnected(this.options.connectWaitMs ?? 5_000))) {
      logger.warn({ broker: link.status().broker }, 'MQTT broker not reachable at start; events wait in the outbox');
    }
  }

  /** Publishes what is pending (bounded), says `offline`, disconnects, stops the embedded broker. */
  async stop(): Promise<void> {
    this.replayRef?.stop();
    if (this.relayRef) {
      await this.relayRef.drain(this.options.drainTimeoutMs ?? 5_000);
      await this.relayRef.stop();
    }
    this.retainedRef?.stop();
    await this.linkRef?.stop();
    await this.broker?.stop();
    this.broker = null;
  }

  status(): EventsStatus {
    const link = this.linkRef?.status();
    return {
      connected: link?.connected ?? false,
      broker: link?.broker ?? '',
      embedded: this.broker !== null,
      clientId: link?.clientId ?? '',
      since: link?.since ?? null,
      sent: this.relayRef?.sent ?? 0,
    };
  }

  /**
   * The use cases' outbox port: an event written in the caller's transaction (`enqueue`), the
   * relay woken once that transaction committed (`committed`).
   *
   * Events written in a transaction of `Db.tx` are handed to the relay by the transaction itself,
   * the moment its COMMIT succeeds (never before: nothing is published that is not recorded, and
   * nothing of a transaction that rolled back); `committed()` then has nothing left to wake the
   * relay for, unless an event was written outside such a transaction or another transaction
   * that wrote some is still open.
   */
  outbox(): EventOutbox {
    const { lockerId } = this.options;
    const written = new WeakMap<Queryable, OutboxEntry[]>();
    return {
      enqueue: async (q, type, data, at) => {
        const entry = await writeEvent(q, { lockerId, type, data, at });
        const tx = typeof (q as Partial<TxQueryable>).onEnd === 'function' ? (q as TxQueryable) : null;
        if (!tx) {
          this.loose = true;
          return { id: entry.id };
        }
        let entries = written.get(q);
        if (!entries) {
          const mine: OutboxEntry[] = (entries = []);
          written.set(q, mine);
          this.openTx += 1;
          tx.onEnd((committed) => {
            this.openTx -= 1;
            written.delete(q);
            if (committed) this.relayRef?.offer(mine);
          });
        }
        entries.push(entry);
        return { id: entry.id };
      },
      committed: () => {
        if (this.openTx === 0 && !this.loose) return;
        this.loose = false;
        this.signal.notify();
      },
    };
  }

  /** Unsent events in the outbox (a slower, database-backed figure for /health). */
  pending(): Promise<number> {
    return countPending(this.options.db.pool, this.options.lockerId);
  }
}
