/**
 * An armful of results at once (`POST /api/staff/results/batch`): one line a result, as the API
 * takes them (dossier code, phone number, procedure). Each item is answered for itself: the loaded
 * ones join the session's list, the refused ones stay in the form with the reason, to be put right
 * and sent again. A scanner's Enter moves to the next field; it never sends the batch.
 */
import { useEffect, useState } from 'preact/hooks';
import type { BatchItemAnswer, ResultBatchLoaded } from '../../domain/api-staff.js';
import { api } from '../shared/api.js';
import { html } from '../shared/html.js';
import { itemErrorText, refusedField, type ItemError } from './errors.js';
import { useLang, useTexts } from './lang.js';
import { asksHolderId, procedureLabel, type LoadFormProps, type Loaded } from './load-results.js';

/** The most items one batch may hold (the route's limit). */
const BATCH_MAX = 30;
const FIRST_ROWS = 3;

interface Row {
  key: number;
  dossierCode: string;
  phone: string;
  procedureCode: string;
  /** The holder's ID number, for a procedure that asks for it (the ID cards). */
  holderIdNumber: string;
  /** Why the last send refused it. */
  error?: ItemError;
}

/** One item of the last send and what became of it. */
type Sent = BatchItemAnswer;

let nextKey = 1;
const emptyRow = (procedureCode: string): Row => ({ key: nextKey++, dossierCode: '', phone: '', procedureCode, holderIdNumber: '' });
const isEmpty = (r: Row) => !r.dossierCode.trim() && !r.phone.trim();

