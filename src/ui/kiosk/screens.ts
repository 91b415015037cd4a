/** The kiosk's steps: procedure, pickup (trays open), lookup; the title and the chosen procedure every step shows. */
import type { DossierStatusView } from '../../domain/api.js';
import type { Procedure as DomainProcedure } from '../../domain/procedures.js';
import { DOSSIER_ALPHABET } from '../../domain/dossier-code.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../shared/api.js';
import { fold, formatDateTime, formatFee } from '../shared/format.js';
import { html } from '../shared/html.js';
import { Keypad } from '../shared/keypad.js';
import type { Screen, ScreenProps } from './main.js';

/** A procedure as `GET /api/procedures` lists it for the kiosk (the domain's, without the flags). */
export type Procedure = Omit<DomainProcedure, 'deposit' | 'result'>;

export function Step({ title, hint }: { title: string; hint: string }) {
  return html`<h1>${title}</h1>
    <p class="step" aria-live="polite">${hint}</p>`;
}

export function ProcedureScreen({ t, lang, go, fail }: ScreenProps) {
  const [all, setAll] = useState<Procedure[] | null>(null);
  const [query, setQuery] = useState('');
  const [field, setField] = useState<string | null>(null);
  useEffect(() => {
    api<Procedure[]>('GET', '/api/procedures?deposit=true').then(setAll, fail);
  }, []);
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
    ${all && !shown.length ? html`<p class="empty">${t.noMatch}</p>` : null} ${all === null ? html`<p class="empty">${t.busy}</p>` : null}
    ${[...groups].map(
      ([f, list]) =>
        html` <section class="group" aria-label=${fieldName(f)}>
          <h2>${fieldName(f)}</h2>
          <ul class="procedures">
            ${list.map(
              (p) =>
                html`<li>
                  <button class="procedure" onClick=${() => go({ name: 'phone', flow: 'deposit', procedure: p })}>
                    <span class="procedure-name">${lang === 'en' ? p.name.en : p.name.vi}</span>
                    <span class="procedure-fee">${t.fee}: ${formatFee(p.fee, lang)}</span>
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
  return html`<p class="chosen">${t.procedureChosen}: <strong>${lang === 'en' ? procedure.name.en : procedure.name.vi}</strong></p>`;
}

type PickupOpenState = Extract<Screen, { name: 'pickup_open' }>;

export function PickupOpen({ t, go, screen }: ScreenProps & { screen: PickupOpenState }) {
  const [status, setStatus] = useState<Record<string, string>>({});
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      while (!stopped && screen.dossierCodes.length) {
        const next: Record<string, string> = {};
        for (const code of screen.dossierCodes) {
          try {
            next[code] = (await api<DossierStatusView>('GET', `/api/dossiers/${encodeURIComponent(code)}`)).status;
          } catch {
            next[code] = status[code] ?? 'notified';
          }
        }
        if (stopped) return;
        setStatus(next);
        if (Object.values(next).every((s) => s === 'picked_up')) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, []);
  const allDone = screen.dossierCodes.length > 0 && screen.dossierCodes.every((c) => status[c] === 'picked_up');
  const message = allDone
    ? t.pickupDone
    : screen.trays.length
      ? t.pickupOpen(screen.trays)
      : screen.unavailable.length
        ? t.pickupNone
        : t.pickupNothing;
  return html` <section class="screen tray-open">
    ${screen.trays.length ? html`<div class="tray-badge" aria-hidden="true"><span>${t.trayLabel}</span><strong>${screen.trays.join(' · ')}</strong></div>` : null}
    <h1 aria-live="polite">${message}</h1>
    ${screen.unavailable.length ? html`<p class="error">${t.pickupUnavailable(screen.unavailable)}</p>` : null}
    ${
      screen.dossierCodes.length
        ? html`<ul class="results">
            ${screen.dossierCodes.map(
              (c) =>
                html`<li>
                  <span class="code">${c}</span>
                  <span class=${status[c] === 'picked_up' ? 'ok' : 'wait'}
                    >${status[c] === 'picked_up' ? `✓ ${t.pickedUp}` : t.waiting}</span
                  >
                </li>`,
            )}
          </ul>`
        : null
    }
    <div class="actions"><button class="btn btn-primary" onClick=${() => go({ name: 'home' })}>${t.done}</button></div>
  </section>`;
}

type DossierStatus = DossierStatusView;

export function LookupScreen({ t, lang, fail }: ScreenProps) {
  const [code, setCode] = useState('');
  const [found, setFound] = useState<DossierStatus | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (busy || code.length !== 9) return;
    setBusy(true);
    setFound(null);
    try {
      setFound(await api<DossierStatus>('GET', `/api/dossiers/${code}`));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const shown = code.length > 4 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
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
    <label class="entry"
      ><span>${t.lookupLabel}</span>
      <input
        class="entry-value code"
        inputmode="none"
        autocomplete="off"
        value=${shown}
        onInput=${(e: Event) =>
          setCode(
            (e.target as HTMLInputElement).value
              .toUpperCase()
              .replace(/[^0-9A-Z]/g, '')
              .slice(0, 9),
          )}
        onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && submit()}
    /></label>
    <${Keypad}
      keys=${[...DOSSIER_ALPHABET, '{clear}', '{del}']}
      value=${code}
      maxLength=${9}
      onInput=${(v: string) => {
        setCode(v);
        setFound(null);
      }}
      onSubmit=${submit}
      submitLabel=${busy ? t.busy : t.lookupGo}
      submitEnabled=${code.length === 9 && !busy}
      deleteLabel=${t.del}
      clearLabel=${t.clear}
      label=${t.keypadCode}
      columns=${8}
    />
  </section>`;
}
