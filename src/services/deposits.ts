/**
 * Deposit: a citizen chooses a procedure, proves a phone number with a code, a free tray of the
 * right size opens, the dossier goes in, the door closes: deposited, with a receipt by SMS.
 * A door watched throughout and never opened within the timeout cancels the deposit and frees
 * the tray; a door not watched throughout holds the tray for an officer to check (ADR 0012).
 */
import { randomUUID } from 'node:crypto';
import { displayCode, newDossierCode, onlineNumber } from '../domain/dossier-code.js';
import type { Dossier, DossierStatus } from '../domain/dossier.js';
import { TRAY_SIZES, type TraySize } from '../domain/cabinet.js';
import { AppError } from '../domain/errors.js';
import { parseVnMobile } from '../domain/phone.js';
import type { IdVault } from '../domain/id-vault.js';
import type { ChallengeService, IssuedChallenge } from './challenges.js';
import type { IdCardScans } from './id-cards.js';
import type { PaymentService } from './payments.js';
import type { PaymentRow, ProcedureCatalogue, ProcedureInfo, Queryable } from './ports.js';
import type { RatingService } from './ratings.js';
import type { CompletionSource } from './tray-checks.js';
import type { CycleFlow, FlowDeps } from './tray-cycle.js';
import type { AfterCommit } from './trays.js';

export interface DepositServiceDeps extends FlowDeps {
  challenges: ChallengeService;
  procedures: ProcedureCatalogue;
  /** Hands out the token the kiosk rates the visit with, in the code check's transaction. */
  ratings: RatingService;
  /** Fees: a fee-charging deposit asks for its fee, and one paid before opens its tray once paid (issue 13). */
  payments: PaymentService;
  /** How long a released tray waits for its door (citizens.doorOpenTimeoutSec): the kiosk counts it down. */
  doorOpenTimeoutMs?: number;
  /** Citizen ID cards scanned at the kiosk, and the vault their holder is sealed with on the dossier (docs/id-card.md). */
  idCards?: { scans: Pick<IdCardScans, 'take'>; vault: Pick<IdVault, 'seal'> };
}

export interface DepositView {
  depositId: string;
  status: Dossier['status'];
  tray: number | null;
  dossierCode: string;
  procedureCode: string;
  createdAt: string;
  depositedAt: string | null;
  /** Until when the tray's door may open; null once it opened, or when no tray waits for it. */
  openBy: string | null;
  /** The fee, for a procedure that charges one. */
  payment?: {
    paymentId: string;
    status: PaymentRow['status'];
    amount: number;
    reference: string;
    mode: PaymentRow['mode'];
    payBy: string | null;
  };
  /** Its receipts: the fee receipt once paid, the deposit receipt once deposited. */
  receipts: { receiptId: string; kind: 'fee' | 'deposit' }[];
}

/** Free deposit trays per dossier size: the trays each size fits (its own and larger). */
export interface FreeDepositTrays {
  deposit: Record<TraySize, number>;
}

const CITIZEN = 'citizen';
/** A deposit in the machine or on its way in: its code is taken (the index dossiers_code_kind_live, migration 018). */
const LIVE_DEPOSIT: DossierStatus[] = ['verified', 'tray_open', 'deposited', 'to_check'];

export class DepositService {
  constructor(private readonly deps: DepositServiceDeps) {}

  private procedure(code: string): ProcedureInfo {
    const procedure = this.deps.procedures.find(code);
    if (!procedure) throw new AppError('PROCEDURE_NOT_FOUND', `procedure ${code} is not in the catalogue`);
    if (!procedure.deposit) {
      throw new AppError(
        'PROCEDURE_NOT_ACCEPTED',
        `dossiers for procedure ${code} are not received by this machine; please use the counter`,
      );
    }
    return procedure;
  }

  /**
   * What a deposit is for: a procedure chosen from the list, or a dossier filed on the city's online
   * system, by the number it gave (ADR 0029): the catalogue's online entry (its tray size) and the
   * number the dossier will be recorded under. Exactly one of the two.
   */
  private target(input: { procedureCode?: string; onlineNumber?: string }): { procedure: ProcedureInfo; number: string | null } {
    if ((input.procedureCode === undefined) === (input.onlineNumber === undefined)) {
      throw new AppError(
        'VALIDATION_FAILED',
        'give either procedureCode (a procedure chosen from the list) or onlineNumber (a dossier filed online), not both',
      );
    }
    if (input.onlineNumber !== undefined) {
      const number = onlineNumber(input.onlineNumber);
      const entry = this.deps.procedures.onlineEntry?.() ?? null;
      if (!entry) {
        throw new AppError('PROCEDURE_NOT_ACCEPTED', 'dossiers filed online are not received by this machine; please use the counter');
      }
      return { procedure: entry, number };
    }
    const procedure = this.procedure(input.procedureCode!);
    if (procedure.online) {
      throw new AppError('VALIDATION_FAILED', 'a dossier filed online is deposited with the number the online system gave (onlineNumber)');
    }
    return { procedure, number: null };
  }

