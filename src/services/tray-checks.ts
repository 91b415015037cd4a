/**
 * Trays to check (docs/adr/0012-uncertain-tray-outcomes.md). When a flow's lock release ends
 * without positive evidence of what happened at the door (a gap in the watch: a restart, a silent
 * board, a door change that could not be recorded), the tray is neither freed nor taken as filled:
 * it is held as `to_check`, shown so on the dashboard, put on the next round's manifest, and an
 * officer looks and answers *found* or *empty*. This module holds both halves: `hold()` for the
 * flows' sweeps, `resolve()` for the officer.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { displayCode } from '../domain/dossier-code.js';
import { afterCheck, type CheckOutcome, type Dossier, type DossierStatus } from '../domain/dossier.js';
import { AppError } from '../domain/errors.js';
import type { AuditStore, Database, DossierStore, EventOutbox, Queryable, RoundStore, TrayStore } from './ports.js';
import type { SmsService } from './sms.js';
import type { AfterCommit, TrayService } from './trays.js';

export type CheckKind = 'deposit' | 'load_result' | 'pickup';

export interface TrayCheckDeps {
  db: Database;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  rounds: RoundStore;
  outbox: EventOutbox;
  audit: AuditStore;
  sms: SmsService;
  clock: Clock;
  logger: Logger;
  /** When an officer will next look (the next round), named in the citizen's text. */
  nextCheckAt: () => Date;
}

/** How a flow's completion was reached: by the door seen to close, or by an officer's check. */
export interface CompletionSource {
  from: DossierStatus;
  actor: string;
  details?: Record<string, unknown>;
}

/** The flows' own completions, reused when an officer finds the dossier in its tray. */
export interface CheckCompletions {
  /** A deposit in its tray: `deposited`, its event, and the receipt text after commit. */
  deposited(q: Queryable, d: Dossier, tray: number, at: Date, source: CompletionSource): Promise<AfterCommit>;
  /** A result in its tray: `loaded`, its event, and the citizen's text after commit. */
  loaded(q: Queryable, d: Dossier, tray: number, at: Date, source: CompletionSource): Promise<AfterCommit>;
  /** A deposit found empty: its fee, if any, ends (paid: due back; unpaid: nothing to take). */
  depositCancelled?(q: Queryable, d: Dossier, at: Date): Promise<void>;
}

export interface CheckView {
  tray: number;
  dossierCode: string;
  kind: CheckKind;
  since: string | null;
}

export function checkKind(d: Pick<Dossier, 'kind' | 'checkFrom'>): CheckKind {
  if (d.kind === 'deposit') return 'deposit';
  return d.checkFrom === 'loading' ? 'load_result' : 'pickup';
}

export class TrayChecks {
  private completions?: CheckCompletions;

  constructor(private readonly deps: TrayCheckDeps) {}

  /** Wired by the composition root: the flows that finish a dossier found in its tray. */
  setCompletions(completions: CheckCompletions): void {
    this.completions = completions;
  }

  /**
   * Holds a dossier's tray for an officer: the flow's window ended with a gap in the watch.
   * Does nothing if the dossier moved on meanwhile (its door was seen after all).
   */
  async hold(d: Dossier, gap: string): Promise<boolean> {
    const { db, dossiers, trayStore, outbox, audit, clock, logger } = this.deps;
    const held = await db.tx(async (q) => {
      const now = clock.now();
      const current = await dossiers.get(q, d.id, { forUpdate: true });
      if (!current || current.status !== d.status || current.doorOpenedAt || current.tray === null) return null;
      if (current.kind === 'result' && current.status !== 'loading' && !current.openedAt) return null;
      const tray = current.tray;
      const kind = checkKind({ kind: current.kind, checkFrom: current.status });
      await dossiers.transition(q, current.id, current.status, 'to_check', {
        actor: 'system',
        at: now,
        fields: { checkSince: now, checkFrom: current.status, openedAt: null },
        details: { gap },
      });
      await trayStore.setContent(q, tray, 'to_check', now);
      await trayStore.clearRelease(q, tray);
      await outbox.enqueue(q, 'tray.to_check', { tray, dossierCode: current.code, kind, gap }, now);
      await audit.record(q, {
        actor: 'system',
        action: 'tray.to_check',
        subject: `dossier:${current.id}`,
        details: { tray, kind, gap },
        at: now,
      });
      return { dossier: current, tray, kind };
    });
    if (!held) return false;
    this.deps.trays.closeWindow(held.tray);
    outbox.committed();
    logger.warn({ tray: held.tray, kind: held.kind, gap }, 'tray held to check: its door was not watched throughout');
    await this.deps.trays.publish([held.tray]);
    // A citizen who deposited is told the truth: not confirmed, an officer will look (no receipt).
    if (held.kind === 'deposit') {
      await this.deps.sms
        .sendNotice('deposit_to_check', held.dossier.phoneEnc, held.dossier.phoneHash, held.dossier.id, {
          dossierCode: displayCode(held.dossier.code),
          tray: held.tray,
          checkAt: this.deps.nextCheckAt(),
        })
        .catch((err) => logger.warn({ err }, 'the to-check notice was not sent'));
    }
    return true;
  }

