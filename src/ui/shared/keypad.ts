/**
 * An on-screen keypad: digits for phone numbers and codes, or the dossier-code alphabet. Every key
 * is a real button (64 px or more) with a spoken name; a physical keyboard works as well.
 */
import { html } from './html.js';

export interface KeypadProps {
  /** Keys in reading order; `{clear}` and `{del}` place the clear and delete keys. */
  keys: string[];
  value: string;
  maxLength: number;
  onInput: (value: string) => void;
  onSubmit?: () => void;
  submitLabel: string;
  submitEnabled: boolean;
  deleteLabel: string;
  clearLabel: string;
  /** The accessible name of the keypad group. */
  label: string;
  columns?: number;
}

/**
 * What a screen reader says for the keys that are marks, not letters (some voices read a lone "."
 * or "-" as nothing), in the page's language. Letters and digits are named by themselves: what is
 * seen is what is said, and what speech input says (WCAG 2.5.3).
 */
const SPOKEN: Record<string, Record<string, string>> = {
  vi: { '.': 'dấu chấm', '-': 'dấu gạch ngang', '/': 'dấu gạch chéo' },
  en: { '.': 'dot', '-': 'dash', '/': 'slash' },
};

export function Keypad(props: KeypadProps) {
  const spoken = SPOKEN[document.documentElement.lang] ?? SPOKEN.vi;
  const press = (k: string) => {
    if (props.value.length < props.maxLength) props.onInput(props.value + k);
  };
  const cols = props.columns ?? 3;
  return html` <div class="keypad" role="group" aria-label=${props.label} style=${`grid-template-columns: repeat(${cols}, 1fr)`}>
    ${props.keys.map((k) => {
      if (k === '{clear}') {
        return html`<button type="button" class="key key-fn" aria-label=${props.clearLabel} onClick=${() => props.onInput('')}>
          ${props.clearLabel}
        </button>`;
      }
      if (k === '{del}') {
        return html`<button
          type="button"
          class="key key-fn"
          aria-label=${props.deleteLabel}
          onClick=${() => props.onInput(props.value.slice(0, -1))}
        >
          ⌫
        </button>`;
      }
      return html`<button type="button" class="key" data-key=${k} aria-label=${spoken[k]} onClick=${() => press(k)}>${k}</button>`;
    })}
    ${
      props.onSubmit
        ? html`<button type="button" class="key key-ok" disabled=${!props.submitEnabled} onClick=${props.onSubmit}>
            ${props.submitLabel}
          </button>`
        : null
    }
  </div>`;
}

/** The digits laid out as on a phone: 1 2 3 / 4 5 6 / 7 8 9 / clear 0 delete. */
export const DIGIT_KEYS = [...'123456789', '{clear}', '0', '{del}'];