  /** A dossier filed online is in the machine once at a time: refused while a deposit under its number is live. */
  private async refuseLive(q: Queryable, number: string): Promise<void> {
    const live = (await this.deps.dossiers.allByCode(q, number)).some((d) => d.kind === 'deposit' && LIVE_DEPOSIT.includes(d.status));
    if (live) {
      throw new AppError(
        'DOSSIER_ALREADY_DEPOSITED',
        `dossier ${number} is already in this machine, waiting for the officer's round; more papers for it: after the round, or at the counter`,
      );
    }
  }

  /** Sends a code to the phone, if a tray of the right size is free (else 409 before any SMS). */
  async start(input: { phone: string; procedureCode?: string; onlineNumber?: string; idScanId?: string }): Promise<IssuedChallenge> {
    const { procedure, number } = this.target(input);
    if (number) await this.refuseLive(this.deps.db, number);
    const phone = parseVnMobile(input.phone);
    // A scanned card named: it must still be held (scans last SCAN_TTL_MS), before any SMS; its
    // holder rides sealed with the code, for the code check however long the SMS takes.
    const holderEnc = input.idScanId === undefined ? null : this.sealedHolder(input.idScanId);
    const free = await this.deps.trayStore.countFree(this.deps.db, 'deposit', procedure.traySize);
    if (free === 0) throw this.noTray(procedure);
    return this.deps.challenges.issue('deposit', phone, {
      procedureCode: procedure.code,
      holderEnc,
      onlineNumber: number,
    });
  }

  /** The depositor's card named by the code request, sealed for the dossier (ID_SCAN_NOT_FOUND if no longer held). */
  private sealedHolder(idScanId: string): string {
    const holder = this.deps.idCards?.scans.take(idScanId);
    if (!holder)
      throw new AppError('ID_SCAN_NOT_FOUND', 'no scanned ID card under this id (scans are kept 5 minutes): scan the card again');
    return this.deps.idCards!.vault.seal(holder);
  }

  resend(challengeId: string): Promise<IssuedChallenge> {
    return this.deps.challenges.resend(challengeId, 'deposit');
  }

