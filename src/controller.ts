/**
 * The composition root: builds every unit from the configuration, starts them in order and stops
 * them in reverse. Constructors do nothing; `start()` does the work.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLockBus, type CabinetSimulator } from '../hardware/index.js';
import { simulatorControls } from '../hardware/simulator-controls.js';
import type { Config } from './config/types.js';
import { OffsetClock, type Clock } from './domain/clock.js';
import { enqueueEvent, Events, type EventType } from './events/index.js';
import { RetainedTrayState } from './events/tray-state.js';
import { buildHttp } from './http/app.js';
import type { EventOutbox, LockBus } from './services/ports.js';
import { TrayService } from './services/trays.js';
import { TrayChecks } from './services/tray-checks.js';
import { nextRound } from './domain/calendar.js';
import { ChallengeService } from './services/challenges.js';
import { DepositService } from './services/deposits.js';
import { FlowTimers } from './services/flow-timers.js';
import { ResultService } from './services/results.js';
import { RoundService } from './services/rounds.js';
import { StaffAccountService } from './services/staff-accounts.js';
import { RoundRepository } from './store/rounds.js';
import { loadCalendar } from './config/calendar.js';
import { DossierLookup } from './services/lookup.js';
import { PickupService } from './services/pickups.js';
import { SmsService } from './services/sms.js';
import { ChallengeRepository } from './store/challenges.js';
import { DossierRepository } from './store/dossiers.js';
import { SmsLogRepository } from './store/sms-log.js';
import { loadProcedures } from './config/procedures.js';
import { loadSecretKeys } from './config/secrets.js';
import { DEFAULT_OTP_POLICY, type OtpPolicy } from './domain/otp.js';
import { PhoneVault } from './domain/phone-vault.js';
import { renderSms } from './domain/sms-text.js';
import { ConsoleSmsGateway, createSmsGateway, type SmsGateway } from './sms/gateway.js';
import type { Config as FullConfig } from './config/types.js';
import { AccountRepository } from './store/accounts.js';
import { generateToken } from './domain/accounts.js';
import { AuditRepository } from './store/audit.js';
import type { Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { openDatabase } from './store/open.js';
import { TrayRepository } from './store/trays.js';
import { StatsRepository } from './store/stats.js';
import { StatsService } from './services/stats.js';

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
  private smsGateway?: SmsGateway;
  private timers?: FlowTimers;
  private staffTimers?: FlowTimers;
  private roundService?: RoundService;
  private resultService?: ResultService;
  private depositService?: DepositService;
  private pickupService?: PickupService;
  private trayChecks?: TrayChecks;
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

  get deposits(): DepositService {
    if (!this.depositService) throw new Error('controller not started');
    return this.depositService;
  }

  get pickups(): PickupService {
    if (!this.pickupService) throw new Error('controller not started');
    return this.pickupService;
  }

  get checks(): TrayChecks {
    if (!this.trayChecks) throw new Error('controller not started');
    return this.trayChecks;
  }

  get rounds(): RoundService {
    if (!this.roundService) throw new Error('controller not started');
    return this.roundService;
  }

  get results(): ResultService {
    if (!this.resultService) throw new Error('controller not started');
    return this.resultService;
  }

  /** Rounds coming due, reminders and expiry (`tick()` runs one pass). */
  get staffTimersUnit(): FlowTimers {
    if (!this.staffTimers) throw new Error('controller not started');
    return this.staffTimers;
  }

  get flowTimers(): FlowTimers {
    if (!this.timers) throw new Error('controller not started');
    return this.timers;
  }

  get sms(): SmsGateway {
    if (!this.smsGateway) throw new Error('controller not started');
    return this.smsGateway;
  }

  get database(): Db {
    if (!this.db) throw new Error('controller not started');
    return this.db;
  }

  get lockBus(): LockBus {
    if (!this.bus) throw new Error('controller not started');
    return this.bus;
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

    const procedures = loadProcedures();
    const catalogue = {
      find: (code: string) => {
        const p = procedures.find((x) => x.code === code);
        return p ? { code: p.code, deposit: p.deposit, result: p.result, traySize: p.traySize, shortVi: p.short.vi } : null;
      },
    };
    const keys = loadSecretKeys(config, log('secrets'));
    const vault = new PhoneVault(keys);
    const gateway = createSmsGateway(config.sms, { logger: log('sms'), clock });
    this.smsGateway = gateway;
    await gateway.start();
    const smsLog = new SmsLogRepository(lockerId);
    const sms = new SmsService({
      db, gateway, log: smsLog, vault, clock, logger: log('sms'),
      render: (kind, params) =>
        renderSms(kind as never, params as never, { accented: config.sms.accented, brand: config.sms.brand, timezone: config.locker.timezone }),
    });
    gateway.on('delivery', (report) => void sms.onDelivery(report).catch((err) => logger.error({ err }, 'delivery report not recorded')));
    const challenges = new ChallengeService({
      db, challenges: new ChallengeRepository(lockerId), vault, otpKey: keys.otp, policy: otpPolicy(config), sms, clock,
      logger: log('otp'),
    });
    const dossiers = new DossierRepository(lockerId);
    const doorOpenTimeoutMs = config.citizens.doorOpenTimeoutSec * 1000;
    const audit = new AuditRepository(lockerId);
    const calendar = loadCalendar();
    const roundStore = new RoundRepository(lockerId);
    const checks = new TrayChecks({
      db, dossiers, trayStore: trayRepo, trays, rounds: roundStore, outbox, audit, sms, clock, logger: log('checks'),
      nextCheckAt: () => nextRound(calendar, clock.now()),
    });
    const flowDeps = { db, dossiers, trayStore: trayRepo, trays, challenges, checks, procedures: catalogue, outbox, sms, clock, doorOpenTimeoutMs };
    const deposits = new DepositService({ ...flowDeps, logger: log('deposits') });
    const pickups = new PickupService({ ...flowDeps, vault, logger: log('pickups') });
    this.depositService = deposits;
    this.pickupService = pickups;
    const results = new ResultService({
      db, dossiers, trayStore: trayRepo, trays, checks, procedures: catalogue, vault, outbox, audit, sms, clock, logger: log('results'),
      pickupWindowMs: config.staff.pickupWindowDays * 86_400_000,
      reminderBeforeMs: config.staff.reminderBeforeHours * 3_600_000,
      doorOpenTimeoutMs,
    });
    // Each flow follows its trays' doors ("opened, then closed"); an officer's "found" reuses the
    // flows' own completions.
    trays.addDoorHandler((q, tray, open, at) => deposits.onDoor(q, tray, open, at));
    trays.addDoorHandler((q, tray, open, at) => results.onDoor(q, tray, open, at));
    trays.addDoorHandler((q, tray, open, at) => pickups.onDoor(q, tray, open, at));
    checks.setCompletions({
      deposited: (q, d, tray, at, source) => deposits.deposited(q, d, tray, at, source),
      loaded: (q, d, tray, at, source) => results.loaded(q, d, tray, at, source),
    });
    this.trayChecks = checks;
    const rounds = new RoundService({
      db, rounds: roundStore, dossiers, trayStore: trayRepo, trays, outbox, audit, sms,
      calendar, checks, clock, logger: log('rounds'), leadMs: config.staff.roundLeadMin * 60_000,
      counter: config.sms.counter,
      publishNext: (manifest) => void events.retained.publishRetained('rounds/next', { at: clock.now().toISOString(), ...manifest }),
    });
    const staffAccounts = new StaffAccountService({ db, accounts, audit, clock, logger: log('staff-accounts'), totpKey: keys.totpSecret });
    this.resultService = results;
    this.roundService = rounds;
    this.timers = new FlowTimers({
      tasks: [
        { name: 'deposits', run: () => deposits.sweep() },
        { name: 'pickups', run: () => pickups.sweep() },
        { name: 'held open', run: () => trays.sweepHeldOpen(config.citizens.doorHeldOpenSec * 1000) },
      ],
      intervalMs: config.citizens.sweepMs,
      logger: log('timers'),
    });
    this.staffTimers = new FlowTimers({
      tasks: [
        { name: 'results', run: () => results.sweep() },
        { name: 'rounds', run: () => rounds.tick() },
      ],
      intervalMs: config.staff.tickMs,
      logger: log('timers'),
    });

    await trays.start();
    this.timers.start();
    this.staffTimers.start();

    this.httpApp = await buildHttp({
      logger: log('http'),
      bodyLimit: config.http.bodyLimit,
      lockerName: config.locker.name,
      health: {
        lockerId,
        db: () => db.ping(),
        mqtt: () => events.status().connected,
        bus: () => bus.health(),
        sms: () => gateway.status(),
      },
      trays,
      findAccount: (token) => staffAccounts.findByToken(token),
      staffAccounts,
      deposits,
      pickups,
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
          demoToken: async (role) => {
            const token = generateToken();
            await accounts.seed(db, `demo ${role} (simulator)`, role, token);
            return token;
          },
        })
        : undefined,
      stats: new StatsService({ db, stats: new StatsRepository(lockerId), clock, timezone: config.locker.timezone }),
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
      await step('flow timers', () => this.timers?.stop());
      await step('staff timers', () => this.staffTimers?.stop());
      await step('trays', () => this.traysService?.stop());
      await step('hardware', () => this.bus?.stop());
      await step('sms', () => this.smsGateway?.stop());
      await step('events', () => this.events?.stop());
      await step('database', () => this.db?.close());
      log.info('controller stopped');
    })();
    return this.stopping;
  }
}

/** The OTP policy from configuration (seconds and minutes in the file, milliseconds here). */
export function otpPolicy(config: FullConfig): OtpPolicy {
  const o = config.citizens.otp;
  const limits = (l: { count: number; windowMin: number }[]) => l.map((x) => ({ count: x.count, windowMs: x.windowMin * 60_000 }));
  return {
    ...DEFAULT_OTP_POLICY,
    ttlMs: o.ttlSec * 1000,
    maxAttemptsPerCode: o.maxAttemptsPerCode,
    resendAfterMs: o.resendAfterSec * 1000,
    failuresBeforeCooldown: o.failuresBeforeCooldown,
    cooldownMs: o.cooldownSec * 1000,
    perPhone: limits(o.perPhone),
    perLocker: limits(o.perLocker),
  };
}
