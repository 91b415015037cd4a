/**
 * One instance of the fleet service: its database (migrated at start), its MQTT side and its HTTP
 * API. Several instances share one database and one shared subscription (docs/fleet.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FleetChanges } from './changes.js';
import { FleetIngest, type FleetIngestOptions } from './ingest.js';
import { buildFleetHttp } from './http.js';
import { FleetPeers, type FleetPeersTiming } from './peers.js';
import { FleetStore } from './store.js';

export interface FleetServiceOptions {
  databaseUrl: string;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  baseTopic?: string;
  group?: string;
  instance: string;
  adminToken: string;
  logger: Logger;
  /** The figures' days are counted in it. Default Asia/Ho_Chi_Minh. */
  timezone?: string;
  /** How long the live stream gathers changed lockers before it sends them. Default 50 ms. */
  gatherMs?: number;
  /** How long a stream ticket is good for (tests). Default 60 s. */
  streamTicketMs?: number;
  /** Where the built screens are (tests). Default dist/ui. */
  uiDir?: string;
  /** Heartbeats and the replay after another instance's crash (src/fleet/peers.ts, ADR 0023). */
  peers?: FleetPeersTiming;
  /**
   * How long PostgreSQL lets a session of this instance sit idle inside a transaction before it
   * ends it (src/fleet/store.ts): what a hung instance can hold the others' writes back. Default 5 s.
   */
  idleInTransactionMs?: number;
  /** The ingest's MQTT flow (src/fleet/ingest.ts): its Receive Maximum and keepalive. */
  ingest?: Pick<FleetIngestOptions, 'receiveMaximum' | 'keepaliveSec'>;
}

export class FleetService {
  readonly store: FleetStore;
  readonly ingest: FleetIngest;
  readonly changes: FleetChanges;
  readonly peers: FleetPeers;
  private readonly changeListeners = new Set<(ids: Set<string> | null) => void>();
  private app: FastifyInstance | undefined;

  constructor(private readonly options: FleetServiceOptions) {
    this.store = new FleetStore(options.databaseUrl, { idleInTransactionMs: options.idleInTransactionMs });
    this.ingest = new FleetIngest({
      url: options.mqttUrl,
      username: options.mqttUsername,
      password: options.mqttPassword,
      baseTopic: options.baseTopic,
      group: options.group,
      instance: options.instance,
      store: this.store,
      logger: options.logger,
      ...options.ingest,
    });
    this.changes = new FleetChanges({
      databaseUrl: options.databaseUrl,
      logger: options.logger,
      gatherMs: options.gatherMs,
      onChange: (ids) => {
        for (const listener of this.changeListeners) listener(ids);
      },
    });
    this.peers = new FleetPeers({
      pool: this.store.pool,
      ingest: this.ingest,
      instance: options.instance,
      baseTopic: options.baseTopic,
      logger: options.logger,
      ...options.peers,
    });
  }

  get http(): FastifyInstance {
    if (!this.app) throw new Error('fleet service not started');
    return this.app;
  }

  async start(): Promise<void> {
    const applied = await this.store.migrate();
    if (applied.length) this.options.logger.info({ applied }, 'fleet migrations applied');
    this.app = await buildFleetHttp({
      store: this.store,
      ingest: () => this.ingest.status(),
      adminToken: this.options.adminToken,
      logger: this.options.logger,
      timezone: this.options.timezone,
      uiDir: this.options.uiDir,
      streamTicketMs: this.options.streamTicketMs,
      changesListening: () => this.changes.listening,
      onChanges: (listener) => {
        this.changeListeners.add(listener);
        return () => this.changeListeners.delete(listener);
      },
    });
    await this.changes.start();
    await this.ingest.start();
    await this.peers.start();
  }

  async listen(host: string, port: number): Promise<string> {
    return this.http.listen({ host, port });
  }

  private stopped?: Promise<void>;

  /** Stops the instance (once, however often asked). */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    await this.ingest.stop();
    await this.peers.stop();
    await this.app?.close();
    await this.changes.stop();
    await this.store.close();
  }
}
