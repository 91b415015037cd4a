/** The kiosk's two steps that prove the citizen's phone, for a drop-off and a pickup: the number, then the code sent to it. */
import { useEffect, useState } from 'preact/hooks';
import type { CodeIssued, DepositOpened, PickupOpened } from '../../domain/api.js';
import { api, ApiError } from '../shared/api.js';
import { formatPhone } from '../shared/format.js';
import { html } from '../shared/html.js';
import { DIGIT_KEYS, Keypad } from '../shared/keypad.js';
import type { Flow, Screen, ScreenProps } from './main.js';
import { ProcedureLine, Step, type Procedure } from './screens.js';
import { useCardScan, type CardScan } from './scanner.js';
import { Announcer, useMilestone } from './announce.js';

/** Vietnamese mobile numbers: 10 digits starting with 03, 05, 07, 08 or 09 (the server checks further). */
const VN_MOBILE = /^0[35789][0-9]{8}$/;

export function PhoneScreen({
  t,
  lang,
  go,
  fail,
  say,
  flow,
  procedure,
  phone,
  idScan: scanned,
}: ScreenProps & { flow: Flow; procedure?: Procedure; phone?: string; idScan?: CardScan }) {
  // Back from the code screen, the number typed is still there, and so is the card scanned.
  const [digits, setDigits] = useState(phone ?? '');
  const [idScan, setIdScan] = useState<CardScan | undefined>(scanned);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (busy) return;
    if (!VN_MOBILE.test(digits)) {
      fail(new ApiError(400, 'PHONE_NOT_VIETNAMESE_MOBILE', 'not a Vietnamese mobile number'));
      return;
    }
    say(null);
    setBusy(true);
    try {
      const body =
        flow === 'pickup'
          ? { phone: digits }
          : procedure!.onlineNumber // a dossier filed online: recorded under its number (ADR 0029)
            ? { phone: digits, onlineNumber: procedure!.onlineNumber }
            : { phone: digits, procedureCode: procedure!.code };
      // The depositor read from a citizen ID card, if one was scanned (docs/id-card.md).
      const withCard = flow === 'deposit' && idScan ? { ...body, idScanId: idScan.scanId } : body;
      const issued = await api<CodeIssued>('POST', flow === 'deposit' ? '/api/deposits' : '/api/pickups', { body: withCard });
      const { challengeId, resendAt, codeLength } = issued;
      go({ name: 'otp', flow, procedure, phone: digits, challengeId, resendAt, codeLength, ...(idScan ? { idScan } : {}) });
    } catch (err) {
      fail(err);
      setBusy(false);
    }
  };
  const ok = digits.length === 10;
  return html` <section class="screen">
    <${Step} title=${t.phoneTitle} hint=${flow === 'deposit' ? t.phoneHintDeposit : t.phoneHintPickup} />
    <div class="pad-layout">
      <div class="pad-info">
        <${ProcedureLine} t=${t} lang=${lang} procedure=${procedure} />
        ${flow === 'deposit' ? html`<${DepositorLine} t=${t} say=${say} fail=${fail} idScan=${idScan} onChange=${setIdScan} />` : null}
        <label class="entry"
          ><span>${t.phoneLabel}</span>
          <input
            class="entry-value"
            inputmode="none"
            autocomplete="off"
            value=${formatPhone(digits)}
            aria-describedby="phone-keypad"
            onInput=${(e: Event) => setDigits((e.target as HTMLInputElement).value.replace(/\D/g, '').slice(0, 10))}
            onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && ok && submit()}
        /></label>
      </div>
      <div id="phone-keypad">
        <${Keypad}
          keys=${DIGIT_KEYS}
          value=${digits}
          maxLength=${10}
          onInput=${setDigits}
          onSubmit=${submit}
          submitLabel=${busy ? t.busy : t.sendCode}
          submitEnabled=${ok && !busy}
          deleteLabel=${t.del}
          clearLabel=${t.clear}
          label=${t.keypad}
        />
      </div>
    </div>
  </section>`;
}

/**
 * The depositor, from the back of a citizen ID card (optional): scanned by a keyboard-wedge
 * scanner on this page or by the controller's own scanner; "Bỏ" forgets it for this deposit.
 */
function DepositorLine({
  t,
  say,
  fail,
  idScan,
  onChange,
}: Pick<ScreenProps, 't' | 'say' | 'fail'> & { idScan?: CardScan; onChange: (scan: CardScan | undefined) => void }) {
  useCardScan(
    (scan) => {
      say(null);
      onChange(scan);
    },
    (code) => fail(new ApiError(400, code, 'the ID card could not be read')),
  );
  return html`<div class="id-card-line" aria-live="polite">
    ${
      idScan
        ? html`<p class="id-card-holder">
            <span>${t.idCardHolder}: <strong>${idScan.fullName.toLocaleUpperCase('vi')}</strong> · ${idScan.idNumberMasked}</span>
            <button type="button" class="id-card-remove" aria-label=${t.idCardRemoveLabel} onClick=${() => onChange(undefined)}>
              ${t.idCardRemove}
            </button>
          </p>`
        : html`<p class="id-card-hint">${t.idCardHint}</p>`
    }
  </div>`;
}

