/** Dossier life (DESIGN.md, "Dossier life"). Pure rules. */

/**
 * `to_check` (both kinds): the tray's door was not watched for the whole time its lock was
 * released, so whether the paper is there is unknown; an officer looks and says (ADR 0012).
 */
export type DepositStatus = 'verified' | 'tray_open' | 'deposited' | 'collected' | 'cancelled' | 'missing' | 'to_check';
export type ResultStatus = 'loading' | 'loaded' | 'notified' | 'picked_up' | 'expired' | 'returned_to_counter' | 'cancelled' | 'to_check';
export type DossierStatus = DepositStatus | ResultStatus;
export type DossierKind = 'deposit' | 'result';

export interface Dossier {
  id: string;
  code: string;
  kind: DossierKind;
  procedureCode: string;
  /** The phone, hashed and encrypted; null once the dossier has been closed longer than retention allows (docs/retention.md). */
  phoneHash: string | null;
  phoneEnc: string | null;
  /**
   * A deposit made with a scanned citizen ID card: its holder's ID number and name, sealed
   * (IdVault.seal); null without a card, and once the phone is cleared (docs/id-card.md).
   */
  holderEnc?: string | null;
  status: DossierStatus;
  tray: number | null;
  challengeId: string | null;
  createdAt: Date;
  openedAt: Date | null;
  doorOpenedAt: Date | null;
  depositedAt: Date | null;
  collectedAt: Date | null;
  loadedAt: Date | null;
  notifiedAt: Date | null;
  pickupDeadline: Date | null;
  remindedAt: Date | null;
  pickedUpAt: Date | null;
  expiredAt: Date | null;
  returnedAt: Date | null;
  cancelledAt: Date | null;
  /** Set while `to_check`: since when, and the status it was in (a result waiting goes back to it). */
  checkSince: Date | null;
  checkFrom: DossierStatus | null;
  updatedAt: Date;
}

/** The moves a dossier may make; anything else is a bug and is refused. */
const ALLOWED: Record<string, DossierStatus[]> = {
  verified: ['tray_open', 'cancelled'],
  tray_open: ['deposited', 'cancelled', 'to_check'],
  deposited: ['collected', 'missing'],
  loading: ['loaded', 'cancelled', 'to_check'],
  loaded: ['notified', 'picked_up', 'expired', 'to_check'],
  notified: ['picked_up', 'expired', 'to_check'],
  expired: ['returned_to_counter', 'picked_up', 'missing', 'to_check'],
  // The officer's answer: found (deposited / loaded / back to waiting) or empty.
  to_check: ['deposited', 'cancelled', 'loaded', 'notified', 'expired', 'picked_up'],
};

/**
 * Closed: the statuses a dossier never leaves (no move out of them above). Its personal fields are
 * cleared a configured time after it closed (docs/retention.md); the row stays, for the figures.
 */
export const CLOSED_STATUSES: DossierStatus[] = ['collected', 'cancelled', 'missing', 'picked_up', 'returned_to_counter'];

export function canMove(from: DossierStatus | null, to: DossierStatus): boolean {
  if (from === null) return to === 'verified' || to === 'loading' || to === 'loaded';
  return ALLOWED[from]?.includes(to) ?? false;
}

/** Statuses in which a result waits in a tray for its citizen. */
export const RESULT_WAITING: DossierStatus[] = ['loaded', 'notified', 'expired'];

/** What an officer found in a tray to check. */
export type CheckOutcome = 'found' | 'empty';

/**
 * Where a dossier goes when the officer has looked: a deposit found is deposited (and collected
 * by the round), one not there is cancelled; a result being loaded found is loaded, else
 * cancelled; a result released for pickup found goes back to waiting, else it was picked up.
 */
export function afterCheck(d: Pick<Dossier, 'kind' | 'checkFrom'>, outcome: CheckOutcome): DossierStatus {
  if (d.kind === 'deposit') return outcome === 'found' ? 'deposited' : 'cancelled';
  if (d.checkFrom === 'loading') return outcome === 'found' ? 'loaded' : 'cancelled';
  return outcome === 'found' ? (d.checkFrom ?? 'loaded') : 'picked_up';
}
