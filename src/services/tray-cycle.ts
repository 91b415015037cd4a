/**
 * The one tray cycle that deposits, result loading and pickups share:
 *
 *   1. in ONE transaction, the flow's own records (reserve a tray, the dossier, its status) and the
 *      lock release (`TrayService.recordRelease`: intent, audit row, `tray.opened`) — the
 *      transaction boundary is here, before the pulse, so that whatever happens next the records
 *      already say this tray may open (journal before dispense);
 *   2. after commit, the pulse (`pulse`): if it certainly did not leave, the flow undoes its intent
 *      at once; if it may have, the window runs its course like any other;
 *   3. the door: opened, then closed — the flow's completion, in the door change's transaction
 *      (`doorHandler`);
 *   4. the window's end (`sweep`): watched throughout and never opened → the flow lapses; not
 *      watched throughout → the tray is held for an officer to check (ADR 0012).
 *
 * What differs between the flows is passed in: which dossier waits at a tray's door, what
 * completing means, what lapsing means.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Dossier, DossierStatus } from '../domain/dossier.js';
import type { EventPayload } from '../domain/events.js';
import type { TrayContent, TrayOpenReason } from '../domain/tray.js';
import type { Database, DossierStore, EventOutbox, Queryable, TrayStore } from './ports.js';
import type { SmsService } from './sms.js';
import type { CompletionSource, TrayChecks } from './tray-checks.js';
import type { AfterCommit, DoorHandler, TrayService } from './trays.js';

/** What every flow of the cycle is built with (each adds its own). */
export interface FlowDeps {
  db: Database;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  cycle: TrayCycle;
  outbox: EventOutbox;
  sms: SmsService;
  clock: Clock;
  logger: Logger;
}

/** Which dossiers wait at their tray's door, per flow (see DossierStore.awaitingDoor). */
export type AwaitingDoor = 'deposit' | 'loading' | 'pickup';

export interface CycleFlow {
  /** The statuses of this flow's dossiers waiting at a tray's door. */
  statuses: DossierStatus[];
  /** This flow's dossier waiting at the door, if any, among the tray's dossiers in `statuses` (oldest first). */
  pick(inTray: Dossier[]): Dossier | undefined;
  /** The door opened, then closed: the flow's completion, in the door change's transaction. */
  complete(q: Queryable, d: Dossier, tray: number, at: Date): Promise<AfterCommit>;
}

export interface TrayCycleDeps {
  db: Database;
  outbox: EventOutbox;
  dossiers: DossierStore;
  trayStore: TrayStore;
  trays: TrayService;
  checks: TrayChecks;
  clock: Clock;
  /** A release whose door has not opened within this is concluded (lapsed or held to check). */
  doorOpenTimeoutMs: number;
}

/** The event a settled flow publishes, less the fields `settle` fills in itself. */
type SettleEvent =
  | { event: 'deposit.completed'; data: Omit<EventPayload<'deposit.completed'>, 'dossierCode' | 'tray' | 'procedureCode'> }
  | { event: 'result.loaded'; data: Omit<EventPayload<'result.loaded'>, 'dossierCode' | 'tray' | 'procedureCode'> };

export class TrayCycle {
  /** Every status a flow's handler looks for at a door. */
  private readonly atDoorStatuses = new Set<DossierStatus>();
  /** Per door-change transaction and tray: the dossiers at the door, read (and locked) once for every flow. */
  private readonly atDoor = new WeakMap<Queryable, Map<number, Promise<Dossier[]>>>();

  constructor(private readonly deps: TrayCycleDeps) {}

  /**
   * The tray's dossiers in any flow's waiting statuses, locked for update, read once per
   * transaction for all the flows' handlers. A dossier a handler takes is dropped from the list:
   * it changes in this transaction, and by the flows' states no other flow would take it after
   * (one live dossier a tray; a deposit never a result's; a result loaded has no release to pick up).
   */
  private dossiersAtDoor(q: Queryable, tray: number): Promise<Dossier[]> {
    let trays = this.atDoor.get(q);
    if (!trays) this.atDoor.set(q, (trays = new Map()));
    let rows = trays.get(tray);
    if (!rows) {
      rows = this.deps.dossiers.inTray(q, tray, [...this.atDoorStatuses]);
      trays.set(tray, rows);
    }
    return rows;
  }

  private taken(q: Queryable, tray: number, d: Dossier): void {
    const rows = this.atDoor.get(q)?.get(tray);
    if (rows)
      this.atDoor.get(q)!.set(
        tray,
        rows.then((list) => list.filter((x) => x.id !== d.id)),
      );
  }

