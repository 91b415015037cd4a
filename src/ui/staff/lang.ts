/**
 * The staff screen's language: Vietnamese unless the officer chose English (kept in this browser),
 * or `?lang=en`. Every part of the screen reads its words from `useTexts()`.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Lang } from '../shared/format.js';
import { html } from '../shared/html.js';
import { textsFor, type Texts } from './texts.js';

const LANG_KEY = 'atm247.staff.lang';

export function initialLang(): Lang {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'vi') return asked;
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

export function keepLang(lang: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // A browser that keeps nothing: the choice lasts as long as the page.
  }
}

export const LangContext = createContext<Lang>('vi');

export function useLang(): Lang {
  return useContext(LangContext);
}

export function useTexts(): Texts {
  return textsFor(useContext(LangContext));
}

/** The switch, named in the language it switches to. */
export function LangSwitch({ onSwitch }: { onSwitch: (lang: Lang) => void }) {
  const lang = useLang();
  const t = useTexts();
  const other: Lang = lang === 'vi' ? 'en' : 'vi';
  return html`<button class="btn btn-lang" lang=${other} aria-label=${t.switchLangLabel} onClick=${() => onSwitch(other)}>
    ${t.switchLang}
  </button>`;
}
