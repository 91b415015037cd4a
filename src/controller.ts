/**
 * The composition root: builds every unit from the configuration, starts them in order and stops
 * them in reverse. Constructors do nothing; `start()` does the work.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLockBus, type CabinetSimulator } from '../hardware/index.js';
import { createCardScanner, SimulatedCardScanner } from '../hardware/card-scanner.js';
import { simulatorControls } from '../hardware/simulator-controls.js';
import type { Config } from './config/types.js';
import type { WorkCalendar } from './domain/calendar.js';
import { OffsetClock, type Clock } from './domain/clock.js';
import { EventsUnit } from './events/index.js';
import { RetainedTrayState } from './events/tray-state.js';
import { buildHttp } from './http/app.js';
import { composeFlows } from './compose-flows.js';
import { composeRecords } from './compose-records.js';
import { composePayments, receiptKeyFor, type PaymentAdapters } from './compose-payments.js';
import type { BusHealth, CardScanner, LockBus } from './services/ports.js';
import { IdCardScans, readCardsFrom } from './services/id-cards.js';
import { RoundHolders } from './services/round-holders.js';
import { HolderRepository } from './store/holders.js';
import { TrayService } from './services/trays.js';
import type { TrayChecks } from './services/tray-checks.js';
import { type DepositService } from './services/deposits.js';
import { FlowTimers } from './services/flow-timers.js';
import { type ResultService } from './services/results.js';
import { type RoundService } from './services/rounds.js';
import { StaffAccountService } from './services/staff-accounts.js';
import { DossierLookup } from './services/lookup.js';
import { type PickupService } from './services/pickups.js';
import { SmsService } from './services/sms.js';
import { SmsLogRepository } from './store/sms-log.js';
import { loadProcedures, procedureCatalogue } from './config/procedures.js';
import { loadSecretKeys } from './config/secrets.js';
import { PACKAGE_ROOT } from './config/package-root.js';
import { IdVault } from './domain/id-vault.js';
import { PhoneVault } from './domain/phone-vault.js';
import { smsRenderer } from './domain/sms-text.js';
import { durations } from './config/durations.js';
import { ConsoleSmsGateway, createSmsGateway, type SmsGateway } from './sms/gateway.js';
import { AccountRepository } from './store/accounts.js';
import { AuditRepository } from './store/audit.js';
import type { AuditTrail } from './services/audit-trail.js';
import type { RetentionService } from './services/retention.js';
import { isDbUnavailable, type Db } from './store/db.js';
import { isAppError } from './domain/errors.js';
import { migrate } from './store/migrate.js';
import { openDatabase } from './store/open.js';
import { TrayRepository } from './store/trays.js';
import { StatsRepository } from './store/stats.js';
import { StatsService } from './services/stats.js';
import { ControllerMetrics } from './metrics/index.js';

export const VERSION: string = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
/** The screens built by `npm run build:ui`, wherever this module runs from (src/ or dist/src/). */
const UI_DIR = path.join(PACKAGE_ROOT, 'dist', 'ui');

export interface ControllerOptions {
  config: Config;
  logger: Logger;
  /** Defaults to the system clock behind an adjustable offset (the simulator's clock shift). */
  clock?: OffsetClock;
  /** The working calendar, if the caller has loaded it already (`config/calendar.yaml` otherwise). */
  calendar?: WorkCalendar;
  /** EventsUnit unit tuning (tests). */
  events?: ConstructorParameters<typeof EventsUnit>[0]['relay'];
}

/** What `start()` builds; the getters below hand them out once the controller runs. */
interface Units {
  db: Db;
  events: EventsUnit;
  bus: LockBus;
  simulator?: CabinetSimulator;
  trays: TrayService;
  sms: SmsGateway;
  flowTimers: FlowTimers;
  staffTimers: FlowTimers;
  auditTrail: AuditTrail;
  auditTimer: FlowTimers;
  retention: RetentionService;
  retentionTimers: FlowTimers;
  deposits: DepositService;
  pickups: PickupService;
  results: ResultService;
  rounds: RoundService;
  checks: TrayChecks;
  payments: PaymentAdapters;
  /** The ID card scanner the daemon reads itself (idScanner), if any. */
  cardScanner: CardScanner;
  http: FastifyInstance;
}

