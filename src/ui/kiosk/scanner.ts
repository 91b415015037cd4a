/**
 * The kiosk's citizen ID card scanner (docs/id-card.md), of either kind:
 * - a USB scanner that types like a keyboard (a "wedge"): the QR text arrives as a burst of key
 *   presses far faster than anyone types (30 characters or more, under BURST_GAP_MS apart on
 *   average), ending in Enter, with no text field to type into. It is caught at document level
 *   while no text field has the focus, its keys kept from the rest of the page, and sent to the
 *   controller; typing at a person's pace is left alone;
 * - a scanner the controller reads itself (serial, or the simulator's): its scans are pushed to
 *   the page over `GET /api/id-cards/scans/stream`.
 * Names are assembled from `event.key`, one character a key, Vietnamese letters included.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { CardScan } from '../../domain/api-id-cards.js';
import { api, ApiError } from '../shared/api.js';

export type { CardScan };

/**
 * Keys of a burst arrive this far apart on average (a scanner: 1–10 ms; a person: 100 ms or more,
 * and no one keeps under 35 ms for 30 keys).
 */
export const BURST_GAP_MS = 35;
/** No key of a burst comes later than this after the one before (a busy kiosk PC may hold one back a little). */
export const BURST_MAX_GAP_MS = 100;
/** The fewest characters a card's text has (its real length is ~100–150). */
export const BURST_MIN_LENGTH = 30;

/** Keys that change no character and must not break a burst (a scanner presses Shift for capitals). */
const MODIFIERS = new Set(['Shift', 'CapsLock', 'AltGraph', 'Dead', 'Process', 'Unidentified']);

/** A key press that types one character: a single character, or one written as several code points (a decomposed ễ). */
function printable(e: KeyboardEvent): string | null {
  if (e.ctrlKey || e.metaKey || (e.altKey && !e.getModifierState?.('AltGraph'))) return null;
  const k = e.key;
  if (!k) return null;
  if ([...k].length === 1) return k;
  // Named keys ("ArrowLeft", "F1") are ASCII letters; a multi-code-point character is not.
  return /[^\x20-\x7e]/.test(k) ? k.normalize('NFC') : null;
}

/** Whether a field that takes typed text has the focus: the scanner then types into it as any keyboard would. */
function typingIntoField(): boolean {
  const el = document.activeElement as HTMLElement | null;
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLTextAreaElement) return !el.readOnly && !el.disabled;
  if (el instanceof HTMLInputElement) {
    const nonText = ['button', 'checkbox', 'radio', 'submit', 'reset', 'image', 'file', 'range', 'color', 'hidden'];
    return !nonText.includes(el.type) && !el.readOnly && !el.disabled;
  }
  return false;
}

/**
 * Calls `onScan` with each card scanned, by a keyboard-wedge scanner on this page or by the
 * controller's own scanner; `onError` with the error code of a card refused (ID_CARD_INVALID) or
 * a scan that could not be sent.
 */
export function useCardScan(onScan: (scan: CardScan) => void, onError?: (code: string) => void): void {
  const handlers = useRef({ onScan, onError });
  handlers.current = { onScan, onError };

  // (a) the keyboard wedge
  useEffect(() => {
    let chars: string[] = [];
    let startAt = 0;
    let lastAt = -Infinity;
    /** Whether the keys so far came as a machine types them. */
    const fast = () => chars.length >= 2 && (lastAt - startAt) / (chars.length - 1) <= BURST_GAP_MS;
    const stop = (e: KeyboardEvent) => {
      e.preventDefault();
      e.stopImmediatePropagation();
    };
    const send = async (text: string) => {
      try {
        handlers.current.onScan(await api<CardScan>('POST', '/api/id-cards/scans', { body: { text } }));
      } catch (err) {
        handlers.current.onError?.(err instanceof ApiError ? err.code : 'NETWORK');
      }
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.isComposing || typingIntoField()) {
        chars = [];
        return;
      }
      const at = e.timeStamp;
      const gap = at - lastAt;
      if (e.key === 'Enter') {
        const burst = gap <= BURST_MAX_GAP_MS && fast();
        const text = chars.join('');
        chars = [];
        lastAt = -Infinity;
        if (!burst) return;
        // A machine typed this: its Enter must not press the button that has the focus.
        stop(e);
        if (text.length >= BURST_MIN_LENGTH) void send(text);
        return;
      }
      if (MODIFIERS.has(e.key)) return;
      const ch = printable(e);
      if (ch === null) {
        chars = [];
        lastAt = -Infinity;
        return;
      }
      if (chars.length > 0 && gap <= BURST_MAX_GAP_MS) {
        chars.push(ch);
        lastAt = at;
        // Part of a burst: the key is the scanner's, not a press on the page (a space must not click a button).
        if (fast()) stop(e);
      } else {
        // Perhaps the first key of a burst: it cannot be told apart yet, and a card's text starts with a digit, which does nothing here.
        chars = [ch];
        startAt = lastAt = at;
      }
    };
    const onKeyUpOrPress = (e: KeyboardEvent) => {
      // The other halves of a burst's key presses stay with the scanner too.
      if (fast() && !typingIntoField()) stop(e);
    };
    window.addEventListener('keydown', onKey, { capture: true });
    window.addEventListener('keypress', onKeyUpOrPress, { capture: true });
    window.addEventListener('keyup', onKeyUpOrPress, { capture: true });
    return () => {
      window.removeEventListener('keydown', onKey, { capture: true });
      window.removeEventListener('keypress', onKeyUpOrPress, { capture: true });
      window.removeEventListener('keyup', onKeyUpOrPress, { capture: true });
    };
  }, []);

  // (b) the controller's own scanner
  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource('/api/id-cards/scans/stream');
    source.addEventListener('scan', (e) => {
      try {
        handlers.current.onScan(JSON.parse((e as MessageEvent<string>).data) as CardScan);
      } catch {
        /* a malformed push is ignored */
      }
    });
    return () => source.close();
  }, []);
}
