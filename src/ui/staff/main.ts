/**
 * The staff screen, on the officer's tablet at 8:00, 13:30 and 16:00: sign in (PIN and
 * authenticator code, or a pasted token), run the round (open each tray, confirm each dossier),
 * load results one after another, see what waits unclaimed.
 */
import '../shared/base.css';
import './staff.css';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import type { Manifest, SignedIn, SignedOut } from '../../domain/api-staff.js';
import { api, ApiError, tokenStore } from '../shared/api.js';
import { html } from '../shared/html.js';
import { LoadResults, Unclaimed } from './panels.js';
import { Round } from './round.js';

const TOKEN_KEY = 'atm247.staff.token';

export function errorWords(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  if (err.status === 404 && err.code === 'NOT_FOUND' && /no route/.test(err.message)) {
    return 'Chức năng này chưa có trên bộ điều khiển (this controller does not offer it yet).';
  }
  if (err.code === 'TOO_MANY_REQUESTS') {
    const sec = typeof err.details.retryAfterSec === 'number' ? err.details.retryAfterSec : 60;
    return `Thiết bị này đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ${sec} giây (too many requests from this device; try again in ${sec} s).`;
  }
  return `${err.message} (${err.code})`;
}

function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const [mode, setMode] = useState<'pin' | 'token'>('pin');
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [totp, setTotp] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
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
      setError(err instanceof ApiError && err.status === 401 ? 'Sai tên, mã PIN, mã xác thực hoặc mã truy cập.' : errorWords(err));
    }
  };
  return html` <form class="panel signin" onSubmit=${submit}>
    <h2>Đăng nhập cán bộ</h2>
    <div class="tabs" role="tablist">
      <button type="button" role="tab" aria-selected=${mode === 'pin'} class=${mode === 'pin' ? 'on' : ''} onClick=${() => setMode('pin')}>
        PIN + mã xác thực
      </button>
      <button
        type="button"
        role="tab"
        aria-selected=${mode === 'token'}
        class=${mode === 'token' ? 'on' : ''}
        onClick=${() => setMode('token')}
      >
        Mã truy cập
      </button>
    </div>
    ${
      mode === 'pin'
        ? html` <label class="field">Tên đăng nhập<input autocomplete="username" value=${name} onInput=${value(setName)} required /></label>
            <label class="field"
              >Mã PIN<input
                type="password"
                inputmode="numeric"
                autocomplete="current-password"
                value=${pin}
                onInput=${value(setPin)}
                required
            /></label>
            <label class="field"
              >Mã xác thực (6 số trên ứng dụng)<input
                inputmode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]{6}"
                value=${totp}
                onInput=${value(setTotp)}
                required
            /></label>`
        : html`<label class="field"
            >Mã truy cập (bearer token)<input type="password" autocomplete="off" value=${token} onInput=${value(setToken)} required
          /></label>`
    }
    <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
    <button class="btn btn-primary" type="submit">Đăng nhập</button>
  </form>`;
}

type Tab = 'round' | 'load' | 'unclaimed';

function App() {
  tokenStore.fromHash(TOKEN_KEY);
  const [token, setToken] = useState<string | null>(tokenStore.get(TOKEN_KEY));
  const [tab, setTab] = useState<Tab>('round');
  const signOut = () => {
    if (token) void api<SignedOut>('POST', '/api/staff/sign-out', { token }).catch(() => undefined);
    tokenStore.set(TOKEN_KEY, null);
    setToken(null);
  };
  const tabs: [Tab, string][] = [
    ['round', 'Lượt thu'],
    ['load', 'Đưa kết quả vào máy'],
    ['unclaimed', 'Kết quả chưa nhận'],
  ];
  return html` <header class="topbar">
      <h1>ATM 24/7 · Cán bộ</h1>
      ${token ? html`<button class="btn" onClick=${signOut}>Đăng xuất</button>` : null}
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
                ${tabs.map(([id, name]) => html`<button role="tab" aria-selected=${tab === id} class=${tab === id ? 'on' : ''} onClick=${() => setTab(id)}>${name}</button>`)}
              </nav>
              <div role="tabpanel">
                ${tab === 'round' ? html`<${Round} token=${token} onUnauthorized=${signOut} />` : null}
                ${tab === 'load' ? html`<${LoadResults} token=${token} onUnauthorized=${signOut} />` : null}
                ${tab === 'unclaimed' ? html`<${Unclaimed} token=${token} onUnauthorized=${signOut} />` : null}
              </div>`
      }
    </main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
