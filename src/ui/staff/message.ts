/**
 * One message at a time on a staff panel: every new answer replaces the last one, success or
 * failure. A message is kept as words to say, so that it follows a switch of language.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';
import { errorText } from './errors.js';
import { useTexts } from './lang.js';
import type { Texts } from './texts.js';

export type Words = (t: Texts) => string;

export type Message = { tone: 'ok' | 'error'; words: Words; fromPoll?: boolean } | null;

export function MessageLine({ message }: { message: Message }) {
  const t = useTexts();
  // Kept in sight at the top of the panel: the officer answers far down a long list.
  return html` <div class="message">
    <div role="alert">${message?.tone === 'error' ? html`<p class="error">${message.words(t)}</p>` : null}</div>
    <div aria-live="polite">${message?.tone === 'ok' ? html`<p class="notice">${message.words(t)}</p>` : null}</div>
  </div>`;
}

/**
 * A panel's message and how to set it: `say` a success or a refusal, `fail` with an error (a 401
 * signs the officer out instead), `clear` before a new answer is asked for.
 */
export function useMessage(onUnauthorized: () => void) {
  const [message, setMessage] = useState<Message>(null);
  const say = (tone: 'ok' | 'error', words: Words, fromPoll = false) => setMessage({ tone, words, fromPoll });
  const fail = (err: unknown, fromPoll = false, words?: (err: ApiError) => Words | null) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else say('error', (err instanceof ApiError && words?.(err)) || ((t) => errorText(t, err)), fromPoll);
  };
  return { message, setMessage, say, fail, clear: () => setMessage(null) };
}
