/**
 * The fleet service's MQTT side: it reads what every locker publishes (the topic contract of
 * src/events/topics.ts, docs/mqtt.md) and stores it (src/fleet/store.ts), over MQTT 5 (ADR 0022):
 * - the **events** through a shared subscription, `$share/<group>/<base>/+/events/#`: two or more
 *   instances split them; an instance that stops leaves the group first and stores what it was
 *   sent, and the broker gives everything to the others from then on. Each event is stored once,
 *   by its id, however often it is delivered;
 * - the **retained state** (`availability`, `occupancy`, `trays/<n>`, `rounds/next`) through a
 *   plain subscription of each instance: a shared subscription gets no retained messages, and an
 *   instance that starts must see every locker's state at once. Newer-wins writes make the
 *   double delivery harmless.
 * A message is acknowledged (PUBACK) only once it is stored, and messages are stored in batches
 * (ADR 0026): what arrives while a batch is being written is the next batch, one transaction and
 * one notification per changed locker each, its PUBACKs sent in order after the commit. The broker
 * sends at most `receiveMaximum` messages not yet acknowledged, which bounds the memory a database
 * away can take and the work lost with a crash (MAX_BATCH bounds a batch). A payload outside the contract is
 * counted, logged and acknowledged (delivering it again would not make it valid); it is never stored.
 *
 * What the broker drops with a session (a crash, a lost link: ADR 0022) is asked of the lockers
 * again (src/fleet/peers.ts, ADR 0023): this side says since when it had stored everything it was
 * given (`caughtUpAt`), publishes the requests (`publish`), reports a lost link (`onLinkLost`) and
 * a locker that has just (re)connected to the broker (`onLockerConnected`).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import {
  EVENT_PAYLOADS,
  isEventType,
  OccupancySchema,
  RoundNextSchema,
  TrayStateSchema,
  type EventType,
  type OccupancyPayload,
  type RoundNextPayload,
  type TrayPayload,
} from '../domain/events.js';
import type { FleetStore, FleetWrite } from './store.js';

export interface FleetIngestOptions {
  url: string;
  username?: string;
  password?: string;
  /** The lockers' `mqtt.baseTopic`. Default `atm247`. */
  baseTopic?: string;
  /** The shared subscription's group: every instance of one fleet service uses the same. Default `fleet`. */
  group?: string;
  /** This instance's name (its client id is `atm247-fleet-<instance>`): stable across restarts. */
  instance: string;
  store: FleetStore;
  logger: Logger;
  /**
   * How many messages the broker may send before this instance has acknowledged them (MQTT 5's
   * Receive Maximum): what a database away can hold in memory. Default 6,000: three batches (one
   * being written, the next gathering, more on the way), so the broker never waits on a commit in a
   * burst (ADR 0030).
   */
  receiveMaximum?: number;
  /** The MQTT keepalive, seconds. Default 30. */
  keepaliveSec?: number;
}

export interface IngestStatus {
  connected: boolean;
  /** Messages stored, or found stored already (state payloads superseded: see below); not the duplicates. */
  stored: number;
  duplicates: number;
  /** State payloads found stored already, as new or newer (mostly the other instances' copies): not written again. */
  superseded: number;
  rejected: number;
  /** Batches not stored at a try (the database away): each is tried again. */
  failed: number;
  /** Batches stored, and the largest. */
  batches: number;
  largestBatch: number;
  /** Messages received and not yet acknowledged. */
  inHand: number;
}

/** A message received: what it gives to store, and its PUBACK until that is stored. */
interface Item {
  topic: string;
  write: FleetWrite | null;
  /** A live `online`: the locker that has just connected to the broker. */
  connected?: string;
  /** Sends the PUBACK held back by mqtt.js's `_sendPacket` (QoS 1). */
  ack?: () => void;
  /** The link it came on: a PUBACK never goes out on a later one (its id would name another message). */
  link: number;
}

/** mqtt.js's packet writer, through which its PUBACKs go: see `holdAcks`. */
type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/** More than one commit's worth: a batch is what arrived while the one before was written, up to this. */
const MAX_BATCH = 2_000;
/** The broker's window (MQTT 5 Receive Maximum): three batches (ADR 0030). */
export const DEFAULT_RECEIVE_MAXIMUM = 3 * MAX_BATCH;

