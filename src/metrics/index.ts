/**
 * The controller's metrics (docs/metrics.md): one prom-client registry per controller, never the
 * global one, so that controllers started side by side (tests) keep their figures apart. The
 * composition root builds it and hands each part to its unit: the bus observer to the bus
 * driver, the SMS and code observers to the use cases, the exposition to HTTP (`GET /metrics`).
 *
 * Counters and histograms are fed as things happen; gauges are read at scrape time (the bus, the
 * MQTT link, the database).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Queryable } from '../services/ports.js';
import { BusMetrics, type WatchedBus } from './bus.js';
import { CodeMetrics, SmsMetrics } from './flows.js';
import { HttpMetrics } from './http.js';
import { RecordMetrics } from './records.js';

export { BusMetrics, EXCHANGE_OUTCOMES, type WatchedBus } from './bus.js';
export { CodeMetrics, SmsMetrics } from './flows.js';
export { HttpMetrics, UNMATCHED_ROUTE } from './http.js';

export interface ControllerMetricsOptions {
  /** Every series carries it as the `locker` label. */
  lockerId: string;
  /** The database the records are read from at scrape time. */
  db: Queryable;
  /** True while the MQTT link is connected. */
  mqttConnected: () => boolean;
  /** The configured SMS gateway (console, http, smpp): the `gateway` label of the SMS counts. */
  smsGateway: string;
  /** How long a scrape waits for the database before it answers without the records, ms. Default 2 s. */
  dbTimeoutMs?: number;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  /** The `BusObserver` for the bus driver. */
  readonly bus: BusMetrics;
  /** The `SmsObserver` for the SMS service. */
  readonly sms: SmsMetrics;
  /** The `CodeObserver` for the one-time codes. */
  readonly codes: CodeMetrics;
  private readonly http: HttpMetrics;

  constructor(options: ControllerMetricsOptions) {
    const { registry } = this;
    registry.setDefaultLabels({ locker: options.lockerId });
    // Memory, CPU, event-loop lag (monitorEventLoopDelay), GC, handles: for the life of the process.
    // The event loop's delay sampled every 100 ms, not prom-client's 10 ms: a hundred fewer
    // wake-ups a second (~0.7 % of a core on the cabinet PC), and the delays that matter to a
    // locker (tens of ms and more) are still seen.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    this.bus = new BusMetrics(registry);
    this.sms = new SmsMetrics(registry, options.smsGateway);
    this.codes = new CodeMetrics(registry);
    this.http = new HttpMetrics(registry);
    new RecordMetrics(registry, { lockerId: options.lockerId, db: options.db, timeoutMs: options.dbTimeoutMs ?? 2_000 });
    const mqtt: Gauge = new Gauge({
      name: 'atm247_mqtt_connected',
      help: '1 while the MQTT link to the broker is connected.',
      registers: [registry],
      collect: () => mqtt.set(options.mqttConnected() ? 1 : 0),
    });
  }

  /** From now on every scrape reads this bus: boards online, links open, doors open. */
  watchBus(bus: WatchedBus): void {
    this.bus.watch(bus);
  }

  /** The Content-Type of `render()`: the Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every series, in the Prometheus text format; never throws for a database that is down. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One HTTP request answered (its route pattern, undefined when no route matched). */
  request(method: string, route: string | undefined, status: number, seconds: number): void {
    this.http.request(method, route, status, seconds);
  }
}
