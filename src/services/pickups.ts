/**
 * Pickup: a citizen gives a phone number; if results wait for it a code is sent. The answer is
 * the same either way, so the kiosk cannot be used to learn whose results are in the machine.
 * The right code opens that phone's result trays one after another; each door opened and closed
 * marks its result picked up and sends a confirmation.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { formatDossierCode } from '../domain/dossier-code.js';
import { RESULT_WAITING } from '../domain/dossier.js';
import { parseVnMobile } from '../domain/phone.js';
import type { PhoneVault } from '../domain/phone-vault.js';
import type { Tray } from '../domain/tray.js';
import type { ChallengeService, IssuedChallenge } from './challenges.js';
import type { Database, DossierStore, EventOutbox, Queryable, TrayStore } from './ports.js';
import type { SmsService } from './sms.js';
import type { TrayChecks } from './tray-checks.js';
import type { AfterCommit, TrayService } from './trays.js';

export interface PickupServiceDeps {
  db: Database;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  challenges: ChallengeService;
  checks: TrayChecks;
  vault: PhoneVault;
  outbox: EventOutbox;
  sms: SmsService;
  clock: Clock;
  logger: Logger;
  doorOpenTimeoutMs: number;
}

const CITIZEN = 'citizen';

export class PickupService {
  constructor(private readonly deps: PickupServiceDeps) {}

  async start(input: { phone: string }): Promise<IssuedChallenge> {
    const phone = parseVnMobile(input.phone);
    const waiting = await this.deps.dossiers.byPhone(this.deps.db, this.deps.vault.hash(phone.e164), 'result', RESULT_WAITING);
    // The code goes out in the background in both cases, so the answer takes the same time.
    return this.deps.challenges.issue('pickup', phone, { sendCode: waiting.length > 0, delivery: 'background' });
  }

  resend(challengeId: string): Promise<IssuedChallenge> {
    return this.deps.challenges.resend(challengeId, 'pickup');
  }

  /**
   * Checks the code; records the release of every tray holding a result for that phone in the same
   * transaction, then pulses them one after another (a tray whose board is silent is skipped and
   * reported unavailable; its result stays waiting).
   */
  async verify(challengeId: string, otp: string): Promise<{ trays: number[]; dossierCodes: string[]; unavailable: number[] }> {
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
        await dossiers.touch(q, d.id, { openedAt: now, doorOpenedAt: null }, now);
        await trays.recordRelease(q, d.tray!, CITIZEN, 'pickup', { dossierCode: d.code });
        ready.push(d);
      }
      if (ready.length) {
        await outbox.enqueue(q, 'pickup.opened', { trays: ready.map((d) => d.tray!), dossierCodes: ready.map((d) => d.code) }, now);
      }
      return { ok: true as const, ready, unavailable };
    });
    outbox.committed();
    if (!outcome.ok) throw outcome.error;
    const opened: number[] = [];
    const unavailable = [...outcome.unavailable];
    for (const d of outcome.ready) {
      try {
        await trays.pulse(d.tray!, 'pickup');
        opened.push(d.tray!);
      } catch (err) {
        logger.warn({ err, tray: d.tray }, 'a result tray could not be opened for pickup');
        // Certainly not pulsed: the release lapses now; perhaps pulsed: the sweep decides.
        if (!trays.hasWindow(d.tray!)) {
          await db.tx((q) => dossiers.touch(q, d.id, { openedAt: null }, clock.now()));
        }
        unavailable.push(d.tray!);
      }
    }
    return {
      trays: opened,
      dossierCodes: outcome.ready.filter((d) => opened.includes(d.tray!)).map((d) => formatDossierCode(d.code)),
      unavailable,
    };
  }

  /** Door handler: a result tray released for pickup, opened then closed = picked up. */
  async onDoor(q: Queryable, tray: Tray, open: boolean, at: Date): Promise<AfterCommit | void> {
    const { dossiers, trayStore, outbox } = this.deps;
    const [d] = (await dossiers.inTray(q, tray.number, RESULT_WAITING)).filter((x) => x.kind === 'result' && x.openedAt);
    if (!d) return;
    if (open) {
      if (!d.doorOpenedAt) await dossiers.touch(q, d.id, { doorOpenedAt: at }, at);
      return;
    }
    if (!d.doorOpenedAt) return;
    this.deps.trays.closeWindow(tray.number);
    await dossiers.transition(q, d.id, d.status, 'picked_up', { actor: CITIZEN, at, fields: { pickedUpAt: at } });
    await trayStore.setContent(q, tray.number, 'free', at);
    await outbox.enqueue(q, 'pickup.completed', { dossierCode: d.code, tray: tray.number, procedureCode: d.procedureCode }, at);
    return () =>
      this.deps.sms.sendNotice('pickup_receipt', d.phoneEnc, d.phoneHash, d.id, { dossierCode: formatDossierCode(d.code), at });
  }

  /**
   * A pickup release whose door has not opened: once its time is up it lapses (the result stays
   * waiting) if the door was watched throughout; if not, the citizen may have taken the result
   * unseen, so the tray is held for an officer to check. Returns how many lapsed.
   */
  async sweep(): Promise<number> {
    const { db, dossiers, clock, trays, checks } = this.deps;
    let lapsed = 0;
    for (const d of await dossiers.awaitingDoor(db, 'pickup')) {
      const verdict = trays.verdict(d.tray!, this.deps.doorOpenTimeoutMs);
      if (verdict.kind === 'watched') {
        const done = await db.tx(async (q) => {
          const current = await dossiers.get(q, d.id, { forUpdate: true });
          if (!current || current.doorOpenedAt || !current.openedAt || !RESULT_WAITING.includes(current.status)) return false;
          await dossiers.touch(q, d.id, { openedAt: null }, clock.now());
          await this.deps.trayStore.clearRelease(q, d.tray!);
          return true;
        });
        trays.closeWindow(d.tray!);
        if (done) lapsed += 1;
      } else if (verdict.kind === 'uncertain') {
        await checks.hold(d, verdict.gap);
      }
    }
    return lapsed;
  }
}

