/**
 * Results: an officer loads a result into a tray; when its door closes the result is `loaded`,
 * the citizen is texted (`notified`) where and until when to collect it. The pickup window runs in
 * calendar days (weekends and holidays count: the machine is open every day); a reminder goes
 * out before it ends; at its end the result is `expired` and goes on the next round's manifest.
 */
import { randomUUID } from 'node:crypto';
import { canonicalCode, displayCode } from '../domain/dossier-code.js';
import type { Dossier, ResultStatus } from '../domain/dossier.js';
import { parseIdNumber } from '../domain/citizen-id.js';
import { AppError, type ErrorCode } from '../domain/errors.js';
import type { IdVault } from '../domain/id-vault.js';
import { parseVnMobile } from '../domain/phone.js';
import type { PhoneVault } from '../domain/phone-vault.js';
import type { AuditStore, PickupIdentityStore, ProcedureCatalogue, Queryable } from './ports.js';
import type { CompletionSource } from './tray-checks.js';
import type { CycleFlow, FlowDeps } from './tray-cycle.js';
import type { AfterCommit } from './trays.js';

export interface ResultServiceDeps extends FlowDeps {
  procedures: ProcedureCatalogue;
  vault: PhoneVault;
  /** The holder's ID number of an ID-card result, kept only as its keyed hash (ADR 0028). */
  idVault: IdVault;
  identity: PickupIdentityStore;
  audit: AuditStore;
  pickupWindowMs: number;
  reminderBeforeMs: number;
}

export interface LoadResultInput {
  dossierCode: string;
  phone: string;
  procedureCode: string;
  /**
   * The holder's 12-digit ID number: required for a procedure with `pickupProof: id_number` (the
   * ID cards), refused for the others. Only its keyed hash is stored.
   */
  holderIdNumber?: string;
}

export interface LoadedResult {
  resultId: string;
  tray: number;
  dossierCode: string;
}

