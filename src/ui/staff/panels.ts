/** The results waiting in the machine (the unclaimed list), and the props every staff panel takes. */
import { useEffect, useState } from 'preact/hooks';
import type { WaitingResult } from '../../domain/api-staff.js';
import { api } from '../shared/api.js';
import { formatDateTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { useLang, useTexts } from './lang.js';
import { MessageLine, useMessage } from './message.js';

export interface Props {
  token: string;
  onUnauthorized: () => void;
}

export function Unclaimed({ token, onUnauthorized }: Props) {
  const t = useTexts();
  const lang = useLang();
  const [list, setList] = useState<WaitingResult[] | null>(null);
  const { message, fail } = useMessage(onUnauthorized);
  useEffect(() => {
    api<WaitingResult[]>('GET', '/api/staff/results/unclaimed', { token }).then(setList, (err) => fail(err));
  }, []);
  const now = Date.now();
  return html` <section class="panel" aria-labelledby="unclaimed-title">
    <h2 id="unclaimed-title">${t.unclaimed.title}</h2>
    <${MessageLine} message=${message} />
    ${list === null && !message ? html`<p class="muted">${t.loading}</p>` : null}
    ${list && !list.length ? html`<p class="muted">${t.unclaimed.none}</p>` : null}
    ${
      list && list.length
        ? html`<table>
            <thead>
              <tr>
                <th>${t.columns.tray}</th>
                <th>${t.columns.code}</th>
                <th>${t.columns.procedure}</th>
                <th>${t.unclaimed.loadedAt}</th>
                <th>${t.unclaimed.deadline}</th>
                <th>${t.columns.status}</th>
              </tr>
            </thead>
            <tbody>
              ${list.map((r) => {
                const late = r.pickupDeadline !== null && Date.parse(r.pickupDeadline) < now;
                return html`<tr class=${late ? 'late' : ''} data-result=${r.resultId}>
                  <td class="tray-cell">${r.tray ?? '–'}</td>
                  <td class="code">${r.dossierCode}</td>
                  <td>${r.procedureCode}</td>
                  <td>${r.loadedAt ? formatDateTime(r.loadedAt, lang) : '–'}</td>
                  <td>${r.pickupDeadline ? formatDateTime(r.pickupDeadline, lang) : '–'}</td>
                  <td>${late ? t.unclaimed.late : t.status[r.status]}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : null
    }
  </section>`;
}
