/** The kiosk's steps: procedure, pickup (trays open, then the rating), lookup; the title and the chosen procedure every step shows. */
import type { DossierStatusView, FreeTrays, PickupResultView } from '../../domain/api.js';
import type { Procedure as DomainProcedure } from '../../domain/procedures.js';
import { DOSSIER_ALPHABET, lookupCode } from '../../domain/dossier-code.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError } from '../shared/api.js';
import { fold, formatDateTime, formatFee } from '../shared/format.js';
import { html } from '../shared/html.js';
import { Keypad } from '../shared/keypad.js';
import type { Screen, ScreenProps } from './main.js';
import { OnlineTile } from './online-screens.js';
import { RatingPanel } from './rating.js';

/**
 * A procedure as `GET /api/procedures` lists it for the kiosk (the domain's, without the flags);
 * for a dossier filed online, the catalogue's online entry with the number typed (ADR 0029).
 */
export type Procedure = Omit<DomainProcedure, 'deposit' | 'result'> & { onlineNumber?: string };

export function Step({ title, hint }: { title: string; hint: string }) {
  return html`<h1>${title}</h1>
    <p class="step" aria-live="polite">${hint}</p>`;
}

export function ProcedureScreen({ t, lang, go, fail }: ScreenProps) {
  const [all, setAll] = useState<Procedure[] | null>(null);
  // The entry for dossiers filed online, if the catalogue has one: the first tile (online-screens.ts).
  const [online, setOnline] = useState<Procedure | null>(null);
  // Free trays per size, to mark the procedures that cannot be started now; unknown: none marked
  // (the deposit itself still refuses with TRAY_UNAVAILABLE before any code is sent).
  const [free, setFree] = useState<FreeTrays['deposit'] | null>(null);
  const [query, setQuery] = useState('');
  const [field, setField] = useState<string | null>(null);
  useEffect(() => {
    api<Procedure[]>('GET', '/api/procedures?deposit=true').then(setAll, fail);
    api<Procedure[]>('GET', '/api/procedures?online=true').then(
      (list) => setOnline(list[0] ?? null),
      () => setOnline(null),
    );
    api<FreeTrays>('GET', '/api/trays/free').then(
      (f) => setFree(f.deposit),
      () => setFree(null),
    );
  }, []);
  const full = (p: Procedure) => free !== null && free[p.traySize] === 0;
  const anyFull = [...(all ?? []), ...(online ? [online] : [])].some(full);
  const fieldName = (f: string) => (lang === 'en' ? (t.fields[f] ?? f) : f);
  const fields = useMemo(() => [...new Set((all ?? []).map((p) => p.field))], [all]);
  const shown = useMemo(() => {
    const q = fold(query.trim());
    return (all ?? []).filter(
      (p) => (!field || p.field === field) && (!q || fold(`${p.name.vi} ${p.name.en} ${p.short.vi} ${p.code}`).includes(q)),
    );
  }, [all, query, field]);
  const groups = new Map<string, Procedure[]>();
  for (const p of shown) groups.set(p.field, [...(groups.get(p.field) ?? []), p]);

  return html` <section class="screen">
    <${Step} title=${t.chooseProcedure} hint=${t.chooseProcedureHint} />
    <label class="search"
      ><span>${t.search}</span>
      <input
        type="search"
        value=${query}
        placeholder=${t.searchPlaceholder}
        autocomplete="off"
        onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)}
    /></label>
    ${online ? html`<${OnlineTile} t=${t} entry=${online} full=${full(online)} go=${go} />` : null}
    <div class="chips" role="group" aria-label=${t.fieldsLabel}>
      <button class=${`chip ${field === null ? 'on' : ''}`} aria-pressed=${field === null} onClick=${() => setField(null)}>
        ${t.allFields}
      </button>
      ${fields.map(
        (f) =>
          html`<button
            class=${`chip ${field === f ? 'on' : ''}`}
            aria-pressed=${field === f}
            onClick=${() => setField(field === f ? null : f)}
          >
            ${fieldName(f)}
          </button>`,
      )}
    </div>
    ${
      free && anyFull
        ? html`<p class="notice no-tray" id="no-tray-note" role="status">${free.S === 0 ? t.noTrayAtAll : t.noTrayHint}</p>`
        : null
    }
    ${all && !shown.length ? html`<p class="empty">${t.noMatch}</p>` : null} ${all === null ? html`<p class="empty">${t.busy}</p>` : null}
    ${[...groups].map(
      ([f, list]) =>
        html` <section class="group" aria-label=${fieldName(f)}>
          <h2>${fieldName(f)}</h2>
          <ul class="procedures">
            ${list.map(
              (p) =>
                html`<li>
                  <button
                    class=${`procedure ${full(p) ? 'full' : ''}`}
                    disabled=${full(p)}
                    aria-describedby=${full(p) ? 'no-tray-note' : undefined}
                    onClick=${() => go({ name: 'phone', flow: 'deposit', procedure: p })}
                  >
                    <span class="procedure-name">${lang === 'en' ? p.name.en : p.name.vi}</span>
                    <span class="procedure-fee">${t.fee}: ${formatFee(p.fee, lang)}</span>
                    ${full(p) ? html`<span class="procedure-full">${t.noTray}</span>` : null}
                  </button>
                </li>`,
            )}
          </ul>
        </section>`,
    )}
  </section>`;
}

