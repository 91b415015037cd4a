/**
 * The kiosk on the locker's touchscreen: drop off a dossier, pick up a result, check a dossier.
 * Vietnamese by default with an English switch; every step says what to do next; back to the
 * start after 60 s without a touch (never while a tray is open for a drop-off).
 */
import '../shared/base.css';
import './kiosk.css';
import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import { formatTime, type Lang } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorText } from './errors.js';
import { textsFor, type Texts } from './texts.js';
import { DepositCancelled, DepositOpen, DepositToCheck, Receipt } from './deposit-screens.js';
import { OtpScreen, PhoneScreen } from './phone-screens.js';
import { LookupScreen, PickupOpen, ProcedureScreen, type Procedure } from './screens.js';

export type Flow = 'deposit' | 'pickup';

export type Screen =
  | { name: 'home' }
  | { name: 'procedure' }
  | { name: 'phone'; flow: Flow; procedure?: Procedure }
  | { name: 'otp'; flow: Flow; procedure?: Procedure; phone: string; challengeId: string; resendAt: string; codeLength: number }
  | { name: 'deposit_open'; depositId: string; tray: number; dossierCode: string; procedure?: Procedure }
  | { name: 'receipt'; dossierCode: string; tray: number; procedure?: Procedure; at: string }
  | { name: 'cancelled'; tray?: number }
  | { name: 'to_check'; tray: number; procedure?: Procedure }
  | { name: 'pickup_open'; trays: number[]; dossierCodes: string[]; unavailable: number[] }
  | { name: 'lookup' };

const params = new URLSearchParams(location.search);
const IDLE_MS = Math.max(5, Number(params.get('idleSec') ?? 60)) * 1000;
const IDLE_WARN_MS = Math.min(15_000, IDLE_MS / 2);

export interface ScreenProps {
  t: Texts;
  lang: Lang;
  go: (s: Screen) => void;
  fail: (err: unknown) => void;
  say: (message: string | null) => void;
}

function App() {
  const [lang, setLang] = useState<Lang>(params.get('lang') === 'en' ? 'en' : 'vi');
  const [screen, setScreen] = useState<Screen>({ name: 'home' });
  // The failure itself is kept, so that its words follow a language switch.
  const [error, setError] = useState<{ err: unknown } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const lastTouch = useRef(Date.now());
  const t = textsFor(lang);

  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.brand} – ${t.tagline}`;
  }, [lang]);

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
  const idleFor = now - lastTouch.current;
  const holdsSession = screen.name !== 'home' && screen.name !== 'deposit_open';
  useEffect(() => {
    if (holdsSession && idleFor >= IDLE_MS) reset();
  }, [now]);

  const go = (s: Screen) => {
    setError(null);
    setNotice(null);
    lastTouch.current = Date.now();
    setScreen(s);
    window.scrollTo(0, 0);
  };
  const reset = () => go({ name: 'home' });
  const fail = (err: unknown) => {
    setNotice(null);
    setError({ err });
  };
  const props: ScreenProps = {
    t,
    lang,
    go,
    fail,
    say: (m) => {
      setError(null);
      setNotice(m);
    },
  };

  let body;
  switch (screen.name) {
    case 'home':
      body = html`<${Home} ...${props} />`;
      break;
    case 'procedure':
      body = html`<${ProcedureScreen} ...${props} />`;
      break;
    case 'phone':
      body = html`<${PhoneScreen} ...${props} flow=${screen.flow} procedure=${screen.procedure} />`;
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
  }

  const idleLeft = Math.ceil((IDLE_MS - idleFor) / 1000);
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
    <main id="main">
      ${
        screen.name !== 'home' && screen.name !== 'deposit_open'
          ? html`<div class="nav"><button class="btn btn-ghost" onClick=${reset}>← ${t.home}</button></div>`
          : null
      }
      <div class="alert" role="alert" aria-live="assertive">${error ? html`<p class="error">${errorText(t, error.err)}</p>` : null}</div>
      <div aria-live="polite">${notice ? html`<p class="notice">${notice}</p>` : null}</div>
      ${body}
      ${
        holdsSession && idleFor >= IDLE_MS - IDLE_WARN_MS
          ? html`<p class="idle" role="status">${t.idleSoon(Math.max(0, idleLeft))}</p>`
          : null
      }
    </main>`;
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

render(html`<${App} />`, document.getElementById('app')!);
