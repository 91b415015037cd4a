/** The staff panels: the round's manifest and the trays to check, loading results one after another, the unclaimed list. */
import type { Procedure as DomainProcedure } from '../../domain/procedures.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../shared/api.js';
import { formatDateTime, formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { answerDone, CheckCard, KIND_NAMES, type CheckKind, type CheckOutcome, type CheckView } from './checks.js';
import { errorWords } from './main.js';

interface Props {
  token: string;
  onUnauthorized: () => void;
}

interface Item {
  tray: number;
  dossierCode: string;
  procedureCode: string;
  status: string;
  depositedAt?: string | null;
  expiredAt?: string | null;
}
interface Manifest {
  round: { id: string; scheduledAt: string; status: 'upcoming' | 'due' | 'running' | 'completed'; drawnAt: string | null };
  collect: Item[];
  takeBack: Item[];
  /** Trays to check on this round (absent from a controller that has none). */
  check?: Item[];
  freeTrays: { S: number; M: number; L: number };
}

const ROUND_STATUS: Record<string, string> = { upcoming: 'Sắp tới', due: 'Đến giờ', running: 'Đang thu', completed: 'Đã xong' };
const ITEM_STATUS: Record<string, string> = {
  pending: 'Chưa mở',
  opened: 'Đã mở',
  collected: 'Đã lấy',
  missing: 'Không thấy',
  returned: 'Đã mang về',
  found: 'Có hồ sơ',
  empty: 'Khay trống',
};
const COUNT_NAMES: [string, string][] = [
  ['collected', 'đã lấy'],
  ['returned', 'đã mang về'],
  ['missing', 'không thấy'],
  ['found', 'có hồ sơ'],
  ['empty', 'khay trống'],
  ['leftInPlace', 'để lại trong máy'],
];

/** One message at a time: every new answer replaces the last one, success or failure. */
type Message = { tone: 'ok' | 'error'; text: string; fromPoll?: boolean } | null;

function useFailure(onUnauthorized: () => void) {
  const [error, setError] = useState<string | null>(null);
  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else setError(errorWords(err));
  };
  return { error, setError, fail };
}

function MessageLine({ message }: { message: Message }) {
  // Kept in sight at the top of the screen: the officer answers far down a long manifest.
  return html` <div class="message">
    <div role="alert">${message?.tone === 'error' ? html`<p class="error">${message.text}</p>` : null}</div>
    <div aria-live="polite">${message?.tone === 'ok' ? html`<p class="notice">${message.text}</p>` : null}</div>
  </div>`;
}

const isOpen = (i: Item) => i.status === 'pending' || i.status === 'opened';

/**
 * The round tab: the round's manifest (deposits to collect, results to take back, trays to check)
 * and, below it, the trays to check that are not in the running round, answered on their own.
 */
