/**
 * Part of the composition root (with controller.ts): the citizens' and officers' flows built from
 * the units the controller started — codes, the tray cycle, deposits, pickups, results, checks,
 * rounds — and wired here, where a reader sees it: each flow's door handler registered with the
 * trays, an officer's "found" reusing the flows' own completions.
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import { loadCalendar } from './config/calendar.js';
import type { durations } from './config/durations.js';
import type { loadSecretKeys } from './config/secrets.js';
import { nextRound, type WorkCalendar } from './domain/calendar.js';
import type { Clock } from './domain/clock.js';
import type { IdVault } from './domain/id-vault.js';
import type { PhoneVault } from './domain/phone-vault.js';
import { signReceipt } from './domain/receipts.js';
import { paymentProvider } from './compose-payments.js';
import type { EventsUnit } from './events/index.js';
import { ChallengeService } from './services/challenges.js';
import { DepositService } from './services/deposits.js';
import type { IdCardScans } from './services/id-cards.js';
import { PaymentService } from './services/payments.js';
import type { CodeObserver, EventOutbox, ProcedureCatalogue } from './services/ports.js';
import { PickupService } from './services/pickups.js';
import { RatingService } from './services/ratings.js';
import { ResultService } from './services/results.js';
import { RoundService } from './services/rounds.js';
import type { SmsService } from './services/sms.js';
import { TrayChecks } from './services/tray-checks.js';
import { TrayCycle } from './services/tray-cycle.js';
import type { TrayService } from './services/trays.js';
import { AuditRepository } from './store/audit.js';
import { ChallengeRepository } from './store/challenges.js';
import type { Db } from './store/db.js';
import { DossierRepository } from './store/dossiers.js';
import { PickupIdentityRepository } from './store/pickup-identity.js';
import { PaymentRepository } from './store/payments.js';
import { RatingRepository } from './store/ratings.js';
import { RoundRepository } from './store/rounds.js';
import type { TrayRepository } from './store/trays.js';

export interface FlowUnits {
  dossiers: DossierRepository;
  audit: AuditRepository;
  deposits: DepositService;
  pickups: PickupService;
  results: ResultService;
  rounds: RoundService;
  checks: TrayChecks;
  ratings: RatingService;
  payments: PaymentService;
}

export function composeFlows(u: {
  config: Config;
  db: Db;
  trayRepo: TrayRepository;
  trays: TrayService;
  outbox: EventOutbox;
  events: EventsUnit;
  sms: SmsService;
  vault: PhoneVault;
  /** Citizen ID numbers: the holder's hash of an ID-card result (ADR 0028). */
  idVault: IdVault;
  /** Cards scanned at the kiosk (src/services/id-cards.ts): an ID-card pickup may name one. */
  idScans?: IdCardScans;
  keys: ReturnType<typeof loadSecretKeys>;
  /** The receipts' Ed25519 key (config/secrets.ts loadReceiptKey). */
  receiptKey: { privateKey: KeyObject };
  catalogue: ProcedureCatalogue;
  ms: ReturnType<typeof durations>;
  clock: Clock;
  log: (module: string) => Logger;
  /** Told of codes issued, entered wrong and run out of tries (the metrics). */
  codeObserver?: CodeObserver;
  /** The working calendar, if already loaded (`config/calendar.yaml` otherwise). */
  calendar?: WorkCalendar;
}): FlowUnits {
  const { config, db, trayRepo, trays, outbox, events, sms, vault, keys, catalogue, ms, clock, log } = u;
  const lockerId = config.locker.id;
  const challengeStore = new ChallengeRepository(lockerId);
  const challenges = new ChallengeService({
    db,
    challenges: challengeStore,
    vault,
    otpKey: keys.otp,
    policy: ms.otp,
    sms,
    clock,
    logger: log('otp'),
    observer: u.codeObserver,
  });
  const dossiers = new DossierRepository(lockerId);
  const audit = new AuditRepository(lockerId);
  const calendar = u.calendar ?? loadCalendar();
  const roundStore = new RoundRepository(lockerId);
  const checks = new TrayChecks({
    db,
    dossiers,
    trayStore: trayRepo,
    trays,
    rounds: roundStore,
    outbox,
    audit,
    sms,
    clock,
    logger: log('checks'),
    nextCheckAt: () => nextRound(calendar, clock.now()),
  });
  const cycle = new TrayCycle({
    db,
    dossiers,
    trayStore: trayRepo,
    trays,
    checks,
    outbox,
    clock,
    doorOpenTimeoutMs: ms.doorOpenTimeoutMs,
  });
  // A deposit's or a pickup's code check hands out the token its visit is rated with.
  const ratings = new RatingService({ db, ratings: new RatingRepository(lockerId), outbox, clock, logger: log('ratings') });
  const flowDeps = { db, dossiers, trayStore: trayRepo, trays, challenges, cycle, procedures: catalogue, outbox, sms, clock };
  // Fees (issue 13): a paid deposit's tray opens through the deposit flow.
  const payments = new PaymentService({
    db,
    payments: new PaymentRepository(lockerId),
    dossiers,
    trayStore: trayRepo,
    trays,
    outbox,
    audit,
    procedures: catalogue,
    clock,
    logger: log('payments'),
    payWithinMs: config.payments.payWithinSec * 1000,
    receipts: config.payments.receipts,
    sign: (body) => signReceipt(body, u.receiptKey.privateKey),
    phoneOf: (enc) => {
      try {
        return enc ? vault.decrypt(enc) : null;
      } catch {
        return null;
      }
    },
    timezone: config.locker.timezone,
    // Without a provider no transfer can be seen: every fee is paid at the counter.
    payBefore: paymentProvider(config) !== 'none',
  });
  const deposits = new DepositService({
    ...flowDeps,
    ratings,
    payments,
    doorOpenTimeoutMs: ms.doorOpenTimeoutMs,
    logger: log('deposits'),
    // A deposit made with a scanned card keeps its holder, sealed (docs/id-card.md).
    ...(u.idScans ? { idCards: { scans: u.idScans, vault: u.idVault } } : {}),
  });
  payments.onPaid = deposits.paidOpen;
  const pickupIdentity = new PickupIdentityRepository(lockerId);
  const pickups = new PickupService({
    ...flowDeps,
    ratings,
    logger: log('pickups'),
    challengeStore,
    identity: pickupIdentity,
    idVault: u.idVault,
    audit,
    ...(u.idScans ? { scans: u.idScans } : {}),
  });
  const results = new ResultService({
    ...flowDeps,
    vault,
    idVault: u.idVault,
    identity: pickupIdentity,
    audit,
    logger: log('results'),
    pickupWindowMs: ms.pickupWindowMs,
    reminderBeforeMs: ms.reminderBeforeMs,
  });
  // Each flow follows its trays' doors ("opened, then closed"); an officer's "found" reuses the
  // flows' own completions.
  for (const flow of [deposits.doorFlow, results.doorFlow, pickups.doorFlow]) trays.addDoorHandler(cycle.doorHandler(flow));
  checks.setCompletions({
    deposited: (q, d, tray, at, source) => deposits.deposited(q, d, tray, at, source),
    loaded: (q, d, tray, at, source) => results.loaded(q, d, tray, at, source),
    depositCancelled: (q, d, at) => payments.depositEnded(q, d.id, at),
  });
  const rounds = new RoundService({
    db,
    rounds: roundStore,
    dossiers,
    trayStore: trayRepo,
    trays,
    outbox,
    audit,
    sms,
    calendar,
    checks,
    clock,
    logger: log('rounds'),
    leadMs: ms.roundLeadMs,
    counter: config.sms.counter,
    publishNext: (manifest) => void events.retained.publishRetained('rounds/next', { at: clock.now().toISOString(), ...manifest }),
  });
  return { dossiers, audit, deposits, pickups, results, rounds, checks, ratings, payments };
}
