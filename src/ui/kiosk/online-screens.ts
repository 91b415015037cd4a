/**
 * Dossiers filed on the city's online system (ADR 0029): the first tile of the procedure list, and
 * the keypad the citizen types the online number on, shown exactly as typed. The number then goes
 * with the phone step as the "procedure" (the catalogue's online entry with `onlineNumber`), and the
 * dossier is recorded under it unchanged.
 */
import { useState } from 'preact/hooks';
import { lookupCode, normalizeDossierCode } from '../../domain/dossier-code.js';
import { ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';
import { Keypad } from '../shared/keypad.js';
import type { Screen, ScreenProps } from './main.js';
import { CODE_KEYS, CODE_MAX, CODE_MIN, CodeEntry, Step, type Procedure } from './screens.js';

/** The first tile of the procedure list: marked, like the procedures, when no tray of its size is free. */
export function OnlineTile({ t, entry, full, go }: { t: ScreenProps['t']; entry: Procedure; full: boolean; go: ScreenProps['go'] }) {
  return html`<div class="online-tile">
    <button
      class=${`procedure online ${full ? 'full' : ''}`}
      data-testid="online-tile"
      disabled=${full}
      aria-describedby=${full ? 'no-tray-note' : undefined}
      onClick=${() => go({ name: 'online_number', entry })}
    >
      <span class="procedure-name">${t.onlineTile}</span>
      <span class="procedure-fee">${t.onlineTileSub}</span>
      ${full ? html`<span class="procedure-full">${t.noTray}</span>` : null}
    </button>
  </div>`;
}

type OnlineNumberState = Extract<Screen, { name: 'online_number' }>;

/** The online number on the code keypad (digits, letters, dot, dash), then the phone step. */
export function OnlineNumberScreen({ t, go, fail, say, screen }: ScreenProps & { screen: OnlineNumberState }) {
  // Back from the phone step, the number typed is still there.
  const [number, setNumber] = useState(screen.number ?? '');
  const ready = number.length >= CODE_MIN;
  const submit = () => {
    if (!ready) return;
    say(null);
    // Checked here as the server checks it: the citizen hears at once what is wrong.
    if (normalizeDossierCode(number) !== null) {
      fail(new ApiError(400, 'ONLINE_NUMBER_EXPECTED', 'a code of this machine, not an online number'));
      return;
    }
    if (lookupCode(number) === null) {
      fail(new ApiError(400, 'DOSSIER_CODE_INVALID', 'not an online dossier number'));
      return;
    }
    go({ name: 'phone', flow: 'deposit', procedure: { ...screen.entry, onlineNumber: number } });
  };
  const typed = (v: string) => {
    setNumber(v);
    say(null);
  };
  return html` <section class="screen">
    <${Step} title=${t.onlineTitle} hint=${t.onlineHint} />
    <${CodeEntry} label=${t.onlineLabel} value=${number} onTyped=${typed} onSubmit=${submit} testId="online-number-entry" />
    <${Keypad}
      keys=${CODE_KEYS}
      value=${number}
      maxLength=${CODE_MAX}
      onInput=${typed}
      onSubmit=${submit}
      submitLabel=${t.onlineNext}
      submitEnabled=${ready}
      deleteLabel=${t.delChar}
      clearLabel=${t.clear}
      label=${t.keypadCode}
      columns=${10}
    />
  </section>`;
}
