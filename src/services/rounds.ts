/**
 * Collection rounds (8:00, 13:30, 16:00 on working days). Before each round, by its lead time,
 * the manifest is drawn — deposits to collect, expired results to take back — and `round.due`
 * and the retained `rounds/next` go out. The officer starts the round (the trays open one after
 * another, or one at a time on request), confirms each dossier taken or flags it missing, and
 * completes it. Deposits made after the manifest was drawn wait for the next round; what was not
 * confirmed stays where it is and comes back on the next manifest.
 */
import type { Manifest } from '../domain/events.js';
import type { Logger } from 'pino';
import { nextRound, type WorkCalendar } from '../domain/calendar.js';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import type { AuditStore, Database, DossierStore, EventOutbox, Queryable, RoundItemRow, RoundRow, RoundStore, TrayStore } from './ports.js';
import { displayCode, isOnlineNumber } from '../domain/dossier-code.js';
import type { SmsService } from './sms.js';
import type { TrayChecks } from './tray-checks.js';
import type { TrayService } from './trays.js';

export interface RoundServiceDeps {
  db: Database;
  rounds: RoundStore;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  checks: TrayChecks;
  outbox: EventOutbox;
  audit: AuditStore;
  sms: SmsService;
  calendar: WorkCalendar;
  clock: Clock;
  logger: Logger;
  leadMs: number;
  /** Named in the "taken back to the counter" SMS. */
  counter: string;
  /** Publishes the retained `rounds/next`. */
  publishNext: (manifest: Manifest) => void;
}

/** The manifest (the domain's contract: GET /api/staff/rounds/next and the retained `rounds/next`). */
export type { Manifest, ManifestItem } from '../domain/events.js';

export type ItemOutcome = 'collected' | 'missing' | 'returned' | 'found' | 'empty';

export class RoundService {
  private lastPublished = '';

  constructor(private readonly deps: RoundServiceDeps) {}

  /** The round staff should do now (due or running), else the next one with a live preview. */
  async next(): Promise<Manifest> {
    const { db, rounds, calendar, clock } = this.deps;
    return db.tx(async (q) => {
      const active = await rounds.active(q);
      const round = active ?? (await rounds.ensure(q, nextRound(calendar, clock.now())));
      return this.manifest(q, round);
    });
  }

  private async manifest(q: Queryable, round: RoundRow): Promise<Manifest> {
    const { rounds } = this.deps;
    const items = round.status === 'upcoming' ? await rounds.preview(q) : await rounds.items(q, round.id);
    const base = (i: Omit<RoundItemRow, 'roundId'>) => ({
      tray: i.tray,
      dossierCode: displayCode(i.dossierCode),
      procedureCode: i.procedureCode,
      status: i.status,
      // Filed online (ADR 0029): staff see the number marked as the online system's.
      ...(isOnlineNumber(i.dossierCode) ? { online: true as const } : {}),
    });
    return {
      round: {
        id: round.id,
        scheduledAt: round.scheduledAt.toISOString(),
        status: round.status,
        drawnAt: round.drawnAt?.toISOString() ?? null,
        startedAt: round.startedAt?.toISOString() ?? null,
      },
      collect: items
        .filter((i) => i.kind === 'collect')
        .map((i) => ({ ...base(i), depositedAt: i.depositedAt?.toISOString() ?? null, ...(i.fee ? { fee: i.fee } : {}) })),
      takeBack: items.filter((i) => i.kind === 'take_back').map((i) => ({ ...base(i), expiredAt: i.expiredAt?.toISOString() ?? null })),
      check: items.filter((i) => i.kind === 'check').map(base),
      freeTrays: await rounds.freeTrays(q),
    };
  }