export class Controller {
  readonly clock: OffsetClock;
  /** Filled in as `start()` goes, so that `stop()` stops what did start. */
  private units: Partial<Units> = {};
  private running = false;
  private stopping?: Promise<void>;
  /** The lock bus's start, under way while the database and the broker are set up. */
  private busStarting?: Promise<string | undefined>;

  constructor(private readonly options: ControllerOptions) {
    this.clock = options.clock ?? new OffsetClock();
  }

  private get started(): Units {
    if (!this.running) throw new Error('controller not started');
    return this.units as Units;
  }

  get http(): FastifyInstance {
    return this.started.http;
  }
  get trays(): TrayService {
    return this.started.trays;
  }
  get cabinet(): CabinetSimulator | undefined {
    return this.units.simulator;
  }
  get deposits(): DepositService {
    return this.started.deposits;
  }
  get pickups(): PickupService {
    return this.started.pickups;
  }
  get checks(): TrayChecks {
    return this.started.checks;
  }
  get rounds(): RoundService {
    return this.started.rounds;
  }
  get results(): ResultService {
    return this.started.results;
  }
  /** Rounds coming due, reminders and expiry (`tick()` runs one pass). */
  get staffTimersUnit(): FlowTimers {
    return this.started.staffTimers;
  }
  /** Deposit and pickup windows, doors held open (`tick()` runs one pass). */
  get flowTimers(): FlowTimers {
    return this.started.flowTimers;
  }
  /** Personal data that expires: the daily purge (`tick()` purges if due, `run()` at once). */
  get retention(): RetentionService {
    return this.started.retention;
  }
  /** The audit chain: `verify()`, `publishHead()` (the timer publishes it every `mqtt.auditHeadSec`). */
  get auditTrail(): AuditTrail {
    return this.started.auditTrail;
  }
  /** Looks once a minute whether the daily purge is due (`tick()` looks now). */
  get retentionTimers(): FlowTimers {
    return this.started.retentionTimers;
  }
  get sms(): SmsGateway {
    return this.started.sms;
  }
  get database(): Db {
    return this.started.db;
  }
  get lockBus(): LockBus {
    return this.started.bus;
  }

  /** Starts everything and the HTTP server; returns once `/health` can answer. */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    const lockerId = config.locker.id;
    const clock: Clock = this.clock;
    const log = (module: string) => logger.child({ module });

    const db = await openDatabase(config.database, logger);
    this.units.db = db;
    // The lock bus starts meanwhile: all outputs off and the first reading of every door take wire
    // time, not the database's or the broker's. Door changes until the trays' service listens are
    // in the bus's snapshot, which that service reconciles with the records when it starts.
    const metrics = new ControllerMetrics({
      lockerId,
      db,
      mqttConnected: () => this.units.events?.status().connected ?? false,
      smsGateway: config.sms.gateway,
    });
    const { bus, simulator } = createLockBus({ config: config.hardware, logger, clock, observer: metrics.bus });
    this.units.bus = bus;
    this.units.simulator = simulator;
    metrics.watchBus(bus);
    const busStarted = (this.busStarting = startLockBus(bus, config.hardware.driver, logger));
    busStarted.catch(() => undefined); // awaited below; meanwhile its failure is not an unhandled rejection

    await migrate(db, log('migrate'));

    const trayRepo = new TrayRepository(lockerId);
    const accounts = new AccountRepository();
    const seeded = await db.tx(async (q) => {
      await trayRepo.applyMap(q, config.locker.name, config.hardware.map);
      return [
        config.auth.adminToken ? await accounts.seed(q, 'admin (ATM247_ADMIN_TOKEN)', 'admin', config.auth.adminToken) : null,
        config.auth.staffToken ? await accounts.seed(q, 'staff (ATM247_STAFF_TOKEN)', 'staff', config.auth.staffToken) : null,
      ];
    });
    // An admin disabled it: the variable does not bring it back (docs/staff-accounts.md).
    for (const account of seeded) {
      if (account?.disabled) {
        logger.warn(
          { account: account.id, name: account.name },
          'an account seeded from the environment was disabled by an admin and stays disabled: its token is refused',
        );
      }
    }

