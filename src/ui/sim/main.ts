/**
 * The simulator panel (only with the simulated cabinet): move doors, read the SMS inbox, make a
 * lock board fail, shift the clock; links to the kiosk, staff and admin screens with demo accounts.
 */
import '../shared/base.css';
import './sim.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SimCabinet, SimClockShifted, SimDemoToken, SimDoorMoved, SimFaultSet, SimSms, SimTray } from '../../domain/api-sim.js';
import { api, ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';

/** A QR shown on the kiosk, waiting for its transfer. */
interface SimQr {
  paymentId: string;
  reference: string;
  amount: number;
  payBy: string | null;
}

const FAULTS = ['none', 'no_answer', 'crc_error', 'garbage', 'slow', 'offline'];
const CABINET_A_LAST = 30;

function usePoll<T>(url: string, ms: number): [T | null, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api<T>('GET', url).then(
        (v) => !stopped && setValue(v),
        () => undefined,
      );
    void load();
    const timer = setInterval(load, ms);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [url, tick]);
  return [value, () => setTick((n) => n + 1)];
}

function App() {
  const [cabinet, refresh] = usePoll<SimCabinet>('/api/sim/cabinet', 700);
  const [sms] = usePoll<SimSms[]>('/api/sim/sms', 1500);
  const [qrs] = usePoll<SimQr[]>('/api/sim/payments', 1500);
  const [force, setForce] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const report = (ok: boolean, text: string) => setMessage({ ok, text });
  /** Sends one control; its answer (the type `T`) is not shown, only done or why not. */
  const call = async <T>(what: string, method: string, url: string, body?: unknown) => {
    try {
      await api<T>(method, url, { body });
      report(true, what);
    } catch (err) {
      report(false, `${what}: ${err instanceof ApiError ? `${err.code} – ${err.message}` : String(err)}`);
    }
    refresh();
  };
  const toggle = (tr: SimTray, e: MouseEvent) =>
    call<SimDoorMoved>(`tray ${tr.tray} door ${tr.door === 'open' ? 'closed' : 'opened'}`, 'POST', `/api/sim/trays/${tr.tray}/door`, {
      open: tr.door !== 'open',
      force: force || e.shiftKey,
    });
  const pay = (q: SimQr, amount: number, extra: { delayMs?: number; notify?: boolean } = {}) =>
    call(`transfer of ${amount.toLocaleString('vi-VN')} đ for ${q.reference}`, 'POST', '/api/sim/payments', {
      reference: q.reference,
      amount,
      ...extra,
    });
  const demo = async (role: 'admin' | 'staff') => {
    try {
      const { token } = await api<SimDemoToken>('POST', '/api/sim/demo-token', { body: { role } });
      window.open(`/${role}#token=${encodeURIComponent(token)}`, '_blank', 'noopener');
    } catch (err) {
      report(false, `demo ${role}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const offsetH = cabinet ? cabinet.clockOffsetMs / 3_600_000 : 0;
  const shift = (ms: number) => call<SimClockShifted>(`clock shifted`, 'POST', '/api/sim/clock', { offsetMs: ms });
  const cabinets = cabinet
    ? [
        { id: 'A', trays: cabinet.trays.filter((tr) => tr.tray <= CABINET_A_LAST) },
        { id: 'B', trays: cabinet.trays.filter((tr) => tr.tray > CABINET_A_LAST) },
      ]
    : [];
  const down = new Set(cabinet?.boards.filter((b) => b.fault !== 'none').map((b) => b.id) ?? []);

  return html` <header class="topbar">
      <h1>ATM 24/7 · Simulator</h1>
      <nav class="links">
        <a href="/" target="_blank">Kiosk</a>
        <button class="btn" onClick=${() => demo('staff')}>Staff screen (demo account)</button>
        <button class="btn" onClick=${() => demo('admin')}>Admin dashboard (demo account)</button>
      </nav>
    </header>
    <main class="sim">
      <div aria-live="polite">${message ? html`<p class=${message.ok ? 'notice' : 'error'}>${message.text}</p>` : null}</div>
      <section class="panel">
        <h2>Cabinet</h2>
        <p class="muted">
          Click a tray to open or close its door. A latched door opens only after the controller released its lock; tick "force" (or
          shift-click) to force it, as a thief would.
        </p>
        <label class="check"
          ><input type="checkbox" checked=${force} onChange=${(e: Event) => setForce((e.target as HTMLInputElement).checked)} /> force doors
          open</label
        >
        <div class="cabinets">
          ${cabinets.map(
            (c) =>
              html`<figure class="cabinet" aria-label=${`Cabinet ${c.id}`}>
                <figcaption>Cabinet ${c.id}</figcaption>
                <div class="doors" style=${`grid-template-columns: repeat(${Math.ceil(c.trays.length / 6)}, auto)`}>
                  ${c.trays.map(
                    (tr) =>
                      html`<button
                        class=${`door ${tr.door} ${down.has(tr.board) ? 'down' : ''}`}
                        data-tray=${tr.tray}
                        aria-label=${`Tray ${tr.tray}, door ${tr.door}, ${tr.latched ? 'latched' : 'released'}${down.has(tr.board) ? `, board ${tr.board} failing` : ''}`}
                        onClick=${(e: MouseEvent) => toggle(tr, e)}
                      >
                        <span class="no">${tr.tray}</span
                        ><span class="lock" aria-hidden="true">${tr.door === 'open' ? 'OPEN' : tr.latched ? 'locked' : 'released'}</span>
                      </button>`,
                  )}
                </div>
              </figure>`,
          )}
        </div>
      </section>
      <section class="panel">
        <h2>ID card scanner</h2>
        <p class="muted">
          Holds a citizen ID card to the simulated QR scanner (idScanner kind simulated): the kiosk's drop-off screen shows its holder. The
          sample card is an invented person.
        </p>
        <button class="btn" data-sim="id-card" onClick=${() => call('sample ID card presented', 'POST', '/api/sim/id-card', {})}>
          Present the sample card
        </button>
        <button class="btn" onClick=${() => call('unreadable card presented', 'POST', '/api/sim/id-card', { text: 'not a card' })}>
          Present an unreadable card
        </button>
      </section>
      <div class="columns">
        <section class="panel">
          <h2>Lock boards</h2>
          <table>
            <thead>
              <tr>
                <th>Board</th>
                <th>Unit</th>
                <th>Fault</th>
              </tr>
            </thead>
            <tbody>
              ${(cabinet?.boards ?? []).map(
                (b) =>
                  html`<tr>
                    <td>${b.id}</td>
                    <td>${b.unitId}</td>
                    <td>
                      <select
                        aria-label=${`Fault of board ${b.id}`}
                        value=${b.fault}
                        onChange=${(e: Event) => call<SimFaultSet>(`board ${b.id}: ${(e.target as HTMLSelectElement).value}`, 'POST', `/api/sim/boards/${b.id}/fault`, { fault: (e.target as HTMLSelectElement).value })}
                      >
                        ${FAULTS.map((f) => html`<option value=${f}>${f}</option>`)}
                      </select>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
          <h2>Clock</h2>
          <p>Controller clock shifted by <strong>${offsetH.toFixed(2)} h</strong>.</p>
          <div class="row">
            <button class="btn" onClick=${() => shift((cabinet?.clockOffsetMs ?? 0) + 3_600_000)}>+1 hour</button>
            <button class="btn" onClick=${() => shift((cabinet?.clockOffsetMs ?? 0) + 86_400_000)}>+1 day</button>
            <button class="btn" onClick=${() => shift((cabinet?.clockOffsetMs ?? 0) + 3 * 86_400_000)}>+3 days</button>
            <button class="btn" onClick=${() => shift(0)}>Reset</button>
          </div>
        </section>
        <section class="panel">
          <h2>Bank (VietQR)</h2>
          <p class="muted">
            Pay a QR shown on the kiosk as a citizen's banking app would: the simulated bank books the transfer and notifies the locker.
          </p>
          ${qrs && !qrs.length ? html`<p class="muted">No QR waiting.</p>` : null}
          <ul class="qrs">
            ${(qrs ?? []).map(
              (q) =>
                html`<li data-reference=${q.reference}>
                  <div class="meta">
                    <span class="code">${q.reference}</span> · ${q.amount.toLocaleString('vi-VN')}
                    đ${q.payBy ? ` · until ${new Date(q.payBy).toLocaleTimeString()}` : ''}
                  </div>
                  <div class="row">
                    <button class="btn" onClick=${() => pay(q, q.amount)}>Pay</button>
                    <button class="btn" onClick=${() => pay(q, Math.max(1, q.amount - 1000))}>Wrong amount (−1.000 đ)</button>
                    <button class="btn" onClick=${async () => (await pay(q, q.amount), pay(q, q.amount))}>Pay twice</button>
                    <button
                      class="btn"
                      onClick=${() => pay(q, q.amount, { delayMs: Math.max(0, Date.parse(q.payBy ?? '') - Date.now()) + 5_000 })}
                    >
                      Pay late
                    </button>
                    <button class="btn" onClick=${() => pay(q, q.amount, { notify: false })}>Pay, webhook silent</button>
                  </div>
                </li>`,
            )}
          </ul>
        </section>
        <section class="panel">
          <h2>SMS inbox</h2>
          ${sms === null ? html`<p class="muted">No inbox (the SMS gateway is not the console).</p>` : null}
          ${sms && !sms.length ? html`<p class="muted">No texts yet.</p>` : null}
          <ol class="inbox" reversed>
            ${(sms ?? [])
              .slice()
              .reverse()
              .map(
                (m) =>
                  html`<li>
                    <div class="meta"><span class="code">${m.to}</span> · ${m.kind} · ${new Date(m.at).toLocaleTimeString()}</div>
                    <div>${m.text}</div>
                  </li>`,
              )}
          </ol>
        </section>
      </div>
    </main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
