/**
 * The controller's one MQTT connection (ADR 0005): a persistent session (`clean: false`, MQTT
 * 3.1.1), QoS 1, endless reconnect, and availability the zigbee2mqtt way: a retained last will
 * `offline`, a retained `online` on every connect, an explicit retained `offline` on orderly stop.
 *
 * `publish()` only sends while connected and resolves on PUBACK. While the broker is away it
 * rejects at once: what must survive an outage lives in the outbox (events) or in RetainedState
 * (retained topics), which re-send after reconnect; nothing piles up in memory here. The one topic
 * the locker reads (`replay`, ADR 0023) comes in through `subscribe()` and `message` events.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.js';
import { redactUrl } from '../log.js';
import { lockerBase, topicSpec, type ReceivedTopic, type Topic, type TopicMap, type TopicSpec } from './topics.js';

export interface MqttLinkOptions {
  url: string;
  lockerId: string;
  /** Default `atm247`. */
  baseTopic?: string;
  /** Default `atm247-<lockerId>`. Must be stable across restarts: the session hangs on it. */
  clientId?: string;
  username?: string | null;
  password?: string | null;
  /** Default 30 s. */
  keepaliveSec?: number;
  /** Pause between reconnect attempts; attempts never stop. Default 5 s. */
  reconnectPeriodMs?: number;
  /** Give up one connect attempt after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** A publish with no PUBACK after this long is reported failed (and retried by its owner). Default 10 s. */
  ackTimeoutMs?: number;
  logger: Logger;
}

export interface MqttLinkStatus {
  connected: boolean;
  /** The broker URL without credentials. */
  broker: string;
  clientId: string;
  /** When the link last became connected / disconnected, ISO 8601. */
  since: string | null;
}

export interface MqttLinkEvents {
  /** Connected (first time or again), `online` already sent. */
  connect: [];
  /** The connection was lost or closed. */
  disconnect: [];
  /** A message on a topic the locker reads (`subscribe()`), relative to its base. */
  message: [topic: ReceivedTopic, payload: Buffer];
}

export type PublishOptions = Partial<TopicSpec>;