export function ProcedureLine({ t, lang, procedure }: { t: ScreenProps['t']; lang: ScreenProps['lang']; procedure?: Procedure }) {
  if (!procedure) return null;
  if (procedure.onlineNumber) {
    return html`<p class="chosen">
      ${t.onlineLabel}: <strong class="code" data-testid="online-number">${procedure.onlineNumber}</strong>
    </p>`;
  }
  return html`<p class="chosen">${t.procedureChosen}: <strong>${lang === 'en' ? procedure.name.en : procedure.name.vi}</strong></p>`;
}

type PickupOpenState = Extract<Screen, { name: 'pickup_open' }>;

/**
 * How long the open trays keep the session without a touch: the citizen is at the doors, not the
 * screen. Twice the shipped time a tray waits for its door; once everything is collected, the
 * ordinary idle time runs.
 */
const PICKUP_AT_THE_DOORS_MS = 120_000;

export function PickupOpen({ t, go, hold, screen }: ScreenProps & { screen: PickupOpenState }) {
  // Each result's status by its id, followed until every one is picked up.
  const [status, setStatus] = useState<Record<string, string>>({});
  useEffect(() => {
    if (screen.trays.length) hold(Date.now() + PICKUP_AT_THE_DOORS_MS);
  }, []);
  useEffect(() => {
    let stopped = false;
    const last: Record<string, string> = {};
    const poll = async () => {
      while (!stopped && screen.results.length) {
        for (const r of screen.results) {
          try {
            last[r.resultId] = (await api<PickupResultView>('GET', `/api/pickups/results/${r.resultId}`)).status;
          } catch {
            // a dropped request is tried again; the last answer stands meanwhile
          }
        }
        if (stopped) return;
        setStatus({ ...last });
        if (screen.results.every((r) => last[r.resultId] === 'picked_up')) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, []);
  const allDone = screen.results.length > 0 && screen.results.every((r) => status[r.resultId] === 'picked_up');
  // Everything collected: the wait is over, the idle time counts from now.
  useEffect(() => {
    if (allDone) hold(Date.now());
  }, [allDone]);
  const message = allDone
    ? t.pickupDone
    : screen.trays.length
      ? t.pickupOpen(screen.trays)
      : screen.unavailable.length
        ? t.pickupNone
        : screen.held
          ? t.pickupHeld
          : t.pickupNothing;
  return html` <section class="screen tray-open">
    ${screen.trays.length ? html`<div class="tray-badge" aria-hidden="true"><span>${t.trayLabel}</span><strong>${screen.trays.join(' · ')}</strong></div>` : null}
    <h1 aria-live="polite">${message}</h1>
    ${screen.unavailable.length ? html`<p class="error">${t.pickupUnavailable(screen.unavailable)}</p>` : null}
    ${screen.held && screen.trays.length ? html`<p class="error">${t.pickupHeld}</p>` : null}
    ${
      screen.results.length
        ? html`<ul class="results">
            ${screen.results.map(
              (r) =>
                html`<li>
                  <span class="code">${r.dossierCode}</span>
                  <span class=${status[r.resultId] === 'picked_up' ? 'ok' : 'wait'}
                    >${status[r.resultId] === 'picked_up' ? `✓ ${t.pickedUp}` : t.waiting}</span
                  >
                </li>`,
            )}
          </ul>`
        : null
    }
    ${allDone && screen.ratingToken ? html`<${RatingPanel} t=${t} token=${screen.ratingToken} />` : null}
    <div class="actions"><button class="btn btn-primary" onClick=${() => go({ name: 'home' })}>${t.done}</button></div>
  </section>`;
}

type DossierStatus = DossierStatusView;

/**
 * The lookup keypad: every character a dossier number may have, ours (K7M3-9P2X4) and the online
 * system's (000.00.22.H29-251120-0042): digits, letters, dot and dash.
 */
export const CODE_KEYS = [...'0123456789', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '.', '-', '{clear}', '{del}'];
/** The longest online-system number (ONLINE_DOSSIER_NUMBER). */
export const CODE_MAX = 40;

/**
 * The field a dossier code or an online-system number is typed into (by the keypad below it, or a
 * keyboard): upper-cased, only what such numbers hold, at most CODE_MAX characters; Enter submits.
 */
export function CodeEntry(props: {
  label: string;
  value: string;
  /** As shown (our codes grouped), if not the value itself. */
  shown?: string;
  onTyped: (value: string) => void;
  onSubmit: () => void;
  testId?: string;
}) {
  const { label, value, shown, onTyped, onSubmit, testId } = props;
  return html`<label class="entry"
    ><span>${label}</span>
    <input
      class=${`entry-value code ${value.length > 26 ? 'long' : ''}`}
      data-testid=${testId}
      inputmode="none"
      autocomplete="off"
      value=${shown ?? value}
      onInput=${(e: Event) =>
        onTyped(
          (e.target as HTMLInputElement).value
            .toUpperCase()
            .replace(/[^0-9A-Z.-]/g, '')
            .slice(0, CODE_MAX),
        )}
      onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && onSubmit()}
  /></label>`;
}
/** The shortest either kind can be. */
export const CODE_MIN = 6;

/** As typed, with our own code's dash put in while it is typed without one (K7M39 → K7M3-9). */
function shownCode(code: string): string {
  const ours = code.length > 4 && code.length <= 9 && [...code].every((c) => DOSSIER_ALPHABET.includes(c));
  return ours ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

export function LookupScreen({ t, lang, fail, say }: ScreenProps) {
  const [code, setCode] = useState('');
  const [found, setFound] = useState<DossierStatus | null>(null);
  const [busy, setBusy] = useState(false);
  const ready = code.length >= CODE_MIN && !busy;
  const submit = async () => {
    if (!ready) return;
    // The new answer replaces the old one, whichever it was.
    say(null);
    setFound(null);
    if (lookupCode(code) === null) {
      fail(new ApiError(400, 'DOSSIER_CODE_INVALID', 'not a dossier code'));
      return;
    }
    setBusy(true);
    try {
      setFound(await api<DossierStatus>('GET', `/api/dossiers/${encodeURIComponent(code)}`));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const typed = (v: string) => {
    setCode(v);
    setFound(null);
  };
  return html` <section class="screen">
    <${Step} title=${t.lookupTitle} hint=${t.lookupHint} />
    ${
      found
        ? html`<div class="status-card" role="status">
            <div class="ticket-label">${t.statusTitle} · <span class="code">${found.dossierCode}</span></div>
            <p class="status-text">${t.status[found.status] ?? found.status}</p>
            ${found.status === 'notified' && found.pickupDeadline ? html`<p>${t.deadline}: <strong>${formatDateTime(found.pickupDeadline, lang)}</strong></p>` : null}
          </div>`
        : null
    }
    <${CodeEntry} label=${t.lookupLabel} value=${code} shown=${shownCode(code)} onTyped=${typed} onSubmit=${submit} />
    <${Keypad}
      keys=${CODE_KEYS}
      value=${code}
      maxLength=${CODE_MAX}
      onInput=${typed}
      onSubmit=${submit}
      submitLabel=${busy ? t.busy : t.lookupGo}
      submitEnabled=${ready}
      deleteLabel=${t.delChar}
      clearLabel=${t.clear}
      label=${t.keypadCode}
      columns=${10}
    />
  </section>`;
}