  /**
   * Checks the code; on success reserves a tray and records the deposit and the lock release in
   * one transaction, then pulses the lock. The transaction ends before the pulse (journal before
   * dispense): whatever happens after it, the records know that this tray may have opened.
   */
  async verify(
    challengeId: string,
    otp: string,
  ): Promise<{ depositId: string; dossierCode: string; tray: number; openBy: string | null; ratingToken?: string; payment?: PaymentRow }> {
    const { db, dossiers, trayStore, challenges, outbox, clock, trays, payments } = this.deps;
    const outcome = await db.tx(async (q) => {
      const result = await challenges.verify(q, challengeId, 'deposit', otp);
      if (!result.ok) return result;
      const challenge = result.challenge;
      const procedure = this.procedure(challenge.procedureCode!);
      const holderEnc = challenge.holderEnc ?? null;
      const now = clock.now();
      // Throwing here rolls the whole transaction back: the code stays unused, nothing changed.
      const tray = await trayStore.reserveFree(q, 'deposit', procedure.traySize, now, this.deps.trays.unrecordedTrays());
      if (tray === null) throw this.noTray(procedure);
      const id = randomUUID();
      // The new dossier, verified: the code proved the phone.
      const row = (code: string) => ({
        id,
        code,
        kind: 'deposit' as const,
        procedureCode: procedure.code,
        phoneHash: challenge.phoneHash,
        phoneEnc: challenge.phoneEnc,
        status: 'verified' as const,
        tray: null,
        challengeId,
        at: now,
        ...(holderEnc ? { fields: { holderEnc } } : {}),
      });
      const fee = payments.feeOf(procedure.code);
      if (fee?.mode === 'before') {
        // The fee first: the dossier waits `verified` with its tray reserved (not released) until
        // a transfer pays it (PaymentService.record → paidOpen) or its time is up (sweep).
        let code: string;
        do code = newDossierCode();
        while (await dossiers.getByCode(q, code));
        await dossiers.insert(q, row(code), CITIZEN);
        const payment = await payments.request(q, { dossierId: id, dossierCode: code, procedureCode: procedure.code, tray, at: now });
        const ratingToken = await this.deps.ratings.issue(q, 'deposit', procedure.code, now);
        return { ok: true as const, id, code, tray, at: now, ratingToken, payment };
      }
      let code: string;
      if (challenge.onlineNumber) {
        // Filed online: recorded under the online system's number, unchanged (ADR 0029); a deposit
        // under it that became live meanwhile refuses this one (here, or on the index: 409).
        code = challenge.onlineNumber;
        await this.refuseLive(q, code);
        await dossiers.insert(q, row(code), CITIZEN);
        await dossiers.transition(q, id, 'verified', 'tray_open', { actor: CITIZEN, at: now, fields: { tray, openedAt: now } });
      } else {
        // The dossier, with a code no dossier has, verified and at once at its open tray: one round trip.
        do {
          code = newDossierCode();
        } while (!(await dossiers.insertNewCode(q, row(code), CITIZEN, { to: 'tray_open', fields: { tray, openedAt: now } })));
      }
      await trays.recordRelease(q, tray, CITIZEN, 'deposit', { dossierCode: code });
      await outbox.enqueue(q, 'deposit.opened', { depositId: id, dossierCode: code, tray, procedureCode: procedure.code }, now);
      // A fee paid later, at the counter: recorded unpaid, for the round's manifest.
      const payment = fee
        ? await payments.request(q, { dossierId: id, dossierCode: code, procedureCode: procedure.code, tray, at: now })
        : undefined;
      const ratingToken = await this.deps.ratings.issue(q, 'deposit', procedure.code, now);
      return { ok: true as const, id, code, tray, at: now, ratingToken, payment };
    });
    outbox.committed();
    if (!outcome.ok) throw outcome.error;
    const common = {
      depositId: outcome.id,
      dossierCode: displayCode(outcome.code),
      tray: outcome.tray,
      ...(outcome.ratingToken ? { ratingToken: outcome.ratingToken } : {}),
      ...(outcome.payment ? { payment: outcome.payment } : {}),
    };
    if (outcome.payment?.status === 'awaiting') {
      await trays.publish([outcome.tray]);
      return { ...common, openBy: null };
    }
    await this.deps.cycle.pulse(outcome.tray, 'deposit', () => this.cancel(outcome.id, 'lock_failed'));
    await trays.publish([outcome.tray]);
    return { ...common, openBy: this.openBy(outcome.at) };
  }

  /**
   * A deposit waiting for its fee was paid (in the payment's transaction): its reserved tray is
   * released as at a free deposit's code check; the pulse goes after the commit.
   */
  readonly paidOpen = async (q: Queryable, d: Dossier, payment: PaymentRow, at: Date): Promise<AfterCommit> => {
    const { dossiers, trays, outbox, trayStore } = this.deps;
    const tray = payment.tray!;
    // Taken out of service while its citizen paid: not opened (the payment's flow gives the money back).
    const held = await trayStore.get(q, tray, { forUpdate: true });
    if (held?.disabledReason) throw new AppError('TRAY_UNAVAILABLE', `tray ${tray} was taken out of service`, { tray });
    await dossiers.transition(q, d.id, 'verified', 'tray_open', {
      actor: 'system',
      at,
      fields: { tray, openedAt: at },
      details: { paymentId: payment.id },
    });
    await trays.recordRelease(q, tray, CITIZEN, 'deposit', { dossierCode: d.code });
    await outbox.enqueue(q, 'deposit.opened', { depositId: d.id, dossierCode: d.code, tray, procedureCode: d.procedureCode }, at);
    return async () => {
      await this.deps.cycle
        .pulse(tray, 'deposit', () => this.cancel(d.id, 'lock_failed'))
        .catch((err) => {
          this.deps.logger.error({ err, depositId: d.id, tray }, 'the paid deposit tray could not be opened');
        });
      await trays.publish([tray]);
    };
  };

  /**
   * The release's end as the citizen should see it: from when it was recorded, a little before the
   * pulse that starts the door's window, so the count shown never runs past the real one.
   */
  private openBy(releasedAt: Date | null): string | null {
    const timeout = this.deps.doorOpenTimeoutMs;
    return releasedAt && timeout ? new Date(releasedAt.getTime() + timeout).toISOString() : null;
  }

