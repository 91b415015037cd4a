/** The staff's result panels: loading results one after another, the unclaimed list; the props every panel takes. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResultLoaded, WaitingResult } from '../../domain/api-staff.js';
import type { Procedure as DomainProcedure } from '../../domain/procedures.js';
import { api, ApiError } from '../shared/api.js';
import { formatDateTime, formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorWords } from './main.js';

export interface Props {
  token: string;
  onUnauthorized: () => void;
}

function useFailure(onUnauthorized: () => void) {
  const [error, setError] = useState<string | null>(null);
  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else setError(errorWords(err));
  };
  return { error, setError, fail };
}

type Procedure = Pick<DomainProcedure, 'code' | 'field' | 'name'>;
/** A result loaded in this session: the answer, with the procedure chosen and when. */
type Loaded = ResultLoaded & { procedureCode: string; at: Date };

export function LoadResults({ token, onUnauthorized }: Props) {
  const [procedures, setProcedures] = useState<Procedure[]>([]);
  const [dossierCode, setDossierCode] = useState('');
  const [phone, setPhone] = useState('');
  const [procedureCode, setProcedureCode] = useState('');
  const [loaded, setLoaded] = useState<Loaded[]>([]);
  const [busy, setBusy] = useState(false);
  const { error, setError, fail } = useFailure(onUnauthorized);
  const codeField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    api<Procedure[]>('GET', '/api/procedures?result=true').then((list) => {
      setProcedures(list);
      setProcedureCode((c) => c || list[0]?.code || '');
    }, fail);
    codeField.current?.focus();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api<ResultLoaded>('POST', '/api/staff/results', {
        token,
        body: { dossierCode: dossierCode.trim(), phone: phone.trim(), procedureCode },
      });
      setLoaded((l) => [{ ...r, procedureCode, at: new Date() }, ...l]);
      // Phone and procedure stay for the next result (often the same family or the same kind).
      setDossierCode('');
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
      codeField.current?.focus();
    }
  };
  const last = loaded[0];
  return html` <section class="panel">
    <h2>Đưa kết quả vào máy</h2>
    <p class="muted">
      Nhập mã hồ sơ (hoặc quét), số điện thoại và thủ tục rồi bấm Enter: một khay mở ra, đặt kết quả vào và đóng cửa. Người dân nhận tin
      nhắn khi cửa đóng. Số điện thoại và thủ tục được giữ cho kết quả tiếp theo.
    </p>
    <form class="load-form" onSubmit=${submit}>
      <label class="field"
        >Mã hồ sơ<input
          ref=${codeField}
          class="code"
          autocomplete="off"
          autocapitalize="characters"
          value=${dossierCode}
          onInput=${(e: Event) => setDossierCode((e.target as HTMLInputElement).value)}
          required
      /></label>
      <label class="field"
        >Số điện thoại người nhận<input
          inputmode="tel"
          autocomplete="off"
          value=${phone}
          onInput=${(e: Event) => setPhone((e.target as HTMLInputElement).value)}
          required
      /></label>
      <label class="field"
        >Thủ tục<select value=${procedureCode} onChange=${(e: Event) => setProcedureCode((e.target as HTMLSelectElement).value)}>
          ${procedures.map((p) => html`<option value=${p.code}>${p.field} · ${p.name.vi} (${p.code})</option>`)}
        </select></label
      >
      <button class="btn btn-primary" type="submit" disabled=${busy}>${busy ? 'Đang mở khay…' : 'Mở khay và đưa vào'}</button>
    </form>
    <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
    <div aria-live="polite">
      ${last ? html`<p class="notice big">Khay số ${last.tray} đã mở: đặt kết quả ${last.dossierCode} vào và đóng cửa.</p>` : null}
    </div>
    ${
      loaded.length
        ? html`<h3>Đã đưa vào trong phiên này (${loaded.length})</h3>
            <table>
              <thead>
                <tr>
                  <th>Khay</th>
                  <th>Mã hồ sơ</th>
                  <th>Thủ tục</th>
                  <th>Lúc</th>
                </tr>
              </thead>
              <tbody>
                ${loaded.map(
                  (l) =>
                    html`<tr>
                      <td class="tray-cell">${l.tray}</td>
                      <td class="code">${l.dossierCode}</td>
                      <td>${l.procedureCode}</td>
                      <td>${formatTime(l.at)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : null
    }
  </section>`;
}

export function Unclaimed({ token, onUnauthorized }: Props) {
  const [list, setList] = useState<WaitingResult[] | null>(null);
  const { error, fail } = useFailure(onUnauthorized);
  useEffect(() => {
    api<WaitingResult[]>('GET', '/api/staff/results/unclaimed', { token }).then(setList, fail);
  }, []);
  const now = Date.now();
  return html` <section class="panel">
    <h2>Kết quả chưa nhận</h2>
    <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
    ${list === null && !error ? html`<p class="muted">Đang tải…</p>` : null}
    ${list && !list.length ? html`<p class="muted">Không có kết quả nào đang chờ.</p>` : null}
    ${
      list && list.length
        ? html`<table>
            <thead>
              <tr>
                <th>Khay</th>
                <th>Mã hồ sơ</th>
                <th>Thủ tục</th>
                <th>Đưa vào</th>
                <th>Hạn nhận</th>
                <th>Trạng thái</th>
              </tr>
            </thead>
            <tbody>
              ${list.map((r) => {
                const late = r.pickupDeadline !== null && Date.parse(r.pickupDeadline) < now;
                return html`<tr class=${late ? 'late' : ''}>
                  <td class="tray-cell">${r.tray ?? '–'}</td>
                  <td class="code">${r.dossierCode}</td>
                  <td>${r.procedureCode}</td>
                  <td>${r.loadedAt ? formatDateTime(r.loadedAt) : '–'}</td>
                  <td>${r.pickupDeadline ? formatDateTime(r.pickupDeadline) : '–'}</td>
                  <td>${late ? 'Quá hạn: mang về bộ phận một cửa' : r.status}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : null
    }
  </section>`;
}
