/** Ports: Staff: collection rounds. */
import type { TraySize } from '../../domain/cabinet.js';
import type { Queryable } from './persistence.js';

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
  /** A fee-charging deposit's fee: paid, or to be paid at the counter (issue 13); null without one. */
  fee: { amount: number; paid: boolean } | null;
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
  setItem(
    q: Queryable,
    roundId: string,
    dossierId: string,
    fields: { status: RoundItemRow['status']; openedAt?: Date; confirmedAt?: Date; confirmedBy?: string },
  ): Promise<void>;
  preview(q: Queryable): Promise<Omit<RoundItemRow, 'roundId'>[]>;
  settleOpenItems(
    q: Queryable,
    dossierId: string,
    fields: { status: RoundItemRow['status']; confirmedAt: Date; confirmedBy: string },
  ): Promise<void>;
  freeTrays(q: Queryable): Promise<Record<TraySize, number>>;
}
