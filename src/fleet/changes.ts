/**
 * What changed, for the dashboards' live streams. Every write of the store notifies
 * `fleet_changes` with the locker's id at its commit (src/fleet/store.ts); each instance listens,
 * whichever instance stored it (the events are split between instances, the dashboard may be
 * served by any of them), gathers the ids for a short while and hands the set on. After its
 * connection to PostgreSQL was lost it reconnects and reports `null`: it may have missed
 * notifications, the streams send every locker again.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { CHANGES_CHANNEL } from './store.js';

export interface FleetChangesOptions {
  databaseUrl: string;
  logger: Logger;
  /** How long ids are gathered before they are handed on. Default 50 ms: a batch of the ingest notifies its lockers at once. */
  gatherMs?: number;
  /** Called with the lockers that changed, or null when anything may have changed. */
  onChange: (lockerIds: Set<string> | null) => void;
}

export class FleetChanges {
  private client: pg.Client | undefined;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: FleetChangesOptions) {
    this.log = options.logger.child({ module: 'fleet-changes' });
  }

  /** Listens; resolves once listening (or, with the database away, keeps trying in the background). */
  async start(): Promise<void> {
    await this.connect().catch((err: unknown) => {
      this.log.warn({ err }, 'cannot listen for changes yet; trying again');
      this.reconnectLater();
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      this.pending.add(msg.payload);
      this.timer ??= setTimeout(() => this.flush(), this.options.gatherMs ?? 50);
    });
    // A lost connection may say so by an error, by its end, or both: reconnect once.
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost || this.stopped) return;
      lost = true;
      this.log.warn({ err }, 'lost the change notifications; reconnecting');
      client.end().catch(() => undefined);
      if (this.client === client) this.client = undefined;
      this.reconnectLater();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    await client.connect();
    try {
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().then(
        () => this.options.onChange(null),
        (err: unknown) => {
          this.log.warn({ err }, 'cannot listen for changes; trying again');
          this.reconnectLater();
        },
      );
    }, 2_000);
  }

  private flush(): void {
    this.timer = undefined;
    const ids = this.pending;
    this.pending = new Set();
    if (ids.size) this.options.onChange(ids);
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
