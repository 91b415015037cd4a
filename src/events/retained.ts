/**
 * Retained state topics (`occupancy`, `trays/<n>`, `rounds/next`, `audit/head`): the services hand over the
 * latest payload; this remembers the last one per topic and sends it now if the broker is there,
 * and again after every reconnect (a broker that restarted without persistence has forgotten it,
 * and a change made during an outage was never sent).
 */
import type { Logger } from 'pino';
import type { MqttLink } from './mqtt-link.js';
import type { RetainedTopic, TopicMap } from './topics.js';

/** Retained topics the services publish (`availability` belongs to the link). */
export type StateTopic = Exclude<RetainedTopic, 'availability'>;

export class RetainedState {
  private readonly last = new Map<StateTopic, TopicMap[StateTopic]>();
  private readonly log: Logger;
  private started = false;
  private readonly onConnect = () => {
    void this.republishAll();
  };

  constructor(
    private readonly link: MqttLink,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'mqtt-retained' });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.link.on('connect', this.onConnect);
  }

  stop(): void {
    this.started = false;
    this.link.off('connect', this.onConnect);
  }

  /**
   * Remembers `payload` as the state of `topic` and publishes it (retained, QoS 1). Resolves true
   * when the broker acknowledged it, false when it will go out on the next connect instead.
   */
  async publishRetained<T extends StateTopic>(topic: T, payload: TopicMap[T]): Promise<boolean> {
    this.last.set(topic, payload);
    if (!this.link.connected) return false;
    try {
      await this.link.publish(topic, payload);
      return true;
    } catch (err) {
      this.log.debug({ err, topic }, 'retained publish failed; it is re-sent on reconnect');
      return false;
    }
  }

  /** The last payload handed over for a topic. */
  get<T extends StateTopic>(topic: T): TopicMap[T] | undefined {
    return this.last.get(topic) as TopicMap[T] | undefined;
  }

  /** Sends every remembered topic again; all are written before the first PUBACK is awaited. */
  async republishAll(): Promise<number> {
    if (!this.link.connected) return 0;
    const sends = [...this.last].map(([topic, payload]) =>
      this.link.publish(topic, payload as never).then(
        () => true,
        (err) => {
          this.log.debug({ err, topic }, 'retained re-publish failed');
          return false;
        },
      ),
    );
    const results = await Promise.all(sends);
    const ok = results.filter(Boolean).length;
    if (sends.length) this.log.debug({ topics: sends.length, ok }, 'retained state re-published');
    return ok;
  }
}
