/**
 * Loading results: one after another (scan, Enter, a tray opens) or an armful at once
 * (load-batch.ts), and the list of what this session loaded, followed until each door closes on
 * its result. A load abandoned at its tray (its door never opened) leaves the list, and the panel
 * says so.
 */
import { useEffect, useRef, useState, type Dispatch, type StateUpdater } from 'preact/hooks';
import type { ResultLoaded, ResultState } from '../../domain/api-staff.js';
import type { Procedure as DomainProcedure } from '../../domain/procedures.js';
import { api, ApiError } from '../shared/api.js';
import { formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { BatchForm } from './load-batch.js';
import { useLang, useTexts } from './lang.js';
import { MessageLine, useMessage, type Words } from './message.js';
import type { Props } from './panels.js';

export type Procedure = Pick<DomainProcedure, 'code' | 'field' | 'name' | 'pickupProof'>;

/** Whether loading this procedure's results asks for the holder's ID number (the ID cards, ADR 0028). */
export const asksHolderId = (procedures: Procedure[], code: string) => procedures.find((p) => p.code === code)?.pickupProof === 'id_number';

/** A load of this session: where it stands, with the procedure chosen and when. */
export type Loaded = ResultState & { at: Date };

/**
 * What the single form keeps for the next result, and the catalogue it chose from: kept by the
 * screen for the signed-in session, so that a visit to another tab loses neither (and the form
 * never sends before it knows the procedures). Forgotten at sign-out.
 */
export interface Kept {
  phone: string;
  procedureCode: string;
  procedures: Procedure[];
}

export const nothingKept = (): Kept => ({ phone: '', procedureCode: '', procedures: [] });

/** How often the loads still at their tray are asked after. */
const FOLLOW_MS = 2_000;
/** The statuses that still move on their own: the door not yet closed, the citizen not yet texted, the tray to check. */
const FOLLOWED = new Set<ResultState['status']>(['loading', 'loaded', 'to_check']);

/** What the forms need: the procedures, how to add loads to the session's list, how to speak. */
export interface LoadFormProps extends Props {
  procedures: Procedure[];
  kept: Kept;
  busy: boolean;
  setBusy: (busy: boolean) => void;
  /** New loads, newest first. */
  onLoaded: (loads: Loaded[]) => void;
  say: (tone: 'ok' | 'error', words: Words) => void;
  fail: (err: unknown) => void;
  clear: () => void;
}

export function procedureLabel(p: Procedure, lang: 'vi' | 'en'): string {
  return lang === 'vi' ? `${p.field} · ${p.name.vi} (${p.code})` : `${p.name.en} (${p.code})`;
}

/** The session's loads, kept by the screen so that they outlast a visit to another tab. */
export type Session = [Loaded[], Dispatch<StateUpdater<Loaded[]>>];

export function LoadResults({ token, onUnauthorized, session, kept }: Props & { session: Session; kept: Kept }) {
  const t = useTexts();
  const [procedures, setProcedures] = useState<Procedure[]>(kept.procedures);
  const [mode, setMode] = useState<'one' | 'many'>('one');
  const [loaded, setLoaded] = session;
  const [busy, setBusy] = useState(false);
  const { message, say, fail, clear } = useMessage(onUnauthorized);

  useEffect(() => {
    api<Procedure[]>('GET', '/api/procedures?result=true').then(
      (list) => {
        kept.procedures = list;
        setProcedures(list);
      },
      (err) => fail(err),
    );
  }, []);

  // The loads still at their tray are followed until they settle; one abandoned leaves the list.
  // Asked at once when the panel opens (the list may have waited on another tab), then every turn.
  const asked = useRef(false);
  useEffect(() => {
    const following = loaded.filter((l) => FOLLOWED.has(l.status));
    if (!following.length) return;
    const wait = asked.current ? FOLLOW_MS : 0;
    asked.current = true;
    const timer = setTimeout(async () => {
      let states: ResultState[];
      try {
        states = await api<ResultState[]>('GET', `/api/staff/results?ids=${following.map((l) => l.resultId).join(',')}`, { token });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return onUnauthorized();
        // Asked again at the next turn: a refresh that failed is no news for the officer.
        setLoaded((list) => [...list]);
        return;
      }
      const now = new Map(states.map((s) => [s.resultId, s]));
      const gone = following.filter((l) => now.get(l.resultId)?.status === 'cancelled');
      setLoaded((list) =>
        list
          .filter((l) => !gone.some((g) => g.resultId === l.resultId))
          .map((l) => ({ ...l, status: now.get(l.resultId)?.status ?? l.status })),
      );
      if (gone.length) say('error', (tx) => gone.map((g) => tx.load.cancelled(g.tray, g.dossierCode)).join(' '));
    }, wait);
    return () => clearTimeout(timer);
  }, [loaded]);

  const form: LoadFormProps = {
    token,
    onUnauthorized,
    procedures,
    kept,
    busy,
    setBusy,
    onLoaded: (loads) => setLoaded((list) => [...loads, ...list]),
    say,
    fail,
    clear,
  };
  const modes: ['one' | 'many', string][] = [
    ['one', t.load.one],
    ['many', t.load.many],
  ];
  return html` <section class="panel" aria-labelledby="load-title">
      <h2 id="load-title">${t.load.title}</h2>
      <div class="modes" role="group" aria-label=${t.load.modesLabel}>
        ${modes.map(
          ([id, name]) =>
            html`<button type="button" class=${mode === id ? 'on' : ''} aria-pressed=${mode === id} onClick=${() => setMode(id)}>
              ${name}
            </button>`,
        )}
      </div>
      <${MessageLine} message=${message} />
      ${mode === 'one' ? html`<${SingleForm} ...${form} />` : html`<${BatchForm} ...${form} />`}
    </section>
    <${SessionList} loaded=${loaded} />`;
}

/** One result at a time: the phone and the procedure stay for the next one (often the same family or kind). */
function SingleForm({ token, procedures, kept, busy, setBusy, onLoaded, say, fail, clear }: LoadFormProps) {
  const t = useTexts();
  const lang = useLang();
  const [dossierCode, setDossierCode] = useState('');
  const [phone, setPhone] = useState(kept.phone);
  const [procedureCode, setProcedureCode] = useState(kept.procedureCode);
  // Never kept: each card has its own holder.
  const [holderId, setHolderId] = useState('');
  const codeField = useRef<HTMLInputElement>(null);
  useEffect(() => codeField.current?.focus(), []);
  const chosen = procedures.some((p) => p.code === procedureCode) ? procedureCode : (procedures[0]?.code ?? '');
  // Until the catalogue has arrived there is no procedure to send: Enter does nothing (the button says why).
  const ready = chosen !== '';
  const needsHolder = asksHolderId(procedures, chosen);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || !ready) return;
    setBusy(true);
    clear();
    try {
      const r = await api<ResultLoaded>('POST', '/api/staff/results', {
        token,
        body: {
          dossierCode: dossierCode.trim(),
          phone: phone.trim(),
          procedureCode: chosen,
          ...(needsHolder ? { holderIdNumber: holderId.trim() } : {}),
        },
      });
      onLoaded([{ ...r, procedureCode: chosen, status: 'loading', at: new Date() }]);
      say('ok', (tx) => tx.load.opened(r.tray, r.dossierCode));
      setDossierCode('');
      setHolderId('');
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
      codeField.current?.focus();
    }
  };
  return html` <p class="muted">${t.load.hint}</p>
    <form class="load-form" onSubmit=${submit}>
      <label class="field"
        >${t.load.code}<input
          ref=${codeField}
          class="code"
          autocomplete="off"
          autocapitalize="characters"
          value=${dossierCode}
          onInput=${(e: Event) => setDossierCode((e.target as HTMLInputElement).value)}
          required
      /></label>
      <label class="field"
        >${t.load.phone}<input
          inputmode="tel"
          autocomplete="off"
          value=${phone}
          onInput=${(e: Event) => setPhone((kept.phone = (e.target as HTMLInputElement).value))}
          required
      /></label>
      <label class="field"
        >${t.load.procedure}<select
          value=${chosen}
          required
          onChange=${(e: Event) => setProcedureCode((kept.procedureCode = (e.target as HTMLSelectElement).value))}
        >
          ${procedures.map((p) => html`<option value=${p.code}>${procedureLabel(p, lang)}</option>`)}
        </select></label
      >
      ${
        needsHolder
          ? html`<label class="field"
              >${t.load.holderId}<input
                inputmode="numeric"
                autocomplete="off"
                maxlength="15"
                aria-describedby="holder-id-hint"
                value=${holderId}
                onInput=${(e: Event) => setHolderId((e.target as HTMLInputElement).value)}
                required
              /><span id="holder-id-hint" class="muted">${t.load.holderIdHint}</span></label
            >`
          : null
      }
      <button class="btn btn-primary" type="submit" disabled=${busy || !ready}>
        ${busy ? t.load.busy : ready ? t.load.submit : t.load.waitingProcedures}
      </button>
    </form>`;
}

/** What this session loaded, newest first, each with where it stands now. */
function SessionList({ loaded }: { loaded: Loaded[] }) {
  const t = useTexts();
  const lang = useLang();
  if (!loaded.length) return null;
  return html`<section class="panel" aria-labelledby="session-title">
    <h3 id="session-title">${t.load.sessionTitle(loaded.length)}</h3>
    <table>
      <thead>
        <tr>
          <th>${t.columns.tray}</th>
          <th>${t.columns.code}</th>
          <th>${t.columns.procedure}</th>
          <th>${t.columns.at}</th>
          <th>${t.columns.status}</th>
        </tr>
      </thead>
      <tbody>
        ${loaded.map(
          (l) =>
            html`<tr key=${l.resultId} data-result=${l.resultId}>
              <td class="tray-cell">${l.tray ?? '–'}</td>
              <td class="code">${l.dossierCode}</td>
              <td>${l.procedureCode}</td>
              <td>${formatTime(l.at, lang)}</td>
              <td><span class=${`badge s-${l.status}`}>${t.status[l.status]}</span></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
