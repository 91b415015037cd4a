/** The kiosk's deposit outcomes: the tray open, the receipt (and the rating), a tray to check, a deposit cancelled. */
import { useEffect, useState } from 'preact/hooks';
import type { DepositView } from '../../domain/api.js';
import { api } from '../shared/api.js';
import { formatDateTime, formatFee } from '../shared/format.js';
import { html } from '../shared/html.js';
import type { Screen, ScreenProps } from './main.js';
import { Announcer, useMilestone } from './announce.js';
import { RatingPanel } from './rating.js';
import { ProcedureLine, Step } from './screens.js';

type DepositOpenState = Extract<Screen, { name: 'deposit_open' }>;

/** The time now, every `everyMs`: for a countdown. */
export function useNow(everyMs = 500): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/**
 * Reads the deposit every `everyMs` until `step` says it has moved the screen on (true), or the
 * screen goes; a dropped request is tried again.
 */
export function useFollowDeposit(depositId: string, everyMs: number, step: (d: DepositView) => boolean) {
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      while (!stopped) {
        try {
          const d = await api<DepositView>('GET', `/api/deposits/${depositId}`);
          if (stopped || step(d)) return;
        } catch {
          // tried again below
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [depositId]);
}

export function DepositOpen({ t, lang, go, screen }: ScreenProps & { screen: DepositOpenState }) {
  // Until when the door may open (from the reservation's expiry); null once it has opened.
  const [openBy, setOpenBy] = useState<number | null>(screen.openBy ? Date.parse(screen.openBy) : null);
  const now = useNow();
  // Follow the deposit until the door closes on the dossier (or the tray is released unused).
  useFollowDeposit(screen.depositId, 700, (d) => {
    if (d.status === 'deposited' || d.status === 'collected') {
      go({
        name: 'receipt',
        dossierCode: screen.dossierCode,
        tray: screen.tray,
        procedure: screen.procedure,
        at: d.depositedAt ?? new Date().toISOString(),
        ratingToken: screen.ratingToken,
        ...(d.payment
          ? { fee: { amount: d.payment.amount, paid: d.payment.status === 'paid' || d.payment.status === 'paid_at_counter' } }
          : {}),
      });
      return true;
    }
    // Its fee was paid: the screen says it goes back.
    if (d.status === 'cancelled' && d.payment?.status === 'failed') {
      go({ name: 'payment_ended', reason: 'failed' });
      return true;
    }
    if (d.status === 'cancelled') {
      go({ name: 'cancelled', tray: screen.tray });
      return true;
    }
    // The door was not watched throughout (ADR 0012): no receipt, an officer will look.
    if (d.status === 'to_check') {
      go({ name: 'to_check', tray: screen.tray, procedure: screen.procedure });
      return true;
    }
    setOpenBy(d.openBy ? Date.parse(d.openBy) : null);
    return false;
  });
  return html` <section class="screen tray-open">
    <div class="tray-badge" aria-hidden="true"><span>${t.trayLabel}</span><strong>${screen.tray}</strong></div>
    <h1 aria-live="polite">${t.trayOpen(screen.tray)}</h1>
    ${openBy !== null ? html`<${OpenCountdown} t=${t} secondsLeft=${Math.ceil((openBy - now) / 1000)} />` : null}
    <${ProcedureLine} t=${t} lang=${lang} procedure=${screen.procedure} />
    <p class="step">${t.trayOpenWait}</p>
  </section>`;
}

/** Seconds left to open the door when a screen reader says so (the shipped time is 60 s). */
const DOOR_MARKS = [30, 15];

/**
 * The time left to open the tray's door, and what happens if it is not. Gone once the door has
 * opened. Said aloud at DOOR_MARKS; not extendable (docs/accessibility.md: the latch holds its
 * release only so long, a security and hardware limit).
 */
function OpenCountdown({ t, secondsLeft }: { t: ScreenProps['t']; secondsLeft: number }) {
  const mark = useMilestone(secondsLeft, DOOR_MARKS);
  return html`<div class="countdown" role="timer" aria-live="off">
      ${
        secondsLeft > 0
          ? html`<p class="countdown-left">${t.openIn(secondsLeft)}</p>
              <p>${t.openInNext}</p>`
          : html`<p class="countdown-left">${t.openLate}</p>`
      }
    </div>
    <${Announcer} text=${mark === null ? null : t.openInSoon(mark)} />`;
}

type ReceiptState = Extract<Screen, { name: 'receipt' }>;

export function Receipt({ t, lang, go, screen }: ScreenProps & { screen: ReceiptState }) {
  // A dossier filed online is recorded under the online system's number, shown as it is (ADR 0029).
  const codeLabel = screen.procedure?.onlineNumber ? t.onlineLabel : t.dossierCode;
  return html` <section class="screen receipt">
    <${Step} title=${t.receiptTitle} hint=${t.receiptHint} />
    <div class="ticket" role="group" aria-label=${codeLabel}>
      <div class="ticket-label">${codeLabel}</div>
      <div class=${`ticket-code ${screen.dossierCode.length > 12 ? 'long' : ''}`} data-testid="dossier-code">${screen.dossierCode}</div>
      <dl>
        ${
          screen.procedure
            ? html`<dt>${t.procedureChosen}</dt>
                <dd>${lang === 'en' ? screen.procedure.name.en : screen.procedure.name.vi}</dd>`
            : null
        }
        <dt>${t.trayLabel}</dt>
        <dd>${screen.tray}</dd>
        <dt>${t.receivedAt}</dt>
        <dd>${formatDateTime(screen.at, lang)}</dd>
      </dl>
      ${
        screen.fee
          ? html`<p class="fee-line" data-testid="fee-line">
              ${screen.fee.paid ? t.feePaid(formatFee(screen.fee.amount, lang)) : t.feeLater(formatFee(screen.fee.amount, lang))}
            </p>`
          : null
      }
    </div>
    ${screen.ratingToken ? html`<${RatingPanel} t=${t} token=${screen.ratingToken} />` : null}
    <div class="actions"><button class="btn btn-primary" onClick=${() => go({ name: 'home' })}>${t.done}</button></div>
  </section>`;
}

type ToCheckState = Extract<Screen, { name: 'to_check' }>;

/** The deposit could not be confirmed: no dossier code, an officer checks the tray and texts the answer. */
export function DepositToCheck({ t, lang, go, screen }: ScreenProps & { screen: ToCheckState }) {
  return html` <section class="screen to-check">
    <h1>${t.toCheckTitle}</h1>
    <div class="status-card warn" role="status">
      <p class="status-text">${t.toCheckText(screen.tray)}</p>
      <p>${t.toCheckNext}</p>
    </div>
    <${ProcedureLine} t=${t} lang=${lang} procedure=${screen.procedure} />
    <div class="actions"><button class="btn btn-primary" onClick=${() => go({ name: 'home' })}>${t.done}</button></div>
  </section>`;
}

type CancelledState = Extract<Screen, { name: 'cancelled' }>;

/** The tray was released and its door never opened: the deposit is cancelled, start again. */
export function DepositCancelled({ t, go, screen }: ScreenProps & { screen: CancelledState }) {
  return html` <section class="screen">
    <h1>${t.cancelledTitle}</h1>
    <p class="step" role="status">${t.cancelledText(screen.tray)}</p>
    <div class="actions">
      <button class="btn btn-primary" onClick=${() => go({ name: 'procedure' })}>${t.depositAgain}</button>
      <button class="btn btn-secondary" onClick=${() => go({ name: 'home' })}>${t.home}</button>
    </div>
  </section>`;
}
