/** Tray states as the controller and its users see them. Pure rules, no I/O. */
import type { TrayRole, TraySize } from './cabinet.js';

/**
 * What a tray holds. `to_check`: the controller could not watch the door for the whole time the
 * lock was released (restart, board silent, ...), so it does not know whether the tray holds
 * paper; it is held until an officer looks (docs/adr/0012-uncertain-tray-outcomes.md).
 */
export type TrayContent = 'free' | 'reserved' | 'holding_deposit' | 'holding_result' | 'to_check';
/** What an admin sees: the content, unless the tray is out of service. */
export type TrayDisplayState = TrayContent | 'out_of_service';
export type Door = 'open' | 'closed' | 'unknown';

/** Why a tray's lock was released. */
export type TrayOpenReason = 'deposit' | 'pickup' | 'load_result' | 'round' | 'check' | 'maintenance';

export const DISPLAY_STATES: readonly TrayDisplayState[] = [
  'free',
  'reserved',
  'holding_deposit',
  'holding_result',
  'to_check',
  'out_of_service',
];

export interface Tray {
  number: number;
  cabinet: string;
  board: string;
  lockChannel: number;
  doorInput: number;
  size: TraySize;
  role: TrayRole;
  content: TrayContent;
  door: Door;
  /** When the lock was last released and the door has not been opened since. */
  releasedAt: Date | null;
  /** Set by an admin: the tray is out of service for maintenance. */
  disabledReason: string | null;
  /** Set while the tray's board does not answer. */
  fault: string | null;
  changedAt: Date;
}

export function displayState(tray: Pick<Tray, 'content' | 'disabledReason' | 'fault'>): TrayDisplayState {
  return tray.disabledReason || tray.fault ? 'out_of_service' : tray.content;
}

export function countByState(trays: Pick<Tray, 'content' | 'disabledReason' | 'fault'>[]): Record<TrayDisplayState, number> {
  const counts = Object.fromEntries(DISPLAY_STATES.map((s) => [s, 0])) as Record<TrayDisplayState, number>;
  for (const tray of trays) counts[displayState(tray)] += 1;
  return counts;
}

/**
 * A door seen open is expected only if the lock was released for it (and the release is still
 * fresh) or it was already known to be open. Anything else is a forced door or a broken latch.
 * `releaseAgeMs`: how long before the opening the release was recorded, measured on a monotonic
 * clock (a wall-clock step says nothing about it); null when it cannot be measured (a release
 * recorded before a restart), and then the release still recorded explains the opening.
 */
export function isUnexpectedOpening(
  tray: Pick<Tray, 'door' | 'releasedAt'>,
  releaseAgeMs: number | null,
  releaseWindowMs: number,
  opts: { afterGap?: boolean } = {},
): boolean {
  if (tray.door === 'open') return false;
  if (!tray.releasedAt) return true;
  // Seen only after a gap (restart, board back): the opening happened at an unknown moment of
  // the gap, so the age of the release says nothing. A release still recorded explains it.
  if (opts.afterGap || releaseAgeMs === null) return false;
  return releaseAgeMs > releaseWindowMs;
}
