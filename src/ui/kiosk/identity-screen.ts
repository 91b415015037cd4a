/**
 * The ID-card pickup's second step (docs/adr/0028-id-card-pickup-second-factor.md): after the right
 * SMS code, a new ID card opens only for its holder's 12-digit personal ID number, typed on the
 * keypad (shown masked) or read from the QR code of the old card by the scanner. Trays of other
 * results the code opened are already open; the citizen may also leave the ID card for another
 * visit and take those.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PickupOpened } from '../../domain/api.js';
import { api, ApiError } from '../shared/api.js';
import type { Lang } from '../shared/format.js';
import { html } from '../shared/html.js';
import { DIGIT_KEYS, Keypad } from '../shared/keypad.js';
import type { PickupResult, Screen, ScreenProps } from './main.js';
import { useCardScan } from './scanner.js';
import { Step } from './screens.js';

export type IdentityState = Extract<Screen, { name: 'identity' }>;

/** The digits of a personal ID number. */
const ID_DIGITS = 12;
/** The citizen may be at the open doors of the other results: the session waits this long for them. */
const AT_THE_DOORS_MS = 120_000;

const WORDS = {
  vi: {
    title: 'Xác nhận người nhận thẻ căn cước',
    hint: 'Để nhận thẻ căn cước, nhập số định danh cá nhân (12 số) của người nhận, hoặc quét mã QR trên thẻ căn cước cũ.',
    label: 'Số định danh cá nhân (12 số)',
    typed: (n: number) => `Đã nhập ${n}/12 số`,
    keypad: 'Bàn phím số định danh',
    scanHint: 'Hoặc đưa mặt sau thẻ căn cước cũ (có mã QR) vào đầu đọc.',
    triesLeft: (n: number) => `Còn ${n} lần nhập.`,
    someOpen: (trays: number[]) => `Khay số ${trays.join(', ')} đã mở cho các kết quả khác.`,
    stillNeeded: (n: number) => `Còn ${n} thẻ căn cước chờ số định danh của người nhận.`,
    scanned: (name: string) => `Đã quét thẻ của ${name}. Đang kiểm tra…`,
    skip: (open: boolean) => (open ? 'Để lại thẻ căn cước, nhận các kết quả đã mở' : 'Để lại thẻ căn cước, về màn hình đầu'),
  },
  en: {
    title: 'Confirm who receives the ID card',
    hint: "To collect the ID card, enter the holder's 12-digit personal ID number, or scan the QR code on the old ID card.",
    label: 'Personal ID number (12 digits)',
    typed: (n: number) => `${n} of 12 digits entered`,
    keypad: 'ID number keypad',
    scanHint: 'Or hold the back of the old ID card (with the QR code) to the reader.',
    triesLeft: (n: number) => `${n} ${n === 1 ? 'try' : 'tries'} left.`,
    someOpen: (trays: number[]) => `Tray ${trays.join(', ')} is open for the other results.`,
    stillNeeded: (n: number) => `${n} more ID card${n === 1 ? '' : 's'} wait${n === 1 ? 's' : ''} for the holder's number.`,
    scanned: (name: string) => `Card of ${name} scanned. Checking…`,
    skip: (open: boolean) => (open ? 'Leave the ID card, take the results already open' : 'Leave the ID card, back to the start'),
  },
} satisfies Record<Lang, unknown>;

/** `1234 5678 9012`, typed digits hidden: `•••• •••• ••__`. */
function masked(digits: string): string {
  const cells = Array.from({ length: ID_DIGITS }, (_, i) => (i < digits.length ? '•' : '_'));
  return [cells.slice(0, 4), cells.slice(4, 8), cells.slice(8)].map((g) => g.join('')).join(' ');
}

/** Where the pickup goes once the ID step is over: the trays opened so far. */
export function pickupOpenOf(screen: IdentityState): Screen {
  return {
    name: 'pickup_open',
    trays: screen.trays,
    results: screen.results,
    unavailable: screen.unavailable,
    ratingToken: screen.ratingToken,
  };
}

export function IdentityScreen({ t, lang, go, fail, say, hold, screen }: ScreenProps & { screen: IdentityState }) {
  const w = WORDS[lang];
  const [digits, setDigits] = useState('');
  const [busy, setBusy] = useState(false);
  const [triesLeft, setTriesLeft] = useState<number | null>(null);
  const [state, setState] = useState(screen);
  useEffect(() => {
    if (state.trays.length) hold(Date.now() + AT_THE_DOORS_MS);
  }, [state.trays.length]);

  const answered = (r: PickupOpened) => {
    const next: IdentityState = {
      ...state,
      trays: [...state.trays, ...r.trays],
      results: [...state.results, ...((r.results ?? []) as PickupResult[])],
      unavailable: [...state.unavailable, ...(r.unavailable ?? [])],
      needed: r.identityNeeded ?? 0,
    };
    if (next.needed > 0) {
      // Another card waits, for another holder: the step stays, with what just opened said.
      setState(next);
      setDigits('');
      setTriesLeft(null);
      setBusy(false);
      say(`${w.someOpen(r.trays)} ${w.stillNeeded(next.needed)}`);
      return;
    }
    go(pickupOpenOf(next));
  };

  const send = async (body: { idNumber: string } | { scanId: string }) => {
    if (busy) return;
    setBusy(true);
    try {
      answered(await api<PickupOpened>('POST', `/api/pickups/${state.challengeId}/identity`, { body }));
    } catch (err) {
      setDigits('');
      setBusy(false);
      if (err instanceof ApiError && typeof err.details.attemptsLeft === 'number') setTriesLeft(err.details.attemptsLeft);
      fail(err);
    }
  };
  const submit = () => {
    if (digits.length === ID_DIGITS) void send({ idNumber: digits });
  };

  useCardScan(
    (scan) => {
      say(w.scanned(scan.fullName));
      void send({ scanId: scan.scanId });
    },
    (code) => fail(new ApiError(400, code, code)),
  );

  const spent = triesLeft === 0;
  return html` <section class="screen identity">
    <${Step} title=${w.title} hint=${w.hint} />
    ${state.trays.length ? html`<p class="notice">${w.someOpen(state.trays)}</p>` : null}
    <div class="pad-layout">
      <div class="pad-info">
        <div class="entry">
          <span id="id-number-label">${w.label}</span>
          <div
            class="entry-value long"
            role="textbox"
            aria-readonly="true"
            aria-labelledby="id-number-label"
            aria-describedby="id-number-typed"
            data-testid="id-number"
          >
            ${masked(digits)}
          </div>
          <span id="id-number-typed" class="muted" aria-live="polite">${w.typed(digits.length)}</span>
        </div>
        ${triesLeft !== null ? html`<p class="tries" aria-live="polite">${w.triesLeft(triesLeft)}</p>` : null}
        <p class="scan-hint">${w.scanHint}</p>
        <div class="actions">
          <button class="btn btn-secondary" onClick=${() => go(state.trays.length ? pickupOpenOf(state) : { name: 'home' })}>
            ${w.skip(state.trays.length > 0)}
          </button>
        </div>
      </div>
      <${Keypad}
        keys=${DIGIT_KEYS}
        value=${digits}
        maxLength=${ID_DIGITS}
        onInput=${setDigits}
        onSubmit=${submit}
        submitLabel=${busy ? t.busy : t.confirm}
        submitEnabled=${digits.length === ID_DIGITS && !busy && !spent}
        deleteLabel=${t.del}
        clearLabel=${t.clear}
        label=${w.keypad}
      />
    </div>
  </section>`;
}
