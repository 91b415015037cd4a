/**
 * The staff screen, on the officer's tablet at 8:00, 13:30 and 16:00: sign in (PIN and
 * authenticator code, or a pasted token), run the round (open each tray, confirm each dossier),
 * load results one after another or an armful at once, see what waits unclaimed. Vietnamese by
 * default, with an English switch; the API's refusals in plain words (errors.ts).
 */
import '../shared/base.css';
import './staff.css';
import { render } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Manifest, SignedIn, SignedOut } from '../../domain/api-staff.js';
import { api, ApiError, tokenStore } from '../shared/api.js';
import type { Lang } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorText } from './errors.js';
import { initialLang, keepLang, LangContext, LangSwitch, useTexts } from './lang.js';
import { LoadResults, nothingKept, type Loaded } from './load-results.js';
import { Unclaimed } from './panels.js';
import { Round } from './round.js';
import { textsFor } from './texts.js';

const TOKEN_KEY = 'atm247.staff.token';

function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const t = useTexts();
  const [mode, setMode] = useState<'pin' | 'token'>('pin');
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [totp, setTotp] = useState('');
  const [token, setToken] = useState('');
  // The failure itself is kept, so that its words follow a switch of language.
  const [error, setError] = useState<{ err: unknown } | null>(null);
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (mode === 'pin') {
        const r = await api<SignedIn>('POST', '/api/staff/sign-in', { body: { name: name.trim(), pin, totp } });
        onToken(r.token);
      } else {
        await api<Manifest>('GET', '/api/staff/rounds/next', { token: token.trim() }).catch((err) => {
          if (err instanceof ApiError && err.status === 401) throw err;
        });
        onToken(token.trim());
      }
    } catch (err) {
      setError({ err });
    }
  };
  const words = (err: unknown) => (err instanceof ApiError && err.status === 401 ? t.signIn.refused : errorText(t, err));
  return html` <form class="panel signin" onSubmit=${submit}>
    <h2>${t.signIn.title}</h2>
    <div class="tabs" role="tablist">
      <button type="button" role="tab" aria-selected=${mode === 'pin'} class=${mode === 'pin' ? 'on' : ''} onClick=${() => setMode('pin')}>
        ${t.signIn.withPin}
      </button>
      <button
        type="button"
        role="tab"
        aria-selected=${mode === 'token'}
        class=${mode === 'token' ? 'on' : ''}
        onClick=${() => setMode('token')}
      >
        ${t.signIn.withToken}
      </button>
    </div>
    ${
      mode === 'pin'
        ? html` <label class="field"
              >${t.signIn.name}<input autocomplete="username" value=${name} onInput=${value(setName)} required
            /></label>
            <label class="field"
              >${t.signIn.pin}<input
                type="password"
                inputmode="numeric"
                autocomplete="current-password"
                value=${pin}
                onInput=${value(setPin)}
                required
            /></label>
            <label class="field"
              >${t.signIn.totp}<input
                inputmode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]{6}"
                value=${totp}
                onInput=${value(setTotp)}
                required
            /></label>`
        : html`<label class="field"
            >${t.signIn.token}<input type="password" autocomplete="off" value=${token} onInput=${value(setToken)} required
          /></label>`
    }
    <div role="alert">${error ? html`<p class="error">${words(error.err)}</p>` : null}</div>
    <button class="btn btn-primary" type="submit">${t.signIn.submit}</button>
  </form>`;
}

type Tab = 'round' | 'load' | 'unclaimed';

function App() {
  tokenStore.fromHash(TOKEN_KEY);
  const [token, setToken] = useState<string | null>(tokenStore.get(TOKEN_KEY));
  const [tab, setTab] = useState<Tab>('round');
  const [lang, setLang] = useState<Lang>(initialLang);
  const session = useState<Loaded[]>([]);
  const kept = useRef(nothingKept());
  const t = textsFor(lang);
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.heading.replace(' · ', ' – ');
  }, [lang]);
  const switchLang = (next: Lang) => {
    keepLang(next);
    setLang(next);
  };
  const signOut = () => {
    if (token) void api<SignedOut>('POST', '/api/staff/sign-out', { token }).catch(() => undefined);
    tokenStore.set(TOKEN_KEY, null);
    setToken(null);
    session[1]([]);
    kept.current = nothingKept();
  };
  const tabs: Tab[] = ['round', 'load', 'unclaimed'];
  return html`<${LangContext.Provider} value=${lang}>
    <header class="topbar">
      <h1>${t.heading}</h1>
      <div class="topbar-actions">
        <${LangSwitch} onSwitch=${switchLang} />
        ${token ? html`<button class="btn" onClick=${signOut}>${t.signOut}</button>` : null}
      </div>
    </header>
    <main class="staff">
      ${
        !token
          ? html`<${SignIn}
              onToken=${(tk: string) => {
                tokenStore.set(TOKEN_KEY, tk);
                setToken(tk);
              }}
            />`
          : html` <nav class="tabs big" role="tablist">
                ${tabs.map(
                  (id) =>
                    html`<button role="tab" aria-selected=${tab === id} class=${tab === id ? 'on' : ''} onClick=${() => setTab(id)}>
                      ${t.tabs[id]}
                    </button>`,
                )}
              </nav>
              <div role="tabpanel">
                ${tab === 'round' ? html`<${Round} token=${token} onUnauthorized=${signOut} />` : null}
                ${tab === 'load' ? html`<${LoadResults} token=${token} onUnauthorized=${signOut} session=${session} kept=${kept.current} />` : null}
                ${tab === 'unclaimed' ? html`<${Unclaimed} token=${token} onUnauthorized=${signOut} />` : null}
              </div>`
      }
    </main>
  <//>`;
}

render(html`<${App} />`, document.getElementById('app')!);