  /** What the kiosk's procedure list says before anyone types a number: which sizes have a tray free. */
  async freeTrays(): Promise<FreeDepositTrays> {
    const { db, trayStore } = this.deps;
    const [S, M, L] = await Promise.all(TRAY_SIZES.map((size) => trayStore.countFree(db, 'deposit', size)));
    return { deposit: { S, M, L } };
  }

  async get(depositId: string): Promise<DepositView> {
    const d = await this.deps.dossiers.get(this.deps.db, depositId);
    if (!d || d.kind !== 'deposit') throw new AppError('DEPOSIT_NOT_FOUND', 'no such deposit');
    const [payment, receipts] = await Promise.all([this.deps.payments.byDossier(d.id), this.deps.payments.receiptsOfDossier(d.id)]);
    return {
      ...(payment
        ? {
            payment: {
              paymentId: payment.id,
              status: payment.status,
              amount: payment.amount,
              reference: payment.reference,
              mode: payment.mode,
              payBy: payment.payBy?.toISOString() ?? null,
            },
          }
        : {}),
      receipts: receipts.map((r) => ({ receiptId: r.id, kind: r.kind })),
      depositId: d.id,
      status: d.status,
      tray: d.tray,
      dossierCode: displayCode(d.code),
      procedureCode: d.procedureCode,
      createdAt: d.createdAt.toISOString(),
      depositedAt: d.depositedAt?.toISOString() ?? null,
      openBy: d.status === 'tray_open' && !d.doorOpenedAt ? this.openBy(d.openedAt) : null,
    };
  }

  /** At the door (the tray cycle): a deposit whose tray is open; opened, then closed = deposited. */
  readonly doorFlow: CycleFlow = {
    statuses: ['tray_open'],
    pick: (inTray) => inTray.find((d) => d.kind === 'deposit'),
    complete: (q, d, tray, at) => this.deposited(q, d, tray, at, { from: 'tray_open', actor: CITIZEN }),
  };

  /** The dossier is in its tray: `deposited`, its event, and the receipt after commit. */
  async deposited(q: Queryable, d: Dossier, tray: number, at: Date, source: CompletionSource): Promise<AfterCommit> {
    await this.deps.cycle.settle(q, d, tray, at, {
      source,
      to: 'deposited',
      fields: { depositedAt: at, checkSince: null, checkFrom: null },
      content: 'holding_deposit',
      event: 'deposit.completed',
      data: { depositId: d.id },
    });
    const procedure = this.deps.procedures.find(d.procedureCode);
    const receipt = await this.deps.payments.issueDepositReceipt(q, d, tray, at);
    const fee = receipt.body.kind === 'deposit' ? receipt.body.fee : null;
    return () =>
      this.deps.sms.sendNotice('deposit_receipt', d.phoneEnc, d.phoneHash, d.id, {
        dossierCode: displayCode(d.code),
        procedure: procedure?.shortVi ?? d.procedureCode,
        at,
        // The fee receipt's link when a fee was paid (the deposit receipt links to it too), else the deposit receipt's.
        receiptId: fee?.receiptId ?? receipt.id,
      });
  }

  /**
   * Deposits whose door has not opened: once their window's time is up, cancelled if the door was
   * watched throughout, held for an officer to check if it was not. Returns the cancelled ids.
   */
  sweep(): Promise<string[]> {
    return this.deps.cycle.sweep('deposit', (d) => this.cancel(d.id, 'door_never_opened'));
  }

  private async cancel(id: string, reason: 'door_never_opened' | 'lock_failed'): Promise<boolean> {
    const { outbox, cycle, logger } = this.deps;
    const done = await cycle.cancel(id, 'tray_open', reason, async (q, d, at) => {
      await outbox.enqueue(q, 'deposit.cancelled', { depositId: id, tray: d.tray, reason }, at);
      // Its fee ends with it: paid, it goes back; unpaid, there is nothing to take at the counter.
      await this.deps.payments.depositEnded(q, id, at);
    });
    if (done) {
      logger.info({ depositId: id, reason }, 'deposit cancelled');
      outbox.committed();
    }
    return done;
  }

  private noTray(procedure: ProcedureInfo): AppError {
    return new AppError(
      'TRAY_UNAVAILABLE',
      `no free tray of size ${procedure.traySize} or larger right now; please come back later or use the counter`,
      {
        size: procedure.traySize,
      },
    );
  }
}
