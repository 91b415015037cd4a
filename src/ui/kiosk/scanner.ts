/**
 * The kiosk's citizen ID card scanner (docs/id-card.md), of either kind:
 * - a USB scanner that types like a keyboard (a "wedge"): the QR text arrives as a burst of key
 *   presses far faster than anyone types (30 characters or more, under BURST_GAP_MS apart on
 *   average), ending in Enter. It is caught for the whole page (installKeyboardWedge), whatever has
 *   the focus, its keys kept from the rest of the page, and sent to the controller when a screen
 *   takes a card; typing at a person's pace is left alone;
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

/** The text field with the focus, if any: a scanner's first key (not yet known as one) may land in it. */
function focusedField(): HTMLInputElement | HTMLTextAreaElement | null {
  const el = document.activeElement;
  if (el instanceof HTMLTextAreaElement) return el;
  if (el instanceof HTMLInputElement) {
    const nonText = ['button', 'checkbox', 'radio', 'submit', 'reset', 'image', 'file', 'range', 'color', 'hidden'];
    return nonText.includes(el.type) ? null : el;
  }
  return null;
}

/** Who wants the wedge's scans now (the screens that take a card); a burst elsewhere is swallowed and dropped. */
const wedgeListeners = new Set<(text: string) => void>();
let wedgeInstalled = false;

/**
 * The keyboard-wedge capture, for the whole page and once (main.ts installs it at start): on every
 * screen, whatever has the focus, a burst's keys after its first are kept from the page, its Enter
 * never presses a button or submits a field, and a key its first press put into a text field (the
 * phone number's, the code's) is taken out again once the burst is known. Its text goes to the
 * screen that takes a card now, if any. Typing at a person's pace is left alone.
 */
export function installKeyboardWedge(): void {
  if (wedgeInstalled || typeof window === 'undefined') return;
  wedgeInstalled = true;
  let chars: string[] = [];
  let startAt = 0;
  let lastAt = -Infinity;
  /** The field the burst's first key may have typed into, with its value before that key. */
  let field: { el: HTMLInputElement | HTMLTextAreaElement; before: string; restored: boolean } | null = null;
  /** Whether the keys so far came as a machine types them. */
  const fast = () => chars.length >= 2 && (lastAt - startAt) / (chars.length - 1) <= BURST_GAP_MS;
  const stop = (e: KeyboardEvent) => {
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  const reset = () => {
    chars = [];
    lastAt = -Infinity;
    field = null;
  };
  const restoreField = () => {
    if (!field || field.restored) return;
    field.restored = true;
    if (field.el.value !== field.before) {
      field.el.value = field.before;
      // The screen's own state follows its field's input event.
      field.el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.isComposing) return reset();
    const at = e.timeStamp;
    const gap = at - lastAt;
    if (e.key === 'Enter') {
      const burst = gap <= BURST_MAX_GAP_MS && fast();
      const text = chars.join('');
      if (burst) restoreField();
      reset();
      if (!burst) return;
      // A machine typed this: its Enter must not press the button that has the focus, nor submit a field.
      stop(e);
      if (text.length >= BURST_MIN_LENGTH) for (const listener of wedgeListeners) listener(text);
      return;
    }
    if (MODIFIERS.has(e.key)) return;
    const ch = printable(e);
    if (ch === null) return reset();
    if (chars.length > 0 && gap <= BURST_MAX_GAP_MS) {
      chars.push(ch);
      lastAt = at;
      // Part of a burst: the key is the scanner's, not a press on the page (a space must not click a button).
      if (fast()) {
        stop(e);
        restoreField();
      }
    } else {
      // Perhaps the first key of a burst: it cannot be told apart yet; what it types is taken back if it was.
      const el = focusedField();
      chars = [ch];
      startAt = lastAt = at;
      field = el ? { el, before: el.value, restored: false } : null;
    }
  };
  const onKeyUpOrPress = (e: KeyboardEvent) => {
    // The other halves of a burst's key presses stay with the scanner too.
    if (fast()) stop(e);
  };
  window.addEventListener('keydown', onKey, { capture: true });
  window.addEventListener('keypress', onKeyUpOrPress, { capture: true });
  window.addEventListener('keyup', onKeyUpOrPress, { capture: true });
}

/**
 * Calls `onScan` with each card scanned while the calling screen is up, by a keyboard-wedge scanner
 * on this page or by the controller's own scanner; `onError` with the error code of a card refused
 * (ID_CARD_INVALID) or a scan that could not be sent.
 */
export function useCardScan(onScan: (scan: CardScan) => void, onError?: (code: string) => void): void {
  const handlers = useRef({ onScan, onError });
  handlers.current = { onScan, onError };

  // (a) the keyboard wedge (installed for the page; this screen takes its scans while it is up)
  useEffect(() => {
    installKeyboardWedge();
    const listener = async (text: string) => {
      try {
        handlers.current.onScan(await api<CardScan>('POST', '/api/id-cards/scans', { body: { text } }));
      } catch (err) {
        handlers.current.onError?.(err instanceof ApiError ? err.code : 'NETWORK');
      }
    };
    wedgeListeners.add(listener);
    return () => {
      wedgeListeners.delete(listener);
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
