/**
 * The kiosk's fee step (issue 13): a deposit whose procedure is paid before the tray opens shows
 * the VietQR code, the amount, the transfer text and the time left, and follows the deposit until
 * the money has arrived (then the tray is open: the usual screen) or the time is up (nothing
 * charged, what to do if a transfer arrives late). The citizen may stop at any time.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PaymentView } from '../../domain/api.js';
import { api, ApiError } from '../shared/api.js';
import { formatFee } from '../shared/format.js';
import { html } from '../shared/html.js';
import type { Screen, ScreenProps } from './main.js';
import { ProcedureLine } from './screens.js';
import { useFollowDeposit, useNow } from './deposit-screens.js';
import { Announcer, useMilestone } from './announce.js';

/** Seconds left to transfer when a screen reader says so (the shipped time is 5 minutes). */
const PAY_MARKS = [60, 15];
/** "Need more time?" shows this long before the time to pay is up (WCAG 2.2.1: at least 20 s to answer). */
const MORE_TIME_AHEAD_S = 30;

type PaymentState = Extract<Screen, { name: 'payment' }>;

export function PaymentScreen({ t, lang, go, fail, screen }: ScreenProps & { screen: PaymentState }) {
  const { payment } = screen;
  // The time to pay and the extensions left, as the deposit's payment says now (more time moves them).
  const [payBy, setPayBy] = useState<number | null>(payment.payBy ? Date.parse(payment.payBy) : null);
  const [extensionsLeft, setExtensionsLeft] = useState(payment.extensionsLeft ?? 0);
  const [extending, setExtending] = useState(false);
  /** The time to pay only ever moves on (a poll answered before an extension must not bring it back). */
  const later = (iso: string) => setPayBy((was) => Math.max(was ?? 0, Date.parse(iso)));
  /** What the live region says now: the time left at each mark, or that more time was given. */
  const [said, setSaid] = useState<string | null>(null);
  const now = useNow();
  const [stopping, setStopping] = useState(false);
  // Leaving the QR any other way than its outcome (the "start screen" link) gives the payment up,
  // so that no transfer made later opens a tray for nobody.
  const moved = useRef(false);
  const to = (next: Screen) => {
    moved.current = true;
    go(next);
  };
  useEffect(
    () => () => {
      if (!moved.current) void api<PaymentView>('POST', `/api/payments/${payment.paymentId}/cancel`).catch(() => undefined);
    },
    [],
  );
  // Follow the deposit: open once paid, ended once the time is up.
  useFollowDeposit(screen.depositId, 1000, (d) => {
    if (d.payment?.status === 'awaiting' && d.payment.payBy) later(d.payment.payBy);
    // Paid: the tray's screen follows it from wherever it is now (open, or already done).
    if (d.tray !== null && d.status !== 'verified' && d.status !== 'cancelled') {
      to({
        name: 'deposit_open',
        depositId: screen.depositId,
        tray: d.tray,
        dossierCode: screen.dossierCode,
        procedure: screen.procedure,
        openBy: d.openBy,
        ratingToken: screen.ratingToken,
      });
      return true;
    }
    if (d.status === 'cancelled' || (d.payment && d.payment.status !== 'awaiting' && d.payment.status !== 'paid')) {
      // A deposit ended after its fee was paid has it back (`failed`); else nothing was taken.
      const status = d.payment?.status;
      to({ name: 'payment_ended', reason: status === 'cancelled' ? 'cancelled' : status === 'failed' ? 'failed' : 'expired' });
      return true;
    }
    return false;
  });

  const stop = async () => {
    if (stopping) return;
    setStopping(true);
    try {
      moved.current = true;
      await api<PaymentView>('POST', `/api/payments/${payment.paymentId}/cancel`);
      go({ name: 'payment_ended', reason: 'cancelled' });
    } catch (err) {
      moved.current = false;
      setStopping(false);
      // Paid (or over) a moment before the touch: the deposit's own outcome follows, not an error.
      if (err instanceof ApiError && err.code === 'PAYMENT_NOT_AWAITED') return;
      fail(err);
    }
  };
  const moreTime = async () => {
    if (extending) return;
    setExtending(true);
    try {
      const p = await api<PaymentView>('POST', `/api/payments/${payment.paymentId}/extend`);
      if (p.payBy) later(p.payBy);
      setExtensionsLeft(p.extensionsLeft ?? 0);
      // Says the new time left: the same words twice would not be read again.
      if (p.payBy) setSaid(t.payMoreGiven(Math.max(0, Math.ceil((Date.parse(p.payBy) - Date.now()) / 1000))));
    } catch (err) {
      // Paid or over a moment before the touch: the deposit's own outcome follows.
      if (err instanceof ApiError && (err.code === 'PAYMENT_NOT_AWAITED' || err.code === 'PAYMENT_EXTENSIONS_USED')) {
        setExtensionsLeft(0);
        return;
      }
      fail(err);
    } finally {
      setExtending(false);
    }
  };
  const left = payBy === null ? null : Math.max(0, Math.ceil((payBy - now) / 1000));
  const askMore = left !== null && left > 0 && left <= MORE_TIME_AHEAD_S && extensionsLeft > 0;
  // Said aloud at PAY_MARKS; extendable from MORE_TIME_AHEAD_S before (docs/accessibility.md).
  const mark = useMilestone(left, PAY_MARKS, payBy);
  useEffect(() => {
    if (mark !== null) setSaid(t.payLeftSoon(mark));
  }, [mark]);
  return html` <section class="screen payment">
    <h1>${t.payTitle}</h1>
    <${ProcedureLine} t=${t} lang=${lang} procedure=${screen.procedure} />
    <div class="pay-grid">
      <div class="pay-qr" role="img" aria-label="VietQR" dangerouslySetInnerHTML=${{ __html: payment.qr?.svg ?? '' }}></div>
      <div class="pay-facts">
        <dl>
          <dt>${t.payAmount}</dt>
          <dd class="pay-amount" data-testid="pay-amount">${formatFee(payment.amount, lang)}</dd>
          <dt>${t.payReference}</dt>
          <dd class="pay-reference" data-testid="pay-reference">${payment.reference}</dd>
          ${
            payment.account
              ? html`<dt>${t.payAccount}</dt>
                  <dd>${payment.account.accountName} · ${payment.account.accountNumber}</dd>`
              : null
          }
        </dl>
        <p class="step">${t.payHow}</p>
        <p class="step">${t.payThen}</p>
      </div>
    </div>
    ${
      left !== null
        ? html`<div class="countdown" role="timer" aria-live="off">
            <p class="countdown-left">${left > 0 ? t.payLeft(left) : t.payWaiting}</p>
          </div>`
        : null
    }
    ${
      askMore
        ? html`<div class="more-time" role="alert">
            <h2>${t.payMoreTitle}</h2>
            <p>${t.payMoreText}</p>
            <button class="btn btn-primary" disabled=${extending} onClick=${moreTime}>${t.payMoreButton}</button>
          </div>`
        : null
    }
    <${Announcer} text=${said} />
    <p class="muted" aria-live="polite">${t.payWaiting}</p>
    <div class="actions">
      <button class="btn btn-secondary" disabled=${stopping} onClick=${stop}>${t.payCancel}</button>
    </div>
  </section>`;
}

type EndedState = Extract<Screen, { name: 'payment_ended' }>;

/** No money in time, or the citizen stopped: nothing charged; a late transfer is refunded. */
export function PaymentEnded({ t, go, screen }: ScreenProps & { screen: EndedState }) {
  return html` <section class="screen">
    <h1>${t.payEndedTitle}</h1>
    <div class="status-card warn" role="status">
      <p class="status-text">${screen.reason === 'cancelled' ? t.payCancelled : screen.reason === 'failed' ? t.payFailed : t.payExpired}</p>
      <p>${screen.reason === 'failed' ? t.payFailedNext : t.payLateNote}</p>
    </div>
    <div class="actions">
      <button class="btn btn-primary" onClick=${() => go({ name: 'procedure' })}>${t.depositAgain}</button>
      <button class="btn btn-secondary" onClick=${() => go({ name: 'home' })}>${t.home}</button>
    </div>
  </section>`;
}