type OtpState = Extract<Screen, { name: 'otp' }>;

export function OtpScreen({ t, lang, go, fail, say, hold, screen }: ScreenProps & { screen: OtpState }) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [resendAt, setResendAt] = useState(Date.parse(screen.resendAt));
  const [challengeId, setChallengeId] = useState(screen.challengeId);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  // The citizen waits for the text until send-again unlocks: the idle time starts after that.
  useEffect(() => hold(resendAt), [resendAt]);
  const base = screen.flow === 'deposit' ? '/api/deposits' : '/api/pickups';
  const submit = async () => {
    if (busy || code.length !== screen.codeLength) return;
    setBusy(true);
    try {
      if (screen.flow === 'deposit') {
        const r = await api<DepositOpened>('POST', `${base}/${challengeId}/verify`, {
          body: { otp: code },
        });
        // A fee paid before the tray opens: the QR first (payment-screens.ts).
        if (r.payment?.status === 'awaiting') {
          go({
            name: 'payment',
            depositId: r.depositId,
            dossierCode: r.dossierCode,
            procedure: screen.procedure,
            payment: r.payment,
            ratingToken: r.ratingToken,
          });
          return;
        }
        go({
          name: 'deposit_open',
          depositId: r.depositId,
          tray: r.tray,
          dossierCode: r.dossierCode,
          procedure: screen.procedure,
          openBy: r.openBy,
          ratingToken: r.ratingToken,
        });
      } else {
        const r = await api<PickupOpened>('POST', `${base}/${challengeId}/verify`, {
          body: { otp: code },
        });
        const opened = { trays: r.trays, results: r.results ?? [], unavailable: r.unavailable ?? [], ratingToken: r.ratingToken };
        // An ID card waits for its holder's number (identity-screen.ts); one held waits for an officer.
        if (r.identityNeeded) go({ name: 'identity', challengeId, needed: r.identityNeeded, ...opened });
        else go({ name: 'pickup_open', ...opened, ...(r.identityHeld ? { held: r.identityHeld } : {}) });
      }
    } catch (err) {
      // A code typed before the provider's answer came is kept: pressing again is enough.
      if (!(err instanceof ApiError && err.code === 'OTP_SENDING')) setCode('');
      setBusy(false);
      fail(err);
    }
  };
  const resend = async () => {
    try {
      const r = await api<CodeIssued>('POST', `${base}/${challengeId}/resend`);
      setChallengeId(r.challengeId);
      setResendAt(Date.parse(r.resendAt));
      setCode('');
      say(t.resent);
    } catch (err) {
      if (err instanceof ApiError && typeof err.details.retryAfterSec === 'number' && err.code === 'RESEND_TOO_SOON') {
        setResendAt(Date.now() + err.details.retryAfterSec * 1000);
      }
      fail(err);
    }
  };
  const wait = Math.ceil((resendAt - now) / 1000);
  // Said aloud once send-again unlocks, not every second of the wait.
  const resendOpen = useMilestone(wait, [0]);
  return html` <section class="screen">
    <${Step} title=${t.otpTitle} hint=${t.otpHint(formatPhone(screen.phone), screen.codeLength)} />
    <div class="pad-layout">
      <div class="pad-info">
        <${ProcedureLine} t=${t} lang=${lang} procedure=${screen.procedure} />
        <label class="entry"
          ><span>${t.otpLabel}</span>
          <input
            class="entry-value otp"
            inputmode="none"
            autocomplete="one-time-code"
            value=${code}
            onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value.replace(/\D/g, '').slice(0, screen.codeLength))}
            onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && submit()}
        /></label>
        <div class="actions">
          <button class="btn btn-secondary" disabled=${wait > 0} onClick=${resend}>${wait > 0 ? t.resendIn(wait) : t.resend}</button>
          <${Announcer} text=${resendOpen === null || wait > 0 ? null : t.resendReady} />
        </div>
      </div>
      <${Keypad}
        keys=${DIGIT_KEYS}
        value=${code}
        maxLength=${screen.codeLength}
        onInput=${setCode}
        onSubmit=${submit}
        submitLabel=${busy ? t.busy : t.confirm}
        submitEnabled=${code.length === screen.codeLength && !busy}
        deleteLabel=${t.del}
        clearLabel=${t.clear}
        label=${t.keypad}
      />
    </div>
  </section>`;
}
