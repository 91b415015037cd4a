/**
 * Ports: citizen ID cards (docs/id-card.md). The scanner the controller reads itself (a QR scanner
 * on a serial line, or the simulated cabinet's; hardware/card-scanner.ts implements it; a USB
 * scanner that types like a keyboard is read by the kiosk page instead and needs no port), and the
 * sealed holders of deposits made with a card (src/store/holders.ts).
 */
import type { Queryable } from './persistence.js';

export interface CardScanner {
  /** Where its scans come from, as IdCardScans records them. */
  readonly source: 'serial' | 'simulator';
  /** Opens the scanner (a serial port that cannot be opened is retried, not fatal). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Calls `listener` with each line the scanner reads, without its line ending. Never logged. */
  onRead(listener: (text: string) => void): void;
}

/** The simulated scanner: a card "presented" to it is read as a line. */
export interface SimulatedCardScanner extends CardScanner {
  present(text: string): void;
}

/** A deposit's sealed holder (IdVault.seal), as a round's manifest finds it. */
export interface SealedHolderRow {
  code: string;
  tray: number | null;
  /** Null for a deposit made without a card. */
  holderEnc: string | null;
}

export interface HolderStore {
  /** Deposits under `codes` (stored codes) still in or out of the machine, newest first, with their sealed holder if made with a card. */
  sealedByCodes(q: Queryable, codes: string[]): Promise<SealedHolderRow[]>;
}