    const events = new EventsUnit({ mqtt: config.mqtt, lockerId, db, logger, relay: this.options.events });
    this.units.events = events;
    await events.start();

    const outbox = events.outbox();
    const busStartError = await busStarted;

    const trays = new TrayService({
      db,
      trayStore: trayRepo,
      audit: new AuditRepository(lockerId),
      outbox,
      bus,
      state: new RetainedTrayState(() => events.retained, clock),
      clock,
      logger: log('trays'),
      version: VERSION,
      dbUnavailable: isDbUnavailable,
    });
    this.units.trays = trays;

    const procedures = loadProcedures();
    const catalogue = procedureCatalogue(procedures);
    const ms = durations(config);
    const keys = loadSecretKeys(config, log('secrets'));
    const vault = new PhoneVault(keys);
    const idVault = new IdVault(keys);
    // Citizen ID cards scanned at the kiosk, in memory only (docs/id-card.md); the daemon's own scanner feeds them too.
    const idScans = new IdCardScans({ clock });
    const cardScanner = createCardScanner(config.idScanner ?? { kind: 'none' }, log('id-scanner'));
    if (cardScanner) {
      readCardsFrom(cardScanner, idScans, log('id-scanner'));
      this.units.cardScanner = cardScanner;
      await cardScanner.start();
    }
    const gateway = createSmsGateway(config.sms, { logger: log('sms'), clock });
    this.units.sms = gateway;
    await gateway.start();
    const smsLog = new SmsLogRepository(lockerId);
    const sms = new SmsService({
      db,
      gateway,
      log: smsLog,
      vault,
      clock,
      logger: log('sms'),
      observer: metrics.sms,
      render: smsRenderer({
        accented: config.sms.accented,
        brand: config.sms.brand,
        timezone: config.locker.timezone,
        // Receipts' short links, where phones can reach them (PUBLIC_URL); none otherwise.
        ...(config.payments.publicUrl ? { receiptBase: config.payments.publicUrl } : {}),
      }),
    });
    gateway.on('delivery', (report) => void sms.onDelivery(report).catch((err) => logger.error({ err }, 'delivery report not recorded')));
    const receiptKey = receiptKeyFor(config, log('secrets'));
    const { dossiers, audit, deposits, pickups, results, rounds, checks, ratings, payments } = composeFlows({
      config,
      db,
      trayRepo,
      trays,
      outbox,
      events,
      sms,
      vault,
      idVault,
      idScans,
      keys,
      receiptKey,
      catalogue,
      ms,
      clock,
      log,
      codeObserver: metrics.codes,
      calendar: this.options.calendar,
    });
    Object.assign(this.units, { deposits, pickups, results, rounds, checks });
    const paymentAdapters = (this.units.payments = composePayments({ config, db, service: payments, receiptKey, log }));
    const staffAccounts = new StaffAccountService({
      db,
      accounts,
      audit,
      clock,
      logger: log('staff-accounts'),
      totpKey: keys.totpSecret,
      demoAccounts: config.hardware.driver === 'simulator',
    });
    this.units.flowTimers = new FlowTimers({
      tasks: [
        { name: 'deposits', run: () => deposits.sweep() },
        { name: 'pickups', run: () => pickups.sweep() },
        { name: 'held open', run: () => trays.sweepHeldOpen(ms.doorHeldOpenMs) },
        { name: 'rating tokens', run: () => ratings.sweep() },
        { name: 'payments', run: () => payments.sweep() },
      ],
      intervalMs: config.citizens.sweepMs,
      logger: log('timers'),
    });
    this.units.staffTimers = new FlowTimers({
      tasks: [
        { name: 'results', run: () => results.sweep() },
        { name: 'rounds', run: () => rounds.tick() },
      ],
      intervalMs: config.staff.tickMs,
      logger: log('timers'),
    });

    const { retention, retentionTimers, auditTrail, auditTimer } = composeRecords({ config, db, events, audit, clock, ms, log });
    Object.assign(this.units, { retention, retentionTimers, auditTrail, auditTimer });

    await trays.start();
    await paymentAdapters.start();
    this.units.flowTimers.start();
    this.units.staffTimers.start();
    auditTimer.start();
    void auditTimer.tick();
    retentionTimers.start();

