/**
 * A screen behind a bearer token (the cabinet's admin dashboard, the fleet dashboard): the top
 * bar with its title and "Đăng xuất", the sign-in form until a token is accepted, then the
 * screen itself. The token is kept in the browser (or taken once from the URL's #token=).
 */
import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import { tokenStore } from './api.js';
import { html } from './html.js';
import { TokenSignIn } from './signin.js';

export interface TokenScreenProps {
  /** Where the token is kept in the browser. */
  tokenKey: string;
  heading: string;
  signInTitle: string;
  /** A GET the token must be allowed (401/403 otherwise). */
  check: string;
  /** The screen, given the token and a way to sign out (e.g. on a 401 later). */
  render: (token: string, signOut: () => void) => ComponentChild;
}

export function TokenScreen({ tokenKey, heading, signInTitle, check, render }: TokenScreenProps) {
  tokenStore.fromHash(tokenKey);
  const [token, setToken] = useState<string | null>(tokenStore.get(tokenKey));
  const signOut = () => {
    tokenStore.set(tokenKey, null);
    setToken(null);
  };
  return html` <header class="topbar">
      <h1>${heading}</h1>
      ${token ? html`<button class="btn" onClick=${signOut}>Đăng xuất</button>` : null}
    </header>
    <main class="admin">
      ${
        token
          ? render(token, signOut)
          : html`<${TokenSignIn}
              title=${signInTitle}
              check=${check}
              onToken=${(tk: string) => {
                tokenStore.set(tokenKey, tk);
                setToken(tk);
              }}
            />`
      }
    </main>`;
}
