/** Dossier life (DESIGN.md, "Dossier life"). Pure rules. */

export type DepositStatus = 'verified' | 'tray_open' | 'deposited' | 'collected' | 'cancelled' | 'missing';
export type ResultStatus = 'loading' | 'loaded' | 'notified' | 'picked_up' | 'expired' | 'returned_to_counter' | 'cancelled';
export type DossierStatus = DepositStatus | ResultStatus;
export type DossierKind = 'deposit' | 'result';

export interface Dossier {
  id: string;
  code: string;
  kind: DossierKind;
  procedureCode: string;
  phoneHash: string;
  phoneEnc: string;
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
  updatedAt: Date;
}

/** The moves a dossier may make; anything else is a bug and is refused. */
const ALLOWED: Record<string, DossierStatus[]> = {
  verified: ['tray_open', 'cancelled'],
  tray_open: ['deposited', 'cancelled'],
  deposited: ['collected', 'missing'],
  loading: ['loaded', 'cancelled'],
  loaded: ['notified', 'picked_up', 'expired'],
  notified: ['picked_up', 'expired'],
  expired: ['returned_to_counter', 'picked_up', 'missing'],
};

export function canMove(from: DossierStatus | null, to: DossierStatus): boolean {
  if (from === null) return to === 'verified' || to === 'loading' || to === 'loaded';
  return ALLOWED[from]?.includes(to) ?? false;
}

/** Statuses in which a result waits in a tray for its citizen. */
export const RESULT_WAITING: DossierStatus[] = ['loaded', 'notified', 'expired'];
/** Statuses in which a dossier occupies its tray. */
export const IN_TRAY: DossierStatus[] = ['tray_open', 'deposited', 'loading', 'loaded', 'notified', 'expired'];