  /**
   * The officer's answer for a dossier to check, in the caller's transaction (a round's item or a
   * check on its own). Returns the dossier's new status and what to do after commit (texts).
   */
  async resolve(
    q: Queryable,
    d: Dossier,
    outcome: CheckOutcome,
    actor: string,
    at: Date,
    details: Record<string, unknown> = {},
  ): Promise<{ status: DossierStatus; after: AfterCommit[] }> {
    const { dossiers, trayStore, outbox, audit, sms } = this.deps;
    if (d.status !== 'to_check' || d.tray === null) {
      throw new AppError('CONFLICT', `the dossier in tray ${d.tray} is ${d.status}, not to check`);
    }
    if (!this.completions) throw new AppError('INTERNAL', 'tray checks are not wired to the flows');
    const tray = d.tray;
    const kind = checkKind(d);
    const to = afterCheck(d, outcome);
    const after: AfterCommit[] = [];
    const move = (status: DossierStatus, fields: Partial<Dossier> = {}) =>
      dossiers.transition(q, d.id, 'to_check', status, {
        actor,
        at,
        fields: { checkSince: null, ...fields },
        details: { check: outcome, ...details },
      });
    let status: DossierStatus = to;
    const source: CompletionSource = { from: 'to_check', actor, details: { check: outcome, ...details } };
    if (kind === 'deposit' && outcome === 'found') {
      // Deposited (the receipt goes out now, not before: ADR 0012), and taken by the officer who found it.
      after.push(await this.completions.deposited(q, d, tray, at, source));
      await dossiers.transition(q, d.id, 'deposited', 'collected', {
        actor,
        at,
        fields: { collectedAt: at },
        details: { check: outcome, ...details },
      });
      await trayStore.setContent(q, tray, 'free', at);
      status = 'collected';
    } else if (kind === 'load_result' && outcome === 'found') {
      after.push(await this.completions.loaded(q, d, tray, at, source));
      status = 'loaded';
    } else if (kind === 'pickup' && outcome === 'found') {
      await move(to, { checkFrom: null });
      await trayStore.setContent(q, tray, 'holding_result', at);
    } else if (kind === 'pickup') {
      await move('picked_up', { pickedUpAt: at });
      await trayStore.setContent(q, tray, 'free', at);
      await outbox.enqueue(q, 'pickup.completed', { dossierCode: d.code, tray, procedureCode: d.procedureCode }, at);
      after.push(() => sms.sendNotice('pickup_receipt', d.phoneEnc, d.phoneHash, d.id, { dossierCode: displayCode(d.code), at }));
    } else {
      await move('cancelled', { cancelledAt: at });
      await trayStore.setContent(q, tray, 'free', at);
      if (kind === 'deposit') {
        await outbox.enqueue(q, 'deposit.cancelled', { depositId: d.id, tray, reason: 'empty_on_check' }, at);
        await this.completions.depositCancelled?.(q, d, at);
        after.push(() => sms.sendNotice('deposit_not_found', d.phoneEnc, d.phoneHash, d.id, { dossierCode: displayCode(d.code), tray }));
      }
    }
    await outbox.enqueue(q, 'tray.checked', { tray, dossierCode: d.code, outcome, status, by: actor }, at);
    await audit.record(q, {
      actor,
      action: `tray.checked.${outcome}`,
      subject: `dossier:${d.id}`,
      details: { tray, kind, status, ...details },
      at,
    });
    return { status, after };
  }

  /**
   * Opens a tray to check for the officer to look into, outside a round (the staff screen's list).
   */
  async open(tray: number, actor: string): Promise<{ tray: number; opened: true }> {
    const { db, dossiers, trays } = this.deps;
    const [d] = await dossiers.inTray(db, tray, ['to_check']);
    if (!d) throw new AppError('ITEM_NOT_FOUND', `tray ${tray} is not to check`);
    await trays.release(tray, actor, 'check', { dossierCode: d.code });
    return { tray, opened: true };
  }

  /**
   * An officer's answer for a tray, outside a round (the staff screen's list of trays to check).
   * A round that has the tray on its manifest shows it answered.
   */
  async resolveTray(tray: number, outcome: CheckOutcome, actor: string): Promise<{ tray: number; status: DossierStatus }> {
    const { db, dossiers, rounds, outbox, clock, logger } = this.deps;
    const done = await db.tx(async (q) => {
      const [d] = await dossiers.inTray(q, tray, ['to_check']);
      if (!d) throw new AppError('ITEM_NOT_FOUND', `tray ${tray} is not to check`);
      const at = clock.now();
      const result = await this.resolve(q, d, outcome, actor, at);
      await rounds.settleOpenItems(q, d.id, { status: outcome, confirmedAt: at, confirmedBy: actor });
      return result;
    });
    outbox.committed();
    await this.deps.trays.publish([tray]);
    for (const work of done.after) await work().catch((err) => logger.warn({ err }, 'work after a check failed'));
    return { tray, status: done.status };
  }

  async list(): Promise<CheckView[]> {
    const rows = await this.deps.dossiers.toCheck(this.deps.db);
    return rows.map((d) => ({
      tray: d.tray!,
      dossierCode: displayCode(d.code),
      kind: checkKind(d),
      since: d.checkSince?.toISOString() ?? null,
    }));
  }
}
