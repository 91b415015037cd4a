/**
 * Time limits said aloud at sensible moments (docs/accessibility.md): a countdown on the glass
 * changes every second, which a screen reader must not read out each time; these read it when it
 * crosses a mark (a minute left, fifteen seconds left…), once, in a polite live region.
 */
import { useRef } from 'preact/hooks';
import { html } from '../shared/html.js';

/**
 * The last mark `secondsLeft` has crossed while the screen was up (marks already passed when it
 * came up are not announced: the screen's heading said what to do), or null.
 */
export function useMilestone(secondsLeft: number | null, marks: number[], resetKey?: unknown): number | null {
  const seen = useRef<{ last: number | null; mark: number | null; key: unknown }>({ last: null, mark: null, key: resetKey });
  const s = seen.current;
  // A time limit moved on (more time given): its marks count again from where it now stands.
  if (s.key !== resetKey) {
    s.key = resetKey;
    s.last = null;
    s.mark = null;
  }
  if (secondsLeft !== null) {
    if (s.last !== null) {
      const crossed = marks.filter((m) => s.last! > m && secondsLeft <= m);
      if (crossed.length) s.mark = Math.min(...crossed);
    }
    s.last = secondsLeft;
  }
  return s.mark;
}

/** A polite live region, on the page from the start so that what is put in it later is read. */
export function Announcer({ text }: { text: string | null }) {
  return html`<p class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">${text ?? ''}</p>`;
}