interface Pending {
  reject: (err: Error) => void;
}

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly base: string;
  readonly clientId: string;
  private client: MqttClient | null = null;
  private readonly log: Logger;
  private readonly pending = new Set<Pending>();
  private since: Date | null = null;
  private stopping = false;
  private outageLogged = false;
  /** The topics the locker reads, subscribed to on every connect. */
  private readonly reads = new Set<ReceivedTopic>();

  constructor(private readonly options: MqttLinkOptions) {
    super();
    this.base = lockerBase(options.baseTopic ?? 'atm247', options.lockerId);
    this.clientId = options.clientId ?? `atm247-${options.lockerId}`;
    this.log = options.logger.child({ module: 'mqtt' });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  status(): MqttLinkStatus {
    return {
      connected: this.connected,
      broker: redactUrl(this.options.url),
      clientId: this.clientId,
      since: this.since?.toISOString() ?? null,
    };
  }

  /** The full topic for a contract topic. */
  topic(relative: Topic): string {
    return `${this.base}/${relative}`;
  }

  /**
   * Starts connecting and returns at once: the daemon runs without a broker, and events wait in
   * the outbox. Use `waitConnected()` to wait for the first connection.
   */
  start(): void {
    if (this.client) return;
    this.stopping = false;
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: 4,
      clean: false,
      keepalive: o.keepaliveSec ?? 30,
      reconnectPeriod: Math.max(1, o.reconnectPeriodMs ?? 5_000),
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      resubscribe: true,
      queueQoSZero: false,
      will: { topic: this.topic('availability'), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;

    client.on('connect', (connack) => {
      this.since = new Date();
      this.outageLogged = false;
      this.log.info({ broker: redactUrl(o.url), clientId: this.clientId, sessionPresent: connack.sessionPresent }, 'MQTT connected');
      // Every connect, not only the first: a broker that lost the session (no persistence, a
      // restart) has lost the subscription with it; subscribing again is harmless otherwise.
      // Before `online`: the broker handles a connection's packets in order, so a replay request
      // the fleet sends on hearing `online` finds the subscription in place.
      for (const relative of this.reads) this.subscribeNow(client, relative);
      // Written before anyone else hears of the connection, so `online` precedes what they send.
      this.publishRaw('availability', 'online', { retain: true, qos: 1 }).catch((err) =>
        this.log.warn({ err }, 'MQTT availability online not acknowledged'),
      );
      this.emit('connect');
    });
    client.on('message', (topic, payload) => {
      const relative = topic.startsWith(`${this.base}/`) ? topic.slice(this.base.length + 1) : '';
      if (this.reads.has(relative as ReceivedTopic)) this.emit('message', relative as ReceivedTopic, payload);
    });
    client.on('close', () => {
      this.failPending(new AppError('SERVICE_UNAVAILABLE', 'MQTT connection lost before PUBACK'));
      if (this.since && !this.stopping && !this.outageLogged) {
        this.log.warn({ broker: redactUrl(o.url) }, 'MQTT connection lost; reconnecting');
        this.outageLogged = true;
      }
      if (this.since) {
        this.since = null;
        this.emit('disconnect');
      }
    });
    client.on('error', (err) => {
      // Connection refused / DNS / auth: mqtt.js keeps retrying; say it once per outage.
      if (!this.outageLogged) {
        this.log.warn({ err, broker: redactUrl(o.url) }, 'MQTT broker unreachable; retrying');
        this.outageLogged = true;
      } else {
        this.log.debug({ err }, 'MQTT connect attempt failed');
      }
    });
  }

  /** Resolves true once connected, false if `timeoutMs` passes first. */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('connect', onConnect);
        resolve(ok);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('connect', onConnect);
    });
  }

  /**
   * Publishes one message of the contract; resolves on PUBACK (QoS 1). Retain and QoS come
   * from the contract unless overridden. Rejects at once when not connected, and for a wildcard
   * or a topic outside the contract.
   */
  publish<T extends Topic>(topic: T, payload: TopicMap[T], opts: PublishOptions = {}): Promise<void> {
    let spec: TopicSpec;
    try {
      spec = topicSpec(topic);
    } catch (err) {
      return Promise.reject(err);
    }
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return this.publishRaw(topic, body, { ...spec, ...opts });
  }

  /**
   * Reads a topic of the contract's `RECEIVED_TOPICS` (QoS 1): subscribed now if connected and
   * again on every connect; its messages come as `message` events. The persistent session keeps
   * the subscription, so what is sent there while the locker is away waits at the broker.
   */
  subscribe(relative: ReceivedTopic): void {
    if (this.reads.has(relative)) return;
    this.reads.add(relative);
    if (this.client?.connected) this.subscribeNow(this.client, relative);
  }

  private subscribeNow(client: MqttClient, relative: ReceivedTopic): void {
    client.subscribe(`${this.base}/${relative}`, { qos: 1 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos === 128)) {
        this.log.warn({ err, topic: relative }, 'MQTT subscription refused; retried at the next connect');
      }
    });
  }

  /**
   * Orderly stop: a retained `offline` (the broker sends no will after a clean disconnect), then
   * DISCONNECT. If the broker is unreachable the will covers it.
   */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (client.connected) {
      await this.publishRaw('availability', 'offline', { retain: true, qos: 1 }).catch((err) =>
        this.log.warn({ err }, 'MQTT availability offline not acknowledged'),
      );
    }
    await client.endAsync(!client.connected).catch((err) => this.log.warn({ err }, 'MQTT disconnect failed'));
    this.failPending(new AppError('SERVICE_UNAVAILABLE', 'MQTT link stopped'));
    this.client = null;
    this.since = null;
    this.log.info('MQTT link stopped');
  }

  private publishRaw(relative: string, body: string, spec: TopicSpec): Promise<void> {
    const client = this.client;
    if (!client || !client.connected) {
      return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'MQTT not connected', { topic: relative }));
    }
    const topic = `${this.base}/${relative}`;
    const ackTimeoutMs = this.options.ackTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = {
        reject: (err) => {
          clearTimeout(timer);
          this.pending.delete(entry);
          reject(err);
        },
      };
      const timer = setTimeout(
        () => entry.reject(new AppError('SERVICE_UNAVAILABLE', `no PUBACK for ${relative} within ${ackTimeoutMs} ms`, { topic: relative })),
        ackTimeoutMs,
      );
      this.pending.add(entry);
      client.publish(topic, body, { qos: spec.qos, retain: spec.retain }, (err) => {
        if (!this.pending.has(entry)) return; // already failed by timeout or connection loss
        clearTimeout(timer);
        this.pending.delete(entry);
        if (err) reject(err);
        else resolve();
      });
      if (this.log.isLevelEnabled('trace')) this.log.trace({ topic, retain: spec.retain }, 'MQTT publish');
    });
  }

  private failPending(err: Error): void {
    for (const entry of [...this.pending]) entry.reject(err);
  }
}