  /** Step 3: the door handler of one flow, registered at the composition root. */
  doorHandler(flow: CycleFlow): DoorHandler {
    for (const status of flow.statuses) this.atDoorStatuses.add(status);
    return async (q, tray, open, at, seen) => {
      // A change seen before this release, recorded late: the previous user's, not this flow's.
      if (seen.beforeRelease) return;
      const inTray = await this.dossiersAtDoor(q, tray.number);
      const d = flow.pick(inTray.filter((x) => flow.statuses.includes(x.status)));
      if (!d) return;
      this.taken(q, tray.number, d);
      if (open) {
        if (!d.doorOpenedAt) await this.deps.dossiers.setFields(q, d.id, { doorOpenedAt: at }, at);
        return;
      }
      if (!d.doorOpenedAt) return;
      this.deps.trays.closeWindow(tray.number);
      return flow.complete(q, d, tray.number, at);
    };
  }

  /**
   * Step 2: the pulse of a release committed in step 1. When it certainly did not leave (the
   * board offline, the bus stopped), nothing can be in the tray: `undo` runs now. Rethrows.
   */
  async pulse(tray: number, reason: TrayOpenReason, undo: () => Promise<unknown>): Promise<void> {
    const { trays } = this.deps;
    try {
      await trays.pulse(tray, reason);
    } catch (err) {
      if (!trays.hasWindow(tray)) await undo();
      throw err;
    }
  }

  /**
   * Step 4: every dossier of the flow still waiting at its door whose time is up: `lapse` when the
   * door was watched throughout (returns whether it did), held to check when it was not. Returns
   * the ids that lapsed.
   */
  async sweep(flow: AwaitingDoor, lapse: (d: Dossier) => Promise<boolean>): Promise<string[]> {
    const { db, dossiers, trays, checks, doorOpenTimeoutMs } = this.deps;
    const lapsed: string[] = [];
    for (const d of await dossiers.awaitingDoor(db, flow)) {
      const verdict = trays.verdict(d.tray!, doorOpenTimeoutMs);
      if (verdict.kind === 'watched') {
        if (await lapse(d)) lapsed.push(d.id);
        trays.closeWindow(d.tray!);
      } else if (verdict.kind === 'uncertain') {
        await checks.hold(d, verdict.gap);
      }
    }
    return lapsed;
  }

  /**
   * Step 3's common part, for a flow whose paper is now in its tray (a deposit made, a result
   * loaded): the dossier's status, the tray's content and the flow's event, in the caller's
   * transaction (the door change's, or an officer's answer to a check).
   */
  async settle(
    q: Queryable,
    d: Dossier,
    tray: number,
    at: Date,
    s: {
      source: CompletionSource;
      to: DossierStatus;
      fields: Partial<Dossier>;
      content: TrayContent;
    } & SettleEvent,
  ): Promise<void> {
    const { dossiers, trayStore, outbox } = this.deps;
    await dossiers.transition(q, d.id, s.source.from, s.to, { actor: s.source.actor, at, fields: s.fields, details: s.source.details });
    await trayStore.setContent(q, tray, s.content, at);
    const common = { dossierCode: d.code, tray, procedureCode: d.procedureCode };
    if (s.event === 'deposit.completed') await outbox.enqueue(q, s.event, { ...s.data, ...common }, at);
    else await outbox.enqueue(q, s.event, { ...s.data, ...common }, at);
  }

  /**
   * Gives up a flow whose door never opened (a watched window, or a pulse that certainly did not
   * leave): the dossier cancelled, the tray free and locked, `event` written in the same
   * transaction. Nothing happens if the dossier moved on meanwhile. Returns whether it did.
   */
  async cancel(
    id: string,
    from: 'tray_open' | 'loading',
    reason: string,
    event?: (q: Queryable, d: Dossier, at: Date) => Promise<unknown>,
  ): Promise<boolean> {
    const { db, dossiers, trayStore, trays, clock } = this.deps;
    const tray = await db.tx(async (q) => {
      const d = await dossiers.get(q, id, { forUpdate: true });
      if (!d || d.status !== from || d.doorOpenedAt) return null;
      const now = clock.now();
      await dossiers.transition(q, id, from, 'cancelled', { actor: 'system', at: now, fields: { cancelledAt: now }, details: { reason } });
      if (d.tray !== null) {
        await trayStore.setContent(q, d.tray, 'free', now);
        await trayStore.clearRelease(q, d.tray);
      }
      await event?.(q, d, now);
      return d.tray;
    });
    if (tray === null) return false;
    await trays.publish([tray]);
    return true;
  }
}
