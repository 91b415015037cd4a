/**
 * Pickup: a citizen gives a phone number and a code is sent to it, whether or not results wait:
 * the request does the same work either way (it does not even look), so neither its answer nor its
 * time nor the next request's tells whose results are in the machine. Only the code's holder
 * learns it, from the answer to the right code (no trays: nothing waits).
 * The right code opens that phone's result trays one after another; each door opened and closed
 * marks its result picked up and sends a confirmation. A result loaded with its holder's ID number
 * (the ID cards, `pickupProof: id_number`) waits for a second step: the holder's number, typed or
 * scanned from the old card, within a few minutes of the code, with limits of its own
 * (docs/adr/0028-id-card-pickup-second-factor.md).
 */
import { parseIdNumber } from '../domain/citizen-id.js';
import { displayCode } from '../domain/dossier-code.js';
import { RESULT_WAITING, type Dossier } from '../domain/dossier.js';
import { AppError } from '../domain/errors.js';
import type { IdVault } from '../domain/id-vault.js';
import { parseVnMobile } from '../domain/phone.js';
import { IDENTITY_POLICY, identityWindowOpen, sameHash, type IdentityPolicy } from '../domain/pickup-identity.js';
import type { ChallengeService, IssuedChallenge } from './challenges.js';
import type { AuditStore, ChallengeStore, PickupIdentityStore, Queryable, ResultIdentity } from './ports.js';
import type { RatingService } from './ratings.js';
import type { CycleFlow, FlowDeps } from './tray-cycle.js';

export interface PickupServiceDeps extends FlowDeps {
  challenges: ChallengeService;
  /** Hands out the token the kiosk rates the visit with, in the code check's transaction. */
  ratings: RatingService;
  /** The challenges as stored: the ID step reads the verified code's row. */
  challengeStore: ChallengeStore;
  /** The holders' ID hashes of the ID-card results and the tries against them. */
  identity: PickupIdentityStore;
  idVault: IdVault;
  audit: AuditStore;
  /** Cards scanned at the kiosk (src/services/id-cards.ts): `take(scanId)` gives the holder's number. */
  scans?: { take(scanId: string): { idNumber: string } | null };
  identityPolicy?: IdentityPolicy;
}

/** What the ID step is given: the holder's number typed on the keypad, or a scan of the old card. */
export type HolderProof = { idNumber: string } | { scanId: string };

/** The answer to a right code or a right ID number: the trays opened, and what still waits. */
export interface PickupAnswer {
  trays: number[];
  dossierCodes: string[];
  unavailable: number[];
  results: PickupOpenedResult[];
  ratingToken?: string;
  /** Results that wait for their holder's ID number (POST /api/pickups/:challengeId/identity). */
  identityNeeded?: number;
  /** Results held for an officer after too many wrong numbers: the kiosk does not open them. */
  identityHeld?: number;
}

/** A result in a tray opened for the citizen. */
export interface PickupOpenedResult {
  resultId: string;
  dossierCode: string;
  tray: number;
}

const CITIZEN = 'citizen';

export class PickupService {
  constructor(private readonly deps: PickupServiceDeps) {}

  async start(input: { phone: string }): Promise<IssuedChallenge> {
    const phone = parseVnMobile(input.phone);
    // In the background: the gateway's time is not the answer's.
    return this.deps.challenges.issue('pickup', phone, { delivery: 'background' });
  }

  resend(challengeId: string): Promise<IssuedChallenge> {
    return this.deps.challenges.resend(challengeId, 'pickup');
  }

