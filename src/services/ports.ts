/**
 * Ports the use cases drive. Adapters (hardware/, src/store, src/events, src/sms) implement them;
 * nothing here imports an adapter.
 */
import type { EventEmitter } from 'node:events';
import type { CabinetMap, TraySize } from '../domain/cabinet.js';
import type { Dossier, DossierKind, DossierStatus } from '../domain/dossier.js';
import type { Door, Tray, TrayContent } from '../domain/tray.js';
import type { Procedure } from '../domain/procedures.js';
import type { SignedInAccount, StaffRole } from '../domain/accounts.js';

export type DoorState = 'open' | 'closed' | 'unknown';

export interface DoorEvent {
  tray: number;
  open: boolean;
  at: Date;
}

export type BusFaultCause = 'timeout' | 'crc' | 'exception' | 'port_closed' | 'io';

export interface BoardFaultEvent {
  board: string;
  cause: BusFaultCause;
  message: string;
  trays: number[];
  at: Date;
}

export interface BoardRecoveredEvent {
  board: string;
  trays: number[];
  at: Date;
}

/**
 * A board answered again after its doors went unread for longer than the bus's `watchGapMs`
 * (it was offline, or its polls failed, or the process stalled). A door may have opened and shut
 * meanwhile unseen: flows whose lock release spans a gap cannot trust "never opened".
 */
export interface WatchGapEvent {
  board: string;
  trays: number[];
  /** How long the doors went unread, ms. */
  unwatchedMs: number;
  at: Date;
}

export interface BoardHealth {
  id: string;
  bus: string;
  online: boolean;
  lastError?: string;
  lastSeenAt?: Date;
}

export interface BusHealth {
  /** true when every bus link is open and every board answers */
  ok: boolean;
  buses: { id: string; open: boolean; lastError?: string }[];
  boards: BoardHealth[];
  /** duration of the last complete door scan, ms */
  lastScanMs?: number;
}

export interface TrayReading {
  tray: number;
  door: DoorState;
  /** false while the tray's board does not answer */
  online: boolean;
}

export interface LockBusEvents {
  door: [DoorEvent];
  fault: [BoardFaultEvent];
  recovered: [BoardRecoveredEvent];
  gap: [WatchGapEvent];
  health: [BusHealth];
}

/**
 * The cabinet as the controller sees it: locks to release and doors to watch.
 * `start()` switches every output off and completes one full door scan before it resolves,
 * so `snapshot()` is meaningful right after. Door events are debounced.
 */
export interface LockBus extends EventEmitter<LockBusEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Release one tray's lock. Resolves once the board acknowledged the pulse. */
  unlock(tray: number): Promise<void>;
  snapshot(): TrayReading[];
  health(): BusHealth;
  /**
   * True when this tray's door is being watched right now: the bus runs, its board answers and
   * was read within `watchGapMs`. A gap that is still going on is not yet a `gap` event.
   */
  watching(tray: number): boolean;
}

// ---------------------------------------------------------------------------------------------
// Persistence and events, as the use cases need them. src/store and src/events implement these.


