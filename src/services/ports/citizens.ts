/** Ports: Citizens: dossiers and one-time-code challenges. */
import type { Dossier, DossierKind, DossierStatus } from '../../domain/dossier.js';
import type { Procedure } from '../../domain/procedures.js';
import type { Queryable } from './persistence.js';

/** A new dossier: its identity and first status; later fields may be set at once in `fields`. */
export type NewDossierRow = Pick<
  Dossier,
  'id' | 'code' | 'kind' | 'procedureCode' | 'phoneHash' | 'phoneEnc' | 'status' | 'tray' | 'challengeId'
> & {
  at: Date;
  fields?: Partial<Dossier>;
};

export interface DossierStore {
  insert(q: Queryable, d: NewDossierRow, actor: string): Promise<void>;
  /**
   * `insert` of a dossier whose code no dossier has (`codeExists`), then `transition` from its
   * status to `then.to`, in one round trip: the row as the transition leaves it and both transition
   * rows. False (nothing written) when the code is taken.
   */
  insertNewCode(
    q: Queryable,
    d: NewDossierRow,
    actor: string,
    then: { to: DossierStatus; fields?: Partial<Dossier>; details?: Record<string, unknown> },
  ): Promise<boolean>;
  transition(
    q: Queryable,
    id: string,
    from: DossierStatus,
    to: DossierStatus,
    opts: { actor: string; at: Date; fields?: Partial<Dossier>; details?: Record<string, unknown> },
  ): Promise<void>;
  setFields(q: Queryable, id: string, fields: Partial<Dossier>, at: Date): Promise<void>;
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
/** 'sending': the code is with the SMS provider, not yet taken; it cannot be answered yet. */
export type ChallengeStatus = 'sending' | 'pending' | 'verified' | 'failed' | 'expired';

export interface Challenge {
  id: string;
  purpose: ChallengePurpose;
  phoneHash: string;
  phoneEnc: string;
  procedureCode: string | null;
  /** A deposit's depositor from the scanned citizen ID card its request named, sealed (IdVault), else null. */
  holderEnc?: string | null;
  /** A deposit of a dossier filed online: the online system's number it is recorded under (ADR 0029). */
  onlineNumber?: string | null;
  otpHash: string | null;
  status: ChallengeStatus;
  attempts: number;
  sends: number;
  createdAt: Date;
  sentAt: Date;
  expiresAt: Date;
  verifiedAt: Date | null;
}

/** Wrong entries per phone across codes (reset by a right one): from a threshold, one try per code. */
export interface PhoneGuard {
  failures: number;
  lastFailureAt: Date | null;
}

export interface ChallengeStore {
  /** A new challenge, 'sending' its first code. */
  insert(q: Queryable, c: Omit<Challenge, 'status' | 'attempts' | 'sends' | 'verifiedAt'>): Promise<void>;
  get(q: Queryable, id: string, opts?: { forUpdate?: boolean }): Promise<Challenge | null>;
  update(
    q: Queryable,
    id: string,
    fields: Partial<Pick<Challenge, 'otpHash' | 'status' | 'attempts' | 'sends' | 'sentAt' | 'expiresAt' | 'verifiedAt'>>,
  ): Promise<void>;
  /**
   * After the provider answered for the code sent at `sentAt`: 'pending' (taken, or perhaps taken)
   * or 'failed'. Changes nothing if the challenge moved on meanwhile (used, or a newer code sent).
   */
  settleSend(q: Queryable, id: string, sentAt: Date, status: 'pending' | 'failed'): Promise<void>;
  /** Serialises the send limits of one phone and purpose, then of this locker and purpose (in the caller's transaction). */
  lockSends(q: Queryable, phoneHash: string, purpose: ChallengePurpose): Promise<void>;
  /** A code handed to the SMS service, for the send limits. */
  recordSend(q: Queryable, send: { challengeId: string; purpose: ChallengePurpose; phoneHash: string; at: Date }): Promise<void>;
  /** A code that certainly did not leave: no longer counted. */
  forgetSend(q: Queryable, challengeId: string, at: Date): Promise<void>;
  /** Times of the codes sent for `purpose` since `since`, to one phone (any locker) or by this locker. */
  sendsSince(q: Queryable, scope: { phoneHash: string } | 'locker', purpose: ChallengePurpose, since: Date): Promise<Date[]>;
  guard(q: Queryable, phoneHash: string): Promise<PhoneGuard>;
  setGuard(q: Queryable, phoneHash: string, guard: PhoneGuard): Promise<void>;
  /** A code answered right: `update(id, { status: 'verified', verifiedAt: at })` and `setGuard`, in one round trip. */
  markVerified(q: Queryable, id: string, at: Date, phoneHash: string, guard: PhoneGuard): Promise<void>;
}

/** What the flows need to know of a procedure (the catalogue is config/procedures.yaml). */
export type ProcedureInfo = Pick<Procedure, 'code' | 'deposit' | 'result' | 'traySize' | 'fee' | 'payment' | 'pickupProof' | 'online'> & {
  /** short Vietnamese name, for SMS */
  shortVi: string;
  /** full Vietnamese name, for receipts */
  nameVi: string;
};

export interface ProcedureCatalogue {
  find(code: string): ProcedureInfo | null;
  /** The entry dossiers filed online are deposited under (ADR 0029); absent or null: none. */
  onlineEntry?(): ProcedureInfo | null;
}

/** A result's second factor at pickup (migrations/017_result_holder_id.sql). */
export interface ResultIdentity {
  resultId: string;
  /** IdVault.hash of the holder's ID number. */
  holderIdHash: string;
  /** Wrong numbers given for it so far, across visits. */
  failures: number;
  /** Set once held for an officer (too many wrong numbers): the kiosk no longer opens it. */
  heldAt: Date | null;
  /** Set once its tray was released for the citizen (by this or another code). */
  openedAt: Date | null;
  /** Its status now (a result no longer waiting is not opened by a number). */
  status: string;
}

/** The holders' ID hashes of results, and the tries made against them and against a pickup code. */
export interface PickupIdentityStore {
  /** Records the holder's hash of a result being loaded (in its loading transaction). */
  setHolder(q: Queryable, resultId: string, holderIdHash: string): Promise<void>;
  /** Of these results, those that need the holder's number (the others are left out). */
  ofResults(q: Queryable, resultIds: string[], opts?: { forUpdate?: boolean }): Promise<ResultIdentity[]>;
  /** One more wrong number against each of these results; their failures after it. */
  addFailure(q: Queryable, resultIds: string[]): Promise<Map<string, number>>;
  /** The right number: the count starts again. */
  clearFailures(q: Queryable, resultIds: string[]): Promise<void>;
  /** Holds it for an officer; false if it was held already. */
  hold(q: Queryable, resultId: string, at: Date): Promise<boolean>;
  /** Wrong numbers given after this code was verified, the challenge row locked (null: no such challenge). */
  codeFailures(q: Queryable, challengeId: string): Promise<number | null>;
  setCodeFailures(q: Queryable, challengeId: string, failures: number): Promise<void>;
}