    const http = (this.units.http = await buildHttp({
      logger: log('http'),
      dbUnavailable: isDbUnavailable,
      bodyLimit: config.http.bodyLimit,
      clients: { kioskClients: config.http.kioskClients, rateLimits: config.http.rateLimits },
      lockerName: config.locker.name,
      version: VERSION,
      uiDir: UI_DIR,
      health: {
        lockerId,
        db: () => db.ping(),
        mqtt: () => events.status().connected,
        bus: () => withStartError(bus.health(), busStartError),
        sms: () => gateway.status(),
      },
      trays,
      findAccount: (token) => staffAccounts.findByToken(token),
      staffAccounts,
      deposits,
      pickups,
      ratings,
      lookup: new DossierLookup(db, dossiers),
      rounds,
      results,
      checks,
      sms,
      procedures,
      simulator: simulator
        ? simulatorControls(simulator, {
            clock: this.clock,
            smsInbox: gateway instanceof ConsoleSmsGateway ? () => gateway.inbox() : undefined,
            // The demo (npm start alone) can try the staff and admin screens with a fresh account.
            demoToken: (role) => staffAccounts.createDemo(role),
          })
        : undefined,
      retention,
      stats: new StatsService({ db, stats: new StatsRepository(lockerId), clock, timezone: config.locker.timezone }),
      audit: auditTrail,
      metrics,
      payments: paymentAdapters.http,
      idCards: {
        scans: idScans,
        ...(cardScanner instanceof SimulatedCardScanner ? { simulated: cardScanner } : {}),
        holders: new RoundHolders({ db, holders: new HolderRepository(lockerId), vault: idVault, logger: log('rounds') }),
      },
    }));
    await http.ready();
    this.running = true;
    logger.info({ lockerId, version: VERSION, hardware: config.hardware.driver, db: db.target }, 'controller started');
  }

  /** Listens on the configured host and port; returns the address. */
  async listen(): Promise<string> {
    const { host, port } = this.options.config.http;
    const address = await this.http.listen({ host, port });
    // The simulated bank notifies the webhook as a real provider would (until now it was polled).
    const bound = this.http.server.address();
    if (bound && typeof bound === 'object') this.units.payments?.listening(`http://127.0.0.1:${bound.port}`);
    return address;
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
      const u = this.units;
      await step('http', () => u.http?.close());
      await step('flow timers', () => u.flowTimers?.stop());
      await step('staff timers', () => u.staffTimers?.stop());
      await step('audit timer', () => u.auditTimer?.stop());
      await step('retention timer', () => u.retentionTimers?.stop());
      await step('trays', () => u.trays?.stop());
      await step('hardware', async () => {
        await this.busStarting?.catch(() => undefined); // a start cut short by a failure elsewhere ends first
        await u.bus?.stop();
      });
      await step('payments', () => u.payments?.stop());
      await step('ID card scanner', () => u.cardScanner?.stop());
      await step('sms', () => u.sms?.stop());
      await step('events', () => u.events?.stop());
      await step('database', () => u.db?.close());
      log.info('controller stopped');
    })();
    return this.stopping;
  }
}

/**
 * Starts the lock bus. GPIO absent from this machine (no sysfs GPIO, no access) does not stop the
 * daemon: it runs without the cabinet, its trays out of service, and says what is missing in
 * `/health`, the log and the admin screen, as the Modbus driver does for a missing adapter.
 * Returns that message, or undefined when the bus started.
 */
async function startLockBus(bus: LockBus, driver: string, logger: Logger): Promise<string | undefined> {
  try {
    await bus.start();
    return undefined;
  } catch (err) {
    if (driver !== 'gpio' || !isAppError(err) || err.code !== 'BUS_UNAVAILABLE') throw err;
    logger.error(
      { module: 'gpio', err: err.message },
      `lock bus not started: ${err.message}; every tray is out of service until the daemon restarts with GPIO available`,
    );
    return err.message;
  }
}

/** The bus's health with the reason it never started on its closed links. */
function withStartError(health: BusHealth, startError: string | undefined): BusHealth {
  if (!startError) return health;
  return {
    ...health,
    ok: false,
    buses: health.buses.map((link) => (link.open ? link : { ...link, lastError: link.lastError ?? startError })),
  };
}
