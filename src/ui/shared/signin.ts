/** Sign-in with a bearer token pasted in (admins and staff issued one), checked against the API. */
import { useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { html } from './html.js';

export function TokenSignIn({ check, onToken, title }: { check: string; onToken: (token: string) => void; title: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    try {
      await api('GET', check, { token: value });
      onToken(value);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'Mã truy cập không hợp lệ (the token is not valid).'
          : err instanceof ApiError && err.status === 403
            ? 'Tài khoản này không có quyền xem (this account may not view this).'
            : `Không kiểm tra được mã truy cập (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
  };
  return html` <form class="panel signin" onSubmit=${submit}>
    <h2>${title}</h2>
    <label class="field"
      >Mã truy cập (bearer token)
      <input
        type="password"
        autocomplete="off"
        value=${token}
        onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
        required
      />
    </label>
    <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
    <button class="btn btn-primary" type="submit">Đăng nhập</button>
  </form>`;
}