  /**
   * Checks the code; records the release of every tray holding a result for that phone in the same
   * transaction, then pulses them one after another (a tray whose board is silent is skipped and
   * reported unavailable; its result stays waiting).
   */
  async verify(challengeId: string, otp: string): Promise<PickupAnswer> {
    const { db, dossiers, challenges, outbox, clock } = this.deps;
    const outcome = await db.tx(async (q) => {
      const result = await challenges.verify(q, challengeId, 'pickup', otp);
      if (!result.ok) return result;
      const now = clock.now();
      const waiting = (await dossiers.byPhone(q, result.challenge.phoneHash, 'result', RESULT_WAITING)).filter((x) => x.tray !== null);
      // An ID card waits for its holder's number (the second step); one held waits for an officer.
      const identities = new Map(
        (
          await this.deps.identity.ofResults(
            q,
            waiting.map((d) => d.id),
          )
        ).map((i) => [i.resultId, i]),
      );
      const held = waiting.filter((d) => identities.get(d.id)?.heldAt);
      const needing = waiting.filter((d) => identities.has(d.id) && !identities.get(d.id)!.heldAt);
      const { ready, unavailable } = await this.release(
        q,
        waiting.filter((d) => !identities.has(d.id)),
        now,
      );
      let ratingToken: string | undefined;
      const visit = [...ready, ...needing];
      if (visit.length) {
        // One rating of the visit; its procedure only when every result released or to be is of one.
        const procedures = new Set(visit.map((d) => d.procedureCode));
        ratingToken = await this.deps.ratings.issue(q, 'pickup', procedures.size === 1 ? [...procedures][0] : null, now);
      }
      return { ok: true as const, ready, unavailable, ratingToken, needing: needing.length, held: held.length };
    });
    outbox.committed();
    if (!outcome.ok) throw outcome.error;
    return {
      ...(await this.open(outcome.ready, outcome.unavailable)),
      // The visit's, whatever the pulses did.
      ...(outcome.ratingToken ? { ratingToken: outcome.ratingToken } : {}),
      ...(outcome.needing ? { identityNeeded: outcome.needing } : {}),
      ...(outcome.held ? { identityHeld: outcome.held } : {}),
    };
  }

  /**
   * The second step of an ID-card pickup: the holder's number (typed, or from a scan of the old
   * card) opens the trays of the results waiting for that phone whose holder it is. Only after the
   * pickup's code was checked, and within IDENTITY_POLICY.windowMs of it. A wrong number costs one
   * of the code's tries and one of each waiting result's; a result out of tries is held for an
   * officer (event, audit, alarm). The number is never stored, logged or audited.
   */
  async identity(challengeId: string, proof: HolderProof): Promise<PickupAnswer> {
    const { db, dossiers, outbox, clock, identity, audit } = this.deps;
    const policy = this.deps.identityPolicy ?? IDENTITY_POLICY;
    const now = clock.now();
    let idNumber: string;
    if ('scanId' in proof) {
      const holder = this.deps.scans?.take(proof.scanId) ?? null;
      if (!holder)
        throw new AppError('ID_SCAN_NOT_FOUND', 'no scanned ID card under this id (scans are kept 5 minutes): scan the card again');
      idNumber = holder.idNumber;
    } else {
      idNumber = parseIdNumber(proof.idNumber, now);
    }
    const given = this.deps.idVault.hash(idNumber);
    const outcome = await db.tx(async (q) => {
      const c = await this.deps.challengeStore.get(q, challengeId, { forUpdate: true });
      if (!c || c.purpose !== 'pickup') throw new AppError('CHALLENGE_NOT_FOUND', 'this request is not known; start again');
      if (c.status !== 'verified' || !c.verifiedAt) {
        throw new AppError('PICKUP_NOT_VERIFIED', 'the code sent by SMS must be entered first');
      }
      if (!identityWindowOpen(policy, c.verifiedAt, now)) {
        throw new AppError('IDENTITY_WINDOW_CLOSED', 'too long since the code was entered; start the pickup again');
      }
      const codeFailures = (await identity.codeFailures(q, challengeId)) ?? 0;
      if (codeFailures >= policy.triesPerCode) {
        throw new AppError('ID_NUMBER_TRIES_EXHAUSTED', 'too many wrong ID numbers for this code; ask for a new code', { attemptsLeft: 0 });
      }
      const waiting = (await dossiers.byPhone(q, c.phoneHash, 'result', RESULT_WAITING)).filter((d) => d.tray !== null);
      // Locked and read again: another code of this phone may have opened, failed or held them meanwhile.
      const identities = new Map(
        (
          await identity.ofResults(
            q,
            waiting.map((d) => d.id),
            { forUpdate: true },
          )
        ).map((i) => [i.resultId, i]),
      );
      const candidates = waiting.filter((d) => {
        const i = identities.get(d.id);
        return (
          i && RESULT_WAITING.includes(i.status as Dossier['status']) && !i.heldAt && !i.openedAt && i.failures < policy.triesPerResult
        );
      });
      if (!candidates.length) throw new AppError('NO_IDENTITY_NEEDED', 'no result waiting for this phone needs an ID number');
      // Every hash compared, in constant time each: the time taken does not tell which matched.
      const matches = candidates.map((d) => sameHash((identities.get(d.id) as ResultIdentity).holderIdHash, given));
      const matched = candidates.filter((_, i) => matches[i]);
      if (!matched.length)
        return { ok: false as const, ...(await this.wrongNumber(q, challengeId, codeFailures, candidates, policy, now)) };
      await identity.clearFailures(
        q,
        matched.map((d) => d.id),
      );
      const { ready, unavailable } = await this.release(q, matched, now);
      await audit.record(q, {
        actor: CITIZEN,
        action: 'pickup.identity_matched',
        subject: `challenge:${challengeId}`,
        details: { results: matched.length, opened: ready.length },
        at: now,
      });
      return { ok: true as const, ready, unavailable, left: candidates.length - matched.length };
    });
    outbox.committed();
    if (!outcome.ok) {
      const left = Math.max(0, policy.triesPerCode - outcome.codeFailures);
      throw new AppError(
        'ID_NUMBER_MISMATCH',
        left === 0 ? 'wrong ID number; this code can no longer open ID cards, ask for a new one' : `wrong ID number; ${left} tries left`,
        { attemptsLeft: left, ...(outcome.held ? { held: outcome.held } : {}) },
      );
    }
    return { ...(await this.open(outcome.ready, outcome.unavailable)), ...(outcome.left ? { identityNeeded: outcome.left } : {}) };
  }