/** One statement runner: a pool, or the client of an open transaction. */
export interface Queryable {
  query<R extends { [column: string]: any } = any>(text: string, values?: any[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Database extends Queryable {
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<boolean>;
}

export interface TrayStore {
  applyMap(q: Queryable, name: string, map: CabinetMap): Promise<void>;
  list(q: Queryable): Promise<Tray[]>;
  get(q: Queryable, number: number, opts?: { forUpdate?: boolean }): Promise<Tray | null>;
  setDoor(q: Queryable, number: number, door: Door, at: Date): Promise<void>;
  markReleased(q: Queryable, number: number, at: Date): Promise<void>;
  /** Forgets a release whose pulse failed (the door was not opened). */
  clearRelease(q: Queryable, number: number): Promise<void>;
  setDisabled(q: Queryable, number: number, reason: string | null, at: Date): Promise<void>;
  setContent(q: Queryable, number: number, content: TrayContent, at: Date): Promise<void>;
  reserveFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size'], at: Date): Promise<number | null>;
  countFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size']): Promise<number>;
  markHeldOpen(q: Queryable, now: Date, heldMs: number, exclude?: number[]): Promise<{ number: number; openSince: Date }[]>;
  setBoardFault(q: Queryable, board: string, fault: string | null, at: Date): Promise<number[]>;
}

export interface AuditStore {
  record(q: Queryable, entry: { actor: string; action: string; subject?: string | null; details?: Record<string, unknown>; at: Date }): Promise<void>;
}

/** The transactional outbox: events written in the caller's transaction, published after commit. */
export interface EventOutbox {
  enqueue(q: Queryable, type: string, data: Record<string, unknown>, at: Date): Promise<{ id: string }>;
  /** Call after the transaction committed: wakes the relay. */
  committed(): void;
}

/** Retained state on MQTT (`occupancy`, `trays/<n>`), published when trays change. */
export interface TrayStatePublisher {
  publishTrays(all: Tray[], changed: number[]): void;
}

// ---------------------------------------------------------------------------------------------
// Citizens: dossiers and one-time-code challenges.


/** A new dossier: its identity and first status; later fields may be set at once in `fields`. */
export type NewDossierRow = Pick<Dossier, 'id' | 'code' | 'kind' | 'procedureCode' | 'phoneHash' | 'phoneEnc' | 'status' | 'tray' | 'challengeId'> & {
  at: Date;
  fields?: Partial<Dossier>;
};

export interface DossierStore {
  insert(q: Queryable, d: NewDossierRow, actor: string): Promise<void>;
  transition(
    q: Queryable, id: string, from: DossierStatus, to: DossierStatus,
    opts: { actor: string; at: Date; fields?: Partial<Dossier>; details?: Record<string, unknown> },
  ): Promise<void>;
  touch(q: Queryable, id: string, fields: Partial<Dossier>, at: Date): Promise<void>;
  get(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<Dossier | null>;
  getByCode(q: Queryable, code: string): Promise<Dossier | null>;
  inTray(q: Queryable, tray: number, statuses: DossierStatus[]): Promise<Dossier[]>;
  byPhone(q: Queryable, phoneHash: string, kind: DossierKind, statuses: DossierStatus[]): Promise<Dossier[]>;
  awaitingDoor(q: Queryable, flow: 'deposit' | 'loading' | 'pickup'): Promise<Dossier[]>;
  toCheck(q: Queryable): Promise<Dossier[]>;
  codeExists(q: Queryable, code: string): Promise<boolean>;
  liveResult(q: Queryable, code: string): Promise<Dossier | null>;
  dueForReminder(q: Queryable, now: Date, withinMs: number): Promise<Dossier[]>;
  pastDeadline(q: Queryable, now: Date): Promise<Dossier[]>;
  waitingResults(q: Queryable): Promise<Dossier[]>;
  allByCode(q: Queryable, code: string): Promise<Dossier[]>;
}

export type ChallengePurpose = 'deposit' | 'pickup';
export type ChallengeStatus = 'pending' | 'verified' | 'failed' | 'expired';

export interface Challenge {
  id: string;
  purpose: ChallengePurpose;
  phoneHash: string;
  phoneEnc: string;
  procedureCode: string | null;
  otpHash: string | null;
  status: ChallengeStatus;
  attempts: number;
  sends: number;
  createdAt: Date;
  sentAt: Date;
  expiresAt: Date;
  verifiedAt: Date | null;
}

export interface PhoneGuard {
  failures: number;
  lastFailureAt: Date | null;
  lockedUntil: Date | null;
}

export interface ChallengeStore {
  insert(q: Queryable, c: Omit<Challenge, 'status' | 'attempts' | 'sends' | 'verifiedAt'>): Promise<void>;
  get(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<Challenge | null>;
  update(q: Queryable, id: string, fields: Partial<Pick<Challenge, 'otpHash' | 'status' | 'attempts' | 'sends' | 'sentAt' | 'expiresAt' | 'verifiedAt'>>): Promise<void>;
  recordSend(q: Queryable, phoneHash: string, at: Date): Promise<void>;
  sendsSince(q: Queryable, scope: { phoneHash: string } | 'locker', since: Date): Promise<Date[]>;
  guard(q: Queryable, phoneHash: string): Promise<PhoneGuard>;
  setGuard(q: Queryable, phoneHash: string, guard: PhoneGuard): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// SMS: the gateway as the use cases see it, and the log of what was sent.

export interface SmsMessage {
  id: string;
  /** E.164, e.g. +84912345678 */
  to: string;
  text: string;
  /** 'otp', 'deposit_receipt', … */
  kind: string;
}

export interface SmsSendResult {
  providerMessageId: string | null;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

export interface SmsDeliveryReport {
  providerMessageId: string;
  status: 'delivered' | 'failed' | 'expired' | 'rejected' | 'unknown';
  at: Date;
}

/** The SMS gateway port; its adapters (console, HTTP provider, SMPP) are in src/sms. */
export interface SmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> {
  readonly kind: 'console' | 'http' | 'smpp';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the provider took the message; throws AppError SMS_FAILED otherwise. */
  send(msg: SmsMessage): Promise<SmsSendResult>;
  status(): { ok: boolean; detail?: string };
}

export interface SmsLogEntry {
  id: string;
  kind: string;
  phoneHash: string;
  dossierId: string | null;
  at: Date;
}

export interface SmsLog {
  started(q: Queryable, e: SmsLogEntry): Promise<void>;
  sent(q: Queryable, id: string, r: { providerMessageId: string | null; segments: number; attempts: number }, at: Date): Promise<void>;
  failed(q: Queryable, id: string, error: string, attempts: number): Promise<void>;
  delivered(q: Queryable, providerMessageId: string, ok: boolean, at: Date): Promise<void>;
  recent(q: Queryable, limit: number): Promise<Record<string, unknown>[]>;
}

/** What the flows need to know of a procedure (the catalogue is config/procedures.yaml). */
export type ProcedureInfo = Pick<Procedure, 'code' | 'deposit' | 'result' | 'traySize'> & {
  /** short Vietnamese name, for SMS */
  shortVi: string;
};

export interface ProcedureCatalogue {
  find(code: string): ProcedureInfo | null;
}

// ---------------------------------------------------------------------------------------------
// Staff: collection rounds.

export type RoundStatus = 'upcoming' | 'due' | 'running' | 'completed' | 'skipped';

export interface RoundRow {
  id: string;
  scheduledAt: Date;
  status: RoundStatus;
  drawnAt: Date | null;
  startedAt: Date | null;
  startedBy: string | null;
  completedAt: Date | null;
  completedBy: string | null;
  counts: Record<string, number> | null;
}

export interface RoundItemRow {
  roundId: string;
  dossierId: string;
  tray: number;
  kind: 'collect' | 'take_back' | 'check';
  status: 'pending' | 'opened' | 'collected' | 'returned' | 'missing' | 'found' | 'empty';
  dossierCode: string;
  procedureCode: string;
  depositedAt: Date | null;
  expiredAt: Date | null;
  dossierStatus: string;
  openedAt: Date | null;
  confirmedAt: Date | null;
  confirmedBy: string | null;
}

export interface RoundStore {
  ensure(q: Queryable, scheduledAt: Date): Promise<RoundRow>;
  get(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<RoundRow | null>;
  active(q: Queryable): Promise<RoundRow | null>;
  becomingDue(q: Queryable, now: Date, leadMs: number): Promise<RoundRow[]>;
  update(q: Queryable, id: string, fields: Partial<RoundRow>): Promise<void>;
  skipUnstarted(q: Queryable, before: Date): Promise<string[]>;
  draw(q: Queryable, roundId: string): Promise<void>;
  items(q: Queryable, roundId: string): Promise<RoundItemRow[]>;
  item(q: Queryable, roundId: string, tray: number): Promise<RoundItemRow | null>;
  setItem(q: Queryable, roundId: string, dossierId: string, fields: { status: RoundItemRow['status']; openedAt?: Date; confirmedAt?: Date; confirmedBy?: string }): Promise<void>;
  preview(q: Queryable): Promise<Omit<RoundItemRow, 'roundId'>[]>;
  settleOpenItems(q: Queryable, dossierId: string, fields: { status: RoundItemRow['status']; confirmedAt: Date; confirmedBy: string }): Promise<void>;
  freeTrays(q: Queryable): Promise<Record<TraySize, number>>;
}

// ---------------------------------------------------------------------------------------------
// Staff accounts.

/** An account row, secrets included: for this service only, never sent out. */
export interface AccountRecord extends SignedInAccount {
  createdAt: Date;
  createdBy: string | null;
  disabledAt: Date | null;
  /** scrypt string; null when the account has no touchscreen sign-in */
  pinHash: string | null;
  /** sealed TOTP secret; null when the account has no touchscreen sign-in */
  totpSecretEnc: string | null;
  totpLastStep: number | null;
  pinFailures: number;
  lockedUntil: Date | null;
}

export interface NewAccount {
  name: string;
  role: StaffRole;
  /** the permanent bearer token; the store keeps only its digest */
  token: string;
  pinHash: string | null;
  totpSecretEnc: string | null;
  createdBy: string;
  at: Date;
}

/** The accounts and sessions tables (src/store/accounts.ts). */
export interface StaffAccountStore {
  findByToken(q: Queryable, token: string): Promise<SignedInAccount | null>;
  insert(q: Queryable, a: NewAccount): Promise<number>;
  list(q: Queryable): Promise<AccountRecord[]>;
  get(q: Queryable, id: number, opts?: { forUpdate?: boolean }): Promise<AccountRecord | null>;
  findLiveByName(q: Queryable, name: string): Promise<AccountRecord | null>;
  setDisabled(q: Queryable, id: number, at: Date): Promise<void>;
  /** Replaces the permanent token (the store keeps only its digest). */
  setToken(q: Queryable, id: number, token: string): Promise<void>;
  countAttempt(q: Queryable, id: number, now: Date): Promise<number | null>;
  lock(q: Queryable, id: number, until: Date): Promise<void>;
  acceptSignIn(q: Queryable, id: number, totpStep: number): Promise<boolean>;
  insertSession(q: Queryable, s: { token: string; accountId: number; createdAt: Date; expiresAt: Date }): Promise<void>;
  findBySessionToken(q: Queryable, token: string, now: Date): Promise<(SignedInAccount & { expiresAt: Date }) | null>;
  revokeSession(q: Queryable, token: string, at: Date): Promise<number | null>;
  revokeSessions(q: Queryable, accountId: number, at: Date): Promise<number>;
  pruneSessions(q: Queryable, before: Date): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The simulated cabinet's controls (present only with the simulator driver; hardware/ builds
// them, the simulator routes and panel use them).

export interface SimTray {
  tray: number;
  board: string;
  door: 'open' | 'closed';
  latched: boolean;
}

export interface SimulatorControls {
  /** The board faults the simulator can inject (`none` clears one). */
  readonly faultKinds: readonly string[];
  trays(): SimTray[];
  boards(): { id: string; unitId: number; fault: string }[];
  /** Opens or closes a door; opening a latched door fails unless forced. */
  setDoor(tray: number, open: boolean, force: boolean): { ok: boolean; reason?: string };
  /** False when the board is not in the simulated cabinet. */
  setFault(board: string, fault: string, delayMs?: number): boolean;
  pulses(): { tray: number | null; board: string; channel: number; at: Date }[];
  clockOffsetMs(): number;
  setClockOffsetMs(ms: number): Date;
  /** Texts the console SMS gateway "sent", newest last (absent with a real gateway). */
  smsInbox?(): { id: string; to: string; text: string; kind: string; at: Date }[];
  /** Creates a demo account and returns its bearer token, so the demo can try the staff and admin screens. */
  demoToken?(role: 'admin' | 'staff'): Promise<string>;
}

// ---------------------------------------------------------------------------------------------
// The admin dashboard's figures.

/** One local day's figures. */
export interface DayFigures {
  /** The local date, `YYYY-MM-DD`. */
  day: string;
  /** Deposits completed (door closed on a dossier) that day. */
  deposits: number;
  /** Results loaded into a tray that day. */
  loaded: number;
  /** Results picked up that day. */
  pickedUp: number;
  /** Results whose pickup deadline fell that day (and has passed). */
  due: number;
  /** Of those, picked up before the deadline. */
  onTime: number;
  /** Of those, not picked up before the deadline. */
  unclaimed: number;
}

export interface AlarmRow {
  id: string;
  type: string;
  at: Date;
  data: Record<string, unknown>;
}

/** What the machine holds now, for the dashboard. */
export interface HeldNow {
  depositsWaiting: number;
  resultsWaiting: number;
  resultsOverdue: number;
}

/** The queries behind the dashboard (store/stats.ts). */
export interface StatsStore {
  daily(q: Queryable, now: Date, days: number, timezone: string): Promise<DayFigures[]>;
  current(q: Queryable, now: Date): Promise<HeldNow>;
  alarms(q: Queryable, limit: number): Promise<AlarmRow[]>;
}