export function BatchForm({ token, procedures, busy, setBusy, onLoaded, say, fail, clear }: LoadFormProps) {
  const t = useTexts();
  const lang = useLang();
  const first = procedures[0]?.code ?? '';
  const [rows, setRows] = useState<Row[]>(() => Array.from({ length: FIRST_ROWS }, () => emptyRow(first)));
  const [sent, setSent] = useState<Sent[] | null>(null);
  const [focus, setFocus] = useState<string | null>(null);

  // The procedures arrive after the form: rows without one take the first.
  useEffect(() => {
    if (first) setRows((list) => list.map((r) => (r.procedureCode ? r : { ...r, procedureCode: first })));
  }, [first]);
  useEffect(() => {
    if (focus) document.getElementById(focus)?.focus();
    setFocus(null);
  }, [focus]);

  const change = (key: number, field: 'dossierCode' | 'phone' | 'procedureCode' | 'holderIdNumber') => (e: Event) => {
    const value = (e.target as HTMLInputElement | HTMLSelectElement).value;
    // A line put right loses the reason it was refused.
    setRows((list) => list.map((r) => (r.key === key ? { ...r, [field]: value, error: undefined } : r)));
  };
  const addRow = () => {
    if (rows.length >= BATCH_MAX) return null;
    const row = emptyRow(rows.at(-1)?.procedureCode || first);
    setRows((list) => [...list, row]);
    return row;
  };
  const remove = (key: number) => setRows((list) => (list.length > 1 ? list.filter((r) => r.key !== key) : [emptyRow(first)]));
  /** Enter (a scanner ends with it): from the code to the phone, from the phone to the next line's code. */
  const enter = (index: number, field: 'code' | 'phone') => (e: KeyboardEvent) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    if (field === 'code') return setFocus(`batch-phone-${rows[index].key}`);
    const next = rows[index + 1] ?? addRow();
    if (next) setFocus(`batch-code-${next.key}`);
  };

  const filled = rows.filter((r) => !isEmpty(r));
  // Until the catalogue has arrived the rows have no procedure to send.
  const ready = procedures.length > 0;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || !ready || !filled.length) return;
    setBusy(true);
    clear();
    setSent(null);
    try {
      // A row drawn before the catalogue arrived takes the first procedure, as it shows it.
      const items = filled.map((r) => ({
        dossierCode: r.dossierCode.trim(),
        phone: r.phone.trim(),
        procedureCode: r.procedureCode || first,
        ...(asksHolderId(procedures, r.procedureCode || first) ? { holderIdNumber: r.holderIdNumber.trim() } : {}),
      }));
      const { results } = await api<ResultBatchLoaded>('POST', '/api/staff/results/batch', { token, body: { items } });
      const at = new Date();
      const loads: Loaded[] = [];
      const refused: Row[] = [];
      results.forEach((answer, i) => {
        if (answer.ok) loads.push({ ...answer, procedureCode: items[i].procedureCode, status: 'loading', at });
        else refused.push({ ...filled[i], error: answer.error });
      });
      onLoaded(loads.reverse());
      setSent(results);
      setRows(refused.length ? refused : Array.from({ length: FIRST_ROWS }, () => emptyRow(items.at(-1)?.procedureCode ?? first)));
      const opened = results.length - refused.length;
      if (refused.length) say('error', (tx) => tx.batch.someRefused(opened, refused.length));
      else say('ok', (tx) => tx.batch.allOpened(opened));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  return html` <p class="muted">${t.batch.hint}</p>
    <form class="batch-form" onSubmit=${submit}>
      <table class="batch-rows">
        <thead>
          <tr>
            <th class="row-no">#</th>
            <th class="col-code">${t.columns.code}</th>
            <th class="col-phone">${t.columns.phone}</th>
            <th>${t.columns.procedure}</th>
            <th class="col-remove"></th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((r, i) => {
            const n = i + 1;
            // The field refused is marked; a refusal of the whole item marks the code, which names it.
            const wrong = r.error ? (refusedField(r.error) ?? 'dossierCode') : null;
            const invalid = (field: string) => (wrong === field ? 'true' : 'false');
            const why = (field: string) => (wrong === field ? `batch-why-${r.key}` : undefined);
            return html`<tr key=${r.key} class=${r.error ? 'refused' : ''}>
                <td class="row-no">${n}</td>
                <td>
                  <input
                    id=${`batch-code-${r.key}`}
                    class="code"
                    autocomplete="off"
                    autocapitalize="characters"
                    aria-label=${t.batch.rowCode(n)}
                    aria-invalid=${invalid('dossierCode')}
                    aria-describedby=${why('dossierCode')}
                    value=${r.dossierCode}
                    onInput=${change(r.key, 'dossierCode')}
                    onKeyDown=${enter(i, 'code')}
                  />
                </td>
                <td>
                  <input
                    id=${`batch-phone-${r.key}`}
                    inputmode="tel"
                    autocomplete="off"
                    aria-label=${t.batch.rowPhone(n)}
                    aria-invalid=${invalid('phone')}
                    aria-describedby=${why('phone')}
                    value=${r.phone}
                    onInput=${change(r.key, 'phone')}
                    onKeyDown=${enter(i, 'phone')}
                  />
                </td>
                <td>
                  <select
                    aria-label=${t.batch.rowProcedure(n)}
                    aria-invalid=${invalid('procedureCode')}
                    aria-describedby=${why('procedureCode')}
                    value=${r.procedureCode}
                    onChange=${change(r.key, 'procedureCode')}
                  >
                    ${procedures.map((p) => html`<option value=${p.code}>${procedureLabel(p, lang)}</option>`)}
                  </select>
                  ${
                    asksHolderId(procedures, r.procedureCode || first)
                      ? html`<input
                          class="holder-id"
                          inputmode="numeric"
                          autocomplete="off"
                          maxlength="15"
                          placeholder=${t.load.holderId}
                          aria-label=${t.batch.rowHolderId(n)}
                          aria-invalid=${invalid('holderIdNumber')}
                          aria-describedby=${why('holderIdNumber')}
                          value=${r.holderIdNumber}
                          onInput=${change(r.key, 'holderIdNumber')}
                        />`
                      : null
                  }
                </td>
                <td>
                  <button type="button" class="btn" aria-label=${t.batch.removeRow(n)} onClick=${() => remove(r.key)}>
                    ${t.batch.remove}
                  </button>
                </td>
              </tr>
              ${
                r.error
                  ? html`<tr class="refused-why">
                      <td></td>
                      <td colspan="4" id=${`batch-why-${r.key}`} class="why">${itemErrorText(t, r.error)}</td>
                    </tr>`
                  : null
              }`;
          })}
        </tbody>
      </table>
      <div class="row">
        <button type="button" class="btn" disabled=${rows.length >= BATCH_MAX} onClick=${addRow}>${t.batch.addRow}</button>
        <span class="muted">${t.batch.most(BATCH_MAX)}</span>
      </div>
      <button class="btn btn-primary" type="submit" disabled=${busy || !ready || !filled.length}>
        ${busy ? t.batch.busy : ready ? t.batch.submit(filled.length) : t.load.waitingProcedures}
      </button>
    </form>
    ${
      sent
        ? html`<section class="batch-sent" aria-labelledby="batch-sent-title">
            <h3 id="batch-sent-title">${t.batch.sentTitle}</h3>
            <ul>
              ${sent.map((s) =>
                s.ok
                  ? html`<li class="sent-ok">${t.batch.itemOpened(s.dossierCode, s.tray)}</li>`
                  : html`<li class="sent-refused">${t.batch.itemRefused(s.dossierCode, itemErrorText(t, s.error))}</li>`,
              )}
            </ul>
          </section>`
        : null
    }`;
}
