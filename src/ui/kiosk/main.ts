/**
 * The kiosk on the locker's touchscreen: drop off a dossier, pick up a result, check a dossier,
 * and rate the drop-off or pick-up just done (rating.ts, skippable).
 * Vietnamese by default with an English switch; every step says what to do next and has a way
 * back. Back to the start after 60 s without a touch, counted from the end of any wait the screen
 * imposes (the send-again delay, a "wait and try again"), and only after a "Need more time?"
 * prompt; never while a tray is open for a drop-off.
 */
import '../shared/base.css';
import './kiosk.css';
import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import type { PaymentView, PickupOpened } from '../../domain/api.js';
import { ApiError } from '../shared/api.js';
import { formatTime, type Lang } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorText } from './errors.js';
import { installKeyboardWedge } from './scanner.js';
import { textsFor, type Texts } from './texts.js';
import { DepositCancelled, DepositOpen, DepositToCheck, Receipt } from './deposit-screens.js';
import { OtpScreen, PhoneScreen } from './phone-screens.js';
import type { CardScan } from './scanner.js';
import { PaymentEnded, PaymentScreen } from './payment-screens.js';
import { LookupScreen, PickupOpen, ProcedureScreen, type Procedure } from './screens.js';
import { OnlineNumberScreen } from './online-screens.js';
import { IdentityScreen, pickupOpenOf } from './identity-screen.js';

export type Flow = 'deposit' | 'pickup';
/** A result in a tray opened for the citizen, as the pickup answer names it. */
export type PickupResult = NonNullable<PickupOpened['results']>[number];

export type Screen =
  | { name: 'home' }
  | { name: 'procedure' }
  | { name: 'phone'; flow: Flow; procedure?: Procedure; phone?: string; idScan?: CardScan }
  | {
      name: 'otp';
      flow: Flow;
      procedure?: Procedure;
      phone: string;
      challengeId: string;
      resendAt: string;
      codeLength: number;
      idScan?: CardScan;
    }
  | {
      name: 'deposit_open';
      depositId: string;
      tray: number;
      dossierCode: string;
      procedure?: Procedure;
      openBy: string | null;
      ratingToken?: string;
    }
  | { name: 'payment'; depositId: string; dossierCode: string; procedure?: Procedure; payment: PaymentView; ratingToken?: string }
  | { name: 'payment_ended'; reason: 'expired' | 'cancelled' | 'failed' }
  | {
      name: 'receipt';
      dossierCode: string;
      tray: number;
      procedure?: Procedure;
      at: string;
      ratingToken?: string;
      fee?: { amount: number; paid: boolean };
    }
  | { name: 'cancelled'; tray?: number }
  | { name: 'to_check'; tray: number; procedure?: Procedure }
  | { name: 'pickup_open'; trays: number[]; results: PickupResult[]; unavailable: number[]; ratingToken?: string; held?: number }
  // An ID card after the right code: its holder's number, typed or scanned (identity-screen.ts, ADR 0028).
  | {
      name: 'identity';
      challengeId: string;
      needed: number;
      trays: number[];
      results: PickupResult[];
      unavailable: number[];
      ratingToken?: string;
    }
  | { name: 'lookup' }
  // A dossier filed online: its number, typed before the phone (online-screens.ts, ADR 0029).
  | { name: 'online_number'; entry: Procedure; number?: string };

interface View {
  large: boolean;
  contrast: boolean;
}
const PLAIN: View = { large: false, contrast: false };

const params = new URLSearchParams(location.search);
/** Without a touch this long after the last touch or the end of the screen's wait, the session ends. */
const IDLE_MS = Math.max(5, Number(params.get('idleSec') ?? 60)) * 1000;
/** The "Need more time?" prompt shows this long before: at least the 20 s WCAG 2.2.1 gives to ask for more. */
const IDLE_WARN_MS = Math.min(20_000, IDLE_MS / 2);
/** "Wait and try again" answers the screen waits out with the citizen, up to this long (longer: "come back later"). */
const WAITED_ERRORS = new Set(['TOO_MANY_REQUESTS', 'RESEND_TOO_SOON', 'DOOR_CHANGES_PENDING', 'DB_UNAVAILABLE']);
const LONGEST_WAIT_HELD_MS = 5 * 60_000;