  /**
   * A wrong number: one try less for the code and for each result it was tried against; a result
   * out of tries is held for an officer. Recorded (audit, without the number) in the caller's
   * transaction, which commits.
   */
  private async wrongNumber(
    q: Queryable,
    challengeId: string,
    codeFailures: number,
    candidates: Dossier[],
    policy: IdentityPolicy,
    now: Date,
  ): Promise<{ codeFailures: number; held: number }> {
    const { identity, audit, outbox } = this.deps;
    await identity.setCodeFailures(q, challengeId, codeFailures + 1);
    const failures = await identity.addFailure(
      q,
      candidates.map((d) => d.id),
    );
    await audit.record(q, {
      actor: CITIZEN,
      action: 'pickup.identity_failed',
      subject: `challenge:${challengeId}`,
      details: { codeFailures: codeFailures + 1, results: candidates.length },
      at: now,
    });
    let held = 0;
    for (const d of candidates) {
      const n = failures.get(d.id) ?? 0;
      if (n < policy.triesPerResult) continue;
      if (!(await identity.hold(q, d.id, now))) continue;
      held++;
      await audit.record(q, {
        actor: 'system',
        action: 'result.identity_held',
        subject: `dossier:${d.id}`,
        details: { tray: d.tray, procedureCode: d.procedureCode, failures: n },
        at: now,
      });
      await outbox.enqueue(
        q,
        'alarm.pickup_identity_held',
        { resultId: d.id, dossierCode: d.code, tray: d.tray!, procedureCode: d.procedureCode, failures: n },
        now,
      );
    }
    return { codeFailures: codeFailures + 1, held };
  }

  /** Records the release of these results' trays (a tray whose board is silent is left out), with their event. */
  private async release(q: Queryable, results: Dossier[], now: Date): Promise<{ ready: Dossier[]; unavailable: number[] }> {
    const { dossiers, trays, outbox } = this.deps;
    const ready: Dossier[] = [];
    const unavailable: number[] = [];
    for (const d of results) {
      const tray = await this.deps.trayStore.get(q, d.tray!);
      if (tray?.fault) {
        unavailable.push(d.tray!);
        continue;
      }
      await dossiers.setFields(q, d.id, { openedAt: now, doorOpenedAt: null }, now);
      await trays.recordRelease(q, d.tray!, CITIZEN, 'pickup', { dossierCode: d.code });
      ready.push(d);
    }
    if (ready.length) {
      await outbox.enqueue(q, 'pickup.opened', { trays: ready.map((d) => d.tray!), dossierCodes: ready.map((d) => d.code) }, now);
    }
    return { ready, unavailable };
  }

