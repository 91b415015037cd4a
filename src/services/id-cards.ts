/**
 * Citizen ID cards (CCCD) scanned at the kiosk: the QR text on the back of a card, typed by a
 * keyboard-wedge scanner into the kiosk page or read by the daemon's own scanner (serial or
 * simulated). A scan is parsed at once and only the minimum is kept (the ID number and the name,
 * never the address or the birth date), in memory only and for a few minutes, under a random id
 * that a deposit or a pickup then names. The scanned text is never stored or logged.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { maskIdNumber, minimalHolder, parseCardQr, type CardHolder } from '../domain/citizen-id.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { CardScan } from '../domain/api-id-cards.js';
import { isAppError } from '../domain/errors.js';
import type { CardScanner } from './ports.js';

export type { CardScan };

/** Where a scan came from: the kiosk page's keyboard wedge, the daemon's serial scanner, the simulator. */
export type ScanSource = 'keyboard' | 'serial' | 'simulator';

/** How long a scan can be named by a deposit or a pickup. */
export const SCAN_TTL_MS = 5 * 60_000;
/** The most scans held at once (oldest dropped first): a scanner left scanning cannot fill memory. */
const MAX_SCANS = 200;

export type ScanListener = (scan: CardScan, source: ScanSource) => void;

export interface IdCardScansDeps {
  clock?: Clock;
  newId?: () => string;
  ttlMs?: number;
}

interface HeldScan {
  holder: CardHolder;
  expiresAtMs: number;
}

export class IdCardScans {
  private readonly scans = new Map<string, HeldScan>();
  private readonly listeners = new Set<ScanListener>();
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly ttlMs: number;

  constructor(deps: IdCardScansDeps = {}) {
    this.clock = deps.clock ?? systemClock;
    this.newId = deps.newId ?? randomUUID;
    this.ttlMs = deps.ttlMs ?? SCAN_TTL_MS;
  }

  /**
   * Parses a card's QR text (AppError ID_CARD_INVALID naming what is wrong) and keeps its holder
   * for SCAN_TTL_MS; listeners are told of the new scan.
   */
  register(text: string, source: ScanSource): CardScan {
    const card = parseCardQr(text, this.clock.now());
    const holder = minimalHolder(card);
    const nowMs = this.clock.now().getTime();
    this.sweep(nowMs);
    while (this.scans.size >= MAX_SCANS) {
      const oldest = this.scans.keys().next().value as string;
      this.scans.delete(oldest);
    }
    const scanId = this.newId();
    this.scans.set(scanId, { holder, expiresAtMs: nowMs + this.ttlMs });
    const scan: CardScan = { scanId, fullName: holder.fullName, idNumberMasked: maskIdNumber(holder.idNumber) };
    for (const listener of this.listeners) {
      try {
        listener(scan, source);
      } catch {
        // A listener that fails (a closed stream) must not lose the scan for the others.
      }
    }
    return scan;
  }

  /**
   * The holder of a scan, or null if unknown or expired. The scan stays until it expires, so that
   * a deposit retried after a wrong code still finds it.
   */
  take(scanId: string): CardHolder | null {
    if (typeof scanId !== 'string') return null;
    const held = this.scans.get(scanId);
    if (!held) return null;
    if (held.expiresAtMs <= this.clock.now().getTime()) {
      this.scans.delete(scanId);
      return null;
    }
    return { ...held.holder };
  }

  /** Whether a scan can still be taken (without handing out its holder). */
  has(scanId: string): boolean {
    return this.take(scanId) !== null;
  }

  /** Forgets a scan at once (a citizen who removes the card from the deposit). */
  forget(scanId: string): void {
    this.scans.delete(scanId);
  }

  /** Calls `listener` with each new scan; returns the function that stops it. */
  onScan(listener: ScanListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private sweep(nowMs: number): void {
    for (const [id, held] of this.scans) if (held.expiresAtMs <= nowMs) this.scans.delete(id);
  }
}

/**
 * Registers each line `scanner` reads as a scan. A line that is not a card's text is refused and
 * forgotten: logged by its error code only (the text may hold a person's data), never thrown.
 */
export function readCardsFrom(scanner: CardScanner, scans: IdCardScans, logger: Logger): void {
  // One warning per run of refusals (a scanner at the wrong baud rate reads garbage line after line).
  let refused = 0;
  scanner.onRead((text) => {
    try {
      scans.register(text, scanner.source);
      if (refused > 1) logger.info({ source: scanner.source, refused }, 'the ID card scanner reads cards again');
      refused = 0;
    } catch (err) {
      if (refused++ === 0) {
        logger.warn(
          { source: scanner.source, code: isAppError(err) ? err.code : 'INTERNAL' },
          'the ID card scanner read something that is not a citizen ID card (further refusals in a row are counted, not logged)',
        );
      }
    }
  });
}