/** An item of a batch refused before it was tried (malformed), as it was sent. */
export interface BatchRefusal {
  dossierCode: string;
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export type BatchItemOutcome = ({ ok: true } & LoadedResult) | ({ ok: false } & BatchRefusal);

/** A result as the officer's screen follows it. */
export interface ResultState {
  resultId: string;
  dossierCode: string;
  tray: number | null;
  procedureCode: string;
  status: ResultStatus;
}

/** Failures that are not about the item: the batch cannot go on. */
const STOPS_A_BATCH = new Set<ErrorCode>(['DB_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'INTERNAL', 'CONFIG_INVALID']);

function refusal(err: AppError): BatchRefusal['error'] {
  return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
}

export class ResultService {
  constructor(private readonly deps: ResultServiceDeps) {}

  /**
   * Reserves a result tray that fits, records the result and the lock release in one transaction,
   * then pulses the lock for the officer (the transaction ends before the pulse: see deposits).
   */
  async load(input: LoadResultInput, actor: string): Promise<LoadedResult> {
    const { db, dossiers, trayStore, procedures, vault, audit, clock, trays, outbox } = this.deps;
    const procedure = procedures.find(input.procedureCode);
    if (!procedure) throw new AppError('PROCEDURE_NOT_FOUND', `procedure ${input.procedureCode} is not in the catalogue`);
    if (!procedure.result) {
      throw new AppError('PROCEDURE_NOT_ACCEPTED', `results of procedure ${input.procedureCode} are not returned through this machine`);
    }
    const phone = parseVnMobile(input.phone);
    const code = canonicalCode(input.dossierCode);
    const holderIdHash = this.holderIdHash(procedure, input.holderIdNumber);
    const loaded = await db.tx(async (q) => {
      const now = clock.now();
      const existing = await dossiers.liveResult(q, code);
      if (existing) {
        const where =
          existing.status === 'to_check'
            ? `tray ${existing.tray}, which is to be checked first (GET /api/staff/checks)`
            : `tray ${existing.tray}`;
        throw new AppError('RESULT_ALREADY_LOADED', `the result of ${displayCode(code)} is already in ${where}`, {
          tray: existing.tray,
          status: existing.status,
        });
      }
      const tray = await trayStore.reserveFree(q, 'result', procedure.traySize, now, trays.unrecordedTrays());
      if (tray === null) {
        throw new AppError('TRAY_UNAVAILABLE', `no free result tray of size ${procedure.traySize} or larger`, { size: procedure.traySize });
      }
      const id = randomUUID();
      await dossiers.insert(
        q,
        {
          id,
          code,
          kind: 'result',
          procedureCode: procedure.code,
          phoneHash: vault.hash(phone.e164),
          phoneEnc: vault.encrypt(phone.e164),
          status: 'loading',
          tray,
          challengeId: null,
          at: now,
          fields: { openedAt: now },
        },
        actor,
      );
      if (holderIdHash) await this.deps.identity.setHolder(q, id, holderIdHash);
      await audit.record(q, {
        actor,
        action: 'result.load',
        subject: `dossier:${id}`,
        // Whether a holder's number was recorded, never the number or its hash.
        details: { tray, procedureCode: procedure.code, ...(holderIdHash ? { pickupProof: 'id_number' } : {}) },
        at: now,
      });
      await trays.recordRelease(q, tray, actor, 'load_result', { dossierCode: code });
      return { id, tray };
    });
    outbox.committed();
    await this.deps.cycle.pulse(loaded.tray, 'load_result', () => this.cancelLoading(loaded.id, 'lock_failed'));
    await trays.publish([loaded.tray]);
    return { resultId: loaded.id, tray: loaded.tray, dossierCode: displayCode(code) };
  }

  /**
   * The keyed hash of the holder's ID number, for a procedure whose pickup asks for it; null for the
   * others. A number given for a procedure that does not ask for one is refused rather than
   * dropped: it most likely means the wrong procedure was chosen for an ID card, which would then
   * open on the SMS code alone.
   */
  private holderIdHash(procedure: { code: string; pickupProof?: string }, given: string | undefined): string | null {
    const asked = procedure.pickupProof === 'id_number';
    const blank = given === undefined || given.trim() === '';
    if (!asked) {
      if (blank) return null;
      throw new AppError(
        'HOLDER_ID_NOT_EXPECTED',
        `results of procedure ${procedure.code} are picked up with the SMS code alone: no holder's ID number is taken (is this the right procedure?)`,
      );
    }
    if (blank) {
      throw new AppError(
        'HOLDER_ID_REQUIRED',
        `results of procedure ${procedure.code} are ID cards: give the holder's 12-digit ID number (holderIdNumber)`,
      );
    }
    return this.deps.idVault.hash(parseIdNumber(given, this.deps.clock.now()));
  }

  /**
   * An armful: each result in turn; one refused does not stop the others. `items` may hold entries
   * already refused by the caller (malformed): they keep their place in the answer. A failure that
   * is not about the item (the database, a bug) stops the batch: if nothing was loaded yet it is
   * thrown (the request fails as a whole), else the items not tried are refused with
   * SERVICE_UNAVAILABLE, so that the officer still learns which trays are open.
   */
  async loadBatch(items: (LoadResultInput | BatchRefusal)[], actor: string): Promise<BatchItemOutcome[]> {
    const out: BatchItemOutcome[] = [];
    let stopped: BatchRefusal['error'] | null = null;
    for (const item of items) {
      if ('error' in item) {
        out.push({ ok: false, ...item });
        continue;
      }
      if (stopped) {
        out.push({ ok: false, dossierCode: item.dossierCode, error: stopped });
        continue;
      }
      try {
        out.push({ ok: true, ...(await this.load(item, actor)) });
      } catch (err) {
        if (err instanceof AppError && !STOPS_A_BATCH.has(err.code)) {
          out.push({ ok: false, dossierCode: item.dossierCode, error: refusal(err) });
          continue;
        }
        if (!out.some((o) => o.ok)) throw err;
        this.deps.logger.error({ err }, 'result batch stopped');
        stopped = {
          code: 'SERVICE_UNAVAILABLE',
          message: 'not loaded: the controller could not go on with the batch (database or internal failure); send these again',
        };
        out.push({ ok: false, dossierCode: item.dossierCode, error: stopped });
      }
    }
    return out;
  }

  /** Where each of these results stands (the officer's screen follows its loads); unknown ids are left out. */
  async states(ids: string[]): Promise<ResultState[]> {
    const { db, dossiers } = this.deps;
    const out: ResultState[] = [];
    for (const id of ids) {
      const d = await dossiers.get(db, id);
      if (!d || d.kind !== 'result') continue;
      out.push({
        resultId: d.id,
        dossierCode: displayCode(d.code),
        tray: d.tray,
        procedureCode: d.procedureCode,
        // A result's status is one of a result's (src/domain/dossier.ts).
        status: d.status as ResultStatus,
      });
    }
    return out;
  }

  /** At the door (the tray cycle): a tray being loaded, opened then closed = loaded; the citizen is texted. */
  readonly doorFlow: CycleFlow = {
    statuses: ['loading'],
    pick: (inTray) => inTray[0],
    complete: (q, d, tray, at) => this.loaded(q, d, tray, at, { from: 'loading', actor: 'system' }),
  };

  /** The result is in its tray: `loaded` with its pickup deadline, its event, the citizen texted after commit. */
  async loaded(q: Queryable, d: Dossier, tray: number, at: Date, source: CompletionSource): Promise<AfterCommit> {
    const deadline = new Date(at.getTime() + this.deps.pickupWindowMs);
    await this.deps.cycle.settle(q, d, tray, at, {
      source,
      to: 'loaded',
      fields: { loadedAt: at, pickupDeadline: deadline, openedAt: null, doorOpenedAt: null, checkSince: null, checkFrom: null },
      content: 'holding_result',
      event: 'result.loaded',
      data: { resultId: d.id, pickupDeadline: deadline.toISOString() },
    });
    return () => this.notify(d, tray, deadline);
  }

  private async notify(d: Dossier, tray: number, deadline: Date): Promise<void> {
    const { sms, db, dossiers, clock } = this.deps;
    await sms.sendNotice('result_ready', d.phoneEnc, d.phoneHash, d.id, {
      dossierCode: displayCode(d.code),
      tray,
      collectBy: deadline,
    });
    const now = clock.now();
    await db
      .tx((q) => dossiers.transition(q, d.id, 'loaded', 'notified', { actor: 'system', at: now, fields: { notifiedAt: now } }))
      .catch((err) => this.deps.logger.warn({ err, resultId: d.id }, 'result not marked notified'));
  }

  /** Results waiting in the machine (the staff screen's unclaimed list). */
  async waiting() {
    const list = await this.deps.dossiers.waitingResults(this.deps.db);
    return list.map((d) => ({
      resultId: d.id,
      dossierCode: displayCode(d.code),
      tray: d.tray,
      procedureCode: d.procedureCode,
      status: d.status,
      loadedAt: d.loadedAt?.toISOString() ?? null,
      pickupDeadline: d.pickupDeadline?.toISOString() ?? null,
      remindedAt: d.remindedAt?.toISOString() ?? null,
    }));
  }

  /**
   * Loadings whose door has not opened (cancelled if watched throughout, held to check if not),
   * reminders and expiry. Driven by the staff timers.
   */
  async sweep(): Promise<{ reminded: number; expired: number; cancelled: number }> {
    const { db, dossiers, outbox, clock } = this.deps;
    const stale = await this.deps.cycle.sweep('loading', (d) => this.cancelLoading(d.id, 'door_never_opened'));
    const now = clock.now();

    const reminders = await db.tx(async (q) => {
      const due = await dossiers.dueForReminder(q, now, this.deps.reminderBeforeMs);
      for (const d of due) {
        await dossiers.setFields(q, d.id, { remindedAt: now }, now);
        await outbox.enqueue(
          q,
          'result.reminded',
          {
            resultId: d.id,
            dossierCode: d.code,
            tray: d.tray!,
            pickupDeadline: d.pickupDeadline!.toISOString(),
          },
          now,
        );
      }
      return due;
    });
    for (const d of reminders) {
      await this.deps.sms.sendNotice('result_reminder', d.phoneEnc, d.phoneHash, d.id, {
        dossierCode: displayCode(d.code),
        collectBy: d.pickupDeadline!,
      });
    }

    const expired = await db.tx(async (q) => {
      const past = await dossiers.pastDeadline(q, now);
      for (const d of past) {
        await dossiers.transition(q, d.id, d.status, 'expired', { actor: 'system', at: now, fields: { expiredAt: now } });
        await outbox.enqueue(q, 'result.expired', { resultId: d.id, dossierCode: d.code, tray: d.tray! }, now);
      }
      return past.length;
    });
    if (reminders.length || expired || stale.length) outbox.committed();
    return { reminded: reminders.length, expired, cancelled: stale.length };
  }

  /** A load given up (its door never opened, or its lock certainly did not release): cancelled, with its event. */
  private async cancelLoading(id: string, reason: 'door_never_opened' | 'lock_failed'): Promise<boolean> {
    const { outbox, cycle, logger } = this.deps;
    const done = await cycle.cancel(id, 'loading', reason, (q, d, at) =>
      outbox.enqueue(q, 'result.load_cancelled', { resultId: id, dossierCode: d.code, tray: d.tray, reason }, at),
    );
    if (done) {
      logger.info({ resultId: id, reason }, 'result loading cancelled');
      outbox.committed();
    }
    return done;
  }
}