const LOCKER_LEVEL = /^[A-Za-z0-9_.-]{1,64}$/;
/**
 * No message in hand for this long means the broker had nothing more for this instance: it sends
 * the next message it holds for a client as soon as that client acknowledges the one before. More
 * than a round trip to the broker.
 */
const QUIET_MS = 200;

/** PostgreSQL's answer to what a message holds (cardinality, data, integrity: SQLSTATE 21, 22, 23), not to its being away. */
function refusedForGood(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(21|22|23)[0-9A-Z]{3}$/.test(code);
}

/** A deadlock or serialization failure (another instance's batch): tried again at once. */
function lostARace(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

export class FleetIngest {
  private client: MqttClient | undefined;
  private readonly base: string;
  private readonly group: string;
  private readonly log: Logger;
  private readonly counts = { stored: 0, duplicates: 0, superseded: 0, rejected: 0, failed: 0, batches: 0, largestBatch: 0 };
  private readonly validators: {
    occupancy: ValidateFunction;
    tray: ValidateFunction;
    round: ValidateFunction;
    envelope: ValidateFunction;
    events: Map<EventType, ValidateFunction>;
  };

  constructor(private readonly options: FleetIngestOptions) {
    this.base = options.baseTopic ?? 'atm247';
    this.group = options.group ?? 'fleet';
    this.log = options.logger.child({ module: 'fleet-ingest' });
    const ajv = new Ajv({ strict: false, allErrors: false });
    addFormats.default(ajv);
    const compile = (schema: TSchema) => ajv.compile(schema as object);
    this.validators = {
      occupancy: compile(OccupancySchema),
      tray: compile(TrayStateSchema),
      round: compile(RoundNextSchema),
      envelope: ajv.compile({
        type: 'object',
        required: ['id', 'type', 'at', 'lockerId', 'data'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          type: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          lockerId: { type: 'string' },
          data: {},
        },
      }),
      events: new Map(Object.entries(EVENT_PAYLOADS).map(([type, schema]) => [type as EventType, compile(schema)])),
    };
  }

  /** The subscriptions: state for this instance, events shared with the group. */
  get filters(): string[] {
    const state = ['availability', 'occupancy', 'trays/+', 'rounds/next'].map((t) => `${this.base}/+/${t}`);
    return [...state, `$share/${this.group}/${this.base}/+/events/#`];
  }

  /** Connects and subscribes; resolves once subscribed. Reconnects by itself afterwards. */
  async start(): Promise<void> {
    const o = this.options;
    const client = mqtt.connect(o.url, {
      protocolVersion: 5,
      clientId: `atm247-fleet-${o.instance}`,
      username: o.username,
      password: o.password,
      // No session kept after a disconnect: an instance that stops leaves the shared subscription,
      // and the broker gives the events to the others at once instead of queueing its share (ADR 0022).
      clean: true,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      // The broker drops a hung instance after 1.5 × this (its share then stops going to it): well
      // within the staleness after which another instance takes it for dead (src/fleet/peers.ts).
      keepalive: o.keepaliveSec ?? 30,
      properties: { receiveMaximum: o.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM },
    });
    this.client = client;
    this.holdAcks(client);
    // Each message is taken at once (mqtt.js reads the next as soon as this returns, the broker's
    // PINGRESP too: a backlog never starves the keepalive) and its PUBACK held until it is stored.
    // While the database is away the batch is tried again and the broker, its window full, waits;
    // if this instance stops meanwhile, nothing it had not stored was acknowledged.
    client.handleMessage = (packet, done) => {
      this.noteCaughtUp(); // the quiet before this message, if it was long enough
      this.idleSince = undefined;
      const item = this.read(packet as IPublishPacket);
      this.queue.push(item);
      this.receiving = item;
      try {
        done(); // mqtt.js hands its PUBACK to `_sendPacket` now: held on the item
      } finally {
        this.receiving = undefined;
      }
      void this.drain();
    };
    client.on('error', (err) => this.log.warn({ err }, 'fleet MQTT error'));
    // The broker ends the (clean) session with the link, and with it the messages it had for this
    // instance and not yet had acknowledged: the same loss as a crash, told to whoever asks the lockers.
    client.on('close', () => {
      if (this.linkUp && !this.stopping) this.lostCaughtUpAt ??= this.caughtUpAt();
      this.linkUp = false;
      this.link += 1;
    });
    client.on('connect', () => {
      this.linkUp = true;
      const since = this.lostCaughtUpAt;
      this.lostCaughtUpAt = undefined;
      if (since !== undefined) for (const listener of this.linkLostListeners) listener(since);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    this.linkUp = true;
    this.idleSince = this.caughtUp = Date.now();
    await client.subscribeAsync(Object.fromEntries(this.filters.map((topic) => [topic, { qos: 1 as const }])));
    this.log.info({ filters: this.filters }, 'fleet subscribed');
  }

  /**
   * Leaves its subscriptions first (the shared one: the broker sends the events to the other
   * instances from then on), stores what it had already sent here, then disconnects: a planned
   * stop (a rolling restart) loses nothing. A crash cannot do this (ADR 0022).
   */
  async stop(): Promise<void> {
    const client = this.client;
    const deadline = Date.now() + 5_000;
    let left = false;
    if (client?.connected) {
      // Every subscription, the state's too: what keeps arriving would keep this instance from
      // ever having nothing in hand. Not longer than the deadline: a broker that does not answer.
      left = await Promise.race([
        client.unsubscribeAsync(this.filters).then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))),
      ]);
      while (Date.now() < deadline && (this.busy || Date.now() - this.lastDoneAt < 100)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    // Clean: it left the group and stored what it had been sent, or it had no session to lose.
    this.stoppedCleanly = client?.connected ? left && !this.busy : this.lostCaughtUpAt === undefined;
    this.stopping = true;
    await client?.endAsync(!client.connected).catch(() => undefined);
    this.client = undefined;
  }

  private stopping = false;
  /** Received, not yet stored (and not acknowledged), in order. */
  private readonly queue: Item[] = [];
  /** The item whose PUBACK mqtt.js is about to send (inside `handleMessage`). */
  private receiving: Item | undefined;
  private draining = false;
  /** Counts the links: a PUBACK goes out on the link its message came on, or not at all. */
  private link = 0;
  private lastDoneAt = 0;
  /** When the last message was done with (no message in hand since), or undefined while one is. */
  private idleSince: number | undefined = Date.now();
  private caughtUp = Date.now();
  private linkUp = false;
  /** `caughtUpAt()` when the link was lost, until the next connect reports it. */
  private lostCaughtUpAt: number | undefined;
  private readonly linkLostListeners: ((caughtUpAt: number) => void)[] = [];
  private readonly connectedListeners: ((lockerId: string) => Promise<void>)[] = [];
  /** After `stop()`: whether it left the group with nothing in hand (a planned stop that lost nothing). */
  stoppedCleanly = false;

  /**
   * A moment (ms since the epoch) by which this instance had stored every message the broker had
   * given it: the last time it had no message in hand for QUIET_MS, less QUIET_MS. What the broker
   * drops with this instance's session was published after it.
   */
  caughtUpAt(): number {
    this.noteCaughtUp();
    return this.caughtUp;
  }

  private noteCaughtUp(): void {
    if (this.idleSince === undefined) return;
    const now = Date.now();
    if (now - this.idleSince >= QUIET_MS) this.caughtUp = Math.max(this.caughtUp, now - QUIET_MS);
  }

  /**
   * Called, after a lost link came back, with `caughtUpAt()` as it was when the link went: the
   * messages the broker had for this instance then are gone with the session.
   */
  onLinkLost(listener: (caughtUpAt: number) => void): void {
    this.linkLostListeners.push(listener);
  }

  /**
   * Called when a locker's `online` arrives as a live message: the locker has just connected to the
   * broker (it publishes `online` on every connect). Not for the retained `online` a subscription is
   * given when it is made (MQTT's retain flag is set on that delivery only). Waited for before the
   * message is acknowledged, so before this instance stores anything the locker publishes after it;
   * a listener that throws has the message tried again, as a database away does.
   */
  onLockerConnected(listener: (lockerId: string) => Promise<void>): void {
    this.connectedListeners.push(listener);
  }

  /**
   * Publishes one message, QoS 1, not retained (the replay requests: the broker's ACL lets the
   * fleet's user write nothing else). Resolves on PUBACK; rejects when not connected, refused, or
   * not acknowledged within `timeoutMs`.
   */
  async publish(topic: string, payload: string, timeoutMs = 10_000): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('fleet MQTT not connected');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.publishAsync(topic, payload, { qos: 1, retain: false }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get busy(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Holds the PUBACKs mqtt.js sends once `handleMessage` is done with a message: each waits on its
   * item until the batch holding it is stored. mqtt.js has no public way to acknowledge later while
   * reading on (its `handleMessage` callback both lets it read the next packet and sends the
   * PUBACK), so its packet writer is wrapped for that one packet; the rest goes through unchanged.
   */
  private holdAcks(client: MqttClient): void {
    const inner = client as unknown as { _sendPacket: SendPacket };
    const send: SendPacket = inner._sendPacket.bind(client);
    inner._sendPacket = (packet, cb, ...rest) => {
      const item = this.receiving;
      if (packet.cmd !== 'puback' || !item) return send(packet, cb, ...rest);
      item.ack = () => send(packet);
      cb?.(); // mqtt.js reads the next packet
    };
  }

  /** Stores what is in hand, a batch at a time, and acknowledges each batch once stored. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      await this.drainQueue();
    } finally {
      this.draining = false; // at once after the queue was seen empty: a message received later starts another
    }
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      let size = Math.min(this.queue.length, MAX_BATCH);
      // A live `online` ends its batch: what the locker publishes after it is stored after the listeners ran.
      const cut = this.queue.findIndex((item, i) => i < size && item.connected !== undefined);
      if (cut >= 0) size = cut + 1;
      const batch = this.queue.slice(0, size);
      const started = performance.now();
      try {
        await this.storeWithRetry(batch);
      } catch (err) {
        if (this.stopping) return; // what is in hand stays unacknowledged
        // Not expected (storeWithRetry throws only when stopping): said, and tried again shortly.
        this.log.error({ err, size }, 'batch not stored; trying again');
        setTimeout(() => void this.drain(), 1_000).unref();
        return;
      }
      this.log.debug({ size, waiting: this.queue.length - size, ms: Math.round(performance.now() - started) }, 'batch stored');
      this.queue.splice(0, size);
      this.counts.batches += 1;
      this.counts.largestBatch = Math.max(this.counts.largestBatch, size);
      for (const item of batch) if (item.link === this.link) item.ack?.();
      if (this.queue.length === 0) this.lastDoneAt = this.idleSince = Date.now();
    }
  }

  /**
   * Stores a batch, trying again while the database is away; a batch PostgreSQL refuses for what it
   * holds (a data or constraint error: it would be refused forever) is stored message by message,
   * and the ones refused are rejected, not retried. Then the live `online`'s listeners, tried again
   * the same way. Throws only when the instance is stopping.
   */
  private async storeWithRetry(batch: Item[]): Promise<void> {
    const items = batch.filter((item) => item.write !== null);
    if (items.length > 0) {
      try {
        await this.retrying(() => this.store(items));
      } catch (err) {
        if (!refusedForGood(err)) throw err;
        for (const item of items) {
          try {
            await this.retrying(() => this.store([item]));
          } catch (one) {
            if (!refusedForGood(one)) throw one;
            this.reject(item.topic, `refused by the database: ${(one as Error).message}`);
          }
        }
      }
    }
    const connected = batch.at(-1)?.connected;
    if (connected === undefined) return;
    for (const listener of this.connectedListeners) {
      try {
        await this.retrying(() => listener(connected));
      } catch (err) {
        if (this.stopping) throw err;
        // Refused for what it asked: tried again it would stop this instance's ingest for good.
        this.log.error({ err, lockerId: connected }, 'a connected locker was not followed up; going on');
      }
    }
  }

  private async store(items: Item[]): Promise<void> {
    const { duplicates, superseded } = await this.options.store.write(items.map((item) => item.write!));
    this.counts.duplicates += duplicates;
    this.counts.superseded += superseded;
    this.counts.stored += items.length - duplicates;
  }

  /** Runs `work` until it succeeds, waiting longer each time; throws what it refuses for good, or when stopping. */
  private async retrying(work: () => Promise<void>): Promise<void> {
    for (let waitMs = 500; ; waitMs = Math.min(waitMs * 2, 5_000)) {
      try {
        return await work();
      } catch (err) {
        if (refusedForGood(err) || this.stopping) throw err;
        if (lostARace(err)) {
          this.log.debug({ err }, 'batch lost a race with another instance; again');
          waitMs = 250; // back to the first wait after this immediate retry
          continue;
        }
        this.counts.failed += 1;
        this.log.warn({ err, retryInMs: waitMs }, 'batch not stored; trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (this.stopping) throw err;
      }
    }
  }

  status(): IngestStatus {
    return { connected: this.client?.connected === true, ...this.counts, inHand: this.queue.length };
  }

  private reject(topic: string, why: string): void {
    this.counts.rejected += 1;
    this.log.warn({ topic, why }, 'message outside the contract; not stored');
  }

  /** What a message gives to store, checked against the contract; nothing for a payload outside it (counted). */
  private read(packet: IPublishPacket): Item {
    const item: Item = { topic: packet.topic, write: null, link: this.link };
    item.write = this.check(packet, item);
    return item;
  }

  private check(packet: IPublishPacket, item: Item): FleetWrite | null {
    const { topic } = packet;
    const refuse = (why: string) => {
      this.reject(topic, why);
      return null;
    };
    if (!topic.startsWith(`${this.base}/`)) return refuse('not under the base topic');
    const [lockerId, kind, ...rest] = topic.slice(this.base.length + 1).split('/');
    if (!lockerId || !LOCKER_LEVEL.test(lockerId)) return refuse('not a locker id');
    const text = Buffer.from(packet.payload).toString('utf8');
    if (kind === 'availability' && rest.length === 0) {
      if (text !== 'online' && text !== 'offline') return refuse('availability is online or offline');
      if (text === 'online' && !packet.retain && this.connectedListeners.length > 0) item.connected = lockerId;
      return { kind: 'availability', lockerId, online: text === 'online' };
    }
    if (text === '') return null; // a retained topic cleared by its locker: nothing to keep
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return refuse('not JSON');
    }
    if (kind === 'occupancy' && rest.length === 0) {
      if (!this.validators.occupancy(value)) return refuse(this.why(this.validators.occupancy));
      const numbers = (value as OccupancyPayload).trays.map((tray) => tray.number);
      if (new Set(numbers).size !== numbers.length) return refuse('a tray number twice');
      // Kept as digits (src/fleet/store.ts): a tray is numbered from 0 up, as a whole number.
      if (numbers.some((n) => !Number.isSafeInteger(n) || n < 0)) return refuse('a tray number out of range');
      return { kind: 'occupancy', lockerId, value: value as OccupancyPayload };
    }
    if (kind === 'trays' && rest.length === 1 && /^\d+$/.test(rest[0])) {
      if (!this.validators.tray(value) || (value as TrayPayload).number !== Number(rest[0])) {
        return refuse(this.why(this.validators.tray) || 'tray number differs from the topic');
      }
      return { kind: 'tray', lockerId, value: value as TrayPayload };
    }
    if (kind === 'rounds' && rest.length === 1 && rest[0] === 'next') {
      if (!this.validators.round(value)) return refuse(this.why(this.validators.round));
      return { kind: 'round', lockerId, value: value as RoundNextPayload };
    }
    if (kind === 'events' && rest.length === 1) {
      const type = rest[0];
      if (!isEventType(type)) return refuse(`event type "${type}" is not in the contract`);
      const envelope = value as { id: string; type: string; at: string; lockerId: string; data: unknown };
      if (!this.validators.envelope(value)) return refuse(this.why(this.validators.envelope));
      if (envelope.type !== type || envelope.lockerId !== lockerId) return refuse('envelope differs from the topic');
      const data = this.validators.events.get(type)!;
      if (!data(envelope.data)) return refuse(this.why(data));
      return { kind: 'event', lockerId, event: { id: envelope.id, type, at: envelope.at, data: envelope.data } };
    }
    return null; // a topic of the contract the fleet does not keep (audit/head)
  }

  private why(validate: ValidateFunction): string {
    const e = validate.errors?.[0];
    return e ? `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` : '';
  }
}
