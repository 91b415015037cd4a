/**
 * Pickup: a citizen gives a phone number and a code is sent to it, whether or not results wait:
 * the request does the same work either way (it does not even look), so neither its answer nor its
 * time nor the next request's tells whose results are in the machine. Only the code's holder
 * learns it, from the answer to the right code (no trays: nothing waits).
 * The right code opens that phone's result trays one after another; each door opened and closed
 * marks its result picked up and sends a confirmation.
 */
import { displayCode } from '../domain/dossier-code.js';
import { RESULT_WAITING, type Dossier } from '../domain/dossier.js';
import { AppError } from '../domain/errors.js';
import { parseVnMobile } from '../domain/phone.js';
import type { ChallengeService, IssuedChallenge } from './challenges.js';
import type { RatingService } from './ratings.js';
import type { CycleFlow, FlowDeps } from './tray-cycle.js';

export interface PickupServiceDeps extends FlowDeps {
  challenges: ChallengeService;
  /** Hands out the token the kiosk rates the visit with, in the code check's transaction. */
  ratings: RatingService;
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
  async verify(
    challengeId: string,
    otp: string,
  ): Promise<{ trays: number[]; dossierCodes: string[]; unavailable: number[]; results: PickupOpenedResult[]; ratingToken?: string }> {
    const { db, dossiers, challenges, outbox, clock, logger, trays } = this.deps;
    const outcome = await db.tx(async (q) => {
      const result = await challenges.verify(q, challengeId, 'pickup', otp);
      if (!result.ok) return result;
      const now = clock.now();
      const waiting = await dossiers.byPhone(q, result.challenge.phoneHash, 'result', RESULT_WAITING);
      const ready: typeof waiting = [];
      const unavailable: number[] = [];
      for (const d of waiting.filter((x) => x.tray !== null)) {
        const tray = await this.deps.trayStore.get(q, d.tray!);
        if (tray?.fault) {
          unavailable.push(d.tray!);
          continue;
        }
        await dossiers.setFields(q, d.id, { openedAt: now, doorOpenedAt: null }, now);
        await trays.recordRelease(q, d.tray!, CITIZEN, 'pickup', { dossierCode: d.code });
        ready.push(d);
      }
      let ratingToken: string | undefined;
      if (ready.length) {
        await outbox.enqueue(q, 'pickup.opened', { trays: ready.map((d) => d.tray!), dossierCodes: ready.map((d) => d.code) }, now);
        // One rating of the visit; its procedure only when every result released is of one.
        const procedures = new Set(ready.map((d) => d.procedureCode));
        ratingToken = await this.deps.ratings.issue(q, 'pickup', procedures.size === 1 ? [...procedures][0] : null, now);
      }
      return { ok: true as const, ready, unavailable, ratingToken };
    });
    outbox.committed();
    if (!outcome.ok) throw outcome.error;
    const opened: number[] = [];
    const unavailable = [...outcome.unavailable];
    for (const d of outcome.ready) {
      try {
        // Certainly not pulsed: the release lapses now; perhaps pulsed: the sweep decides.
        await this.deps.cycle.pulse(d.tray!, 'pickup', () => this.lapse(d.id));
        opened.push(d.tray!);
      } catch (err) {
        logger.warn({ err, tray: d.tray }, 'a result tray could not be opened for pickup');
        unavailable.push(d.tray!);
      }
    }
    const released = outcome.ready.filter((d) => opened.includes(d.tray!));
    return {
      trays: opened,
      dossierCodes: released.map((d) => displayCode(d.code)),
      unavailable,
      results: released.map((d) => ({ resultId: d.id, dossierCode: displayCode(d.code), tray: d.tray! })),
      // The visit's, whatever the pulses did.
      ...(outcome.ratingToken ? { ratingToken: outcome.ratingToken } : {}),
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
