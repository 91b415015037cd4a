/** The staff panels: the round's manifest, loading results one after another, the unclaimed list. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../shared/api.js';
import { formatDateTime, formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorWords } from './main.js';

interface Props { token: string; onUnauthorized: () => void }

interface Item { tray: number; dossierCode: string; procedureCode: string; status: string; depositedAt?: string | null; expiredAt?: string | null }
interface Manifest {
  round: { id: string; scheduledAt: string; status: 'upcoming' | 'due' | 'running' | 'completed'; drawnAt: string | null };
  collect: Item[];
  takeBack: Item[];
  freeTrays: { S: number; M: number; L: number };
}

const ROUND_STATUS: Record<string, string> = { upcoming: 'Sắp tới', due: 'Đến giờ', running: 'Đang thu', completed: 'Đã xong' };
const ITEM_STATUS: Record<string, string> = {
  pending: 'Chưa mở', opened: 'Đã mở', collected: 'Đã lấy', missing: 'Không thấy', returned: 'Đã mang về',
};

function useFailure(onUnauthorized: () => void) {
  const [error, setError] = useState<string | null>(null);
  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else setError(errorWords(err));
  };
  return { error, setError, fail };
}

export function Round({ token, onUnauthorized }: Props) {
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const { error, setError, fail } = useFailure(onUnauthorized);
  const [done, setDone] = useState<string | null>(null);
  const load = () => api<Manifest>('GET', '/api/staff/rounds/next', { token }).then(setManifest, fail);
  useEffect(() => {
    void load();
    const timer = setInterval(load, 5_000);
    return () => clearInterval(timer);
  }, []);
  const act = async (method: string, url: string, body?: unknown) => {
    setError(null);
    try {
      const r = await api(method, url, { token, body });
      await load();
      return r;
    } catch (err) {
      fail(err);
      return null;
    }
  };
  if (!manifest) return html`<section class="panel"><div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div><p class="muted">Đang tải…</p></section>`;
  const { round } = manifest;
  const base = `/api/staff/rounds/${round.id}`;
  const running = round.status === 'running';
  const rows = (items: Item[], kind: 'collect' | 'takeBack') => items.map((i) => html`
    <tr data-tray=${i.tray}>
      <td class="tray-cell">${i.tray}</td><td class="code">${i.dossierCode}</td><td>${i.procedureCode}</td>
      <td>${formatDateTime((kind === 'collect' ? i.depositedAt : i.expiredAt) ?? round.scheduledAt)}</td>
      <td><span class=${`badge b-${i.status}`}>${ITEM_STATUS[i.status] ?? i.status}</span></td>
      <td class="row-actions">${running && (i.status === 'pending' || i.status === 'opened') ? html`
        <button class="btn" onClick=${() => act('POST', `${base}/items/${i.tray}/open`)}>Mở khay ${i.tray}</button>
        <button class="btn btn-primary" onClick=${() => act('POST', `${base}/items/${i.tray}`, { outcome: kind === 'collect' ? 'collected' : 'returned' })}>
          ${kind === 'collect' ? 'Đã lấy' : 'Đã mang về'}</button>
        <button class="btn btn-danger" onClick=${() => act('POST', `${base}/items/${i.tray}`, { outcome: 'missing' })}>Không thấy</button>` : null}</td>
    </tr>`);
  const open = [...manifest.collect, ...manifest.takeBack].filter((i) => i.status === 'pending' || i.status === 'opened').length;
  return html`
    <section class="panel">
      <div class="round-head">
        <h2>Lượt thu ${formatTime(round.scheduledAt)} <span class=${`badge r-${round.status}`}>${ROUND_STATUS[round.status] ?? round.status}</span></h2>
        <p class="muted">Khay trống: S ${manifest.freeTrays.S} · M ${manifest.freeTrays.M} · L ${manifest.freeTrays.L}</p>
      </div>
      <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
      <div aria-live="polite">${done ? html`<p class="notice">${done}</p>` : null}</div>
      <div class="row">
        ${round.status === 'due' || round.status === 'upcoming' ? html`
          <button class="btn btn-primary" onClick=${() => act('POST', `${base}/start`, {})}>Bắt đầu lượt thu (mở các khay lần lượt)</button>
          <button class="btn" onClick=${() => act('POST', `${base}/start`, { oneAtATime: true })}>Bắt đầu, mở từng khay một</button>` : null}
        ${running ? html`<button class="btn btn-primary" disabled=${open > 0} onClick=${async () => {
          const r = await act('POST', `${base}/complete`);
          if (r) setDone(`Đã hoàn tất lượt thu: ${JSON.stringify((r as any).counts ?? {})}`);
        }}>Hoàn tất lượt thu${open ? ` (còn ${open} khay)` : ''}</button>` : null}
      </div>
      <h3>Hồ sơ cần thu (${manifest.collect.length})</h3>
      ${manifest.collect.length ? html`<table><thead><tr><th>Khay</th><th>Mã hồ sơ</th><th>Thủ tục</th><th>Nộp lúc</th><th>Trạng thái</th><th></th></tr></thead>
        <tbody>${rows(manifest.collect, 'collect')}</tbody></table>` : html`<p class="muted">Không có hồ sơ nào chờ thu.</p>`}
      <h3>Kết quả quá hạn cần mang về (${manifest.takeBack.length})</h3>
      ${manifest.takeBack.length ? html`<table><thead><tr><th>Khay</th><th>Mã hồ sơ</th><th>Thủ tục</th><th>Quá hạn lúc</th><th>Trạng thái</th><th></th></tr></thead>
        <tbody>${rows(manifest.takeBack, 'takeBack')}</tbody></table>` : html`<p class="muted">Không có kết quả quá hạn.</p>`}
    </section>`;
}

interface Procedure { code: string; field: string; name: { vi: string } }
interface Loaded { resultId: string; tray: number; dossierCode: string; procedureCode: string; at: Date }

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
      const r = await api<{ resultId: string; tray: number; dossierCode: string }>('POST', '/api/staff/results', {
        token, body: { dossierCode: dossierCode.trim(), phone: phone.trim(), procedureCode },
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
  return html`
    <section class="panel">
      <h2>Đưa kết quả vào máy</h2>
      <p class="muted">Nhập mã hồ sơ (hoặc quét), số điện thoại và thủ tục rồi bấm Enter: một khay mở ra, đặt kết quả vào và đóng cửa.
        Người dân nhận tin nhắn khi cửa đóng. Số điện thoại và thủ tục được giữ cho kết quả tiếp theo.</p>
      <form class="load-form" onSubmit=${submit}>
        <label class="field">Mã hồ sơ<input ref=${codeField} class="code" autocomplete="off" autocapitalize="characters" value=${dossierCode}
          onInput=${(e: Event) => setDossierCode((e.target as HTMLInputElement).value)} required /></label>
        <label class="field">Số điện thoại người nhận<input inputmode="tel" autocomplete="off" value=${phone}
          onInput=${(e: Event) => setPhone((e.target as HTMLInputElement).value)} required /></label>
        <label class="field">Thủ tục<select value=${procedureCode} onChange=${(e: Event) => setProcedureCode((e.target as HTMLSelectElement).value)}>
          ${procedures.map((p) => html`<option value=${p.code}>${p.field} · ${p.name.vi} (${p.code})</option>`)}
        </select></label>
        <button class="btn btn-primary" type="submit" disabled=${busy}>${busy ? 'Đang mở khay…' : 'Mở khay và đưa vào'}</button>
      </form>
      <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
      <div aria-live="polite">${last ? html`<p class="notice big">Khay số ${last.tray} đã mở: đặt kết quả ${last.dossierCode} vào và đóng cửa.</p>` : null}</div>
      ${loaded.length ? html`<h3>Đã đưa vào trong phiên này (${loaded.length})</h3>
        <table><thead><tr><th>Khay</th><th>Mã hồ sơ</th><th>Thủ tục</th><th>Lúc</th></tr></thead><tbody>
          ${loaded.map((l) => html`<tr><td class="tray-cell">${l.tray}</td><td class="code">${l.dossierCode}</td><td>${l.procedureCode}</td><td>${formatTime(l.at)}</td></tr>`)}
        </tbody></table>` : null}
    </section>`;
}

interface Waiting { dossierCode: string; tray: number | null; procedureCode: string; loadedAt: string | null; pickupDeadline: string | null; status: string }

export function Unclaimed({ token, onUnauthorized }: Props) {
  const [list, setList] = useState<Waiting[] | null>(null);
  const { error, fail } = useFailure(onUnauthorized);
  useEffect(() => {
    api<Waiting[]>('GET', '/api/staff/results/unclaimed', { token }).then(setList, fail);
  }, []);
  const now = Date.now();
  return html`
    <section class="panel">
      <h2>Kết quả chưa nhận</h2>
      <div role="alert">${error ? html`<p class="error">${error}</p>` : null}</div>
      ${list === null && !error ? html`<p class="muted">Đang tải…</p>` : null}
      ${list && !list.length ? html`<p class="muted">Không có kết quả nào đang chờ.</p>` : null}
      ${list && list.length ? html`<table><thead><tr><th>Khay</th><th>Mã hồ sơ</th><th>Thủ tục</th><th>Đưa vào</th><th>Hạn nhận</th><th>Trạng thái</th></tr></thead><tbody>
        ${list.map((r) => {
          const late = r.pickupDeadline !== null && Date.parse(r.pickupDeadline) < now;
          return html`<tr class=${late ? 'late' : ''}><td class="tray-cell">${r.tray ?? '–'}</td><td class="code">${r.dossierCode}</td><td>${r.procedureCode}</td>
            <td>${r.loadedAt ? formatDateTime(r.loadedAt) : '–'}</td><td>${r.pickupDeadline ? formatDateTime(r.pickupDeadline) : '–'}</td>
            <td>${late ? 'Quá hạn: mang về bộ phận một cửa' : r.status}</td></tr>`;
        })}
      </tbody></table>` : null}
    </section>`;
}