  /** Draws manifests whose lead time has come; publishes `rounds/next` when it changed. */
  async tick(): Promise<void> {
    const { db, rounds, outbox, clock, leadMs, calendar } = this.deps;
    const now = clock.now();
    const drawn = await db.tx(async (q) => {
      await rounds.ensure(q, nextRound(calendar, now));
      const due = await rounds.becomingDue(q, now, leadMs);
      const latest = due.at(-1);
      if (!latest) return null;
      // Rounds whose time passed without being run are skipped: their dossiers go on this manifest.
      await rounds.skipUnstarted(q, latest.scheduledAt);
      await rounds.draw(q, latest.id);
      await rounds.update(q, latest.id, { status: 'due', drawnAt: now });
      const manifest = await this.manifest(q, { ...latest, status: 'due', drawnAt: now });
      await outbox.enqueue(
        q,
        'round.due',
        {
          roundId: latest.id,
          scheduledAt: latest.scheduledAt.toISOString(),
          collect: manifest.collect.length,
          takeBack: manifest.takeBack.length,
          check: manifest.check.length,
          trays: [...manifest.collect, ...manifest.takeBack, ...manifest.check].map((i) => i.tray),
        },
        now,
      );
      return manifest;
    });
    if (drawn) {
      outbox.committed();
      this.deps.logger.info({ roundId: drawn.round.id, collect: drawn.collect.length, takeBack: drawn.takeBack.length }, 'round due');
    }
    await this.publish();
  }

  /** Publishes the retained `rounds/next` if it changed since the last time. */
  async publish(): Promise<void> {
    const manifest = await this.next();
    const key = JSON.stringify(manifest);
    if (key === this.lastPublished) return;
    this.lastPublished = key;
    this.deps.publishNext(manifest);
  }

  private async openRound(q: Queryable, id: string, allow: RoundRow['status'][]): Promise<RoundRow> {
    const round = await this.deps.rounds.get(q, id, { forUpdate: true });
    if (!round) throw new AppError('ROUND_NOT_FOUND', 'no such round');
    if (!allow.includes(round.status)) {
      throw new AppError('ROUND_NOT_OPEN', `this round is ${round.status}`, { status: round.status });
    }
    return round;
  }

  /** Starts a round (drawing it now if the officer is early) and opens its trays. */
  async start(id: string, opts: { oneAtATime: boolean }, actor: string): Promise<Manifest> {
    const { db, rounds, outbox, audit, clock } = this.deps;
    const items = await db.tx(async (q) => {
      const round = await this.openRound(q, id, ['upcoming', 'due']);
      const now = clock.now();
      if (round.status === 'upcoming') {
        await rounds.skipUnstarted(q, round.scheduledAt);
        await rounds.draw(q, id);
        await rounds.update(q, id, { drawnAt: now });
      }
      await rounds.update(q, id, { status: 'running', startedAt: now, startedBy: actor });
      await outbox.enqueue(q, 'round.started', { roundId: id, by: actor, oneAtATime: opts.oneAtATime }, now);
      await audit.record(q, { actor, action: 'round.start', subject: `round:${id}`, details: { oneAtATime: opts.oneAtATime }, at: now });
      return rounds.items(q, id);
    });
    outbox.committed();
    const pending = items.filter((i) => i.status === 'pending');
    for (const item of opts.oneAtATime ? pending.slice(0, 1) : pending) {
      await this.openItem(id, item.tray, actor).catch((err) => {
        this.deps.logger.warn({ err, tray: item.tray }, 'a round tray could not be opened');
      });
    }
    await this.publish();
    return this.next();
  }

  /** Opens one tray of a running round (one-at-a-time mode, or a tray to open again). */
  async openItem(id: string, tray: number, actor: string): Promise<void> {
    const { db, rounds, clock } = this.deps;
    const item = await db.tx(async (q) => {
      await this.openRound(q, id, ['running']);
      const found = await rounds.item(q, id, tray);
      if (!found) throw new AppError('ITEM_NOT_FOUND', `tray ${tray} is not on this round`);
      return found;
    });
    await this.deps.trays.release(tray, actor, 'round', { roundId: id, dossierCode: item.dossierCode });
    if (item.status === 'pending') {
      await db.tx((q) => rounds.setItem(q, id, item.dossierId, { status: 'opened', openedAt: clock.now() }));
    }
  }