  /** After the commit: pulses the released trays one after another. */
  private async open(
    ready: Dossier[],
    unavailableBefore: number[],
  ): Promise<Pick<PickupAnswer, 'trays' | 'dossierCodes' | 'unavailable' | 'results'>> {
    const { logger } = this.deps;
    const opened: number[] = [];
    const unavailable = [...unavailableBefore];
    for (const d of ready) {
      try {
        // Certainly not pulsed: the release lapses now; perhaps pulsed: the sweep decides.
        await this.deps.cycle.pulse(d.tray!, 'pickup', () => this.lapse(d.id));
        opened.push(d.tray!);
      } catch (err) {
        logger.warn({ err, tray: d.tray }, 'a result tray could not be opened for pickup');
        unavailable.push(d.tray!);
      }
    }
    const released = ready.filter((d) => opened.includes(d.tray!));
    return {
      trays: opened,
      dossierCodes: released.map((d) => displayCode(d.code)),
      unavailable,
      results: released.map((d) => ({ resultId: d.id, dossierCode: displayCode(d.code), tray: d.tray! })),
    };
  }

  /**
   * A result by the id a pickup answer gave: the kiosk follows it to "picked up" here rather than
   * through the public lookup, whose per-address count the kiosk shares with every citizen's
   * lookups. Only a result's code and status; its id is known only to whoever proved the phone.
   */
  async result(id: string): Promise<{ resultId: string; dossierCode: string; status: Dossier['status'] }> {
    const d = await this.deps.dossiers.get(this.deps.db, id);
    if (!d || d.kind !== 'result') throw new AppError('DOSSIER_NOT_FOUND', 'no such result');
    return { resultId: d.id, dossierCode: displayCode(d.code), status: d.status };
  }

  /** At the door (the tray cycle): a result tray released for pickup, opened then closed = picked up. */
  readonly doorFlow: CycleFlow = {
    statuses: RESULT_WAITING,
    pick: (inTray) => inTray.find((x) => x.kind === 'result' && x.openedAt),
    complete: async (q, d, tray, at) => {
      const { dossiers, trayStore, outbox } = this.deps;
      // (The move forgets an ID card's holder hash: src/store/dossiers.ts transition.)
      await dossiers.transition(q, d.id, d.status, 'picked_up', { actor: CITIZEN, at, fields: { pickedUpAt: at } });
      await trayStore.setContent(q, tray, 'free', at);
      await outbox.enqueue(q, 'pickup.completed', { dossierCode: d.code, tray, procedureCode: d.procedureCode }, at);
      return () => this.deps.sms.sendNotice('pickup_receipt', d.phoneEnc, d.phoneHash, d.id, { dossierCode: displayCode(d.code), at });
    },
  };

  /**
   * A pickup release whose door has not opened: once its time is up it lapses (the result stays
   * waiting) if the door was watched throughout; if not, the citizen may have taken the result
   * unseen, so the tray is held for an officer to check. Returns how many lapsed.
   */
  async sweep(): Promise<number> {
    return (await this.deps.cycle.sweep('pickup', (d) => this.lapse(d.id))).length;
  }

  /** The release lapses: the result stays waiting, its tray locked. */
  private lapse(id: string): Promise<boolean> {
    const { db, dossiers, trayStore, clock } = this.deps;
    return db.tx(async (q) => {
      const d = await dossiers.get(q, id, { forUpdate: true });
      if (!d || d.doorOpenedAt || !d.openedAt || d.tray === null || !RESULT_WAITING.includes(d.status)) return false;
      await dossiers.setFields(q, id, { openedAt: null }, clock.now());
      await trayStore.clearRelease(q, d.tray);
      return true;
    });
  }
}