export function Round({ token, onUnauthorized }: Props) {
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [checks, setChecks] = useState<CheckView[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);
  const say = (tone: 'ok' | 'error', text: string, fromPoll = false) => setMessage({ tone, text, fromPoll });
  const failWith = (err: unknown, fromPoll = false, words?: (err: ApiError) => string | null) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else say('error', (err instanceof ApiError && words?.(err)) || errorWords(err), fromPoll);
  };
  const load = async () => {
    try {
      const [m, c] = await Promise.all([
        api<Manifest>('GET', '/api/staff/rounds/next', { token }),
        api<CheckView[]>('GET', '/api/staff/checks', { token }).catch((err) => {
          // A controller without trays to check: the panel says so instead of failing the round.
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
      ]);
      setManifest(m);
      setChecks(c);
      // A failed refresh is forgotten once one succeeds; an answer's message stays.
      setMessage((old) => (old?.fromPoll ? null : old));
    } catch (err) {
      failWith(err, true);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(load, 5_000);
    return () => clearInterval(timer);
  }, []);
  /** Sends one answer; its message (done, or why not) replaces the previous one. */
  const act = async <T>(
    method: string,
    url: string,
    body: unknown,
    done: ((r: T) => string) | null,
    words?: (err: ApiError) => string | null,
  ): Promise<T | null> => {
    if (busy) return null;
    setBusy(true);
    setMessage(null);
    try {
      const r = await api<T>(method, url, { token, body });
      if (done) say('ok', done(r));
      return r;
    } catch (err) {
      failWith(err, false, words);
      return null;
    } finally {
      // The lists are fresh before the buttons come back: no second answer for a tray just answered.
      await load();
      setBusy(false);
    }
  };

  if (!manifest) {
    return html`<section class="panel">
      <${MessageLine} message=${message} />
      <p class="muted">Đang tải…</p>
    </section>`;
  }
  const { round } = manifest;
  const base = `/api/staff/rounds/${round.id}`;
  const running = round.status === 'running';
  const kindOf = new Map<number, CheckKind>((checks ?? []).map((c) => [c.tray, c.kind]));
  const checkItems = manifest.check ?? [];
  // A check of this round answered meanwhile outside it (the tray is no longer to check).
  const answeredElsewhere = (i: Item) => checks !== null && isOpen(i) && !kindOf.has(i.tray);
  const inRound = new Set(running ? checkItems.filter((i) => isOpen(i) && !answeredElsewhere(i)).map((i) => i.tray) : []);
  const outside = (checks ?? []).filter((c) => !inRound.has(c.tray));

  const rows = (items: Item[], kind: 'collect' | 'takeBack') =>
    items.map(
      (i) =>
        html` <tr data-tray=${i.tray}>
          <td class="tray-cell">${i.tray}</td>
          <td class="code">${i.dossierCode}</td>
          <td>${i.procedureCode}</td>
          <td>${formatDateTime((kind === 'collect' ? i.depositedAt : i.expiredAt) ?? round.scheduledAt)}</td>
          <td><span class=${`badge b-${i.status}`}>${ITEM_STATUS[i.status] ?? i.status}</span></td>
          <td class="row-actions">
            ${
              running && isOpen(i)
                ? html` <button class="btn" disabled=${busy} onClick=${() => act('POST', `${base}/items/${i.tray}/open`, undefined, null)}>
                      Mở khay ${i.tray}
                    </button>
                    <button
                      class="btn btn-primary"
                      disabled=${busy}
                      onClick=${() =>
                        act(
                          'POST',
                          `${base}/items/${i.tray}`,
                          { outcome: kind === 'collect' ? 'collected' : 'returned' },
                          () => `Khay ${i.tray}: ${kind === 'collect' ? 'đã lấy hồ sơ' : 'đã mang về kết quả'} ${i.dossierCode}.`,
                        )}
                    >
                      ${kind === 'collect' ? 'Đã lấy' : 'Đã mang về'}
                    </button>
                    <button
                      class="btn btn-danger"
                      disabled=${busy}
                      onClick=${() =>
                        act(
                          'POST',
                          `${base}/items/${i.tray}`,
                          { outcome: 'missing' },
                          () => `Khay ${i.tray}: ghi nhận không thấy ${i.dossierCode}.`,
                        )}
                    >
                      Không thấy
                    </button>`
                : null
            }
          </td>
        </tr>`,
    );
  const open = [...manifest.collect, ...manifest.takeBack, ...checkItems].filter((i) => isOpen(i) && !answeredElsewhere(i)).length;
  const answerInRound = (i: Item) => (outcome: CheckOutcome) =>
    act(
      'POST',
      `${base}/items/${i.tray}`,
      { outcome },
      () => answerDone(i.tray, i.dossierCode, kindOf.get(i.tray), outcome),
      (err) => (err.code === 'CONFLICT' ? `Khay ${i.tray} đã được kiểm tra ngoài lượt thu, không cần trả lời lại.` : null),
    );
  const answerOutside = (c: CheckView) => (outcome: CheckOutcome) =>
    act(
      'POST',
      `/api/staff/checks/${c.tray}`,
      { outcome },
      () => answerDone(c.tray, c.dossierCode, c.kind, outcome),
      (err) => (err.code === 'ITEM_NOT_FOUND' ? `Khay ${c.tray} không còn cần kiểm tra (đã có người trả lời).` : null),
    );
  const complete = () =>
    act<{ counts?: Record<string, number> }>('POST', `${base}/complete`, undefined, (r) => {
      const counts = r.counts ?? {};
      const words = COUNT_NAMES.filter(([k]) => counts[k]).map(([k, name]) => `${counts[k]} ${name}`);
      return `Đã hoàn tất lượt thu ${formatTime(round.scheduledAt)}: ${words.length ? words.join(', ') : 'không có khay nào'}.`;
    });

  return html` <${MessageLine} message=${message} />
    <section class="panel">
      <div class="round-head">
        <h2>
          Lượt thu ${formatTime(round.scheduledAt)}
          <span class=${`badge r-${round.status}`}>${ROUND_STATUS[round.status] ?? round.status}</span>
        </h2>
        <p class="muted">Khay trống: S ${manifest.freeTrays.S} · M ${manifest.freeTrays.M} · L ${manifest.freeTrays.L}</p>
      </div>
      <div class="row">
        ${
          round.status === 'due' || round.status === 'upcoming'
            ? html` <button class="btn btn-primary" disabled=${busy} onClick=${() => act('POST', `${base}/start`, {}, null)}>
                  Bắt đầu lượt thu (mở các khay lần lượt)
                </button>
                <button class="btn" disabled=${busy} onClick=${() => act('POST', `${base}/start`, { oneAtATime: true }, null)}>
                  Bắt đầu, mở từng khay một
                </button>`
            : null
        }
        ${
          running
            ? html`<button class="btn btn-primary" disabled=${open > 0 || busy} onClick=${complete}>
                Hoàn tất lượt thu${open ? ` (còn ${open} khay)` : ''}
              </button>`
            : null
        }
      </div>
      ${
        checkItems.length
          ? html` <h3>Khay cần kiểm tra trong lượt này (${checkItems.length})</h3>
              ${
                running
                  ? html` <p class="muted">Máy không theo dõi được cửa các khay này: mở khay, nhìn vào trong rồi chọn một câu trả lời.</p>
                      <ul class="checks">
                        ${checkItems.map((i) => {
                          const elsewhere = answeredElsewhere(i);
                          const answerable = isOpen(i) && !elsewhere;
                          return html`<${CheckCard}
                            key=${i.tray}
                            scope="round"
                            tray=${i.tray}
                            dossierCode=${i.dossierCode}
                            procedureCode=${i.procedureCode}
                            kind=${kindOf.get(i.tray)}
                            busy=${busy}
                            badge=${elsewhere ? { cls: 'b-found', text: 'Đã kiểm tra ngoài lượt' } : { cls: `b-${i.status}`, text: ITEM_STATUS[i.status] ?? i.status }}
                            onOpen=${answerable ? () => act('POST', `${base}/items/${i.tray}/open`, undefined, null) : null}
                            onAnswer=${answerable ? answerInRound(i) : null}
                          />`;
                        })}
                      </ul>`
                  : html` <p class="muted">Trả lời ngay ở mục "Khay cần kiểm tra" bên dưới, hoặc khi lượt thu bắt đầu.</p>
                      <table>
                        <thead>
                          <tr>
                            <th>Khay</th>
                            <th>Mã hồ sơ</th>
                            <th>Thủ tục</th>
                            <th>Loại</th>
                            <th>Trạng thái</th>
                          </tr>
                        </thead>
                        <tbody>
                          ${checkItems.map(
                            (i) =>
                              html`<tr data-tray=${i.tray}>
                                <td class="tray-cell">${i.tray}</td>
                                <td class="code">${i.dossierCode}</td>
                                <td>${i.procedureCode}</td>
                                <td>${kindOf.has(i.tray) ? KIND_NAMES[kindOf.get(i.tray)!] : '–'}</td>
                                <td>
                                  <span class=${`badge b-${answeredElsewhere(i) ? 'found' : i.status}`}
                                    >${answeredElsewhere(i) ? 'Đã kiểm tra' : (ITEM_STATUS[i.status] ?? i.status)}</span
                                  >
                                </td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>`
              }`
          : null
      }
      <h3>Hồ sơ cần thu (${manifest.collect.length})</h3>
      ${
        manifest.collect.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Khay</th>
                  <th>Mã hồ sơ</th>
                  <th>Thủ tục</th>
                  <th>Nộp lúc</th>
                  <th>Trạng thái</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows(manifest.collect, 'collect')}
              </tbody>
            </table>`
          : html`<p class="muted">Không có hồ sơ nào chờ thu.</p>`
      }
      <h3>Kết quả quá hạn cần mang về (${manifest.takeBack.length})</h3>
      ${
        manifest.takeBack.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Khay</th>
                  <th>Mã hồ sơ</th>
                  <th>Thủ tục</th>
                  <th>Quá hạn lúc</th>
                  <th>Trạng thái</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows(manifest.takeBack, 'takeBack')}
              </tbody>
            </table>`
          : html`<p class="muted">Không có kết quả quá hạn.</p>`
      }
    </section>
    <section class="panel" aria-labelledby="checks-title">
      <h2 id="checks-title">Khay cần kiểm tra${checks ? ` (${outside.length})` : ''}</h2>
      ${
        checks === null
          ? html`<p class="muted">Bộ điều khiển này chưa có danh sách khay cần kiểm tra.</p>`
          : outside.length
            ? html` <p class="muted">
                  Máy không theo dõi được cửa các khay này (mất điện, bảng khóa không trả lời…) nên không biết trong khay có gì. Nhìn vào
                  khay rồi chọn một câu trả lời; không cần đợi lượt thu.
                </p>
                <ul class="checks">
                  ${outside.map(
                    (c) =>
                      html`<${CheckCard}
                        key=${c.tray}
                        tray=${c.tray}
                        dossierCode=${c.dossierCode}
                        kind=${c.kind}
                        scope="alone"
                        since=${c.since}
                        busy=${busy}
                        onAnswer=${answerOutside(c)}
                        onOpen=${() => act('POST', `/api/staff/checks/${c.tray}/open`, undefined, null)}
                      />`,
                  )}
                </ul>`
            : html`<p class="muted">
                ${inRound.size ? 'Các khay cần kiểm tra đều nằm trong lượt thu ở trên.' : 'Không có khay nào cần kiểm tra.'}
              </p>`
      }
    </section>`;
}

type Procedure = Pick<DomainProcedure, 'code' | 'field' | 'name'>;
interface Loaded {
  resultId: string;
  tray: number;
  dossierCode: string;
  procedureCode: string;
  at: Date;
}

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

interface Waiting {
  dossierCode: string;
  tray: number | null;
  procedureCode: string;
  loadedAt: string | null;
  pickupDeadline: string | null;
  status: string;
}

export function Unclaimed({ token, onUnauthorized }: Props) {
  const [list, setList] = useState<Waiting[] | null>(null);
  const { error, fail } = useFailure(onUnauthorized);
  useEffect(() => {
    api<Waiting[]>('GET', '/api/staff/results/unclaimed', { token }).then(setList, fail);
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