/** The step before, for "Quay lại"; null where there is none to go back to (the start, an outcome). */
function previous(s: Screen): Screen | null {
  switch (s.name) {
    case 'procedure':
    case 'lookup':
      return { name: 'home' };
    case 'online_number':
      return { name: 'procedure' };
    case 'phone':
      if (s.procedure?.onlineNumber) return { name: 'online_number', entry: s.procedure, number: s.procedure.onlineNumber };
      return s.flow === 'deposit' ? { name: 'procedure' } : { name: 'home' };
    case 'otp':
      return { name: 'phone', flow: s.flow, procedure: s.procedure, phone: s.phone, idScan: s.idScan };
    case 'identity':
      // The code is spent: back to the trays it opened, or to a new pickup.
      return s.trays.length ? pickupOpenOf(s) : { name: 'phone', flow: 'pickup' };
    default:
      return null;
  }
}

export interface ScreenProps {
  t: Texts;
  lang: Lang;
  go: (s: Screen) => void;
  fail: (err: unknown) => void;
  say: (message: string | null) => void;
  /** The screen makes the citizen wait until then (ms since the epoch): the idle time starts counting after it. */
  hold: (untilMs: number) => void;
}

function App() {
  const [lang, setLang] = useState<Lang>(params.get('lang') === 'en' ? 'en' : 'vi');
  const [screen, setScreen] = useState<Screen>({ name: 'home' });
  // The failure itself is kept, so that its words follow a language switch.
  const [error, setError] = useState<{ err: unknown } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const lastTouch = useRef(Date.now());
  const holdUntil = useRef(0);
  const promptSince = useRef<number | null>(null);
  // Larger text and high contrast (docs/accessibility.md): for this visit only, off when it ends.
  const [view, setView] = useState<View>(PLAIN);
  const t = textsFor(lang);

  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.brand} – ${t.tagline}`;
  }, [lang]);
  useLayoutEffect(() => {
    document.documentElement.classList.toggle('large-text', view.large);
    document.documentElement.classList.toggle('high-contrast', view.contrast);
  }, [view]);
  // Each new screen puts the focus on its heading: a screen reader reads where the citizen is first.
  const firstScreen = useRef(true);
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false;
      return;
    }
    const h1 = document.querySelector<HTMLElement>('main h1');
    if (!h1) return;
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }, [screen]);

  // Idle: any touch or key keeps the session; otherwise back to the start.
  useEffect(() => {
    const touch = () => (lastTouch.current = Date.now());
    for (const ev of ['pointerdown', 'keydown', 'input'] as const) document.addEventListener(ev, touch, { capture: true });
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(timer);
      for (const ev of ['pointerdown', 'keydown', 'input'] as const) document.removeEventListener(ev, touch, { capture: true });
    };
  }, []);
  // Idle time counts from the last touch or the end of the screen's wait, whichever is later; the
  // session ends only after the prompt has been on screen for its full time.
  // Never while a tray is open or a QR waits for its transfer (the wait has its own end).
  // The start screen too while a switch is on, so that the next citizen starts plain.
  const holdsSession =
    (screen.name !== 'home' || view.large || view.contrast) && screen.name !== 'deposit_open' && screen.name !== 'payment';
  const idleEndsAt = Math.max(lastTouch.current, holdUntil.current) + IDLE_MS;
  const warn = holdsSession && now >= idleEndsAt - IDLE_WARN_MS;
  if (!warn) promptSince.current = null;
  else promptSince.current ??= now;
  const endsAt = promptSince.current === null ? idleEndsAt : Math.max(idleEndsAt, promptSince.current + IDLE_WARN_MS);
  useEffect(() => {
    if (warn && now >= endsAt) reset();
  }, [now]);

  const go = (s: Screen) => {
    // Home from an outcome (no step to go back to) ends the visit: the next citizen starts plain.
    if (s.name === 'home' && screen.name !== 'home' && previous(screen) === null) setView(PLAIN);
    setError(null);
    setNotice(null);
    lastTouch.current = Date.now();
    holdUntil.current = 0;
    setScreen(s);
    window.scrollTo(0, 0);
  };
  const reset = () => {
    setView(PLAIN);
    go({ name: 'home' });
  };
  const hold = (untilMs: number) => {
    holdUntil.current = untilMs;
    setNow(Date.now());
  };
  const fail = (err: unknown) => {
    setNotice(null);
    setError({ err });
    // "Wait N seconds and try again": the screen waits with the citizen.
    const retry = err instanceof ApiError ? err.details.retryAfterSec : undefined;
    if (err instanceof ApiError && WAITED_ERRORS.has(err.code) && typeof retry === 'number' && retry * 1000 <= LONGEST_WAIT_HELD_MS) {
      holdUntil.current = Math.max(holdUntil.current, Date.now() + retry * 1000);
    }
  };
  const moreTime = () => {
    lastTouch.current = Date.now();
    setNow(Date.now());
  };
  const props: ScreenProps = {
    t,
    lang,
    go,
    fail,
    // A new answer replaces the old one: a notice or nothing clears an error, and the other way round.
    say: (m) => {
      setError(null);
      setNotice(m);
    },
    hold,
  };
  const back = previous(screen);

  let body;
  switch (screen.name) {
    case 'home':
      body = html`<${Home} ...${props} />`;
      break;
    case 'procedure':
      body = html`<${ProcedureScreen} ...${props} />`;
      break;
    case 'phone':
      body = html`<${PhoneScreen}
        ...${props}
        flow=${screen.flow}
        procedure=${screen.procedure}
        phone=${screen.phone}
        idScan=${screen.idScan}
      />`;
      break;
    case 'otp':
      body = html`<${OtpScreen} ...${props} screen=${screen} key=${screen.challengeId} />`;
      break;
    case 'deposit_open':
      body = html`<${DepositOpen} ...${props} screen=${screen} />`;
      break;
    case 'receipt':
      body = html`<${Receipt} ...${props} screen=${screen} />`;
      break;
    case 'payment':
      body = html`<${PaymentScreen} ...${props} screen=${screen} />`;
      break;
    case 'payment_ended':
      body = html`<${PaymentEnded} ...${props} screen=${screen} />`;
      break;
    case 'cancelled':
      body = html`<${DepositCancelled} ...${props} screen=${screen} />`;
      break;
    case 'to_check':
      body = html`<${DepositToCheck} ...${props} screen=${screen} />`;
      break;
    case 'pickup_open':
      body = html`<${PickupOpen} ...${props} screen=${screen} />`;
      break;
    case 'lookup':
      body = html`<${LookupScreen} ...${props} />`;
      break;
    case 'online_number':
      body = html`<${OnlineNumberScreen} ...${props} screen=${screen} />`;
      break;
    case 'identity':
      body = html`<${IdentityScreen} ...${props} screen=${screen} key=${screen.challengeId} />`;
      break;
  }

  const idleLeft = Math.max(0, Math.ceil((endsAt - now) / 1000));
  return html` <header class="bar">
      <div class="brand">
        <span class="logo" aria-hidden="true">24/7</span>
        <div>
          <div class="brand-name">${t.brand}</div>
          <div class="brand-tag">${t.tagline}</div>
        </div>
      </div>
      <div class="bar-right">
        <span class="clock" aria-hidden="true">${formatTime(new Date(now), lang)}</span>
        <div class="view-switches" role="group" aria-label=${t.viewLabel}>
          <button class="btn btn-view" aria-pressed=${view.large} onClick=${() => setView({ ...view, large: !view.large })}>
            <span aria-hidden="true">A+ </span>${t.largeText}
          </button>
          <button class="btn btn-view" aria-pressed=${view.contrast} onClick=${() => setView({ ...view, contrast: !view.contrast })}>
            <span aria-hidden="true">◐ </span>${t.highContrast}
          </button>
        </div>
        <button
          class="btn btn-lang"
          lang=${lang === 'vi' ? 'en' : 'vi'}
          aria-label=${t.switchLangLabel}
          onClick=${() => setLang(lang === 'vi' ? 'en' : 'vi')}
        >
          ${t.switchLang}
        </button>
      </div>
    </header>
    <main id="main" inert=${warn}>
      ${
        screen.name !== 'home' && screen.name !== 'deposit_open'
          ? html`<div class="nav">
              ${back ? html`<button class="btn btn-ghost" onClick=${() => go(back)}>← ${t.back}</button>` : null}
              <button class="btn btn-ghost" onClick=${reset}>${t.home}</button>
            </div>`
          : null
      }
      <div class="alert" role="alert" aria-live="assertive">${error ? html`<p class="error">${errorText(t, error.err)}</p>` : null}</div>
      <div aria-live="polite">${notice ? html`<p class="notice">${notice}</p>` : null}</div>
      ${body}
    </main>
    ${warn ? html`<${IdlePrompt} t=${t} secondsLeft=${idleLeft} onMore=${moreTime} onHome=${reset} />` : null}`;
}

/** "Need more time?": before the session ends for want of a touch, a way to keep it, and one to leave now. */
function IdlePrompt({ t, secondsLeft, onMore, onHome }: { t: Texts; secondsLeft: number; onMore: () => void; onHome: () => void }) {
  const more = useRef<HTMLButtonElement>(null);
  // Focus on "more time"; back where it was once the prompt goes.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    more.current?.focus();
    return () => before?.focus?.();
  }, []);
  return html`<div class="idle-backdrop">
    <div class="idle-prompt" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-text">
      <h2 id="idle-title">${t.idleTitle}</h2>
      <p id="idle-text">${t.idleText(secondsLeft)}</p>
      <div class="actions">
        <button ref=${more} class="btn btn-primary" onClick=${onMore}>${t.idleMore}</button>
        <button class="btn btn-secondary" onClick=${onHome}>${t.home}</button>
      </div>
    </div>
  </div>`;
}

function Home({ t, go }: ScreenProps) {
  return html` <section class="screen home">
    <h1>${t.welcome}</h1>
    <p class="step" aria-live="polite">${t.welcomeHint}</p>
    <div class="choices">
      <button class="choice choice-deposit" onClick=${() => go({ name: 'procedure' })}>
        <span class="choice-icon" aria-hidden="true">⬇</span><span class="choice-title">${t.deposit}</span
        ><span class="choice-sub">${t.depositSub}</span>
      </button>
      <button class="choice choice-pickup" onClick=${() => go({ name: 'phone', flow: 'pickup' })}>
        <span class="choice-icon" aria-hidden="true">⬆</span><span class="choice-title">${t.pickup}</span
        ><span class="choice-sub">${t.pickupSub}</span>
      </button>
      <button class="choice choice-lookup" onClick=${() => go({ name: 'lookup' })}>
        <span class="choice-icon" aria-hidden="true">?</span><span class="choice-title">${t.lookup}</span
        ><span class="choice-sub">${t.lookupSub}</span>
      </button>
    </div>
  </section>`;
}

// A card scanner typing like a keyboard is caught on every screen: its keys never press a button
// or fill the phone number, whether or not the screen takes a card (scanner.ts).
installKeyboardWedge();
render(html`<${App} />`, document.getElementById('app')!);