  /** The officer says what became of a tray's dossier. */
  async confirm(id: string, tray: number, outcome: ItemOutcome, actor: string): Promise<Manifest> {
    const { db, rounds, dossiers, trayStore, outbox, audit, clock } = this.deps;
    const checked: (() => Promise<void>)[] = [];
    const after = await db.tx(async (q) => {
      await this.openRound(q, id, ['running']);
      const item = await rounds.item(q, id, tray);
      if (!item) throw new AppError('ITEM_NOT_FOUND', `tray ${tray} is not on this round`);
      if (item.status !== 'pending' && item.status !== 'opened') {
        throw new AppError('ITEM_ALREADY_CONFIRMED', `tray ${tray} was already confirmed ${item.status}`);
      }
      const allowed = { collect: ['collected', 'missing'], take_back: ['returned', 'missing'], check: ['found', 'empty'] }[item.kind];
      if (!allowed.includes(outcome)) {
        const what = { collect: 'a deposit', take_back: 'a result', check: 'a tray to check' }[item.kind];
        throw new AppError('VALIDATION_FAILED', `${what} is confirmed ${allowed.join(' or ')}`);
      }
      const dossier = await dossiers.get(q, item.dossierId, { forUpdate: true });
      if (item.kind === 'check') {
        if (!dossier || dossier.status !== 'to_check') {
          throw new AppError('CONFLICT', `the dossier in tray ${tray} is now ${dossier?.status ?? 'gone'} (checked meanwhile?)`);
        }
        const now = clock.now();
        const done = await this.deps.checks.resolve(q, dossier, outcome as 'found' | 'empty', actor, now, { roundId: id });
        await rounds.setItem(q, id, item.dossierId, { status: outcome, confirmedAt: now, confirmedBy: actor });
        checked.push(...done.after);
        return null;
      }
      const expected = item.kind === 'collect' ? 'deposited' : 'expired';
      if (!dossier || dossier.status !== expected) {
        throw new AppError('CONFLICT', `the dossier in tray ${tray} is now ${dossier?.status ?? 'gone'} (picked up meanwhile?)`);
      }
      const now = clock.now();
      const to = outcome === 'collected' ? 'collected' : outcome === 'returned' ? 'returned_to_counter' : 'missing';
      const fields = to === 'collected' ? { collectedAt: now } : to === 'returned_to_counter' ? { returnedAt: now } : {};
      await dossiers.transition(q, dossier.id, expected, to, { actor, at: now, fields, details: { roundId: id } });
      await trayStore.setContent(q, tray, 'free', now);
      await rounds.setItem(q, id, item.dossierId, { status: outcome, confirmedAt: now, confirmedBy: actor });
      const code = dossier.code;
      if (outcome === 'collected') await outbox.enqueue(q, 'item.collected', { roundId: id, dossierCode: code, tray, by: actor }, now);
      if (outcome === 'missing')
        await outbox.enqueue(q, 'item.missing', { roundId: id, dossierCode: code, tray, by: actor, kind: item.kind }, now);
      if (outcome === 'returned') {
        await outbox.enqueue(q, 'result.returned_to_counter', { resultId: dossier.id, dossierCode: code, tray, by: actor }, now);
      }
      await audit.record(q, {
        actor,
        action: `round.item.${outcome}`,
        subject: `dossier:${dossier.id}`,
        details: { roundId: id, tray },
        at: now,
      });
      return outcome === 'returned' ? dossier : null;
    });
    outbox.committed();
    await this.deps.trays.publish([tray]);
    for (const work of checked) await work().catch((err) => this.deps.logger.warn({ err }, 'work after a check failed'));
    if (after) {
      await this.deps.sms.sendNotice('result_returned_to_counter', after.phoneEnc, after.phoneHash, after.id, {
        dossierCode: displayCode(after.code),
        where: this.deps.counter,
      });
    }
    await this.publish();
    return this.next();
  }

  async complete(id: string, actor: string): Promise<{ roundId: string; counts: Record<string, number> }> {
    const { db, rounds, outbox, audit, clock } = this.deps;
    const counts = await db.tx(async (q) => {
      await this.openRound(q, id, ['running']);
      const items = await rounds.items(q, id);
      const count = (s: string) => items.filter((i) => i.status === s).length;
      const result = {
        collected: count('collected'),
        returned: count('returned'),
        missing: count('missing'),
        // Trays to check, when the round had any.
        ...(items.some((i) => i.kind === 'check') ? { found: count('found'), empty: count('empty') } : {}),
        leftInPlace: items.filter((i) => i.status === 'pending' || i.status === 'opened').length,
      };
      const now = clock.now();
      await rounds.update(q, id, { status: 'completed', completedAt: now, completedBy: actor, counts: result });
      await outbox.enqueue(q, 'round.completed', { roundId: id, by: actor, counts: result }, now);
      await audit.record(q, { actor, action: 'round.complete', subject: `round:${id}`, details: result, at: now });
      return result;
    });
    outbox.committed();
    await this.publish();
    return { roundId: id, counts };
  }
}
