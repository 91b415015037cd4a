/**
 * The composition root: builds every unit from the configuration, starts them in order and stops
 * them in reverse. Constructors do nothing; `start()` does the work.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLockBus, type CabinetSimulator } from '../hardware/index.js';
import type { Config } from './config/types.js';
import { OffsetClock, type Clock } from './domain/clock.js';
import { enqueueEvent, Events, type EventType } from './events/index.js';
import { RetainedTrayState } from './events/tray-state.js';
import { buildHttp } from './http/app.js';
import type { SimulatorControls } from './http/routes/simulator.js';
import type { EventOutbox, LockBus } from './services/ports.js';
import { TrayService } from './services/trays.js';
import { AccountRepository } from './store/accounts.js';
import { AuditRepository } from './store/audit.js';
import type { Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { openDatabase } from './store/open.js';
import { TrayRepository } from './store/trays.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface ControllerOptions {
  config: Config;
  logger: Logger;
  /** Defaults to the system clock behind an adjustable offset (the simulator's clock shift). */
  clock?: OffsetClock;
  /** Events unit tuning (tests). */
  events?: ConstructorParameters<typeof Events>[0]['relay'];
}

export class Controller {
  readonly clock: OffsetClock;
  private db?: Db;
  private events?: Events;
  private bus?: LockBus;
  private simulator?: CabinetSimulator;
  private traysService?: TrayService;
  private httpApp?: FastifyInstance;
  private stopping?: Promise<void>;

  constructor(private readonly options: ControllerOptions) {
    this.clock = options.clock ?? new OffsetClock();
  }

  get http(): FastifyInstance {
    if (!this.httpApp) throw new Error('controller not started');
    return this.httpApp;
  }

  get trays(): TrayService {
    if (!this.traysService) throw new Error('controller not started');
    return this.traysService;
  }

  get cabinet(): CabinetSimulator | undefined {
    return this.simulator;
  }

  get database(): Db {
    if (!this.db) throw new Error('controller not started');
    return this.db;
  }

  get lockBus(): LockBus {
    if (!this.bus) throw new Error('controller not started');
    return this.bus;
  }

  get eventsUnit(): Events {
    if (!this.events) throw new Error('controller not started');
    return this.events;
  }

  /** Starts everything and the HTTP server; returns once `/health` can answer. */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    const lockerId = config.locker.id;
    const clock: Clock = this.clock;
    const log = (module: string) => logger.child({ module });

    const db = await openDatabase(config.database, logger);
    this.db = db;
    await migrate(db, log('migrate'));

    const trayRepo = new TrayRepository(lockerId);
    const accounts = new AccountRepository();
    await db.tx(async (q) => {
      await trayRepo.applyMap(q, config.locker.name, config.hardware.map);
      if (config.auth.adminToken) await accounts.seed(q, 'admin (ATM247_ADMIN_TOKEN)', 'admin', config.auth.adminToken);
      if (config.auth.staffToken) await accounts.seed(q, 'staff (ATM247_STAFF_TOKEN)', 'staff', config.auth.staffToken);
    });

    const events = new Events({ mqtt: config.mqtt, lockerId, db, logger, relay: this.options.events });
    this.events = events;
    await events.start();

    const outbox: EventOutbox = {
      enqueue: (q, type, data, at) =>
        enqueueEvent(q, { lockerId, type: type as EventType, data: data as never, at }),
      committed: () => events.signal.notify(),
    };

    const { bus, simulator } = createLockBus({ config: config.hardware, logger, clock });
    this.bus = bus;
    this.simulator = simulator;
    await bus.start();

    const trays = new TrayService({
      db,
      trays: trayRepo,
      audit: new AuditRepository(lockerId),
      outbox,
      bus,
      state: new RetainedTrayState(() => events.retained, clock),
      clock,
      logger: log('trays'),
      version: VERSION,
    });
    this.traysService = trays;
    await trays.start();

    this.httpApp = await buildHttp({
      logger: log('http'),
      bodyLimit: config.http.bodyLimit,
      lockerName: config.locker.name,
      health: {
        lockerId,
        db: () => db.ping(),
        mqtt: () => events.status().connected,
        bus: () => bus.health(),
      },
      trays,
      findAccount: (token) => accounts.findByToken(db, token),
      simulator: simulator ? this.simulatorControls(simulator) : undefined,
    });
    await this.httpApp.ready();
    logger.info({ lockerId, version: VERSION, hardware: config.hardware.driver, db: db.target }, 'controller started');
  }

  /** Listens on the configured host and port; returns the address. */
  async listen(): Promise<string> {
    const { host, port } = this.options.config.http;
    return this.http.listen({ host, port });
  }

  /** Orderly shutdown: HTTP, bus events, the bus, then `offline` and the outbox drained, then the pool. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.options.logger;
      const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
        try {
          await fn();
        } catch (err) {
          log.error({ err }, `stopping ${name} failed`);
        }
      };
      await step('http', () => this.httpApp?.close());
      await step('trays', () => this.traysService?.stop());
      await step('hardware', () => this.bus?.stop());
      await step('events', () => this.events?.stop());
      await step('database', () => this.db?.close());
      log.info('controller stopped');
    })();
    return this.stopping;
  }

  private simulatorControls(sim: CabinetSimulator): SimulatorControls {
    return {
      trays: () => sim.trays().map((t) => ({ tray: t.tray, board: t.board, door: t.door, latched: t.latched })),
      boards: () => sim.boardStates().map((b) => ({ id: b.id, unitId: b.unitId, fault: b.fault.kind })),
      setDoor: (tray, open, force) => sim.setDoor(tray, open, { force }),
      setFault: (board, fault, delayMs) => {
        if (!sim.boardStates().some((b) => b.id === board)) return false;
        sim.setFault(board, fault, { delayMs });
        return true;
      },
      pulses: () => sim.pulses().map((p) => ({ tray: p.tray, board: p.board, channel: p.channel, at: p.at })),
      clockOffsetMs: () => this.clock.offset,
      setClockOffsetMs: (ms) => {
        this.clock.setOffset(ms);
        return this.clock.now();
      },
    };
  }
}
